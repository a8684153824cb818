#!/usr/bin/env python3
"""The cost of parsing one file of each worst shape, at kb's limits and just past them.

    python bench/worst_shapes.py [--out bench/results/DATE-worst-shapes-COMMIT.json]

Each case is one Markdown file that kb's real parse stage (`parse_document`, with the
renderer a build uses) reads in a fresh process: the time it takes, and the peak memory
the process grew by (ru_maxrss after the parse less ru_maxrss after a small warm-up
parse). A file at a limit is rendered; one just past it is refused by the scan that
runs before Markdown, and its time is the scan's. Prints a Markdown table and writes
every figure to the JSON file named by --out.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.stages.markdown.limits import (  # noqa: E402
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_LINK_WORK,
    MAX_MARKER_RUN,
    MAX_NESTING_WORK,
    limit_problems,
)

FRONT = "---\ntitle: worst shape\ndate: 2026-11-01\n---\n\n"


def repeated(unit: str, size: int, separator: str = "\n\n") -> str:
    """`unit` as many times as fit in `size` bytes of a file."""
    step = len((unit + separator).encode())
    return separator.join([unit] * max(1, (size - len(FRONT)) // step))


def links_paragraph(links: int, pad: int = 0) -> str:
    """One paragraph of `links` links, each followed by `pad` characters of prose."""
    return " ".join(f"[链接{i}](https://example.org/{i}) " + "字" * pad for i in range(links))


def most_passing(make) -> int:
    """The largest n for which kb's scan takes make(n): a shape at its limit."""
    low, high = 1, 1
    while not limit_problems(make(high), "x.md", 1):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if not limit_problems(make(middle), "x.md", 1) else (low, middle)
    return low


def references(count: int) -> str:
    return ("\n".join(f"[链接{i}][r{i}]" for i in range(count)) + "\n\n"
            + "\n".join(f"[r{i}]: https://example.org/{i}" for i in range(count)))


def footnotes(count: int) -> str:
    return " ".join(f"注[^{i}]" for i in range(count)) + "\n\n" + "\n".join(f"[^{i}]: 脚注" for i in range(count))


def nested_brackets(depth: int) -> str:
    return "[" * depth + "x](u)" + "]" * depth


def tags(count: int) -> str:
    return " ".join(["<kbd>键</kbd>"] * count)


def nested_list(depth: int) -> str:
    return "\n".join("    " * level + f"- 第 {level} 层" for level in range(depth))


def nested_quotes(depth: int) -> str:
    return "> " * depth + "引用"


RICH = ("## 小标题\n\n这是一段 **加粗** 和 *强调* 的文字，带 `代码` 和一个[链接](https://example.org/x)，"
        "还有脚注[^1]。\n\n- 列表一 _斜体_\n- 列表二 ~~删~~\n  1. 子项\n\n> 引用的话\n\n| 列 | 值 |\n| - | - |\n| a | 1 |\n\n"
        "[^1]: 脚注内容。")


