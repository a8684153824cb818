"""Documents + members + config → `Site`: slugs, URLs, tags, drafts, cross-links.

The only stage that sees every entry at once, so it owns what needs them all:
duplicate slugs, links between entries, tag spellings.
"""
from __future__ import annotations

import html as html_lib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import quote

from ..config import SiteConfig
from ..core.errors import Problem, SourceLocation
from ..core.text import slugify
from ..core.weeks import parse_week
from ..model import urls
from ..model.records import Answer, Body, Entry, Member, Origin, Question, Site, Tag
from .markdown.tree import PLACEHOLDER_SCHEME
from .parse import Document, minutes_of, summary_of

WEEK_NOTE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Assembly:
    site: Site
    problems: tuple[Problem, ...]


def preferred_spelling(names: dict[str, list[datetime]]) -> str:
    """The spelling curators use most; on a tie, the one used first."""
    return min(names, key=lambda name: (-len(names[name]), min(names[name]), name))


def tag_key(name: str) -> str:
    """One tag whatever its case, width or spacing: `Community ` = `community`."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def assemble_site(config: SiteConfig, documents: list[Document], members: dict[str, Member],
                  now: datetime, include_drafts: bool = False) -> Assembly:
    problems: list[Problem] = []
    spellings = Spellings({tag_key(k): v for k, v in config.tag_aliases.items()})
    notes: dict[str, Document] = {}  # "2026-W47" → its note
    kept: list[tuple[Document, str, str, list[str]]] = []  # (doc, slug, url, tag keys)
    seen_slugs: dict[tuple[str, str], str] = {}
    url_of_source: dict[str, str] = {}
    scheduled: list[datetime] = []
    for doc in sorted(documents, key=lambda d: d.source):
        if doc.section == "digest":
            if is_week_note(doc, problems):
                notes[doc.stem] = doc
            continue
        problems.extend(doc.problems)
        if not doc.ok:
            continue
        slug, problem = claimed_slug(doc, seen_slugs)
        if problem:
            problems.append(problem)
            continue
        url = url_of_source[doc.source] = urls.entry(doc.section, slug)
        front = doc.front
        tag_keys = spellings.keys(front.tags, front.date)
        if front.date > now:
            scheduled.append(front.date)
        if (front.draft and not include_drafts) or front.date > now:
            continue
        kept.append((doc, slug, url, tag_keys))

    tags = spellings.tags()
    entries = [_entry_of(doc, slug, url, tuple(tags[key] for key in tag_keys), url_of_source, config.base_path)
               for doc, slug, url, tag_keys in kept]  # made once their tags' spellings are known
    problems.extend(shared_url_problems(tags))
    entries.sort(key=lambda e: (-e.date.timestamp(), e.url))
    used = {t.slug for e in entries for t in e.tags}
    site = Site(config=config, now=now, entries=tuple(entries), members=members,
                tags={t.slug: t for t in sorted(tags.values(), key=lambda t: t.slug) if t.slug in used},
                notes={label: note_with_links(doc, url_of_source, config.base_path) for label, doc in notes.items()},
                scheduled=tuple(sorted(scheduled)))
    return Assembly(site, tuple(problems))


def claimed_slug(doc: Document, seen: dict[tuple[str, str], str]) -> tuple[str, Problem | None]:
    """The document's slug, claimed in `seen` (section and slug → source), and why it cannot have it, if it cannot."""
    slug = doc.front.slug or slugify(doc.stem)
    loc = SourceLocation(doc.source, doc.line("slug"))
    if not slug or slug in (".", ".."):
        return slug, Problem(loc, f'cannot make a URL from the file name "{doc.stem}": add "slug: …" to the front matter')
    key = (doc.section, slug.casefold())
    if key in seen:
        return slug, Problem(loc, f'duplicate slug "{slug}": {seen[key]} already has it; rename one file or set "slug:"')
    seen[key] = doc.source
    return slug, None


