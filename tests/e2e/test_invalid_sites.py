"""`kb check` and `kb build` on sites with planted problems: every problem, exact lines, nothing written."""
from __future__ import annotations

import pytest

from generator.commands.cli import main
from tests.conftest import NOW, SITES, copy_site
from tests.helpers import tree

CASES = sorted(p.name for p in (SITES / "invalid").iterdir()
               if (p / "expected-check.txt").exists() or (p / "expected.txt").exists())


def run(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def expected_check(site) -> list[str]:
    name = "expected-check.txt" if (site / "expected-check.txt").exists() else "expected.txt"
    return (site / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("case", CASES)
def test_check_prints_every_problem_and_writes_nothing(case, tmp_path, capsys):
    site = copy_site(f"invalid/{case}", tmp_path)
    code, err, _ = run(capsys, "check", "--source", str(site), "--now", NOW)
    assert code == 1
    assert err[:-1] == expected_check(site)
    assert err[-1].startswith("check failed: ")
    assert not (site / "output").exists() and not [p for p in site.iterdir() if p.name.startswith(".kb-")]


@pytest.mark.parametrize("case", [c for c in CASES if (SITES / "invalid" / c / "expected.txt").exists()])
def test_failed_build_prints_the_same_problems_and_keeps_the_previous_output(case, tmp_path, capsys):
    site = copy_site(f"invalid/{case}", tmp_path)
    output = site / "output"
    (output / "qa/old").mkdir(parents=True)
    (output / "index.html").write_bytes(b"<p>the previous site</p>")
    (output / "qa/old/index.html").write_bytes(b"old entry")
    before = tree(output)
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 1
    assert err[:-1] == (site / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert err[-1].startswith("build failed: ") and err[-1].endswith("was left as it was")
    assert tree(output) == before
    assert sorted(p.name for p in site.iterdir() if p.name.startswith(".kb-") and p.name != ".kb-cache") == []


def test_ten_planted_problems_are_all_reported_at_their_real_lines(tmp_path, capsys):
    """The issue's "done when": each problem at the line a curator would fix, checked against the file."""
    site = copy_site("invalid/ten-problems", tmp_path)
    code, err, _ = run(capsys, "check", "--source", str(site), "--now", NOW)
    assert code == 1
    planted = {  # (file, line) → what that line of the file says, and what the message must say
        ("site_config.yaml", 3): ("timezon:", 'unknown option "timezon"'),
        ("content/highlights/bad-yaml.md", 2): ("冒号没有引号: 这里", "invalid YAML"),
        ("content/highlights/no-title.md", 1): ("---", 'missing "title"'),
        ("content/lessons/feb.md", 3): ("2026-02-30", "impossible date"),
        ("content/lessons/pinned.md", 4): ("pinned: yes please", '"pinned" must be true or false'),
        ("content/qa/zz-copy.md", 4): ("slug: ASK", 'duplicate slug "ASK": content/qa/ask.md'),
        ("content/lessons/links.md", 6): ("- alcie", 'did you mean "alice"'),
        ("content/lessons/links.md", 10): ("missing.md", "broken link"),
        ("content/lessons/links.md", 12): ("../../lessons/nope/", "no entry at /lessons/nope/"),
        ("content/lessons/links.md", 13): ("#不存在的标题", 'no heading "#不存在的标题"'),
        ("content/lessons/links.md", 15): ("map.png", "image not found"),
        ("content/qa/ask.md", 5): ("社群 运营", "tag_aliases"),
        ("content/qa/ask.md", 10): ("@bobb", 'did you mean "bob"'),
    }
    reported = {}
    for line in err[:-1]:
        path, number, message = line.split(":", 2)
        reported[(path, int(number))] = message
    assert sorted(reported) == sorted(planted)
    for (path, number), (text, words) in planted.items():
        assert text in (site / path).read_text(encoding="utf-8").split("\n")[number - 1], (path, number)
        assert words in reported[(path, number)], reported[(path, number)]
    errors = [line for line in err[:-1] if ": warning: " not in line]
    assert len(errors) == 10 and err[-1] == "check failed: 10 errors, 3 warnings"


def test_broken_links_warn_in_build_fail_check_and_fail_strict_build(tmp_path, capsys):
    site = copy_site("invalid/broken-links", tmp_path)
    check_lines = (site / "expected-check.txt").read_text(encoding="utf-8").splitlines()
    code, err, out = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0 and out.startswith("built 2 entries")
    assert err == [line.replace(": broken link", ": warning: broken link", 1) for line in check_lines]
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW, "--strict", "--output", str(tmp_path / "strict"))
    assert code == 1 and err[:-1] == check_lines and not (tmp_path / "strict").exists()


def test_strict_check_turns_warnings_into_errors(basic_site, capsys):
    (basic_site / "content/qa/typo.md").write_text("---\ntitle: x\ndate: 2026-11-01\nauthors: [alcie]\n---\n\nx\n", encoding="utf-8")
    code, err, out = run(capsys, "check", "--source", str(basic_site), "--now", NOW)
    assert code == 0 and out.strip() == "ok: 6 entries, 0 errors, 1 warning"
    assert err == ['content/qa/typo.md:4: warning: author "alcie" is not in content/members.yaml (did you mean "alice"?); '
                   "members are the ids in content/members.yaml; a free name such as a guest's is fine"]
    code, err, _ = run(capsys, "check", "--source", str(basic_site), "--now", NOW, "--strict")
    assert code == 1 and err[0].startswith("content/qa/typo.md:4: author") and err[-1] == "check failed: 1 error"


def test_tag_aliases_merge_spellings_on_every_page(basic_site, capsys):
    (basic_site / "content/qa/spaced.md").write_text("---\ntitle: x\ndate: 2026-11-01\ntags: [线下 活动]\n---\n\nx\n", encoding="utf-8")
    code, err, _ = run(capsys, "check", "--source", str(basic_site), "--now", NOW)
    assert code == 0 and len(err) == 1 and 'tag "线下 活动" differs only in spacing from "线下活动"' in err[0]
    config = basic_site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "tag_aliases: {线下 活动: 线下活动}\n", encoding="utf-8")
    code, err, _ = run(capsys, "build", "--source", str(basic_site), "--now", NOW)
    assert code == 0 and err == []
    tags = basic_site / "output/tags"
    assert (tags / "线下活动/index.html").is_file() and not (tags / "线下-活动").exists()


def test_bad_now_is_a_usage_error_not_a_traceback(basic_site, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["build", "--source", str(basic_site), "--now", "2026-13-01"])
    assert exited.value.code == 2 and "argument --now: month must be in 1..12" in capsys.readouterr().err


def test_a_disk_error_is_one_line_not_a_traceback(basic_site, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder's parent should be", encoding="utf-8")
    code, err, _ = run(capsys, "build", "--source", str(basic_site), "--now", NOW, "--output", str(blocker / "output"))
    assert code == 1 and len(err) == 1 and err[0].startswith("kb: ") and "was left as it was" in err[0]


def test_kb_new_refuses_a_title_too_long_for_a_file_name(basic_site, capsys):
    code, err, _ = run(capsys, "new", "qa", "长" * 100, "--source", str(basic_site))
    assert code == 2 and err == ["kb new: a file name made from that title would be too long; pass a shorter --slug"]
