"""Stable digests of code, templates and page contexts: the keys of the build cache.

A rendered page is a pure function of the kb code, the templates it loads, the
Jinja globals it reads and its own context, so a digest of all four names it.
Values are serialised with pickle in "fast" mode (no memo, so the bytes depend
only on values, never on which objects happen to be shared); entries are
digested once each and stand for themselves by digest inside page contexts.
"""
from __future__ import annotations

import copyreg
import dataclasses
import functools
import hashlib
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from ..model.records import DOCUMENT_FIELDS, Answer, Entry, Site
from .parallel import MIN_ITEMS, Background

PACKAGE = Path(__file__).parent.parent  # generator/: every module of kb
# Globals that read nothing but the config (in every key), the members (in the key of every
# page whose templates use MEMBER_GLOBALS) or nothing at all.
PURE_GLOBALS = frozenset({"config", "t", "lang", "url", "abs_url", "name", "members", "sections", "urls", "card",
                          "fragment", "range", "dict", "lipsum", "cycler", "joiner", "namespace"})
MEMBER_GLOBALS = frozenset({"members", "name", "card"})
# Globals that render a template by name: a template that calls one loads that template too.
TEMPLATE_GLOBALS = {"card": "partials/entry_card.html"}
# Filters and tests that read nothing but their arguments.
PURE_FILTERS = frozenset(jinja2.filters.FILTERS) | {"date", "isodate", "month", "month_only", "ymd", "week", "week_range", "tojson_safe"}
PURE_TESTS = frozenset(jinja2.tests.TESTS)


def sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


@functools.cache  # the code running cannot change under a running process: read it once
def code_version() -> str:
    """Digest of kb's own source and the libraries that shape its output."""
    import markdown
    import nh3
    import numpy
    import pygments

    h = hashlib.sha256(f"{jinja2.__version__} {markdown.__version__} {pygments.__version__} {nh3.__version__} "
                       f"{numpy.__version__}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(path.relative_to(PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _entry_ref(digest: str) -> str:
    return digest


class _Pickler(pickle.Pickler):
    """Entries (and their answers), and objects of `kinds` digested already, become their digest;
    everything else is pickled by value."""

    def __init__(self, file: io.BytesIO, entry_digests: dict[int, str], kinds: tuple[type, ...] = ()):
        super().__init__(file, protocol=5)
        self.fast = True  # no memo: identical values give identical bytes

        def by_digest(obj: Entry | Answer):  # an answer: by its entry's digest and its place
            digest = entry_digests.get(id(obj))
            return (_entry_ref, (digest,)) if digest is not None else obj.__reduce_ex__(5)

        # Looked up for these classes alone: a reducer_override would be called for every object
        # that is not a plain str, list or dict (every date, tag and piece of markup)
        self.dispatch_table = {**copyreg.dispatch_table, **dict.fromkeys((Entry, Answer, *kinds), by_digest)}


def value_digest(value: Any, entry_digests: dict[int, str] | None = None, kinds: tuple[type, ...] = ()) -> str | None:
    """Digest of a value by content; None when it cannot be serialised (never cached).

    `entry_digests` (id → digest): entries and answers, and objects of `kinds` (a week's digest, say,
    which several pages show), stand for themselves by their digest there, if they have one.
    """
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, entry_digests or {}, kinds).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        return None
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


_SITE_FIELDS = tuple(f.name for f in dataclasses.fields(Entry) if f.name not in {*DOCUMENT_FIELDS, "made_from"})


