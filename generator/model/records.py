"""The site model: plain frozen records that every later stage reads.

Entries refer to members and to each other by key (member id, URL), never by
object, so the records stay easy to cache, compare and pass between processes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ..config import SiteConfig
from ..core.errors import SourceLocation

BODY_TEXTS = ("html", "text")  # what a record read from the cache may leave to be read on first use


class BodyLater:
    """For records (documents, entries) whose body texts may be read on first use rather than
    with the record: ten thousand cached documents load in a fraction of the time without
    them, and a build after an edit reads a handful (see `body_later`).

    Reading them is invisible: a record lacking `html` and `text` has a loader, which
    `__getattr__` (asked only for attributes the record lacks) calls once.
    """

    def __getattr__(self, name: str):
        load = self.__dict__.get("_body") if name in BODY_TEXTS else None
        if load is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        texts = load()
        for key in BODY_TEXTS:
            object.__setattr__(self, key, texts[key])
        self.__dict__.pop("_body", None)
        return texts[name]


def body_later(record: BodyLater, load: Callable[[], dict[str, str]]):
    """The record, its body texts dropped until first used; `load` returns them then (it must
    pickle, for records sent to other processes)."""
    for name in BODY_TEXTS:
        record.__dict__.pop(name, None)
    object.__setattr__(record, "_body", load)
    return record


def body_loader(record: BodyLater) -> Callable[[], dict[str, str]] | None:
    """What reads the record's body texts, if it has not read them yet."""
    return record.__dict__.get("_body")


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    bio: str = ""
    avatar: str = ""
    joined: date | None = None
    links: tuple[tuple[str, str], ...] = ()  # (label, url)
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Tag:
    slug: str  # URL segment: lower-cased, NFC, no whitespace
    name: str  # how the curators wrote it first


@dataclass(frozen=True)
class Answer(BodyLater):
    author: str  # member id, or a free name
    html: str
    text: str  # plain text, for search and summaries
    date: datetime | None = None
    accepted: bool = False
    line: int = 0


@dataclass(frozen=True)
class Question:
    """What a Q&A entry adds: who asked, the answers, open or answered."""

    asker: str | None
    answers: tuple[Answer, ...] = ()
    forced_open: bool = False  # front matter `status: open` keeps it open

    @property
    def accepted(self) -> Answer | None:
        return next((a for a in self.answers if a.accepted), None)

    @property
    def is_open(self) -> bool:
        return self.forced_open or not self.answers

    @property
    def answered_at(self) -> datetime | None:
        """When the question got its first answer (accepted one first), if dated."""
        dated = [a.date for a in self.answers if a.date]
        if self.accepted and self.accepted.date:
            return self.accepted.date
        return min(dated) if dated else None


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Entry(BodyLater):
    section: str
    slug: str
    url: str  # site-relative, "/qa/some-slug/"
    source: str  # path relative to the site root, "content/qa/x.md"
    title: str
    date: datetime  # timezone-aware
    html: str  # body (question body for Q&A), sanitised
    text: str  # plain text of the whole entry, for search, summaries, related
    summary: str  # plain text
    reading_minutes: int
    tags: tuple[Tag, ...] = ()
    authors: tuple[str, ...] = ()
    updated: datetime | None = None
    draft: bool = False
    pinned: bool = False
    weight: int = 0  # order among pinned entries on /start/
    toc: tuple[Heading, ...] = ()
    question: Question | None = None
    links: tuple[tuple[str, int], ...] = ()  # internal links (target URL, line) for checks
    location: SourceLocation | None = None
    # The key of the document this entry was made from, which stands for every field the entry
    # takes from that document alone (DOCUMENT_FIELDS) in its digest: ten thousand entries need
    # not be pickled on every build. Set by the assembler alone (`with_origin`): an entry copied
    # with `replace`, or whose links were resolved, has none.
    origin: str = field(default="", init=False)

    @property
    def contributors(self) -> tuple[str, ...]:
        """Everyone credited: authors, the asker, then answerers, in order, once each."""
        names = list(self.authors)
        if self.question:
            if self.question.asker:
                names.append(self.question.asker)
            names.extend(a.author for a in self.question.answers)
        return tuple(dict.fromkeys(names))


# What the assembler takes from an entry's document alone (see Entry.origin; tests/unit/test_assemble.py
# checks it): all but its tags, which are spelled as the whole site spells them. Named one by one, so
# that a field added later is digested by its value until it is known to come from the document.
DOCUMENT_FIELDS = frozenset({"section", "slug", "url", "source", "title", "date", "html", "text", "summary",
                             "reading_minutes", "authors", "updated", "draft", "pinned", "weight", "toc",
                             "question", "links", "location"})


def with_origin(entry: Entry, key: str) -> Entry:
    """The entry, marked as having the DOCUMENT_FIELDS that the document with this key gives."""
    object.__setattr__(entry, "origin", key)
    return entry


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    now: datetime  # timezone-aware, in the site's timezone
    entries: tuple[Entry, ...]  # newest first, then by URL
    members: Mapping[str, Member] = field(default_factory=dict)
    tags: Mapping[str, Tag] = field(default_factory=dict)  # slug -> Tag
    notes: Mapping[str, str] = field(default_factory=dict)  # "2026-W47" -> digest note HTML
    scheduled: tuple[datetime, ...] = ()  # dates of entries left out until then (see unchanged.next_change)

    def by_url(self) -> dict[str, Entry]:
        return {e.url: e for e in self.entries}

    def in_section(self, section: str) -> list[Entry]:
        return [e for e in self.entries if e.section == section]

    def pinned(self) -> list[Entry]:
        """The must-reads (home page, /start/), in the curators' order: `weight`, then date."""
        return sorted((e for e in self.entries if e.pinned), key=lambda e: (e.weight or 999, e.date))

    def member_name(self, who: str) -> str:
        member = self.members.get(who)
        return member.name if member else who
