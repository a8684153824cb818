"""site_config.yaml → a frozen, validated `SiteConfig`.

Unknown keys are errors with a "did you mean", because a misspelt option that
is silently ignored is the hardest bug a curator can meet.
"""
from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .core.errors import Problem, Problems, SiteError, SourceLocation, described, did_you_mean
from .core.yamltext import YamlDoc, YamlError, load_yaml_file

CONFIG_FILE = "site_config.yaml"
LANGUAGES = ("zh-CN", "en")
SECTION_IDS = ("highlights", "qa", "lessons")
WEEKDAYS = {"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5,
            "saturday": 6, "sunday": 7}


@dataclass(frozen=True)
class SiteConfig:
    title: str = "社群知识库"
    description: str = ""
    base_url: str = "http://127.0.0.1:8000/"  # always ends with "/"
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    week_start: int = 1  # ISO weekday
    section_labels: Mapping[str, str] = field(default_factory=dict)  # overrides the UI strings
    per_page: int = 20
    feed_limit: int = 50
    feed_full_content: bool = True
    digest_message_limit: int = 1500  # characters per chat message of `kb digest --format txt`
    tag_aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> tag
    trusted_html: bool = False  # keep raw HTML in Markdown without sanitising
    toc_min_headings: int = 3
    related_count: int = 5
    footer: str = ""
    image: str = ""  # default Open Graph image, site-relative or absolute

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under ("/" or "/kb/")."""
        return urlsplit(self.base_url).path or "/"

    def absolute(self, url: str) -> str:
        """Site-relative "/qa/x/" → "https://host/base/qa/x/"."""
        if "://" in url:
            return url
        return self.base_url.rstrip("/") + "/" + url.lstrip("/")


_TYPES: dict[str, type | tuple[type, ...]] = {
    "title": str, "description": str, "base_url": str, "language": str, "timezone": str,
    "week_start": (int, str), "section_labels": dict, "per_page": int, "feed_limit": int,
    "feed_full_content": bool, "digest_message_limit": int, "tag_aliases": dict,
    "trusted_html": bool, "toc_min_headings": int, "related_count": int, "footer": str,
    "image": str,
}
_TYPE_NAMES = {str: "text", int: "a whole number", bool: "true or false", dict: "a mapping"}


def load_config(site_root: Path, base_url: str | None = None, problems: Problems | None = None) -> SiteConfig:
    """Read and check site_config.yaml; raise `SiteError` listing every problem. Its warnings go
    to `problems` when it is given and there are no errors; they are raised with the errors."""
    try:
        doc = load_yaml_file(site_root, CONFIG_FILE)
    except YamlError as exc:
        raise SiteError([exc.problem]) from None
    if doc is None:
        return config_from_mapping({}, None, base_url)
    warnings = [p for p in doc.problems if p.severity == "warning"]
    try:
        config = config_from_mapping(doc.data, doc, base_url)
    except SiteError as exc:
        raise SiteError(exc.problems + warnings) from None
    if problems is not None:
        problems.extend(warnings)
    return config


def config_from_mapping(data: Any, doc: YamlDoc | None, base_url: str | None = None) -> SiteConfig:
    problems: list[Problem] = [p for p in doc.problems if p.severity == "error"] if doc else []

    def at(*key: str) -> SourceLocation:
        return SourceLocation(CONFIG_FILE, doc.line(*key) if doc else 1)

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SiteError([*problems, Problem(at(), "site_config.yaml must be a mapping of option: value")])
    known = [f.name for f in fields(SiteConfig)]
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in known:
            problems.append(Problem(at(key), f'unknown option "{key}"{did_you_mean(key, known)}'))
            continue
        expected = _TYPES[key]
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not ok:
            wanted = _TYPE_NAMES.get(expected if isinstance(expected, type) else expected[0], "")
            problems.append(Problem(at(key), f'"{key}" must be {wanted}, not {described(value)}'))
            continue
        values[key] = value
    if base_url:
        values["base_url"] = base_url

    if "base_url" in values:
        url = values["base_url"]
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[x": a bracket that is not an IPv6 address
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(Problem(at("base_url"), f'base_url must be an absolute http(s) URL such as "https://kb.example.org/", not {url!r}'))
        values["base_url"] = url if url.endswith("/") else url + "/"
    if "language" in values and values["language"] not in LANGUAGES:
        lang = values["language"]
        problems.append(Problem(at("language"), f'language must be one of {", ".join(LANGUAGES)}, not "{lang}"{did_you_mean(lang, LANGUAGES)}'))
    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(Problem(at("timezone"), f'unknown timezone "{values["timezone"]}": use an IANA name such as "Asia/Shanghai"'))
    if "week_start" in values:
        week_start = values["week_start"]
        if isinstance(week_start, str):
            week_start = WEEKDAYS.get(week_start.strip().lower(), 0)
        if not 1 <= week_start <= 7:
            problems.append(Problem(at("week_start"), 'week_start must be a weekday ("monday") or its ISO number 1-7'))
        values["week_start"] = week_start
    for key in ("per_page", "feed_limit", "digest_message_limit", "related_count"):
        if key in values and values[key] < 1:
            problems.append(Problem(at(key), f'"{key}" must be at least 1'))
    if "section_labels" in values:
        for section, label in values["section_labels"].items():
            if section not in SECTION_IDS:
                problems.append(Problem(at("section_labels", section), f'unknown section "{section}"{did_you_mean(str(section), SECTION_IDS)}; sections are {", ".join(SECTION_IDS)}'))
            elif not isinstance(label, str):
                problems.append(Problem(at("section_labels", section), "a section label must be text"))
    if "tag_aliases" in values:
        for alias, tag in values["tag_aliases"].items():
            wrong = [v for v in (alias, tag) if not _is_text(v) or not str(v).strip()]
            if wrong:
                problems.append(Problem(at("tag_aliases", alias), f'tag_aliases: write each as "alias": "tag", '
                                                                  f"both text, not {described(wrong[0])}"))
        values["tag_aliases"] = {str(k): str(v) for k, v in values["tag_aliases"].items()}
    if problems:
        raise SiteError(problems)
    return SiteConfig(**values)


def _is_text(value: Any) -> bool:
    """A string, or a number written where text is meant (a tag named 2024)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
