"""content/members.yaml → `Member`s: a list of {id: …}, or a mapping id → profile; every field of
the type it must have (a name that is a list would be published as Python writes a list)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from ..config import SiteConfig
from ..core.dates import parse_when
from ..core.errors import Problem, SourceLocation, described, did_you_mean
from ..core.yamltext import YamlDoc, YamlError, load_yaml_file
from ..model.records import Member
from .frontmatter import SEGMENT_BYTES, Where
from .sanitize import is_safe_url
from .sources import MEMBERS_FILE

MEMBER_KEYS = ("id", "name", "bio", "avatar", "joined", "links")


def load_members(site_root: Path, config: SiteConfig) -> tuple[dict[str, Member], list[Problem]]:
    """The members, and what is wrong with the file, each problem with its line."""
    try:
        doc = load_yaml_file(site_root, MEMBERS_FILE)
    except YamlError as exc:
        return {}, [exc.problem]
    if doc is None:
        return {}, []
    problems: list[Problem] = list(doc.problems)
    data = doc.data or {}
    if isinstance(data, dict):
        items = [((key,), key, profile) for key, profile in data.items()]
    elif isinstance(data, list):
        items = [((index,), (p or {}).get("id") if isinstance(p, dict) else None, p) for index, p in enumerate(data)]
    else:
        return {}, [*problems, Problem(SourceLocation(MEMBERS_FILE, 1), "members.yaml must be a list of members with an id, or a mapping from id to profile")]
    members: dict[str, Member] = {}
    for key_path, member_id, profile in items:
        member, found = member_of(doc, key_path, member_id, profile, members, config.tz)
        problems.extend(found)
        if member is not None:
            members[member.id] = member
    return members, problems


def member_of(doc: YamlDoc, key_path: tuple, member_id: Any, profile: Any, known: dict[str, Member],
              tz: tzinfo) -> tuple[Member | None, list[Problem]]:
    """The member at `key_path` (None if it cannot be one), and what is wrong with its profile."""
    loc = SourceLocation(MEMBERS_FILE, doc.line(*key_path))

    def at(*key: str | int) -> SourceLocation:
        return SourceLocation(MEMBERS_FILE, doc.line(*key_path, *key))

    if profile is None:
        profile = {}
    if isinstance(profile, str):
        profile = {"name": profile}
    if not isinstance(profile, dict):
        return None, [Problem(loc, "a member's profile must be a mapping with name, bio, …")]
    member_id, problem = checked_id(member_id, known, loc, at("id") if isinstance(doc.data, list) else loc)
    if problem:
        return None, [problem]
    problems = [Problem(at(key), f'unknown member field "{key}"{did_you_mean(str(key), MEMBER_KEYS)}', "warning")
                for key in profile if key not in MEMBER_KEYS]
    wrong = [key for key in ("name", "bio", "avatar") if profile.get(key) is not None and not is_text(profile[key])]
    problems += [Problem(at(key), f'"{key}" must be text, not {described(profile[key])}') for key in wrong]
    profile = {k: v for k, v in profile.items() if k not in wrong}
    joined, found = joined_date(profile.get("joined"), at, tz)
    problems += found
    links, found = safe_links(profile.get("links"), at)
    problems += found
    avatar = str(profile.get("avatar") or "").strip()
    if avatar and not is_safe_url(avatar):
        problems.append(Problem(at("avatar"), f'avatar must be an http(s):// address or a path such as /images/me.png, not "{avatar}"'))
        avatar = ""
    return Member(id=member_id, name=str(profile.get("name") or member_id).strip(),
                  bio=str(profile.get("bio") or "").strip(), avatar=avatar, joined=joined, links=links,
                  location=loc), problems


def checked_id(member_id: Any, known: dict[str, Member], loc: SourceLocation, id_loc: SourceLocation
               ) -> tuple[str, Problem | None]:
    """The member id as kb keeps it (NFC, stripped), and why it cannot be one, if it cannot."""
    if member_id is None or not str(member_id).strip():
        return "", Problem(loc, 'a member needs an "id"')
    if not is_text(member_id):
        return "", Problem(id_loc, f'a member id must be text such as alice, not {described(member_id)}')
    member_id = unicodedata.normalize("NFC", str(member_id).strip())
    if len(member_id.encode()) > SEGMENT_BYTES:
        return member_id, Problem(loc, f'member id "{member_id[:20]}…" is too long: keep it under {SEGMENT_BYTES} bytes')
    if re.search(r"[\s/\\]", member_id) or member_id in (".", ".."):
        return member_id, Problem(loc, f'member id "{member_id}" must be one word without spaces or "/"')
    if member_id in known:
        first = known[member_id].location.line if known[member_id].location else 1
        return member_id, Problem(loc, f'member id "{member_id}" is listed twice, on lines {first} and {loc.line}: keep one')
    return member_id, None


def joined_date(value: Any, at: Where, tz: tzinfo) -> tuple[date | None, list[Problem]]:
    if value is None:
        return None, []
    try:
        if not is_text(value):
            raise ValueError(f"must be a date such as 2025-01-05, not {described(value)}")
        return parse_when(value, tz).date(), []
    except (ValueError, OverflowError) as exc:
        return None, [Problem(at("joined"), f'"joined": {exc}')]


def safe_links(written: Any, at: Where) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """(label, url) of each link whose url is http(s):// or mailto:; the others are problems."""
    links = member_links(written)
    if links is None:
        return (), [Problem(at("links"), "links must be a list of {label, url} or a mapping label: url, each url text")]
    problems = [Problem(at("links", index if isinstance(written, list) else label),
                        f'link "{label}" must be an http(s):// or mailto: address, not "{href}"')
                for index, (label, href) in enumerate(links) if not is_safe_url(href)]
    return tuple((label, href) for label, href in links if is_safe_url(href)), problems


def member_links(value: Any) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return ()
    if isinstance(value, dict):
        if not all(is_text(k) and isinstance(v, str) for k, v in value.items()):
            return None
        return tuple((str(k), v) for k, v in value.items())
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and (item.get("label") is None or is_text(item["label"])):
                out.append((str(item.get("label") or item["url"]), item["url"]))
            elif isinstance(item, str):
                out.append((item, item))
            else:
                return None
        return tuple(out)
    return None


def is_text(value: Any) -> bool:
    """A string, or a number written where text is meant (a QQ number as an id)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
