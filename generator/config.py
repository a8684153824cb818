"""site_config.yaml → a frozen, validated `SiteConfig`.

Unknown keys are errors with a "did you mean", because a misspelt option that
is silently ignored is the hardest bug a curator can meet.
"""
from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .core import i18n
from .core.errors import Problem, Problems, SiteError, SourceLocation, described, did_you_mean
from .core.yamltext import YamlDoc, YamlError, load_yaml_file

CONFIG_FILE = "site_config.yaml"
LANGUAGES = ("zh-CN", "en")
SECTION_IDS = ("highlights", "qa", "lessons")  # the contract's sections, in the order the site shows them
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

    def translator(self) -> Callable[..., str]:
        """The interface's strings in the site's language, with its section labels: t("key", n=…)."""
        return i18n.translator(self.language, dict(self.section_labels))

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
    """The config of site_config.yaml's mapping (`doc`: where its keys are, for messages); `base_url`
    (--base-url) overrides the file's. Raises `SiteError` listing every problem."""
    problems: list[Problem] = [p for p in doc.problems if p.severity == "error"] if doc else []

    def at(*key: str) -> SourceLocation:
        return SourceLocation(CONFIG_FILE, doc.line(*key) if doc else 1)

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SiteError([*problems, Problem(at(), "site_config.yaml must be a mapping of option: value")])
    values = typed_values(data, at, problems)
    if base_url:
        values["base_url"] = base_url
    for key, check in CHECKS.items():
        if key in values:
            values[key] = check(values[key], lambda *inner, key=key: at(key, *inner), problems)
    if problems:
        raise SiteError(problems)
    return SiteConfig(**values)


Where = Callable[..., SourceLocation]  # the line of an option (or of a key inside it), for messages


def typed_values(data: dict, at: Where, problems: list[Problem]) -> dict[str, Any]:
    """The known options of the mapping that have the right type; a problem for each other one."""
    known = [f.name for f in fields(SiteConfig)]
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in known:
            problems.append(Problem(at(key), f'unknown option "{key}"{did_you_mean(key, known)}'))
            continue
        expected = _TYPES[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            wanted = _TYPE_NAMES.get(expected if isinstance(expected, type) else expected[0], "")
            problems.append(Problem(at(key), f'"{key}" must be {wanted}, not {described(value)}'))
            continue
        values[key] = value
    return values


def _base_url(url: str, at: Where, problems: list[Problem]) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[x": a bracket that is not an IPv6 address
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(Problem(at(), f'base_url must be an absolute http(s) URL such as "https://kb.example.org/", not {url!r}'))
    return url if url.endswith("/") else url + "/"


def _language(language: str, at: Where, problems: list[Problem]) -> str:
    if language not in LANGUAGES:
        problems.append(Problem(at(), f'language must be one of {", ".join(LANGUAGES)}, not "{language}"'
                                      f"{did_you_mean(language, LANGUAGES)}"))
    return language


def _timezone(name: str, at: Where, problems: list[Problem]) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(at(), f'unknown timezone "{name}": use an IANA name such as "Asia/Shanghai"'))
    return name


def _week_start(value: int | str, at: Where, problems: list[Problem]) -> int:
    """A weekday's name or ISO number → its ISO number."""
    number = WEEKDAYS.get(value.strip().lower(), 0) if isinstance(value, str) else value
    if not 1 <= number <= 7:
        problems.append(Problem(at(), 'week_start must be a weekday ("monday") or its ISO number 1-7'))
    return number


def _at_least_one(key: str, value: int, at: Where, problems: list[Problem]) -> int:
    if value < 1:
        problems.append(Problem(at(), f'"{key}" must be at least 1'))
    return value


def _section_labels(labels: dict, at: Where, problems: list[Problem]) -> dict:
    for section, label in labels.items():
        if section not in SECTION_IDS:
            problems.append(Problem(at(section), f'unknown section "{section}"{did_you_mean(str(section), SECTION_IDS)}; '
                                                 f'sections are {", ".join(SECTION_IDS)}'))
        elif not isinstance(label, str):
            problems.append(Problem(at(section), "a section label must be text"))
    return labels


def _tag_aliases(aliases: dict, at: Where, problems: list[Problem]) -> dict[str, str]:
    for alias, tag in aliases.items():
        wrong = [v for v in (alias, tag) if not _is_text(v) or not str(v).strip()]
        if wrong:
            problems.append(Problem(at(alias), f'tag_aliases: write each as "alias": "tag", both text, not {described(wrong[0])}'))
    return {str(k): str(v) for k, v in aliases.items()}


# What each option's value must be beyond its type, in the order their problems are listed:
# each returns the value as SiteConfig holds it.
CHECKS: dict[str, Callable[[Any, Where, list[Problem]], Any]] = {
    "base_url": _base_url, "language": _language, "timezone": _timezone, "week_start": _week_start,
    **{key: functools.partial(_at_least_one, key) for key in ("per_page", "feed_limit", "digest_message_limit", "related_count")},
    "section_labels": _section_labels, "tag_aliases": _tag_aliases,
}


def _is_text(value: Any) -> bool:
    """A string, or a number written where text is meant (a tag named 2024)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