@dataclass
class Spellings:
    """Every tag's spellings, with the dates of the entries that use each, gathered entry by entry."""

    aliases: dict[str, str]  # tag key → the spelling the site's tag_aliases give it
    named: dict[str, tuple[str, str]] = field(default_factory=dict)  # a tag as written → (its spelling, its key)
    dates: dict[str, dict[str, list[datetime]]] = field(default_factory=dict)  # tag key → spelling → dates

    def keys(self, written_tags: tuple[str, ...], when: datetime) -> list[str]:
        """The keys of an entry's tags, once each, their spellings counted."""
        keys = []
        for written in written_tags:
            if written not in self.named:  # a few hundred tags, written tens of thousands of times
                name = " ".join(unicodedata.normalize("NFC", written).split())
                name = self.aliases.get(tag_key(name), name)
                self.named[written] = name, tag_key(name)
            name, key = self.named[written]
            self.dates.setdefault(key, {}).setdefault(name, []).append(when)
            if key not in keys:
                keys.append(key)
        return keys

    def tags(self) -> dict[str, Tag]:
        """Tag key → the tag, spelled as curators spell it most."""
        return {key: Tag(slugify(key) or "tag", preferred_spelling(names)) for key, names in self.dates.items()}


def shared_url_problems(tags: dict[str, Tag]) -> list[Problem]:
    """Two tags whose slugs are the same (a tag page each, one URL)."""
    problems = []
    tag_slugs: dict[str, str] = {}
    for key, tag in tags.items():
        if tag.slug in tag_slugs and tag_slugs[tag.slug] != key:
            problems.append(Problem(SourceLocation("site_config.yaml", 1),
                                    f'tags "{tag_slugs[tag.slug]}" and "{key}" share the URL /tags/{tag.slug}/: merge them with tag_aliases'))
        tag_slugs[tag.slug] = key
    return problems


def question_of(doc: Document) -> Question | None:
    """What a Q&A entry adds: who asked, the answers, whether it is kept open."""
    if doc.section != "qa":
        return None
    return Question(asker=doc.front.asker, answers=tuple(Answer(a.author, a.body, a.date, a.accepted, a.line) for a in doc.answers),
                    forced_open=doc.front.status == "open")


_PLACEHOLDER = re.compile(r'href="' + re.escape(PLACEHOLDER_SCHEME) + r'([^"#]*)(#[^"]*)?"')


def _entry_of(doc: Document, slug: str, url: str, tags: tuple[Tag, ...], url_of_source: dict[str, str],
              base_path: str) -> Entry:
    resolving = doc.placeholders  # its links to other entries' files point at their URLs now: a body of its own
    origin = None if resolving else Origin(doc.key)
    entry = Entry(
        section=doc.section, slug=slug, url=url, source=doc.source, title=doc.front.title, date=doc.front.date,
        body=doc.body, summary=summary_of(doc), reading_minutes=minutes_of(doc), authors=doc.front.authors,
        updated=doc.front.updated, draft=doc.front.draft, pinned=doc.front.pinned,
        weight=doc.front.weight, toc=doc.toc, question=question_of(doc), links=doc.links,
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


def is_week_note(doc: Document, problems: list[Problem]) -> bool:
    """True for a week's note (content/digest/2026-W47.md: the curator's note on top of that week's
    digest); its problems, or why it is none, go to `problems`."""
    if not WEEK_NOTE.match(doc.stem):
        problems.append(Problem(SourceLocation(doc.source, 1),
                                f'a digest note must be named after its ISO week, like 2026-W47.md, not "{doc.stem}.md"'))
        return False
    try:
        parse_week(doc.stem)
    except ValueError as exc:  # a week its year does not have (2025-W53), or outside the years kb takes
        problems.append(Problem(SourceLocation(doc.source, 1), f"{exc}; rename this note after the week it is for"))
        return False
    problems.extend(p for p in doc.problems if "missing" not in p.message)
    return True


def note_with_links(doc: Document, url_of_source: dict[str, str], base_path: str) -> str:
    """A week's note with its links to entries' .md files resolved, as in entries."""
    return html_with_links(doc.html, url_of_source, base_path)
