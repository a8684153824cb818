"""Documents + members + config → `Site`: slugs, URLs, tags, drafts, cross-links.

The only stage that sees every entry at once, so it owns what needs them all:
duplicate slugs, links between entries, tag spellings.
"""
from __future__ import annotations

import html as html_lib
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ..config import SiteConfig
from ..core.errors import Problem, SourceLocation, described, did_you_mean
from ..core.text import slugify
from ..core.weeks import parse_week
from ..core.yamltext import YamlError, load_yaml_file
from ..model import urls
from ..model.records import Answer, Body, Entry, Member, Origin, Question, Site, Tag
from .dates import parse_when
from .frontmatter import SEGMENT_BYTES
from .markdown.tree import PLACEHOLDER_SCHEME
from .parse import Document, minutes_of, summary_of
from .sanitize import is_safe_url
from .sources import MEMBERS_FILE

WEEK_NOTE = re.compile(r"^(\d{4})-W(\d{2})$")
MEMBER_KEYS = ("id", "name", "bio", "avatar", "joined", "links")


@dataclass(frozen=True)
class Assembly:
    site: Site
    problems: tuple[Problem, ...]


def load_members(site_root: Path, config: SiteConfig) -> tuple[dict[str, Member], list[Problem]]:
    """content/members.yaml, as a list of {id: …} or a mapping id → profile; every field of the type it
    must have (a name that is a list would be published as Python writes a list)."""
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
        loc = SourceLocation(MEMBERS_FILE, doc.line(*key_path))

        def at(*key: str | int, key_path: tuple = key_path) -> SourceLocation:
            return SourceLocation(MEMBERS_FILE, doc.line(*key_path, *key))

        if profile is None:
            profile = {}
        if isinstance(profile, str):
            profile = {"name": profile}
        if not isinstance(profile, dict):
            problems.append(Problem(loc, "a member's profile must be a mapping with name, bio, …"))
            continue
        if member_id is None or not str(member_id).strip():
            problems.append(Problem(loc, 'a member needs an "id"'))
            continue
        if not _is_text(member_id):
            problems.append(Problem(at("id") if isinstance(data, list) else loc,
                                    f'a member id must be text such as alice, not {described(member_id)}'))
            continue
        member_id = unicodedata.normalize("NFC", str(member_id).strip())
        if len(member_id.encode()) > SEGMENT_BYTES:
            problems.append(Problem(loc, f'member id "{member_id[:20]}…" is too long: keep it under {SEGMENT_BYTES} bytes'))
            continue
        if re.search(r"[\s/\\]", member_id) or member_id in (".", ".."):
            problems.append(Problem(loc, f'member id "{member_id}" must be one word without spaces or "/"'))
            continue
        if member_id in members:
            first = members[member_id].location.line if members[member_id].location else 1
            problems.append(Problem(loc, f'member id "{member_id}" is listed twice, on lines {first} and {loc.line}: keep one'))
            continue
        for key in profile:
            if key not in MEMBER_KEYS:
                problems.append(Problem(at(key), f'unknown member field "{key}"{did_you_mean(str(key), MEMBER_KEYS)}', "warning"))
        wrong = [key for key in ("name", "bio", "avatar") if profile.get(key) is not None and not _is_text(profile[key])]
        for key in wrong:
            problems.append(Problem(at(key), f'"{key}" must be text, not {described(profile[key])}'))
        profile = {k: v for k, v in profile.items() if k not in wrong}
        joined = None
        if profile.get("joined") is not None:
            try:
                if not _is_text(profile["joined"]):
                    raise ValueError(f"must be a date such as 2025-01-05, not {described(profile['joined'])}")
                joined = parse_when(profile["joined"], config.tz).date()
            except (ValueError, OverflowError) as exc:
                problems.append(Problem(at("joined"), f'"joined": {exc}'))
        links = _member_links(profile.get("links"))
        if links is None:
            problems.append(Problem(at("links"), "links must be a list of {label, url} or a mapping label: url, "
                                                 "each url text"))
            links = ()
        written = profile.get("links")
        for index, (label, href) in enumerate(links):
            if not is_safe_url(href):
                item = index if isinstance(written, list) else label
                problems.append(Problem(at("links", item), f'link "{label}" must be an http(s):// or mailto: address, not "{href}"'))
        links = tuple((label, href) for label, href in links if is_safe_url(href))
        avatar = str(profile.get("avatar") or "").strip()
        if avatar and not is_safe_url(avatar):
            problems.append(Problem(at("avatar"), f'avatar must be an http(s):// address or a path such as /images/me.png, not "{avatar}"'))
            avatar = ""
        members[member_id] = Member(
            id=member_id, name=str(profile.get("name") or member_id).strip(), bio=str(profile.get("bio") or "").strip(),
            avatar=avatar, joined=joined, links=links, location=loc,
        )
    return members, problems


