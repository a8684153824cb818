"""Whatever a curator pastes, kb either builds or prints `path:line: message` errors: never a traceback.

Property-based (hypothesis): front matter and Markdown with unicode, control characters,
huge numbers, wrong types, deep nesting and YAML anchors; members.yaml and site_config.yaml
too. The CLI runs in-process for speed (an exception fails the test with its traceback);
a few cases run as a subprocess, as a user would.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from generator.commands.cli import main
from tests.conftest import NOW, run_kb

PROBLEM_LINE = re.compile(r"^[^\s:][^:\n]*:\d+: \S")
SUMMARY_LINE = re.compile(r"^(build|check) failed: \d+ errors?(, \d+ warnings?)?; ?|^(build|check) failed: ")
FUZZ = settings(max_examples=int(os.environ.get("KB_FUZZ_EXAMPLES", "25")), deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
                database=None, phases=[Phase.explicit, Phase.generate, Phase.shrink])  # no slow "explain" phase

KEYS = ["title", "date", "tags", "authors", "summary", "draft", "slug", "pinned", "updated", "weight", "asker", "status"]
nasty_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from([
    "", " ", "\x00\x08\x0b\x1b", "\u2028\u2029", "\ufeff", "\ufffe", "../..", "..", "/", "\\", "a/b", "<script>", "]]>",
    "2026-02-30", "2026-13-01", "9999-12-31 23:59", "0001-01-01", "2026-11-01T25:00", "2026-11-01 10:00+25:00",
    "x" * 5000, "🎉" * 100, "新人 必读", "Community", "  community  ", "@", "##", "{{ x }}", "{% raw %}", "%s%n",
    "feed.xml", "index.html", "open", "page", "tags", "assets", "CON", "nul",
])
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**30, max_value=10**400)
           | st.floats(allow_nan=True, allow_infinity=True) | nasty_text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
                      max_leaves=12)
front_matter = st.dictionaries(st.sampled_from(KEYS) | nasty_text, values, max_size=8)

markdown_bits = st.sampled_from([
    "# 标题", "## 回答 @alice 2026-11-02 已采纳", "## 回答 @ 2026-02-30", "## Answer", "**回答者：** @bob（已采纳）",
    "[链接](../qa/x.md#a)", "[链接](/qa/nope/)", "[x](#nowhere)", "![图](nope.png)", "![](/x.png)", "[j](javascript:alert(1))",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<div>", "</div>", "```", "~~~python", "    code",
    "- [x] 任务", "1. 列表", "> 引用", "| a | b |\n| - | - |\n| 1 | 2 |", "[^1]", "[^1]: 注", "!!! note", "---", "***",
    "\x00", "\x0c", "\u2028", "&#0;", "&#x110000;", "&nbsp;", "<!--", "-->", "]]>", "{{ 7*7 }}", "\t\t缩进",
]) | nasty_text
markdown = st.lists(markdown_bits, max_size=25).map("\n".join) | st.builds(
    lambda depth, char: char * depth + " 深", st.integers(1, 3000), st.sampled_from([">", "- ", "  - ", "1. ", "*"]))


def dump(data) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, default_flow_style=None)
    except (yaml.YAMLError, ValueError, OverflowError):
        return yaml.safe_dump(data, allow_unicode=False)


def run_in_process(site: Path, *command: str) -> tuple[int, list[str]]:
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = main([command[0], "--source", str(site), "--now", NOW, *command[1:]])
    return code, err.getvalue().splitlines()


def assert_clean(code: int, lines: list[str]) -> None:
    assert code in (0, 1), (code, lines)
    assert not any("Traceback" in line for line in lines), lines
    for line in lines:
        assert PROBLEM_LINE.match(line) or SUMMARY_LINE.match(line), line
    if code == 1:
        assert any(PROBLEM_LINE.match(line) and ": warning: " not in line for line in lines), lines


def write_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return root


def build_and_check(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        site = write_site(Path(scratch) / "site", files)
        assert_clean(*run_in_process(site, "build"))
        assert_clean(*run_in_process(site, "check"))


@FUZZ
@given(meta=front_matter, body=markdown, section=st.sampled_from(["highlights", "qa", "lessons", "digest"]))
def test_generated_front_matter_and_markdown(meta, body, section):
    name = "2026-W46.md" if section == "digest" else "entry.md"
    build_and_check({
        f"content/{section}/{name}": f"---\n{dump(meta)}---\n{body}\n",
        "content/qa/ok.md": "---\ntitle: 正常\ndate: 2026-11-01\n---\n\n[链接](../" + section + "/entry.md)\n",
    })


@FUZZ
@given(front=st.text(max_size=300), body=markdown)
def test_raw_text_between_the_front_matter_fences(front, body):
    build_and_check({"content/lessons/x.md": f"---\n{front}\n---\n{body}", "content/lessons/y.md": front + body})


@FUZZ
@given(title=nasty_text, tags=st.lists(nasty_text, max_size=5), authors=st.lists(nasty_text, max_size=3), body=markdown)
def test_well_formed_entries_with_nasty_values_build(title, tags, authors, body):
    meta = {"title": title or "t", "date": "2026-11-01 10:00", "tags": tags, "authors": authors, "summary": title}
    with tempfile.TemporaryDirectory() as scratch:
        site = write_site(Path(scratch) / "site", {"content/highlights/x.md": f"---\n{dump(meta)}---\n{body}\n"})
        code, lines = run_in_process(site, "build")
        assert_clean(code, lines)


@FUZZ
@given(members=values, config=st.dictionaries(st.sampled_from(["title", "base_url", "language", "timezone", "week_start",
                                                                "per_page", "tag_aliases", "section_labels", "trusted_html",
                                                                "footer", "image", "related_count"]) | nasty_text,
                                              values, max_size=5))
def test_generated_members_and_config(members, config):
    build_and_check({"content/members.yaml": dump(members), "site_config.yaml": dump(config),
                     "content/qa/x.md": "---\ntitle: x\ndate: 2026-11-01\nauthors: [alice]\nasker: bob\n---\n\nx\n"})


def test_a_few_hostile_files_as_a_user_runs_kb(tmp_path):
    bomb = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)])
    cases = {
        "alias-bomb": {"content/qa/x.md": f"---\ntitle: x\ndate: 2026-11-01\n{bomb}\n---\n"},
        "deep-yaml": {"content/qa/x.md": "---\ntitle: " + "[" * 3000 + "]" * 3000 + "\ndate: 2026-11-01\n---\n"},
        "deep-markdown": {"content/qa/x.md": "---\ntitle: x\ndate: 2026-11-01\n---\n" + ">" * 5000 + " 深\n"},
        "binary": {"content/qa/x.md": "\x00\x01\x02\udcff" * 100},
        "bad-config": {"site_config.yaml": "- a\n- b\n", "content/members.yaml": "{{{"},
    }
    for name, files in cases.items():
        site = write_site(tmp_path / name, files)
        done = run_kb("build", "--source", str(site), "--now", NOW, timeout=120)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (name, done.stderr[-2000:])
        assert_clean(done.returncode, done.stderr.splitlines())