def entry_digest(entry: Entry, origin: str | None = None) -> str:
    """Digest of the entry's value; the key of the document it came from, if known, stands for
    what it takes from that document (`origin`: entry.origin, if the caller has it)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    origin = entry.origin if origin is None else origin
    pickler.dump((*(getattr(entry, name) for name in _SITE_FIELDS), origin) if origin else entry)
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


def entry_digests(entries: tuple[Entry, ...], memo: dict | None = None) -> dict[int, str]:
    """id(entry) → digest of everything in the entry; id(answer) → its entry's digest and its place.

    `memo` (Entry → digest, kept by `kb serve` between builds) skips entries equal to one
    already digested: frozen dataclasses compare and hash by value.
    """
    out: dict[int, str] = {}
    fresh: dict = {}
    known: list[str | None] = [None] * len(entries)
    for i, entry in enumerate(entries):
        if memo is not None:
            try:
                known[i] = memo.get(entry)
            except TypeError:  # a field that cannot be hashed: digest it every time
                memo = None
    for i, entry in enumerate(entries):
        if known[i] is None and (origin := entry.origin):  # no body to pickle
            known[i] = entry_digest(entry, origin)
    # Whole entries in a child, not here: pickling a string leaves a UTF-8 copy of it inside the
    # string for good (CPython caches it). One child: the build's checks run in another meanwhile.
    missing = [i for i, digest in enumerate(known) if digest is None]
    made = Background(lambda: [entry_digest(entries[i]) for i in missing], here=len(missing) < MIN_ITEMS).result()
    for i, digest in zip(missing, made, strict=True):
        known[i] = digest
    for entry, digest in zip(entries, known, strict=True):
        out[id(entry)] = digest
        if entry.question:
            for place, answer in enumerate(entry.question.answers):
                out[id(answer)] = f"{digest}:{place}"
        if memo is not None:
            fresh[entry] = digest
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    return out


@dataclass(frozen=True)
class TemplateInfo:
    digest: str  # of the sources of the template and every template it loads
    reads_site: bool  # uses a global or filter that may read the whole site
    reads_members: bool  # uses the members' profiles


@dataclass
class TemplateDigests:
    """Per template name: the digest of its closure and whether it may read the whole site."""

    env: jinja2.Environment
    # digest of a template's source → what parsing it tells (see _facts): the same in every build
    # of the same code, so `kb build` keeps it rather than parse every template again
    known: dict[str, tuple[frozenset[str | None], frozenset[str], bool]] = field(default_factory=dict)
    cache: dict[str, TemplateInfo] = field(default_factory=dict)
    _parsed: dict[str, tuple[str, frozenset[str | None], frozenset[str], bool]] = field(default_factory=dict)
    _used: dict[str, tuple[frozenset[str | None], frozenset[str], bool]] = field(default_factory=dict)

    def _facts(self, name: str) -> tuple[str, frozenset[str | None], frozenset[str], bool]:
        """(source, templates it loads (None = a name known only at run time), globals, impure)."""
        if name not in self._parsed:
            source, _, _ = self.env.loader.get_source(self.env, name)
            digest = sha(source)
            if digest not in self.known:
                ast = self.env.parse(source)
                variables = frozenset(n.name for n in ast.find_all(nodes.Name) if n.ctx == "load")  # globals included
                loads = frozenset(meta.find_referenced_templates(ast)) | {TEMPLATE_GLOBALS[v] for v in variables & TEMPLATE_GLOBALS.keys()}
                impure = any(f.name not in PURE_FILTERS for f in ast.find_all(nodes.Filter)) or \
                    any(t.name not in PURE_TESTS for t in ast.find_all(nodes.Test))
                self.known[digest] = (loads, variables, impure)
            self._parsed[name] = (source, *self.known[digest])
            self._used[digest] = self.known[digest]
        return self._parsed[name]

    def used(self) -> dict[str, tuple[frozenset[str | None], frozenset[str], bool]]:
        """The facts of the templates looked at so far: what the next build will want to know."""
        return dict(self._used)

    def info(self, name: str) -> TemplateInfo:
        if name in self.cache:
            return self.cache[name]
        seen: dict[str, str] = {}
        reads_site = reads_members = False
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            source, loads, variables, impure = self._facts(current)
            seen[current] = source
            reads_site = reads_site or impure or any(
                v in self.env.globals and v not in PURE_GLOBALS for v in variables)
            reads_members = reads_members or bool(variables & MEMBER_GLOBALS)
            if None in loads:  # a dynamic include: depend on every template there is
                todo.extend(self.env.list_templates())
            todo.extend(n for n in loads if n is not None)
        digest = sha(*(part for n in sorted(seen) for part in (n, seen[n])))
        self.cache[name] = info = TemplateInfo(digest, reads_site, reads_members)
        return info


def page_keys(pages: list, site: Site, env: jinja2.Environment, base: str,
              digests: dict[int, str] | None = None, templates: TemplateDigests | None = None,
              kinds: tuple[type, ...] = ()) -> list[str | None]:
    """One key per page: what its rendered bytes depend on, or None when that cannot be told.

    `base` stands for the code and the build options. Every key covers the config and
    every plain global; a page whose templates use the members covers their profiles; one
    whose templates may read the whole site (a `site` global, an unknown filter) covers
    every entry, member, tag and note.
    """
    digests = digests if digests is not None else entry_digests(site.entries)
    plain_globals = {k: v for k, v in env.globals.items() if k not in ("site", "members") and not callable(v)}
    common = value_digest((site.config, plain_globals)) or ""
    members = value_digest(dict(site.members)) or ""
    templates = templates or TemplateDigests(env)  # shared by callers that key their pages in parts
    infos: list[TemplateInfo | None] = []
    for page in pages:
        try:
            infos.append(templates.info(page.template))
        except jinja2.TemplateError:
            infos.append(None)  # no key: rendered every time, so its error is reported
    whole_site = value_digest(site, digests) or "" if any(i and i.reads_site for i in infos) else ""

    def key(index: int) -> str | None:
        info, page = infos[index], pages[index]
        if info is None:
            return None
        context = value_digest((page.url, page.template, page.context), digests, kinds)
        if context is None or not common or not members or (info.reads_site and not whole_site):
            return None
        return sha(base, info.digest, common, members if info.reads_members or page.derived else "",
                   whole_site if info.reads_site else "", context)

    return [key(i) for i in range(len(pages))]  # cheap per page: workers would cost more than they save
