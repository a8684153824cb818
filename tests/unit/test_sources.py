"""Reading content/: links that leave the site or never end, Markdown that would not be built,
and files that are not UTF-8."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.commands.cli import main
from generator.core.errors import Problems
from generator.stages import sources
from generator.stages.sources import markdown_paths, read_sources
from tests.conftest import NOW, copy_site
from tests.helpers import page

ENTRY = "---\ntitle: {title}\ndate: 2026-11-01\n---\n\n{body}\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def walked(site: Path) -> tuple[list[str], list[str]]:
    """(rel paths read, problems) of read_sources on `site`."""
    problems = Problems()
    found = read_sources(site, problems=problems)
    return [s.rel_path for s in found], [str(p) for p in sorted(problems.items)]


def run(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    return code, capsys.readouterr().err.splitlines()


# --- Links ---------------------------------------------------------------------------------


def test_a_markdown_link_outside_the_site_is_not_read(tmp_path):
    secret = write(tmp_path / "elsewhere/secret.md", ENTRY.format(title="secret", body="the secret body"))
    site = tmp_path / "site"
    write(site / "content/qa/mine.md", ENTRY.format(title="mine", body="mine"))
    (site / "content/qa/leak.md").symlink_to(secret)
    (site / "content/lessons").symlink_to(secret.parent, target_is_directory=True)
    read, problems = walked(site)
    assert read == ["content/qa/mine.md"]
    assert problems == ["content/lessons:1: warning: points outside the site, so it is not read",
                        "content/qa/leak.md:1: warning: points outside the site, so it is not read"]


def test_links_that_stay_inside_the_site_are_followed_files_and_folders(tmp_path):
    site = tmp_path / "site"
    write(site / "shared/notes/welcome.md", ENTRY.format(title="welcome", body="hi"))
    write(site / "shared/faq.md", ENTRY.format(title="faq", body="q"))
    (site / "content/qa").mkdir(parents=True)
    (site / "content/qa/faq.md").symlink_to("../../shared/faq.md")
    (site / "content/lessons").symlink_to("../shared/notes", target_is_directory=True)
    read, problems = walked(site)
    assert read == ["content/qa/faq.md", "content/lessons/welcome.md"] and problems == []


def test_a_folder_link_loop_is_skipped_with_a_short_warning(tmp_path):
    site = tmp_path / "site"
    write(site / "content/lessons/a/one.md", ENTRY.format(title="one", body="1"))
    write(site / "content/lessons/b/two.md", ENTRY.format(title="two", body="2"))
    (site / "content/lessons/a/up").symlink_to("..", target_is_directory=True)
    (site / "content/lessons/a/to-b").symlink_to("../b", target_is_directory=True)
    (site / "content/lessons/b/to-a").symlink_to("../a", target_is_directory=True)
    (site / "content/lessons/self.md").symlink_to("self.md")
    read, problems = walked(site)
    assert read[:2] == ["content/lessons/a/one.md", "content/lessons/a/to-b/two.md"]
    assert set(read[2:]) == {"content/lessons/b/to-a/one.md", "content/lessons/b/two.md"}  # each way once
    assert problems == [
        "content/lessons/a/to-b/to-a:1: warning: a link back to content/lessons/a/, a folder that holds it: skipped, it would never end",
        "content/lessons/a/up:1: warning: a link back to content/lessons/, a folder that holds it: skipped, it would never end",
        "content/lessons/b/to-a/to-b:1: warning: a link back to content/lessons/b/, a folder that holds it: skipped, it would never end",
        "content/lessons/b/to-a/up:1: warning: a link back to content/lessons/, a folder that holds it: skipped, it would never end",
        "content/lessons/self.md:1: warning: a link to nothing (or to a link that never ends): skipped",
    ]


def test_kb_check_and_build_skip_a_link_out_of_the_site_and_survive_a_loop(tmp_path, capsys):
    site = copy_site("basic", tmp_path)
    secret = write(tmp_path / "secret.md", ENTRY.format(title="秘密", body="不该发布的内容"))
    (site / "content/qa/leak.md").symlink_to(secret)
    (site / "content/lessons/events/loop").symlink_to("../..", target_is_directory=True)
    warnings = ["content/lessons/events/loop:1: warning: a link back to content/, a folder that holds it: "
                "skipped, it would never end",
                "content/qa/leak.md:1: warning: points outside the site, so it is not read"]
    code, err = run(capsys, "check", "--source", str(site), "--now", NOW)
    assert code == 0 and err == warnings
    code, err = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0 and err == warnings
    assert not (site / "output/qa/leak").exists()
    assert "秘密" not in page(site / "output", "/qa/").get_text()


# --- Markdown that would not be built ------------------------------------------------------


def test_markdown_outside_a_section_is_reported_once_per_folder(tmp_path):
    site = tmp_path / "site"
    write(site / "content/qa/ok.md", ENTRY.format(title="ok", body="x"))
    for rel in ("QA/a.md", "QA/b.md", "QA/deep/c.md", "blog/post.markdown", "lesson/x.md", "README.md"):
        write(site / "content" / rel, ENTRY.format(title=rel, body="x"))
    write(site / "content/qa/x.MD", ENTRY.format(title="x", body="x"))
    write(site / "content/digest/2026-W45.markdown", "note")
    for quiet in ("qa/map.png", "images/logo.png", ".drafts/wip.md", "qa/.hidden.md", "members.yaml", "notes.txt"):
        write(site / "content" / quiet, "not Markdown, or hidden")
    read, problems = walked(site)
    assert read == ["content/qa/ok.md"]
    sections = "sections are highlights, qa, lessons"
    assert problems == [
        f'content/QA/a.md:1: warning: content/QA/ is not a section (did you mean "qa"?), so its 3 Markdown files are not built; {sections}',
        f"content/README.md:1: warning: content/ itself is not a section, so its Markdown file is not built; {sections}",
        f"content/blog/post.markdown:1: warning: content/blog/ is not a section, so its Markdown file is not built; {sections}",
        "content/digest/2026-W45.markdown:1: warning: Markdown that is not built: rename it to 2026-W45.md",
        f'content/lesson/x.md:1: warning: content/lesson/ is not a section (did you mean "lessons"?), so its Markdown file is not built; {sections}',
        "content/qa/x.MD:1: warning: Markdown that is not built: rename it to x.md",
    ]


def test_kb_build_says_which_markdown_it_did_not_build(basic_site, capsys):
    write(basic_site / "content/blog/post.md", ENTRY.format(title="post", body="x"))
    write(basic_site / "content/qa/y.markdown", ENTRY.format(title="y", body="x"))
    code, err = run(capsys, "build", "--source", str(basic_site), "--now", NOW)
    assert code == 0
    assert err == ["content/blog/post.md:1: warning: content/blog/ is not a section, so its Markdown file is not built; "
                   "sections are highlights, qa, lessons",
                   "content/qa/y.markdown:1: warning: Markdown that is not built: rename it to y.md"]


@pytest.mark.skipif(os.uname().sysname == "Darwin", reason="macOS file names are always UTF-8")
def test_a_file_name_that_is_not_utf8_is_reported_not_built(tmp_path):
    site = tmp_path / "site"
    write(site / "content/qa/ok.md", ENTRY.format(title="ok", body="x"))
    (site / "content/qa" / os.fsdecode(b"caf\xe9.md")).write_text(ENTRY.format(title="x", body="x"), encoding="utf-8")
    read, problems = walked(site)
    assert read == ["content/qa/ok.md"]
    assert problems == ["content/qa/caf\ufffd.md:1: warning: its name is not UTF-8, so it is not built: rename it"]


def test_the_order_of_sources_is_as_before(basic_site):
    """Sections in their order, then digest notes; within one, sorted like Paths (sub-folders by their parts)."""
    write(basic_site / "content/qa/a/z.md", ENTRY.format(title="z", body="x"))
    write(basic_site / "content/qa/a-b.md", ENTRY.format(title="ab", body="x"))
    write(basic_site / "content/digest/2026-W45.md", "note")
    paths = [path.relative_to(basic_site).as_posix() for _, path in markdown_paths(basic_site)]
    assert paths == ["content/highlights/meetup.md", "content/highlights/rules.md", "content/qa/a/z.md",
                     "content/qa/a-b.md", "content/qa/ask.md", "content/qa/open-question.md",
                     "content/lessons/draft.md", "content/lessons/events/venue.md", "content/lessons/future.md",
                     "content/digest/2026-W45.md"]


# --- Encodings -----------------------------------------------------------------------------


def test_a_gb18030_entry_is_an_error_not_mojibake(basic_site, capsys):
    (basic_site / "content/qa/gbk.md").write_bytes(ENTRY.format(title="新人须知", body="欢迎。").encode("gb18030"))
    code, err = run(capsys, "check", "--source", str(basic_site), "--now", NOW)
    assert code == 1 and err[0] == (
        "content/qa/gbk.md:2: this file is not UTF-8 (first seen on this line); it looks like GB18030 (GBK): "
        "save it as UTF-8, e.g. with iconv -f GB18030 -t UTF-8")


def test_a_utf16_entry_with_its_mark_is_read_with_a_warning(basic_site, capsys):
    (basic_site / "content/qa/wide.md").write_bytes(ENTRY.format(title="宽字符", body="记事本的 Unicode。").encode("utf-16"))
    code, err = run(capsys, "build", "--source", str(basic_site), "--now", NOW)
    assert code == 0 and err == ["content/qa/wide.md:1: warning: this file is UTF-16; it was read as such, but save it "
                                 "as UTF-8, e.g. with iconv -f UTF-16 -t UTF-8"]
    entry = page(basic_site / "output", "/qa/wide/")
    assert entry.h1.get_text(strip=True) == "宽字符" and "记事本的 Unicode。" in entry.get_text()


def test_control_characters_in_a_body_are_left_out_with_a_warning(basic_site, capsys):
    write(basic_site / "content/qa/pasted.md", ENTRY.format(title="粘贴", body="第一行\n\n从聊天里\x08粘贴的\x1b文字"))
    code, err = run(capsys, "build", "--source", str(basic_site), "--now", NOW)
    assert code == 0 and err == ["content/qa/pasted.md:8: warning: the control character \\x08 is left out "
                                 "(2 in the file): remove it"]
    assert "从聊天里粘贴的文字" in page(basic_site / "output", "/qa/pasted/").get_text()


def test_valid_utf8_is_decoded_once_without_a_second_look(basic_site, monkeypatch):
    def second_look(data: bytes, path: str):
        raise AssertionError(f"{path} looked at again")

    monkeypatch.setattr(sources, "file_text", second_look)
    write(basic_site / "content/qa/crlf.md", ENTRY.format(title="crlf", body="a\nb").replace("\n", "\r\n"))
    write(basic_site / "content/qa/bom.md", "\ufeff" + ENTRY.format(title="bom", body="b"))
    found = {s.rel_path: s for s in read_sources(basic_site)}
    assert found["content/qa/crlf.md"].text == ENTRY.format(title="crlf", body="a\nb")
    assert found["content/qa/bom.md"].text == ENTRY.format(title="bom", body="b")
    assert all(not s.problems for s in found.values())