def cases() -> list[tuple[str, str, str]]:
    """(shape, at the limit or past it, Markdown body)."""
    full = f"{MAX_FILE_BYTES // 1000} kB"
    per_link = len(" [链接100](https://example.org/100) ")
    at_links = most_passing(links_paragraph)
    tags_at, refs_at, notes_at = most_passing(tags), most_passing(references), most_passing(footnotes)
    brackets_at = most_passing(lambda n: "[" * n)
    deep_lines = MAX_NESTING_WORK // MAX_DEPTH  # lines of quotes and lists MAX_DEPTH deep the nesting limit allows
    quote_list = "> - " * (MAX_DEPTH // 2) + "x"
    return [
        ("prose, no markup", f"at {full}", repeated("一段普通的聊天记录，没有任何标记，只有文字。" * 8, MAX_FILE_BYTES)),
        ("prose, no markup", f"past {full}", repeated("一段普通的聊天记录，没有任何标记，只有文字。" * 8, MAX_FILE_BYTES + 10_000)),
        ("every kind of markup", f"at {full}", repeated(RICH, MAX_FILE_BYTES)),
        ("list nested by indentation", f"{MAX_DEPTH} levels", nested_list(MAX_DEPTH)),
        ("list nested by indentation", f"{MAX_DEPTH} levels, repeated to {full}", repeated(nested_list(MAX_DEPTH), MAX_FILE_BYTES)),
        ("list nested by indentation", f"{MAX_DEPTH + 1} levels", nested_list(MAX_DEPTH + 1)),
        ("list nested by indentation", "1,000 levels (the issue's)", nested_list(1000)),
        ("quotes nested on a line (> > >)", f"{MAX_DEPTH} levels", nested_quotes(MAX_DEPTH)),
        ("quotes nested on a line (> > >)", f"{MAX_DEPTH + 1} levels", nested_quotes(MAX_DEPTH + 1)),
        ("quotes and lists (> - > -)", f"{deep_lines:,} lines {MAX_DEPTH} deep (the nesting limit)", "\n".join([quote_list] * deep_lines)),
        ("quotes and lists (> - > -)", f"{deep_lines + 1:,} lines {MAX_DEPTH} deep", "\n".join([quote_list] * (deep_lines + 1))),
        ("quotes and lists (> - > -)", f"{MAX_DEPTH} deep, repeated to {full}", repeated(quote_list, MAX_FILE_BYTES, "\n")),
        ("links in one paragraph", f"{at_links} links (links × characters at the limit)", links_paragraph(at_links)),
        ("links in one paragraph", f"{at_links + 10} links", links_paragraph(at_links + 10)),
        ("links in one paragraph", "2,000 links (the issue's)", links_paragraph(2000)),
        ("links in a long paragraph", "100 links, 400 characters each", links_paragraph(100, 400 - per_link)),
        ("links in paragraphs", "4 paragraphs at a quarter of the limit", "\n\n".join([links_paragraph(at_links // 2)] * 4)),
        ("links, one a list item", f"{full} of them", repeated("- [链接](https://example.org/x)", MAX_FILE_BYTES, "\n")),
        ("reference links in one paragraph", f"{refs_at} (at the limit)", references(refs_at)),
        ("reference links in one paragraph", f"{refs_at + 10}", references(refs_at + 10)),
        ("footnote references in one paragraph", f"{notes_at} (at the limit)", footnotes(notes_at)),
        ("raw HTML tags in one paragraph", f"{tags_at} pairs (at the limit)", tags(tags_at)),
        ("raw HTML tags in one paragraph", f"{tags_at + 10} pairs", tags(tags_at + 10)),
        ("open brackets ([[[[)", f"{brackets_at:,} (at the limit)", "[" * brackets_at),
        ("open brackets ([[[[)", f"{full} in one paragraph", "[" * (MAX_FILE_BYTES - 100)),
        ("nested brackets ([[[x]]](u))", "at the limit", nested_brackets(most_passing(nested_brackets))),
        ("unclosed <div> lines", f"{full} of them", repeated("<div> 没有关上", MAX_FILE_BYTES)),
        ("emphasis openers (*a _b)", f"{full} of them", repeated("*a _b **c __d " * 50, MAX_FILE_BYTES)),
        ("nested emphasis (*_*_ … _*_*)", f"runs of {MAX_MARKER_RUN:,}, repeated to {full}",
         repeated("*_" * (MAX_MARKER_RUN // 4) + "x" + "_*" * (MAX_MARKER_RUN // 4), MAX_FILE_BYTES)),
        ("nested emphasis (*_*_ … _*_*)", f"a run of {MAX_MARKER_RUN + 2:,}", "*_" * (MAX_MARKER_RUN // 2 + 1) + "x"),
        ("nested emphasis (*_*_ … _*_*)", "one run of 250 kB (before the limit: 500 kB took 27 s)", "*_" * 62_500 + "x" + "_*" * 62_500),
        ("backtick runs", full, repeated("`` ` ``` a " * 40, MAX_FILE_BYTES)),
        ("a long table", full, "| 列 | 值 |\n| - | - |\n" + repeated("| 格子 | 1 |", MAX_FILE_BYTES - 100, "\n")),
        ("a wide table", "10,000 columns", "|" + "列|" * 10_000 + "\n|" + "-|" * 10_000 + "\n|" + "格|" * 10_000),
        ("deeply indented code", full, repeated(" " * 180 + "code", MAX_FILE_BYTES, "\n")),
    ]


def measure(body: str) -> dict:
    """Parse one file in this process: seconds, peak memory growth in MB, and the problems."""
    from zoneinfo import ZoneInfo

    from generator.stages.parse import MarkdownRenderer, parse_document
    from generator.stages.sources import SourceFile

    renderer, tz = MarkdownRenderer(), ZoneInfo("Asia/Shanghai")
    parse_document(SourceFile("content/lessons/warm.md", "lessons", FRONT + "热身 *一下* [x](y)\n", "warm"), renderer, tz)
    text = FRONT + body + "\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    doc = parse_document(SourceFile("content/lessons/shape.md", "lessons", text, "shape"), renderer, tz)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"bytes": len(text.encode()), "seconds": round(seconds, 3), "peak_mb": round((peak - before) / 1024, 1),
            "refused": [str(p) for p in doc.problems if p.severity == "error"]}


def run_case(index: int, timeout: float) -> dict:
    """One case in a fresh process, so that its peak memory is its own."""
    try:
        done = subprocess.run([sys.executable, __file__, "--case", str(index)], capture_output=True, text=True,
                              timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "peak_mb": None, "refused": [], "note": f"not finished in {timeout:g} s"}
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="where to write the JSON figures")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a case may take (default 120)")
    args = parser.parse_args()
    every = cases()
    if args.case is not None:
        print(json.dumps(measure(every[args.case][2])))
        return 0
    rows = []
    print("| shape | size | bytes | seconds | peak MB | result |\n|---|---|---:|---:|---:|---|")
    for index, (shape, size, _) in enumerate(every):
        row = {"shape": shape, "size": size, **run_case(index, args.timeout)}
        rows.append(row)
        result = row.get("note") or (row["refused"][0].split(": ", 1)[1][:70] + "…" if row["refused"] else "rendered")
        print(f"| {shape} | {size} | {row.get('bytes', '')} | {row['seconds']} | {row['peak_mb']} | {result} |", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    report = {"commit": commit, "date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
              "limits": {"MAX_FILE_BYTES": MAX_FILE_BYTES, "MAX_DEPTH": MAX_DEPTH, "MAX_NESTING_WORK": MAX_NESTING_WORK,
                         "MAX_LINK_WORK": MAX_LINK_WORK, "MAX_MARKER_RUN": MAX_MARKER_RUN},
              "cases": rows}
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