def _is_text(value) -> bool:
    """A string, or a number written where text is meant (a QQ number as an id)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _member_links(value) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return ()
    if isinstance(value, dict):
        if not all(_is_text(k) and isinstance(v, str) for k, v in value.items()):
            return None
        return tuple((str(k), v) for k, v in value.items())
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and (item.get("label") is None or _is_text(item["label"])):
                out.append((str(item.get("label") or item["url"]), item["url"]))
            elif isinstance(item, str):
                out.append((item, item))
            else:
                return None
        return tuple(out)
    return None


def preferred_spelling(names: dict[str, list[datetime]]) -> str:
    """The spelling curators use most; on a tie, the one used first."""
    return min(names, key=lambda name: (-len(names[name]), min(names[name]), name))


def tag_key(name: str) -> str:
    """One tag whatever its case, width or spacing: `Community ` = `community`."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def assemble_site(config: SiteConfig, documents: list[Document], members: dict[str, Member],
                  now: datetime, include_drafts: bool = False) -> Assembly:
    problems: list[Problem] = []
    aliases = {tag_key(k): v for k, v in config.tag_aliases.items()}
    spellings: dict[str, dict[str, list[datetime]]] = {}  # tag key -> spelling -> dates
    named: dict[str, tuple[str, str]] = {}  # a tag as written -> (its spelling, its key)
    notes: dict[str, str] = {}
    note_docs: dict[str, Document] = {}
    kept: list[tuple[Document, str, str, list[str], Question | None]] = []  # (doc, slug, url, tag keys, question)
    seen_slugs: dict[tuple[str, str], str] = {}
    url_of_source: dict[str, str] = {}
    scheduled: list[datetime] = []

    for doc in sorted(documents, key=lambda d: d.source):
        if doc.section == "digest":
            week_note(doc, notes, problems)
            note_docs[doc.stem] = doc
            continue
        problems.extend(doc.problems)
        if not doc.ok:
            continue
        front = doc.front
        slug = front.slug or slugify(doc.stem)
        loc = SourceLocation(doc.source, doc.line("slug"))
        if not slug or slug in (".", ".."):
            problems.append(Problem(loc, f'cannot make a URL from the file name "{doc.stem}": add "slug: …" to the front matter'))
            continue
        key = (doc.section, slug.casefold())
        if key in seen_slugs:
            problems.append(Problem(loc, f'duplicate slug "{slug}": {seen_slugs[key]} already has it; rename one file or set "slug:"'))
            continue
        seen_slugs[key] = doc.source
        url = urls.entry(doc.section, slug)
        url_of_source[doc.source] = url
        entry_tags = []
        for written in front.tags:
            if written not in named:  # a few hundred tags, written tens of thousands of times
                name = " ".join(unicodedata.normalize("NFC", written).split())
                name = aliases.get(tag_key(name), name)
                named[written] = name, tag_key(name)
            name, key = named[written]
            spellings.setdefault(key, {}).setdefault(name, []).append(front.date)
            if key not in entry_tags:
                entry_tags.append(key)
        question = None
        if doc.section == "qa":
            question = Question(
                asker=front.asker,
                answers=tuple(Answer(a.author, a.body, a.date, a.accepted, a.line) for a in doc.answers),
                forced_open=front.status == "open",
            )
        if front.date > now:
            scheduled.append(front.date)
        if (front.draft and not include_drafts) or front.date > now:
            continue
        kept.append((doc, slug, url, entry_tags, question))

    tags = {key: Tag(slugify(key) or "tag", preferred_spelling(names)) for key, names in spellings.items()}
    entries = [_entry_of(doc, slug, url, tuple(tags[key] for key in tag_keys), question, url_of_source, config.base_path)
               for doc, slug, url, tag_keys, question in kept]  # made once their tags' spellings are known
    tag_slugs: dict[str, str] = {}
    for key, tag in tags.items():
        if tag.slug in tag_slugs and tag_slugs[tag.slug] != key:
            problems.append(Problem(SourceLocation("site_config.yaml", 1),
                                    f'tags "{tag_slugs[tag.slug]}" and "{key}" share the URL /tags/{tag.slug}/: merge them with tag_aliases'))
        tag_slugs[tag.slug] = key

    for label in notes:
        notes[label] = note_with_links(note_docs[label], url_of_source, config.base_path, now)
    entries.sort(key=lambda e: (-e.date.timestamp(), e.url))
    used = {t.slug for e in entries for t in e.tags}
    site = Site(config=config, now=now, entries=tuple(entries), members=members,
                tags={t.slug: t for t in sorted(tags.values(), key=lambda t: t.slug) if t.slug in used},
                notes=notes, scheduled=tuple(sorted(scheduled)))
    return Assembly(site, tuple(problems))


