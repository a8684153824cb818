"""A Q&A entry's answers: each begins with a heading "## 回答 @member 2026-11-03 已采纳" (or
"## Answer"), whose author, date and acceptance may instead follow on an "**回答者：** @member" line."""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from ...core.dates import parse_when
from .fences import FENCE

ANSWER_HEADING = re.compile(r"^##[ \t]+(?:回答|答|answer)(?=[ \t:：@\d(（]|$)[ \t]*[:：]?(?P<rest>.*?)[ \t#]*$", re.I)
ANSWERED_BY = re.compile(r"^\s*\*\*(?:回答者|Answered by)\s*[:：]?\s*\*\*\s*[:：]?\s*@?(?P<who>[^\s（(]+)\s*(?P<rest>.*?)\s*$", re.I)
ACCEPTED_WORDS = ("已采纳", "采纳", "accepted", "✓", "✔", "✅")
DATE_TOKEN = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
TIME_TOKEN = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def answer_blocks(body: str) -> tuple[str, list[tuple[str, str, int]]]:
    """Split a Q&A body into (question, [(heading rest, answer text, line offset)])."""
    lines = body.split("\n")
    fence = None
    starts: list[int] = []
    for number, line in enumerate(lines):
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None and ANSWER_HEADING.match(line):
            starts.append(number)
    if not starts:
        return body, []
    blocks = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        rest = ANSWER_HEADING.match(lines[start]).group("rest")
        blocks.append((rest, "\n".join(lines[start + 1:end]), start + 1))
    return "\n".join(lines[: starts[0]]), blocks


def answer_meta(rest: str, text: str, tz: tzinfo) -> tuple[str, datetime | None, bool, str, str | None]:
    """(author, date, accepted, text without the "answered by" line, problem)."""
    author, when, accepted, problem = "", None, False, None
    tokens = rest.replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ").split()
    date_text = ""
    for token in tokens:
        if token.startswith("@") and len(token) > 1:
            author = token[1:]
        elif token.lower() in ACCEPTED_WORDS:
            accepted = True
        elif DATE_TOKEN.match(token):
            date_text = token
        elif TIME_TOKEN.match(token) and date_text:
            date_text += " " + token
    if date_text:
        try:
            when = parse_when(date_text, tz)
        except ValueError as exc:
            problem = f"answer date: {exc}"
    if not author:
        lines = text.lstrip("\n").split("\n", 1)
        match = ANSWERED_BY.match(lines[0])
        if match:
            author = match.group("who").lstrip("@")
            text = lines[1] if len(lines) > 1 else ""
            rest = match.group("rest").replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ")
            accepted = accepted or any(token.lower() in ACCEPTED_WORDS for token in rest.split())
    return author, when, accepted, text, problem

