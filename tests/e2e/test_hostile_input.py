"""kb's promise against any input: a clear error or a site, never a traceback, a hang or lost work.

Property-based (hypothesis): random bytes, text in the encodings Chinese editors save in, YAML
and Markdown shapes are dropped into a site whose previous build is in output/, then `kb build`
and `kb check` run on it. Whatever the file, each command exits 0 or 1 in bounded time, prints
only `path:line: message` lines and its summary, never touches the curator's files, and a
failed build leaves output/ byte for byte as it was.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.commands.cli import main
from tests.conftest import NOW
from tests.e2e.test_fuzz import FUZZ, assert_clean, dump, front_matter, markdown, run_in_process, values

SECONDS_PER_RUN = 30  # a few seconds is the aim; this bound only catches a hang or a blow-up
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "shift_jis", "utf-16", "utf-16-le", "utf-32", "latin-1"]
PLACES = ["content/qa/x.md", "content/highlights/sub/x.md", "content/lessons/x.md", "content/digest/2026-W46.md",
          "content/members.yaml", "site_config.yaml", "content/blog/x.md", "content/qa/x.markdown", "static/x.css"]
READ_AS_TEXT = {"content/qa/x.md", "content/highlights/sub/x.md", "content/lessons/x.md", "content/digest/2026-W46.md",
                "content/members.yaml", "site_config.yaml"}
BASE_FILES = {
    "site_config.yaml": "title: 测试\nbase_url: https://example.org/\nlanguage: zh-CN\n",
    "content/members.yaml": "- id: alice\n  name: 爱丽丝\n- id: bob\n  name: 鲍勃\n",
    "content/qa/ok.md": "---\ntitle: 怎么提问\ndate: 2026-11-01\nasker: bob\n---\n\n先搜索。\n\n## 回答 @alice 已采纳\n\n好。\n",
    "content/lessons/ok.md": "---\ntitle: 一次分享\ndate: 2026-11-02\nauthors: [alice]\n---\n\n正文。\n",
}


def tree_digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path → sha256 of every file under root (folders named in `skip` left out)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).parts[0] not in skip}


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """A small valid site, built once: each example starts from a copy of it, output/ and cache included."""
    site = tmp_path_factory.mktemp("hostile") / "site"
    for name, text in BASE_FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    assert main(["build", "--source", str(site), "--now", NOW]) == 0
    return site


def assert_kb_survives(built: Path, place: str, data: bytes) -> None:
    """Put `data` at `place` in a copy of the built site; build and check it; assert the promise."""
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch) / "site"
        shutil.copytree(built, site, symlinks=True)
        (site / place).parent.mkdir(parents=True, exist_ok=True)
        (site / place).write_bytes(data)
        sources = tree_digest(site, skip=("output", ".kb-cache"))
        before = tree_digest(site / "output")
        for command in ("build", "check"):
            started = time.monotonic()
            code, lines = run_in_process(site, command)
            assert time.monotonic() - started < SECONDS_PER_RUN, (command, place)
            assert_clean(code, lines)
            if place in READ_AS_TEXT and not _is_utf8(data):
                assert any(line.startswith(place + ":") for line in lines), ("not UTF-8, yet no word", lines)
            if command == "build" and code == 1:
                assert tree_digest(site / "output") == before, "a failed build changed output/"
            if command == "build" and code == 0:
                assert (site / "output" / "index.html").is_file()
        assert tree_digest(site, skip=("output", ".kb-cache")) == sources, "kb changed the curator's files"
        leftovers = [p.name for p in site.iterdir() if p.name.startswith(".kb-") and p.name != ".kb-cache"]
        assert not [name for name in leftovers if not name.startswith(".kb-spare-")], leftovers


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def entry_text(meta: dict, body: str) -> str:
    return f"---\n{dump(meta)}---\n{body}\n"


@FUZZ
@given(place=st.sampled_from(PLACES), data=st.binary(max_size=3000))
def test_random_bytes_anywhere(built_site, place, data):
    assert_kb_survives(built_site, place, data)


@FUZZ
@given(place=st.sampled_from(PLACES[:4]), meta=front_matter, body=markdown, encoding=st.sampled_from(ENCODINGS))
def test_entries_in_any_encoding(built_site, place, meta, body, encoding):
    text = entry_text({"title": "编码", "date": "2026-11-03", **meta}, body)
    assert_kb_survives(built_site, place, text.encode(encoding, errors="replace"))


@FUZZ
@given(place=st.sampled_from(["content/members.yaml", "site_config.yaml", "content/qa/x.md"]),
       data=values, raw=st.lists(st.sampled_from([
           "title: a", "title: b", "tags: [x]", "tags: [x]", "- id: alice", "  name: A", "alice:", "  name: B",
           "date: 0001-01-01", "date: 9999-12-31", 'title: "a\\uD800b"', "slug: a?b#c", "slug: a%2Fb",
           "name: {x: 1}", "id: [x]", "base_url: javascript:x", "language: xx", "timezone: Mars/Olympus",
           "a: &a [1, 2]", "b: *a", "<<: *a", "? [complex]\n: key", "!!python/object:os.system x", "\t- tab",
       ]), max_size=8))
def test_yaml_shapes(built_site, place, data, raw):
    text = dump(data) + "\n".join(raw) + "\n"
    if place.endswith(".md"):
        text = f"---\n{text}---\n\n正文。\n"
    assert_kb_survives(built_site, place, text.encode("utf-8", errors="surrogatepass"))


@FUZZ
@given(body=markdown, shape=st.sampled_from(["- ", "> ", "1. ", "* ", "    ", "[", "*", "_", "`", "<div>", "|"]),
       depth=st.integers(1, 6000), links=st.integers(0, 5000))
def test_markdown_shapes_cost_bounded_time(built_site, body, shape, depth, links):
    nested = "".join(("  " * level if shape in ("- ", "1. ", "* ") else "") + shape + "深\n"
                     for level in range(min(depth, 1500))) if shape in ("- ", "1. ", "* ") else shape * depth + " 深\n"
    paragraph = " ".join(f"[l{n}](https://example.org/{n})" for n in range(links))
    text = entry_text({"title": "形状", "date": "2026-11-03"}, f"{body}\n\n{nested}\n\n{paragraph}\n")
    assert_kb_survives(built_site, "content/lessons/x.md", text.encode("utf-8", errors="surrogatepass"))