_PLACEHOLDER = re.compile(r'href="' + re.escape(PLACEHOLDER_SCHEME) + r'([^"#]*)(#[^"]*)?"')


def _entry_of(doc: Document, slug: str, url: str, tags: tuple[Tag, ...], question: Question | None,
              url_of_source: dict[str, str], base_path: str) -> Entry:
    resolving = doc.placeholders  # its links to other entries' files point at their URLs now: a body of its own
    origin = None if resolving else Origin(doc.key)
    entry = Entry(
        section=doc.section, slug=slug, url=url, source=doc.source, title=doc.front.title, date=doc.front.date,
        body=doc.body, summary=summary_of(doc), reading_minutes=minutes_of(doc), authors=doc.front.authors,
        updated=doc.front.updated, draft=doc.front.draft, pinned=doc.front.pinned,
        weight=doc.front.weight, toc=doc.toc, question=question, links=doc.links,
        location=SourceLocation(doc.source, 1), tags=tags, made_from=origin)
    return resolve_links(entry, url_of_source, base_path) if resolving else origin.vouch_for(entry)


def resolve_links(entry: Entry, url_of_source: dict[str, str], base_path: str) -> Entry:
    """Rewrite `kb:content/x.md#a` placeholders to entry URLs (generator/check.py reports broken ones)."""

    def fix(html: str) -> str:
        return html_with_links(html, url_of_source, base_path)

    question = entry.question
    if PLACEHOLDER_SCHEME not in entry.html and not (question and any(PLACEHOLDER_SCHEME in a.html for a in question.answers)):
        return entry  # nothing to resolve: keep the record as it is
    if question and any(PLACEHOLDER_SCHEME in a.html for a in question.answers):
        question = replace(question, answers=tuple(replace(a, body=Body(fix(a.html), a.text)) for a in question.answers))
    return replace(entry, body=Body(fix(entry.html), entry.text), question=question, made_from=None)


def html_with_links(html: str, url_of_source: dict[str, str], base_path: str) -> str:
    """`html` with its `kb:content/x.md#a` placeholders pointing at entry URLs, or marked broken."""

    def substitute(match: re.Match) -> str:
        source = html_lib.unescape(match.group(1))
        anchor = match.group(2) or ""
        url = url_of_source.get(source)
        if url is None:
            return 'href="#" data-broken-link'
        return f'href="{quote(base_path + url.lstrip("/"))}{anchor}"'

    return _PLACEHOLDER.sub(substitute, html) if PLACEHOLDER_SCHEME in html else html


def week_note(doc: Document, notes: dict[str, str], problems: list[Problem]) -> None:
    """content/digest/2026-W47.md: the curator's note shown on top of that week's digest."""
    if not WEEK_NOTE.match(doc.stem):
        problems.append(Problem(SourceLocation(doc.source, 1),
                                f'a digest note must be named after its ISO week, like 2026-W47.md, not "{doc.stem}.md"'))
        return
    try:
        parse_week(doc.stem)
    except ValueError as exc:  # a week its year does not have (2025-W53), or outside the years kb takes
        problems.append(Problem(SourceLocation(doc.source, 1), f"{exc}; rename this note after the week it is for"))
        return
    problems.extend(p for p in doc.problems if "missing" not in p.message)
    notes[doc.stem] = doc.html


def current_time(now: str | None, tz, environ: dict) -> datetime:
    """--now, else SOURCE_DATE_EPOCH, else the clock; always in the site's timezone."""
    if now:
        return parse_when(now, tz)
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz)
    return datetime.now(tz)


def note_with_links(doc: Document, url_of_source: dict[str, str], base_path: str, now: datetime) -> str:
    """A week's note with its links to entries' .md files resolved, as in entries."""
    holder = Entry(section="digest", slug=doc.stem, url=urls.digest(doc.stem), source=doc.source, title=doc.stem,
                   date=now, body=Body(doc.html), summary="", reading_minutes=0, links=doc.links)
    return resolve_links(holder, url_of_source, base_path).html
