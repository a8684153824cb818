"""Front matter: the YAML block at the top of an entry, checked key by key into a `FrontMatter`.

A value that passes its check is kept; one that does not is described with its line and left at
its default, so that one mistake hides no other.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ..core.dates import parse_when
from ..core.errors import Problem, SourceLocation, described, did_you_mean
from ..core.text import slugify
from ..core.yamltext import YamlDoc, YamlError

FRONT_MATTER_KEYS = ("title", "date", "tags", "authors", "summary", "draft", "slug", "pinned",
                     "updated", "weight", "asker", "status")
SEGMENT_BYTES = 200  # a slug, tag or member id becomes a folder name; file systems allow 255 bytes
SLUG_RESERVED = re.compile(r"[?#%:*|\x7f]|\.$")  # a query, a fragment, an escape; not in a Windows file name


@dataclass(frozen=True)
class FrontMatter:
    """An entry's front matter: the values that passed their checks, the others at their defaults."""

    title: str = ""
    date: datetime | None = None  # timezone-aware, in the site's timezone
    tags: tuple[str, ...] = ()  # as written
    authors: tuple[str, ...] = ()  # member ids, or free names
    summary: str = ""
    draft: bool = False
    slug: str = ""  # "": made from the file name
    pinned: bool = False
    weight: int = 0
    updated: datetime | None = None
    asker: str | None = None  # Q&A: who asked
    status: str | None = None  # Q&A: "open" keeps a question open however many answers it has


Where = Callable[..., SourceLocation]  # a key (and an index in its list) → where the file holds it


def split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """(yaml, body, body_first_line); raise YamlError when the block is missing."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise YamlError(Problem(SourceLocation(path, 1),
            'missing front matter: start the file with a line "---", then "title: …" and "date: …", then "---"'))
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise YamlError(Problem(SourceLocation(path, 1),
        'front matter is not closed: add a line "---" after the last "key: value" line'))


def check_front_matter(data: Any, yaml: YamlDoc, path: str, tz: tzinfo) -> tuple[FrontMatter, list[Problem]]:
    """Keep the values that pass; describe every one that does not, with its line."""

    def at(*key: str | int) -> SourceLocation:
        return SourceLocation(path, yaml.line(*key))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        return FrontMatter(), [Problem(SourceLocation(path, 2), "front matter must be key: value lines (a YAML mapping)")]
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in FRONT_MATTER_KEYS:
            problems.append(Problem(at(key), f'unknown front matter key "{key}"{did_you_mean(key, FRONT_MATTER_KEYS)}', "warning"))
        elif value is not None or key == "title":  # "summary:" left empty means no summary
            checked, found = VALUE_CHECKS[key](key, value, at, tz)
            problems.extend(found)
            if checked is not None:
                values[key] = checked
    problems.extend(missing_problems(data, values, at, path))
    if "slug" in values:
        slug, problem = checked_slug(values["slug"])
        if problem:
            problems.append(Problem(at("slug"), problem))
            del values["slug"]
        else:
            values["slug"] = slug
    return FrontMatter(**values), problems


def missing_problems(data: dict, values: dict[str, Any], at: Where, path: str) -> list[Problem]:
    """A title and a date are required; a title may not be empty."""
    problems = []
    for required in ("title", "date"):
        if required not in data:
            problems.append(Problem(SourceLocation(path, 1), f'missing "{required}": add a line "{required}: …" to the front matter'))
        elif required == "title" and required in values and not values["title"]:
            problems.append(Problem(at("title"), '"title" is empty'))
    return problems


# Each check: (key, value as written, where, timezone) → (the value kept, or None; problems).


def text_value(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[str | None, list[Problem]]:
    if value is None or isinstance(value, (dict, list, bool)):
        return None, [Problem(at(key), f'"{key}" must be text, not {described(value)}')]
    return str(value).strip(), []


def date_value(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[datetime | None, list[Problem]]:
    try:
        return parse_when(value, tz), []
    except (ValueError, OverflowError) as exc:
        reason = str(exc)
        if "range" in reason or "must be in" in reason:
            reason = f'impossible date "{value}" ({reason}): check the month and day'
        return None, [Problem(at(key), f'"{key}": {reason}')]


def list_value(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """A YAML list, or words separated by commas; tags too long to be a folder are left out."""
    items = as_list(value)
    if items is None:
        return None, [Problem(at(key), f'"{key}" must be a list such as [社群运营, 新人引导]')]
    if key != "tags":
        return tuple(items), []
    problems = [Problem(at(key, index), f'tag "{tag[:20]}…" is too long ({len(tag)} characters) to be a folder '
                                        "of the site: a tag is a word or two")
                for index, tag in enumerate(items) if len(slugify(tag).encode()) > SEGMENT_BYTES]
    return tuple(t for t in items if len(slugify(t).encode()) <= SEGMENT_BYTES), problems


def as_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,，、]", value) if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def flag_value(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[bool | None, list[Problem]]:
    if not isinstance(value, bool):
        return None, [Problem(at(key), f'"{key}" must be true or false, not {value!r}')]
    return value, []


def whole_number(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[int | None, list[Problem]]:
    if not isinstance(value, int) or isinstance(value, bool):
        return None, [Problem(at(key), f'"{key}" must be a whole number, not {value!r}')]
    return value, []


def status_value(key: str, value: Any, at: Where, tz: tzinfo) -> tuple[str | None, list[Problem]]:
    word = str(value).strip().lower()
    if word not in ("open", "answered", "待解答", "已解答"):
        return None, [Problem(at(key), f'"{key}" must be open or answered, not {value!r}')]
    return "open" if word in ("open", "待解答") else "answered", []


VALUE_CHECKS = {"title": text_value, "summary": text_value, "slug": text_value, "asker": text_value,
                "date": date_value, "updated": date_value, "tags": list_value, "authors": list_value,
                "draft": flag_value, "pinned": flag_value, "weight": whole_number, "status": status_value}


def checked_slug(written: str) -> tuple[str, str | None]:
    """The slug as kb keeps it (NFC), and why it cannot be one, if it cannot."""
    slug = unicodedata.normalize("NFC", written)
    if len(slug.encode()) > SEGMENT_BYTES:
        return slug, f'slug "{slug[:20]}…" is too long ({len(slug.encode())} bytes): keep it under {SEGMENT_BYTES}, a few words'
    if not slug or slug in (".", "..") or re.search(r"[/\\]|\.\.|[\x00-\x1f\s]", slug):
        return slug, f'slug "{written}" must be one path segment: no "/", "\\", "..", spaces or control characters'
    if reserved := reserved_in_slug(slug):
        return slug, (f'slug "{slug}" has {reserved}, which would break its links or its folder on some systems: '
                      f"{slug_advice(slug)}")
    return slug, None


def reserved_in_slug(slug: str) -> str:
    """The characters of an explicit slug that would break its links or its folder, quoted; '' if none."""
    found = dict.fromkeys(match.group() for match in SLUG_RESERVED.finditer(slug))
    return ", ".join('a final "."' if ch == "." else f'"{ch}"' if ch != "\x7f" else "a control character" for ch in found)


def slug_advice(slug: str) -> str:
    suggestion = slugify(slug)
    return f"write slug: {suggestion}" if suggestion else 'use letters, digits and "-"'
