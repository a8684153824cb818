"""The pipeline: sources → parse → assemble → derive → render → write."""
from __future__ import annotations

import functools
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

import jinja2
import numpy as np
from markupsafe import Markup

from .config import SECTION_IDS, SiteConfig, load_config
from .core.errors import Problem, Problems, SiteError
from .derive.community import contributions, everyones_rolls, member_pages, open_question_pages, open_questions
from .derive.digest import digest_pages, digest_weeks, site_digests
from .derive.entries import entry_pages
from .derive.feeds import (
    DIGEST_ITEM_TEMPLATE,
    FeedItem,
    digest_feed_of_items,
    digest_feed_weeks,
    digest_item,
    entry_feeds,
    open_questions_feed,
    with_alternates,
)
from .derive.newcomers import start_files, start_page
from .derive.pages import listing_pages, utility_pages
from .derive.related import related_entries
from .derive.search import Folding, SearchState, doc_entries, index_files, search_page
from .derive.stats import stats_pages
from .derive.terms import (
    DATA_FILE,
    EMPTY,
    Postings,
    TermIndex,
    Tokenizer,
    filter_tokens,
    joined,
    load_folding,
    patched_index,
    postings_of,
)
from .model.digest import WeekDigest
from .model.pages import OutputFile, Page, output_path
from .model.records import Entry, Site
from .render import THEME, Renderer, TemplateProblem
from .speed.cache import BuildCache, BuildMemo, FileRecord, cache_folder, record_of
from .speed.fingerprint import PACKAGE, TemplateDigests, code_version, entry_digests, page_keys, sha, value_digest
from .speed.parallel import MIN_ITEMS, Background, collector_paused, parallel_map
from .speed.unchanged import SETTLE_NS, BuildRecord, Inputs, input_digest, next_change
from .stages.assemble import assemble_site, current_time, load_members
from .stages.check import SiteFiles, page_origins, site_problems
from .stages.parse import Document, MarkdownRenderer, parse_document
from .stages.sources import SourceFile, read_sources, recorded_stamps, with_text
from .write import (
    BACKGROUND_CLEANUP_FILES,
    MARK,
    InPlaceOutput,
    SpareClaim,
    StagedOutput,
    UnsafeOutput,
    WriteResult,
    _same_content,
    clean_leftovers,
    existing_files,
    files_inside,
    output_refusal,
    path_collisions,
    static_files,
    static_sources,
)

STALE_DOCS = 8  # docs the stored term index may lack before a build stores its own (see CachedTerms.index)
BACKGROUND_ENTRIES = 500  # from this many entries, checks and related entries are worked out beside other stages
MANY_BYTES = 16 << 20  # from this many bytes of feeds and search files (a cold build: ~80 MB at 10,000), a child writes them beside the render stage


@dataclass(frozen=True)
class BuildOptions:
    source: Path = Path(".")
    output: Path | None = None  # default: <source>/output
    drafts: bool = False
    base_url: str | None = None
    now: str | None = None
    strict: bool = False  # warnings fail the build too
    cache: bool = True  # reuse <source>/.kb-cache/ (never changes the output, only the time)
    links_are_errors: bool = False  # `kb check`: broken links and images fail too

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.source / "output"


@dataclass(frozen=True)
class BuildResult:
    site: Site | None  # None when the last build was still the answer (nothing was loaded)
    entries: int
    pages: int
    write: WriteResult | None
    warnings: tuple[Problem, ...]
    timings: dict[str, float] = field(default_factory=dict)
    preview: bool = False  # related entries taken from the last build (see `build`)

    def summary(self) -> str:
        total = sum(self.timings.values())
        if self.site is None:
            return (f"nothing changed since the last build ({self.entries} entries, {self.pages} pages), "
                    f"checked in {total:.2f}s")
        line = f"built {self.entries} entries, {self.pages} pages in {total:.2f}s"
        if self.write:
            line += f" ({self.write.written} written, {self.write.unchanged} unchanged, {self.write.removed} removed)"
        if self.warnings:
            line += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return line


