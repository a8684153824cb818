"""What one Markdown file may hold, so that none costs more than a few seconds to parse: Python-Markdown's
time grows with the size of a file, with the lines of a nesting times its depth, with a
paragraph's links and brackets times its length, and faster than the length of a run of
emphasis markers (bench/worst_shapes.py measures each shape at its limit). Checked by one
pass over the lines, before Markdown runs.
"""
from __future__ import annotations

import re

from ...core.errors import Problem, SourceLocation
from .fences import FENCE

MAX_FILE_BYTES = 300_000
MAX_DEPTH = 50
MAX_NESTING_WORK = 50_000  # the sum over lines of the quote and list markers each stands inside
MAX_LINK_WORK = 4_000_000  # the sum over paragraphs of their brackets and tags × their characters
MAX_MARKER_RUN = 1_000  # "*" and "_" in a row
_LINKISH = re.compile(r"\[|<[A-Za-z/]")  # a link, image, reference or footnote starts with one, a raw tag with the other
_MARKERS = re.compile(r"(?:>|(?<![^ \t>])(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))[ \t]*")  # a quote or list marker
_UNIT_START = re.compile(r"[ \t>]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|#|\|)")  # a list item, heading or table row
_MARKER_RUN = re.compile(rf"[*_]{{{MAX_MARKER_RUN + 1},}}")


def size_problem(text: str, path: str) -> Problem | None:
    """The file's size, if it is more than an entry may be."""
    if len(text) * 4 <= MAX_FILE_BYTES:  # no character takes more than 4 bytes
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= MAX_FILE_BYTES:
        return None
    return Problem(SourceLocation(path, 1), f"the file is {size / 1000:,.0f} kB; an entry may be at most "
                                            f"{MAX_FILE_BYTES / 1000:,.0f} kB: split it into several entries")


def nesting_depth(line: str) -> tuple[int, int]:
    """(depth, markers): the lists and quotes a line opens or stays inside, its indentation counted in
    steps of 4; and its quote and list markers alone."""
    indent = len(line) - len(line.lstrip(" \t"))
    markers = 0
    at = indent
    while (match := _MARKERS.match(line, at)) and match.end() > at:
        markers += 1
        at = match.end()
    return len(line[:indent].expandtabs(4)) // 4 + markers, markers


def limit_problems(body: str, path: str, first_line: int) -> list[Problem]:
    """Where the body goes past a limit: its first line nested too deeply or with too long a run of
    emphasis markers, its deepest line when the nesting comes to more than MAX_NESTING_WORK, and its
    paragraph with the most brackets × characters when they come to more than MAX_LINK_WORK."""
    problems: list[Problem] = []
    fence = None
    nesting = work = links = chars = 0
    start = first_line
    too_deep = long_run = False
    deepest = (0, 0)  # markers, line
    worst = (0, 0, 0, 0)  # brackets × characters, brackets, characters, first line
    for number, line in enumerate(body.split("\n"), start=first_line):
        fenced = FENCE.match(line)
        if fenced or fence is not None:
            if fenced and fence is None:
                fence = fenced.group(1)[0] * len(fenced.group(1))
            elif fenced and line.strip().startswith(fence):
                fence = None
            continue
        blank = not line.strip()
        if blank or _UNIT_START.match(line):
            work += links * chars
            worst = max(worst, (links * chars, links, chars, start))
            links = chars = 0
            if blank:
                continue
            start = number
        elif not chars:  # the first line after a blank one
            start = number
        depth, markers = nesting_depth(line)
        nesting += markers
        deepest = max(deepest, (markers, -number))
        if depth > MAX_DEPTH and not too_deep:
            too_deep = True
            problems.append(Problem(SourceLocation(path, number),
                                    f"lists, quotes or indentation nested {depth} levels deep; at most {MAX_DEPTH}: "
                                    "flatten it, or break it into lists or quotes one after another"))
        if not long_run and ("*" in line or "_" in line) and (run := _MARKER_RUN.search(line)):
            long_run = True
            problems.append(Problem(SourceLocation(path, number),
                                    f'{len(run.group()):,} "*" and "_" in a row; at most {MAX_MARKER_RUN:,}: put them '
                                    "in a code span (`…`) or break the run with spaces"))
        if "[" in line or "<" in line:
            links += len(_LINKISH.findall(line))
        chars += len(line)
    work += links * chars
    worst = max(worst, (links * chars, links, chars, start))
    if nesting > MAX_NESTING_WORK:
        problems.append(Problem(SourceLocation(path, -deepest[1]),
                                f"lists and quotes nested {deepest[0]} levels deep here, and {nesting:,} levels over all "
                                f"the file's lines (a line 10 deep counts 10), more than the {MAX_NESTING_WORK:,} kb "
                                "takes: flatten them, or split the file"))
    if work > MAX_LINK_WORK:
        _, most, length, line = worst
        problems.append(Problem(SourceLocation(path, line),
                                f"{most:,} links, brackets or HTML tags in one paragraph of {length:,} characters: the "
                                f"time to render grows with their number × the characters, and this file comes to "
                                f"{work:,}, more than the {MAX_LINK_WORK:,} kb takes; put the links in a list, one an "
                                "item, or split the paragraph or the file"))
    return sorted(problems)

