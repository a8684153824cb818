"""The site model: plain frozen records that every later stage reads.

Entries refer to members and to each other by key (member id, URL), never by
object, so the records stay easy to cache, compare and pass between processes.
Two values they hold say what they do besides: a `Body` may read its texts from
the build cache when first asked, and an `Origin` vouches for one entry alone.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ..config import SiteConfig
from ..core.errors import SourceLocation

Texts = tuple[str, str]  # (html, plain text)


class Body:
    """The HTML and plain text of a document, an entry or an answer: held, or read on first use by the
    loader it was made with. Records read from the build cache leave their bodies there, so that an
    edit rebuild of ten thousand entries reads a handful; `read` is where the reading happens."""

    __slots__ = ("_texts", "_load")

    def __init__(self, html: str = "", text: str = "", load: Callable[[], Texts] | None = None):
        """`load`, if given, returns the texts when first asked (it must pickle, for records sent to
        other processes)."""
        self._texts: Texts | None = None if load else (html, text)
        self._load = load

    def read(self) -> Texts:
        """(html, text), read by the loader the first time if they were left where they are stored."""
        texts = self._texts
        if texts is None:
            load = self._load
            texts = self._texts if load is None else load()  # None: another thread has just read them
            self._texts, self._load = texts, None
        return texts

    @property
    def html(self) -> str:
        return self.read()[0]

    @property
    def text(self) -> str:
        return self.read()[1]

    @property
    def is_read(self) -> bool:
        return self._texts is not None

    def __eq__(self, other: object) -> bool:
        return self.read() == other.read() if isinstance(other, Body) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.read())

    def __reduce__(self):
        return (Body, self._texts) if self._texts is not None else (Body, ("", "", self._load))

    def __repr__(self) -> str:
        return f"Body({self._texts[0][:40]!r}…)" if self._texts is not None else "Body(not read yet)"


class WithBody:
    """A record whose `body` holds its HTML and plain text (see Body: reading them may read the cache)."""

    body: Body

    @property
    def html(self) -> str:
        """Sanitised HTML."""
        return self.body.html

    @property
    def text(self) -> str:
        """Plain text, for search, summaries and related entries."""
        return self.body.text


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
class Answer(WithBody):
    author: str  # member id, or a free name
    body: Body
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
class Entry(WithBody):
    section: str
    slug: str
    url: str  # site-relative, "/qa/some-slug/"
    source: str  # path relative to the site root, "content/qa/x.md"
    title: str
    date: datetime  # timezone-aware
    body: Body  # html: the body (the question's for Q&A); text: the whole entry's, answers too
    summary: str  # plain text
    reading_minutes: int
    authors: tuple[str, ...] = ()
    updated: datetime | None = None
    draft: bool = False
    pinned: bool = False
    weight: int = 0  # order among pinned entries on /start/
    toc: tuple[Heading, ...] = ()
    question: Question | None = None
    links: tuple[tuple[str, int], ...] = ()  # internal links (target URL, line) for checks
    location: SourceLocation | None = None
    # The fields above come from the entry's document alone (DOCUMENT_FIELDS), these from the whole site:
    tags: tuple[Tag, ...] = ()  # spelled as the site spells them most
    made_from: Origin | None = None  # set by the assembler alone (see `origin`)

    @property
    def origin(self) -> str:
        """The key of the document this entry was made from, while the entry holds what that document
        gave it (DOCUMENT_FIELDS): the key stands for those in its digest, so that ten thousand entries
        need not be pickled on every build. A copy with other values, or an entry whose links were
        resolved, has none ("")."""
        made = self.made_from
        return made.key if made is not None and made.vouches_for(self) else ""

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
DOCUMENT_FIELDS = frozenset({"section", "slug", "url", "source", "title", "date", "body", "summary",
                             "reading_minutes", "authors", "updated", "draft", "pinned", "weight", "toc",
                             "question", "links", "location"})


class Origin:
    """The document an entry was made from, by key, vouching for that one entry: it holds what the
    document gave it. A copy made with `replace` holds the same Origin, which does not vouch for it."""

    __slots__ = ("key", "_entry")

    def __init__(self, key: str):
        self.key = key
        self._entry: weakref.ref[Entry] | None = None

    def vouch_for(self, entry: Entry) -> Entry:
        """The entry (holding this origin, made by the assembler from the document), vouched for."""
        self._entry = weakref.ref(entry)
        return entry

    def vouches_for(self, entry: Entry) -> bool:
        return self._entry is not None and self._entry() is entry

    def __eq__(self, other: object) -> bool:
        return self.key == other.key if isinstance(other, Origin) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self):
        return Origin, (self.key,)  # vouching for no copy of the entry made in another process

    def __repr__(self) -> str:
        return f"Origin({self.key!r})"


def with_origin(entry: Entry, key: str) -> Entry:
    """A copy of the entry, vouched for as made from the document with this key."""
    origin = Origin(key)
    return origin.vouch_for(replace(entry, made_from=origin))


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