def load_site(options: BuildOptions, problems: Problems, timings: dict[str, float],
              cache: BuildCache | None = None, memo: BuildMemo | None = None,
              later: list[Background[list[Problem]]] | None = None) -> Site:
    """Everything up to the model; raises SiteError when the content has errors.

    With `later` (a list), a large site has its cross-site checks made by a child process
    while the caller goes on with stages that keep one core busy: appended to `later`, their
    problems are the caller's to add before it writes anything.
    """
    started = time.perf_counter()
    try:
        config: SiteConfig = load_config(options.source, options.base_url, problems)
    except SiteError as exc:  # keep going with the defaults, to report the content's problems too
        problems.extend(exc.problems)
        config = SiteConfig()
    now: datetime = current_time(options.now, config.tz, dict(os.environ))
    cache = cache or BuildCache(None)
    recorded = cache.artifact(_SOURCE_STAMPS, "") if memo is None else None
    known_stamps = recorded if isinstance(recorded, dict) else {}  # `kb serve` keeps its own memo instead
    settled = time.time_ns() - SETTLE_NS
    sources = read_sources(options.source, memo.sources if memo else None, None if memo else known_stamps, problems)
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    documents, sources = parse_sources(sources, config, cache, memo.documents if memo else None, options.source)
    if memo is None and (stamps := recorded_stamps(sources, settled)) != recorded:
        cache.save_artifact(_SOURCE_STAMPS, "", stamps)
    timings["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    members, member_problems = load_members(options.source, config)
    problems.extend(member_problems)
    assembly = assemble_site(config, documents, members, now, include_drafts=options.drafts)
    problems.extend(list(assembly.problems))
    statics, skipped = static_sources(options.source)
    problems.extend(skipped)  # symlinks out of the site, loops: static/ and templates/ alike
    problems.extend(files_inside(options.source / "templates", options.source, "templates/")[1])
    problems.extend(files_inside(THEME / "templates", THEME, "generator/theme/templates/", "kb's theme folder")[1])
    content = files_inside(options.source / "content", options.source, "content/")[0]  # warned about by sources
    files = SiteFiles(not_markdown(statics), not_markdown(content, "content/"))

    def checks() -> list[Problem]:
        return site_problems(assembly.site, documents, files,  # page URLs do not depend on related entries
                             lambda: {p.url for p in site_pages(assembly.site, defaultdict(list))},
                             links_are_errors=options.links_are_errors)

    work = Background(checks, here=later is None or len(documents) < BACKGROUND_ENTRIES)
    if not work.forked or (problems.items if options.strict else problems.errors):
        problems.extend(work.result())  # the build stops here: one report, the checks' problems too
    else:
        later.append(work)
    timings["assemble"] = time.perf_counter() - started
    problems.raise_if_errors(options.strict)
    return assembly.site


def not_markdown(files: dict[str, Path], prefix: str = "") -> frozenset[str]:
    """The paths (with `prefix`) of the files that are not Markdown: those a link may point at as they are."""
    return frozenset(prefix + rel for rel in files if PurePosixPath(rel).suffix != ".md")


_TEMPLATE_FACTS = "template-facts"  # see TemplateDigests.known
_SOURCE_STAMPS = "source-stamps"  # rel path → (stat stamp, digest): see sources.read_sources


def parse_sources(sources: list[SourceFile], config: SiteConfig, cache: BuildCache,
                  memo: dict[str, Document] | None = None, site_root: Path = Path(".")
                  ) -> tuple[list[Document], list[SourceFile]]:
    """Every source parsed, from the cache when its digest and the options are unchanged, else on every
    core; and the sources, each with its digest (read from `site_root` where `read_sources` did not).

    A source not read yet is read where it is parsed (in a worker, so a cold build reads on
    every core), unless its digest must be known first to look for it in the cache.
    """
    renderer = MarkdownRenderer(trusted_html=config.trusted_html)
    base = sha(code_version(), renderer.options_key, config.timezone)
    known = memo if memo else cache.documents(later=memo is None)  # `kb serve` keeps whole ones
    sources = [with_text(site_root, s) if known and not s.digest else s for s in sources]

    def key_of(source: SourceFile) -> str:
        """The cache key of a source's document (once its digest is known): what the document is a function of."""
        return sha(base, source.rel_path, source.section, source.digest)

    keys = [key_of(s) if s.digest else "" for s in sources]
    missing = [i for i, key in enumerate(keys) if key not in known]
    tz = config.tz
    size = max(1, min(16, len(missing) // 256))  # small batches (see parallel_map's chunks), up to 16 files
    parent, worker = os.getpid(), {}
    unstored: dict[str, Document] = {}  # in a worker: parsed, not stored yet (the database was busy)

    def parse_and_store(batch: list[int]) -> list[tuple[str, Document]]:
        """(digest, document) of each: stored in the cache by the worker that parsed them when it can do so at once."""
        read = [with_text(site_root, sources[i]) for i in batch]
        parsed = [parse_document(source, renderer, tz, key_of(source)) for source in read]
        if os.getpid() != parent and cache.writable:
            unstored.update((doc.key, doc) for doc in parsed)
            if "cache" not in worker:
                worker["cache"] = cache.reopened()
            if worker["cache"].try_add_documents(unstored):
                unstored.clear()
        return [(source.digest, doc) for source, doc in zip(read, parsed, strict=True)]

    batches = [missing[i:i + size] for i in range(0, len(missing), size)]
    parsed = [item for items in parallel_map(parse_and_store, batches, here=False) for item in items]
    for i, (digest, doc) in zip(missing, parsed, strict=True):
        sources[i] = replace(sources[i], text=None, digest=digest)  # the text is in its document now
        keys[i] = doc.key
    new = {doc.key: doc for _, doc in parsed}
    documents = [new[k] if k in new else known[k] for k in keys]
    if new or len(known) != len(set(keys)):
        cache.save_documents(new, set(keys), dict(zip(keys, documents, strict=True)))  # what workers did not store, and none that is not used
    if memo is not None:
        memo.clear()
        memo.update(zip(keys, documents, strict=True))
    return documents, sources


def site_pages(site: Site, related: dict[str, list[Entry]] | None = None,
               weeks: list[WeekDigest] | None = None) -> list[Page]:
    """Every page of the site, from each derive stage (`related`: see `cached_related`)."""
    related = related_entries(site, site.config.related_count) if related is None else related
    return entry_pages(site, related) + pages_besides_entries(site, weeks)


def pages_besides_entries(site: Site, weeks: list[WeekDigest] | None = None) -> list[Page]:
    """Every page but the entries' own, which alone show related entries: these can be made
    (and keyed) while related entries are being worked out."""
    events = contributions(site)  # counted by the home, member and stats pages
    rolls = everyones_rolls(site, events)
    waiting = open_questions(site)
    pages = listing_pages(site, rolls, waiting)
    pages += member_pages(site, events, rolls)
    pages += digest_pages(site, site_digests(site) if weeks is None else weeks)
    pages.append(start_page(site))
    pages += open_question_pages(waiting)
    pages += stats_pages(site, events, rolls)
    pages.append(search_page(site))
    entry_urls = [e.url for e in site.entries if e.section in SECTION_IDS]  # the pages of entry_pages
    return pages + utility_pages(site, [p.url for p in pages] + entry_urls)


def site_files(site: Site, renderer: Renderer, cache: BuildCache, base: str, digests: dict[int, str],
               terms: CachedTerms, weeks: list[WeekDigest], kept: OnDisk | None = None,
               search: list[OutputFile] | None = None, templates: TemplateDigests | None = None,
               start: Background[list[OutputFile]] | None = None) -> tuple[list[OutputFile], list[Problem]]:
    """Every output that is bytes rather than a templated page (feeds, JSON), from each derive stage,
    the costly ones (the search index, the feeds) reused from earlier builds where they can be
    (`search`: the caller made the search files already; `start`: a child is making the start page's index).

    Not stored whole: the search index alone is tens of megabytes, and after an edit most of it is unchanged.
    """
    search = terms.search_files() if search is None else search
    terms.release()  # before the feeds are made: the two need not be in memory together
    feeds = cached_entry_feeds(site, cache, base, digests, kept)
    digest_feed, problems = cached_digest_feed(site, renderer, cache, base, digests, weeks, kept, templates)
    start = start.result() if start else start_files(site, [w.week for w in weeks])
    # keyed by their bytes: after an edit, the start page's index of every entry is megabytes, most often the same
    own = [replace(f, key=sha(f.data)) if f.data is not None and not f.key else f
           for f in start + [open_questions_feed(site)]]
    return feeds + digest_feed + as_kept(own, kept) + search, problems


def as_kept(files: list[OutputFile], kept: OnDisk | None) -> list[OutputFile]:
    """The files, those that output/ holds as made with their key without their bytes: not sent
    between processes, written or even compared."""
    return [OutputFile(f.path, None, f.key) if kept is not None and kept(f.path, f.key) else f for f in files]


def options_base(options: BuildOptions) -> str:
    """What every page key and cache key starts from: kb's code and the options that shape the output."""
    return sha(code_version(), repr((options.drafts, options.base_url, options.now, options.strict)))


class BuildCancelled(Exception):
    """The build was stopped between stages: its result is not wanted any more."""


def stop_if_cancelled(cancelled: Callable[[], bool] | None) -> None:
    """Raise BuildCancelled if `cancelled` says so (`kb serve`: a newer save came in)."""
    if cancelled is not None and cancelled():
        raise BuildCancelled


@collector_paused()
def build(options: BuildOptions, write: bool = True, *, in_place: bool = False,
          memo: BuildMemo | None = None, background_cleanup: bool = False,
          pages_written: Callable[[], None] | None = None, preview: bool = False,
          cancelled: Callable[[], bool] | None = None) -> BuildResult:
    """Build the site; raise SiteError (with every problem) and leave output/ alone on errors.

    `in_place` updates the output folder file by file instead of swapping a new tree in
    (for `kb serve`'s private folder); `background_cleanup` (for `kb build`) keeps a large
    site's previous tree as the spare the next build updates, or deletes it in the
    background; `memo` keeps work in memory between builds;
    `pages_written` (with `in_place`) is called once the pages are written, before feeds
    and other files are made, so that a preview can show the pages sooner. With `preview`
    (and a `memo`), related entries that would have to be computed again are taken from the
    last build instead; the result says so, and a build without `preview` makes them exact.
    `cancelled` is asked between stages; when it says yes the build raises BuildCancelled.
    """
    problems = Problems()
    timings: dict[str, float] = {}
    cache = BuildCache(cache_folder(options.source) if options.cache else None, readonly=not write)
    claim: SpareClaim | None = None  # the spare tree the write stage updates (`kb build`)
    cards: Background[list[Markup | None]] | None = None  # see below
    start: Background[list[OutputFile]] | None = None  # see below
    later_checks: list[Background[list[Problem]]] = []  # see load_site
    try:
        started = time.perf_counter()
        # the output manifest (see on_disk), which also says whether output/ holds a large site
        records = cache.outputs(options.output_dir.resolve()) if write and not in_place else None
        if records is not None:  # `kb build`: an output folder of kb's only (`kb serve` keeps its own)
            if refusal := output_refusal(options.source, options.output_dir, records):
                raise UnsafeOutput(refusal)
            clean_leftovers(options.output_dir.resolve())
        looked = _last_build(options, cache, records) if records is not None and memo is None else None
        if looked and looked[0]:
            timings["look"] = time.perf_counter() - started
            last = looked[0]
            return BuildResult(None, last.entries, last.pages, WriteResult(0, last.written, 0), last.warnings, timings)
        if records is not None and background_cleanup:
            claim = SpareClaim(options.output_dir, make=len(records) > BACKGROUND_CLEANUP_FILES)
        site = load_site(options, problems, timings, cache, memo, later_checks if write else None)
        stop_if_cancelled(cancelled)
        started = time.perf_counter()
        base = options_base(options)
        files_now = not (write and in_place and pages_written is not None)  # else after the pages (`kb serve`)
        kept = on_disk(records, options.output_dir.resolve()) if records is not None else None  # files not loaded
        # Built here before, a large site's term index needs a small patch: a child makes the search
        # files and related entries from it while this process makes the feeds and pages.
        # Otherwise the search files first: they use both cores at times, and their timing is theirs alone.
        beside = files_now and bool(records) and len(site.entries) >= BACKGROUND_ENTRIES
        if files_now and not beside and len(site.entries) >= BACKGROUND_ENTRIES:
            # The start page's index of every entry (a fifth of a second at 10,000) by a child beside the entry
            # digests and the checks, not later in a cold build, when one core idles after related entries.
            # Beside the term index's child, a third cost more than it saved (forking, copied pages): made here.
            def start_index() -> list[OutputFile]:
                return start_files(site, digest_weeks(site))

            start = Background(start_index)
        digests = entry_digests(site.entries, memo.entry_digests if memo else None)
        whole_site = value_digest(site, digests)
        terms = CachedTerms(site, cache, [digests[id(e)] for e in doc_entries(site)], kept)
        related_work = None
        try:
            search = terms.search_files() if files_now and not beside else None
            related_work = cached_related(site, cache, base, whole_site, memo,
                                          compute=not (preview and memo and memo.related), terms=terms, search=beside)
            stop_if_cancelled(cancelled)
            weeks = site_digests(site)  # for the digest pages and the digest feed
            # Each week's digest digested once: the digest pages, their index and the feed's items refer to it so.
            digests.update({id(week): digest for week in weeks if (digest := value_digest(week, digests))})
            renderer = Renderer(site, options.source, cache.folder_for("templates", code_version()))
            facts = cache.artifact(_TEMPLATE_FACTS, code_version())
            templates = TemplateDigests(renderer.env, dict(facts) if isinstance(facts, dict) else {})
            files: list[OutputFile] | None = None
            file_problems: list[Problem] = []
            if files_now:  # while a child works out related entries
                files, file_problems = site_files(site, renderer, cache, base, digests, terms, weeks, kept, search or [],
                                                  templates, start)
                search = None  # `files` holds them now, and write_site lets them go: so must this
            first = write and records == {} and len(site.entries) >= BACKGROUND_ENTRIES
            if first:
                # Nothing built here before: every list is rendered, and the entries' cards they show
                # are made by a child beside the page list, the keys and the files written (once the
                # related entries' child is done: the two at once raised the peak).
                related = related_work.entries()
                cards = Background(lambda: [_card_or_none(renderer, e) for e in site.entries])
            besides = with_alternates(site, pages_besides_entries(site, weeks))  # meanwhile too
            besides_keys = page_keys(besides, site, renderer.env, base, digests, templates, (WeekDigest,)) if write else []
            early = rendered_now(besides, besides_keys, kept, renderer) if kept is not None and not first else {}
            if not first:
                related = related_work.entries()
            if beside:
                files += related_work.search_files()
        finally:
            if related_work is not None:
                related_work.cancel()
        approximate = related is None and preview and memo is not None and bool(memo.related)
        if approximate:
            by_url = site.by_url()
            related = {e.url: [by_url[u] for u in memo.related.get(e.url, ()) if u in by_url] for e in site.entries}
        if related is None:  # not stored, and not to be computed beside the other stages
            related = related_entries(site, site.config.related_count)
        entries_own = with_alternates(site, entry_pages(site, related))
        pages = entries_own + besides
        keys = page_keys(entries_own, site, renderer.env, base, digests, templates) + besides_keys if write else []
        if (used := templates.used()) != facts:
            cache.save_artifact(_TEMPLATE_FACTS, code_version(), used)
        origins = page_origins(pages)
        static = not_markdown(files_inside(options.source / "static", options.source, "static/")[0])
        later = None
        if files is None:
            def files_later() -> tuple[list[OutputFile], list[Problem]]:
                stop_if_cancelled(cancelled)
                try:
                    return site_files(site, renderer, cache, base, digests, terms, weeks, templates=templates)
                finally:
                    terms.release()
            later = (pages_written, files_later, origins, static)
            problems.extend(path_collisions([output_path(p.url) for p in pages], origins, static))
        else:
            problems.extend(file_problems)
            problems.extend(path_collisions([output_path(p.url) for p in pages] + [f.path for f in files], origins, static))
        for work in later_checks:
            problems.extend(work.result())
        timings["derive"] = time.perf_counter() - started - sum(terms.seconds.values())
        timings.update(terms.seconds)  # the term index (search and related entries), the search files
        problems.raise_if_errors(options.strict)
        result = None
        made = len(pages) + len(files or [])  # write_site lets `files` go
        stop_if_cancelled(cancelled)
        if early:  # rendered already: written as files, with their page keys
            files += early.values()
            pages, keys = (pages[:len(entries_own)] + [p for i, p in enumerate(besides) if i not in early],
                           keys[:len(entries_own)] + [k for i, k in enumerate(besides_keys) if i not in early])
        if write:
            result = write_site(site, pages, keys, files, renderer, options, cache, problems, timings,
                                in_place, background_cleanup, later, records, claim, cards)
            if looked and looked[1].settled:
                cache.save_artifact(_LAST_BUILD + str(options.output_dir.resolve()), looked[1].digest, BuildRecord(
                    looked[1].digest, site.now, next_change(site), len(site.entries), made,
                    result.written + result.unchanged, tuple(problems.warnings), looked[1].racy))
        else:
            started = time.perf_counter()
            problems.extend([p for p in parallel_map(lambda i: _render_problem(renderer, pages[i]), range(len(pages))) if p])
            timings["render"] = time.perf_counter() - started
            problems.raise_if_errors(options.strict)
    finally:
        for work in [*later_checks, cards, start]:
            if work is not None:
                work.cancel()
        if claim is not None:
            claim.release()
        cache.close()
    return BuildResult(site, len(site.entries), made, result, tuple(problems.warnings), timings,
                       preview=approximate)


_LAST_BUILD = "last_build:"


def _last_build(options: BuildOptions, cache: BuildCache, records: dict[str, FileRecord]
                ) -> tuple[BuildRecord | None, Inputs] | None:
    """The last build into this output folder if it is still the answer, and the inputs' digest
    (`records`: the folder's output manifest).

    None when the build cannot be skipped by looking (no cache, an unreadable config).
    """
    if cache.db is None:
        return None
    try:
        config = load_config(options.source, options.base_url)
    except SiteError:
        return None
    now = current_time(options.now, config.tz, dict(os.environ))
    output = options.output_dir.resolve()
    shape = repr((options.drafts, options.base_url, options.strict, options.links_are_errors, str(output)))
    inputs = input_digest(options.source, PACKAGE, code_version(), shape)
    last = cache.artifact(_LAST_BUILD + str(output), inputs.digest)
    if last is None or not last.holds(inputs, now):
        return None, inputs
    if len(records) != last.written or not all(r.matches(output / path) for path, r in records.items()):
        return None, inputs
    if len(existing_files(output)) != last.written or not (output / MARK).is_file():
        return None, inputs
    return last, inputs


def cached_related(site: Site, cache: BuildCache, base: str, whole_site: str | None, memo: BuildMemo | None = None,
                   compute: bool = True, terms: CachedTerms | None = None, search: bool = False) -> RelatedWork:
    """Related entries (a pure function of the site, and costly), reused when the site and code are the same.

    When they must be worked out for a large site, a child process does it while this one goes
    on with the digests and feeds (`RelatedWork.entries()` waits for it).
    With `search` (and `terms`), that child makes the site's search files first, from the term
    index it then goes on with, which this process never loads (`RelatedWork.search_files()`).
    """
    key = sha(base, "related", str(site.config.related_count), whole_site) if whole_site else ""
    stored = cache.artifact("related", key) if key else None
    wanted = bool(key) and stored is None and compute
    limit = site.config.related_count

    def urls() -> dict[str, list[str]] | None:
        if not wanted:
            return None
        index = terms.index()[0] if terms else None
        return {url: [e.url for e in items] for url, items in related_entries(site, limit, index).items()}

    def related() -> tuple[dict[str, list[str]] | None, None]:
        return urls(), None

    def search_and_related() -> tuple[dict[str, list[str]] | None, list[OutputFile]]:
        files = terms.search_files()
        return urls(), files

    if search and terms is not None:
        return RelatedWork(site, cache, key, memo, stored, Background(search_and_related))
    if not wanted:
        return RelatedWork(site, cache, key, memo, stored)
    if terms is not None:
        terms.index()  # here, before the child: the search files use it too
    return RelatedWork(site, cache, key, memo, None, Background(related, here=len(site.entries) < BACKGROUND_ENTRIES))


@dataclass
class RelatedWork:
    """Related entries found in the cache, or being worked out, or not wanted (see `cached_related`)."""

    site: Site
    cache: BuildCache
    key: str
    memo: BuildMemo | None
    stored: dict[str, list[str]] | None  # URL → related URLs
    work: Background[tuple[dict[str, list[str]] | None, list[OutputFile] | None]] | None = None  # (related, search files)
    searched: list[OutputFile] = field(default_factory=list)

    def entries(self) -> dict[str, list[Entry]] | None:
        """URL → related entries; None when they are not stored and were not to be computed, or cannot
        be keyed (then pages compute them)."""
        if self.work is not None:  # wait for them, and store them for the next build
            made, searched = self.work.result()
            self.work, self.searched = None, searched or []
            if made is not None:
                self.stored = made
                self.cache.save_artifact("related", self.key, made)
        if self.stored is None:
            return None
        if self.memo is not None:
            self.memo.related = self.stored
        by_url = self.site.by_url()
        return {url: [by_url[u] for u in urls] for url, urls in self.stored.items()}

    def search_files(self) -> list[OutputFile]:
        """The search files the child made, if it was asked to (see `cached_related`), once `entries()` is."""
        files, self.searched = self.searched, []
        return files

    def cancel(self) -> None:
        """The build stopped: so does the work."""
        if self.work is not None:
            self.work.cancel()
            self.work = None


def cached_entry_feeds(site: Site, cache: BuildCache, base: str, digests: dict[int, str],
                       kept: OnDisk | None = None) -> list[OutputFile]:
    """The feeds of entries, each reused from an earlier build when its entries, names and settings are the same
    (and not even loaded when output/ holds it as written with the same key: see `on_disk`).

    An edit touches the few feeds its entry is in, not the hundreds a site with many tags has.
    """
    shared = value_digest((site.config, dict(site.members)))  # item authors are members' names
    feeds = entry_feeds(site)
    keys = [sha(base, "feed", shared, repr((feed.path, feed.title, feed.url, feed.description, feed.page_url, feed.atom)),
                *refs) if shared and all(refs := [digests.get(id(e)) for e in feed.entries]) else "" for feed in feeds]
    made = [_kept_or_stored(cache, kept, "feed:", feed.path, key) for feed, key in zip(feeds, keys, strict=True)]
    missing = [i for i, file in enumerate(made) if file is None]
    # In this process: each entry's item is made once for all the feeds it is in, which workers
    # could not share (spread over two, a cold build gained nothing, and a worker's copy of the
    # model raised its peak memory).
    items: dict = {}
    for i, data in zip(missing, [feeds[i].bytes(site, items) for i in missing], strict=True):
        made[i] = OutputFile(feeds[i].path, data, keys[i])
        if keys[i]:
            cache.save_artifact("feed:" + feeds[i].path, keys[i], data)
    return made


def _kept_or_stored(cache: BuildCache, kept: OnDisk | None, kind: str, path: str, key: str) -> OutputFile | None:
    """The file made with `key`: as output/ holds it (no bytes), or from the cache, or None."""
    if not key:
        return None
    if kept is not None and kept(path, key):
        return OutputFile(path, None, key)
    data = cache.artifact(kind + path, key)
    return OutputFile(path, data, key) if data is not None else None


OnDisk = Callable[[str, str], bool]  # (path, key): does output/ hold that file as a build made it with that key?


def on_disk(records: dict[str, FileRecord], output: Path) -> OnDisk:
    """For files whose bytes are a function of a key (feeds): the manifest says output/ has the file
    made with that key, and the file is the very one recorded (size, mtime, inode)."""
    folder = f"{output}{os.sep}"
    looked: dict[tuple[str, str], bool] = {}  # asked twice for most pages: by `rendered_now`, then by the write stage

    def kept(path: str, key: str) -> bool:
        if (path, key) not in looked:
            looked[path, key] = bool(key) and (r := records.get(path)) is not None and r.key == key \
                and r.matches(folder + path)
        return looked[path, key]

    return kept


def cached_digest_feed(site: Site, renderer: Renderer, cache: BuildCache, base: str, digests: dict[int, str],
                       all_weeks: list[WeekDigest] | None = None, kept: OnDisk | None = None,
                       templates: TemplateDigests | None = None) -> tuple[list[OutputFile], list[Problem]]:
    """The digest feed, each week's item reused while that week, the names, the config and the item
    template are the same, and the whole feed while every item is and output/ holds it: an edit renders
    one item, not fifty. The whole feed is not stored: it is megabytes, and made from its items in less
    time than storing it took (at 10,000 entries, 5 MB: 0.03 s against 0.07 s)."""
    weeks = digest_feed_weeks(site, site_digests(site) if all_weeks is None else all_weeks)
    try:
        template = (templates or TemplateDigests(renderer.env)).info(DIGEST_ITEM_TEMPLATE)
    except jinja2.TemplateError:  # made (and its error reported) below
        template = None
    shared = value_digest((site.config, dict(site.members))) if template and not template.reads_site else None
    keys = [sha(base, "digest-item", template.digest, shared, value)
            if shared and (value := digests.get(id(week)) or value_digest(week, digests)) else "" for week in weeks]
    key = sha(base, "digest-feed", shared, *keys) if shared and all(keys) else ""  # shared: when there are no weeks
    if key and kept is not None and kept("digest/feed.xml", key):
        return [OutputFile("digest/feed.xml", None, key)], []
    items = [cache.artifact("digest-item:" + week.url, item_key) if item_key else None
             for week, item_key in zip(weeks, keys, strict=True)]
    missing = [i for i, item in enumerate(items) if not isinstance(item, FeedItem)]
    try:
        made = parallel_map(lambda i: digest_item(site, weeks[i], renderer.render), missing)  # on every core when cold
    except TemplateProblem as exc:
        return [], [exc.problem]
    for i, item in zip(missing, made, strict=True):
        items[i] = item
        if keys[i]:
            cache.save_artifact("digest-item:" + weeks[i].url, keys[i], item)
    return [OutputFile("digest/feed.xml", digest_feed_of_items(site, items), key)], []


@dataclass
class CachedTerms:
    """The site's term index (for search and related entries), made once when first asked for by
    patching the last build's, and its search files, remade only where a token's postings changed.

    Both are kept in the cache for the next builds, which patch them, and stored again once they lack
    more than STALE_DOCS of a build's docs; a clean build patches an empty index, so the two give the
    same bytes (tests/e2e/test_incremental.py).
    """

    site: Site
    cache: BuildCache
    keys: list[str]  # entry digests in doc-id order (search.doc_entries)
    kept: OnDisk | None = None  # search files output/ holds as made with the same key are given without their bytes
    made: tuple[TermIndex, np.ndarray | None, str, Folding] | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # "terms", "search": for the build's timings
    store: bool = False  # the index made is stored for the next build (and so are its search files)

    def release(self) -> None:
        """Let the index go once search and related entries have it: rendering forks workers, smaller is better."""
        self.made = None

    @functools.cached_property
    def key(self) -> str:
        """The code and the folding table: what the stored index and search files were made with."""
        return sha(code_version(), DATA_FILE.read_bytes())

    def index(self) -> tuple[TermIndex, np.ndarray | None, str, Folding]:
        """(index, shard-key CRCs of the tokens whose postings changed, digest of the index patched, folding)."""
        if self.made is None:
            started = time.perf_counter()
            folding = load_folding()
            previous = self.cache.large_artifact("terms", self.key)
            if not isinstance(previous, TermIndex):
                previous = None
            entries = doc_entries(self.site)
            tokenizer = Tokenizer(folding)

            def postings(block: list[int]) -> Postings:
                return postings_of(block, [tokenizer.entry_terms(entries[d].title, entries[d].text, filter_tokens(
                    entries[d].section, [t.slug for t in entries[d].tags])) for d in block])

            def terms_of(docs: list[int]) -> Postings:
                # Inverted block by block in the workers (about 256 blocks): this process only joins them.
                size = max(1, -(-len(docs) // 256))
                return joined(parallel_map(postings, [docs[i:i + size] for i in range(0, len(docs), size)]))

            index, changed = patched_index(previous or EMPTY, self.keys, terms_of)
            # Stored (tens of megabytes) when it differs from the stored one by more than a few docs: until
            # then each build patches the stored one again, which costs less than storing it after every edit.
            self.store = previous is None or len(set(index.docs) ^ set(previous.docs)) > STALE_DOCS
            if self.store:
                self.cache.save_large_artifact("terms", self.key, index)
            self.made = (index, changed if previous else None, previous.digest() if previous else "", folding)
            self.seconds["terms"] = time.perf_counter() - started
        return self.made

    def search_files(self) -> list[OutputFile]:
        index, changed, patched, folding = self.index()
        started = time.perf_counter()
        previous = self.cache.large_artifact("search", self.key)
        previous = previous if isinstance(previous, SearchState) else None  # its bundles are named by content
        matching = previous is not None and previous.index == patched
        files, state = index_files(self.site, index, folding, changed if matching else None, previous)
        if not matching and not self.store:  # made from nothing: stored, with the index they were made from
            self.store = True
            self.cache.save_large_artifact("terms", self.key, index)
        if self.store and state != previous:  # the search files of the stored index, which the next build patches
            self.cache.save_large_artifact("search", self.key, state)
        files = as_kept(files, self.kept)  # after an edit, most of them
        self.seconds["search"] = time.perf_counter() - started
        return files


def rendered_now(pages: list[Page], keys: list[str | None], kept: OnDisk, renderer: Renderer) -> dict[int, OutputFile]:
    """The pages that output/ does not hold as keyed, rendered here if they are few (after an edit,
    while a child works out related entries), by index, each with its key; none if they are many
    (the render stage shares those among workers) or one fails (that stage reports it)."""
    stale = [i for i, key in enumerate(keys) if not (key is not None and kept(output_path(pages[i].url), key))]
    if len(stale) >= MIN_ITEMS:
        return {}
    made = {}
    for i in stale:
        try:
            made[i] = replace(renderer.render(pages[i]), key=keys[i] or "")
        except TemplateProblem:
            return {}
    return made


def _render_problem(renderer: Renderer, page: Page) -> Problem | None:
    try:
        renderer.render(page)
    except TemplateProblem as exc:
        return exc.problem
    return None


def _card_or_none(renderer: Renderer, entry: Entry) -> Markup | None:
    """The card, or None if its template fails (the error is reported by the page that shows it)."""
    try:
        return renderer.card_html(entry)
    except Exception:
        return None


def write_site(site: Site, pages: list[Page], keys: list[str | None], files: list[OutputFile] | None,
               renderer: Renderer, options: BuildOptions, cache: BuildCache, problems: Problems,
               timings: dict[str, float], in_place: bool, background_cleanup: bool, later: tuple | None = None,
               previous: dict[str, FileRecord] | None = None, claim: SpareClaim | None = None,
               cards: Background[list[Markup | None]] | None = None) -> WriteResult:
    """Render what changed and write it; pages whose key (`keys`: see `page_keys`) and file are unchanged
    are linked, not rendered.

    With `later` (for `kb serve`), `files` is None: the pages are written, `later[0]()` is
    told so (the open tabs can reload), and only then are the other files made by `later[1]()`
    (`later[2:]`: the pages' origins and the static files, to name colliding sources).
    Otherwise `files` are written (by a child beside the render stage, when they are many
    bytes) and the list is emptied before the render workers are forked, so that their bytes
    (the search index, the feeds: tens of megabytes) are not in those processes.
    A file without bytes is kept as output/ holds it (see `on_disk`). `previous`: the output
    manifest, if the caller has it; `claim`: the spare tree, if the caller claimed it; `cards`:
    the entries' cards, if the caller is having them made.
    """
    started = time.perf_counter()
    output = options.output_dir.resolve()
    previous = cache.outputs(output) if previous is None else previous
    paths = [output_path(p.url) for p in pages]
    kept = on_disk(previous, output)
    fresh = [key is not None and kept(path, key) for key, path in zip(keys, paths, strict=True)]

    def statics_for(files: list[OutputFile]) -> dict[str, Path]:
        taken = set(paths) | {f.path for f in files}
        return {rel: src for rel, src in static_files(options.source).items() if rel not in taken}

    statics = statics_for(files or [])
    timings["plan"] = time.perf_counter() - started
    wanted = len(paths) + len(files or []) + len(statics)
    if files is not None and all(fresh) and _unchanged(output, files, statics, previous, wanted):
        timings["write"] = 0.0
        return WriteResult(0, wanted, 0)

    started = time.perf_counter()
    for template in sorted({p.template for p in pages}):
        try:  # compile every template here, once, rather than in each worker
            renderer.env.get_template(template)
        except Exception:  # reported with its line when the page is rendered
            pass
    writer = InPlaceOutput(output) if in_place else StagedOutput(output, spare=background_cleanup, claimed=claim)

    def render_and_put(index: int) -> tuple[Problem | None, bool, FileRecord | None]:
        try:
            data = renderer.render(pages[index]).data
        except TemplateProblem as exc:
            return exc.problem, False, None
        target, written = writer.put(paths[index], data)
        return None, written, record_of(keys[index] or "", target)

    def keep(index: int) -> tuple[Problem | None, bool, FileRecord | None]:
        writer.keep(paths[index], previous[paths[index]].ino)  # the very file: same size, mtime and inode as recorded
        return None, False, previous[paths[index]]

    def placed_files(files: list[OutputFile]) -> list[tuple[str, str, bool]]:
        """(path, key, written) of each file, now placed: file system work only, so a child can do it."""
        for f in files:
            if f.data is None:
                writer.keep(f.path, previous[f.path].ino)
        return [(f.path, f.key, f.data is not None and writer.put(f.path, f.data)[1]) for f in files]

    def counted(placed: list[tuple[str, str, bool]]) -> list[tuple[str, str]]:
        """(path, key) of each file placed, now counted."""
        for path, _, written in placed:
            writer.add(path, written)
        return [(path, key) for path, key, _ in placed]

    placing: Background[list[tuple[str, str, bool]]] | None = None
    kept_files: set[str] = set()  # files kept as recorded: their records stand, no need to look at them again
    try:
        file_keys = []
        if files is not None:
            kept_files = {f.path for f in files if f.data is None}
            # Tens of megabytes (a cold build's search files and feeds) are written by a child while
            # the pages are rendered; this process lets them go before it forks the render workers.
            placing = Background(lambda: placed_files(files), here=sum(len(f.data or b"") for f in files) < MANY_BYTES)
            if not placing.forked:
                file_keys = counted(placing.result())
            files.clear()
        stale = [i for i, ok in enumerate(fresh) if not ok]
        if len(stale) > len(site.entries) // 4:  # most lists will be rendered: their cards are wanted
            entries = site.entries
            made = cards.result() if cards else parallel_map(lambda i: _card_or_none(renderer, entries[i]), range(len(entries)))
            renderer.keep_cards(entries, made)
        placed: list = [None] * len(pages)
        for index, outcome in zip(stale, parallel_map(render_and_put, stale), strict=True):
            placed[index] = outcome
        if placing is not None and placing.forked:
            file_keys = counted(placing.result())
        problems.extend([outcome[0] for outcome in placed if outcome and outcome[0]])
        problems.raise_if_errors(options.strict)
        kept = [i for i, ok in enumerate(fresh) if ok]
        for index, outcome in zip(kept, map(keep, kept), strict=True):  # file system work: no gain from workers
            placed[index] = outcome
        timings["render"] = time.perf_counter() - started
        started = time.perf_counter()
        if later is not None:
            if any(outcome[1] for outcome in placed):
                later[0]()
            files, file_problems = later[1]()
            problems.extend(file_problems)
            problems.extend(path_collisions(paths + [f.path for f in files], later[2], later[3]))
            problems.raise_if_errors(options.strict)
            statics = statics_for(files)
            kept_files = {f.path for f in files if f.data is None}
            file_keys = counted(placed_files(files))
        for path, (_, written, _) in zip(paths, placed, strict=True):
            writer.add(path, written)
        for rel, src in statics.items():
            writer.copy(rel, src)
        # removed files are counted from the manifest when there is one: a walk of a big tree costs a second
        result = writer.commit(background_cleanup=background_cleanup, previous=previous.keys() if previous else None)
    except BaseException:
        if placing is not None:
            placing.cancel()
        writer.abort()
        raise
    records = [(path, record) for path, (_, _, record) in zip(paths, placed, strict=True) if record]
    records += [(rel, record_of("", output / rel)) for rel in statics]
    records += [(rel, previous[rel] if rel in kept_files else record_of(key, output / rel)) for rel, key in file_keys]
    cache.save_outputs(output, records, previous)
    timings["write"] = time.perf_counter() - started
    return result


def _unchanged(output: Path, files: list[OutputFile], statics: dict[str, Path],
               previous: dict[str, FileRecord], wanted: int) -> bool:
    """True when output/ already holds exactly these files (the pages were checked by key), and kb's mark."""
    if len(previous) != wanted or not (output / MARK).is_file():
        return False
    if not all(f.data is None or _same_content(output / f.path, f.data) for f in files):
        return False
    if not all(_same_content(output / rel, src) for rel, src in statics.items()):
        return False
    return len(existing_files(output)) == wanted


__all__ = ["BuildCancelled", "BuildOptions", "BuildResult", "build", "SiteError", "UnsafeOutput"]
