"""The speed layer: pipeline.py's stages run as fast as kb knows how, with the same bytes out.

Each stage means what `pipeline.Stages` says; `FastStages` decides what is reused of earlier
builds (cache.py, reuse.py: by content hash), what runs on every core (parallel.py), what runs
beside what, and whether a build has anything to do at all (unchanged.py).
`BuildOptions(speed=False)` or KB_SPEED=0 runs the plain stages instead.

Beside the stages, a large site (BACKGROUND_ENTRIES or more) runs children where one core would
otherwise idle:
- the cross-site checks, from the start; their problems join the report before anything is written;
- in a cold build, the start page's index beside the entry digests; the search files first, then
  related entries while the feeds are made; the entries' cards beside the page list and keys;
- in a rebuild, one child patches the term index and makes the search files and related entries,
  while this process makes the feeds and every page but the entries' own, which alone wait for it;
  the few of those other pages that changed are rendered then too.
`kb serve` writes the pages first, so that open tabs reload sooner, then makes and writes the files.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path

from markupsafe import Markup

from ..config import SiteConfig
from ..core.errors import Problem, Problems
from ..derive.digest import digest_weeks, site_digests
from ..derive.entries import entry_pages
from ..derive.feeds import with_alternates
from ..derive.newcomers import start_files
from ..derive.related import related_entries
from ..derive.search import doc_entries
from ..derive.site import pages_besides_entries
from ..model.digest import WeekDigest
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Entry, Site
from ..pipeline import (
    BuildOptions,
    Derived,
    Rendered,
    Serving,
    Stages,
    collisions,
    site_checks,
    statics_besides,
)
from ..render import Renderer
from ..stages.check import SiteFiles
from ..stages.parse import Document
from ..stages.sources import SourceFile, read_sources
from ..write import InPlaceOutput, StagedOutput, WriteResult
from .cache import BuildCache, FileRecord, cache_folder
from .documents import known_stamps, parse_sources, save_stamps, settled_before
from .files import site_files
from .fingerprint import TemplateDigests, code_version, entry_digests, page_keys, sha, value_digest
from .output import KeyedOutput, card_or_none, render_problems, rendered_now
from .parallel import Background, collector_paused, parallel_map
from .related import RelatedWork, cached_related
from .reuse import Reuse, on_disk
from .spare import SPARE_FILES, SpareClaim, SpareOutput
from .terms import CachedTerms
from .unchanged import BuildRecord, Inputs, last_build, save_build

BACKGROUND_ENTRIES = 500  # from this many entries, some stages are worked out by children beside others
TEMPLATE_FACTS = "template-facts"  # see TemplateDigests.known


def stages_for(options: BuildOptions, write: bool = True, serving: Serving | None = None,
               background_cleanup: bool = False, environ: Mapping[str, str] | None = None) -> Stages:
    """The stages with the speed layer, unless the options or KB_SPEED=0 turn it off."""
    if not options.speed or (environ or {}).get("KB_SPEED", "").strip() == "0":
        return Stages(options, write, serving)
    return FastStages(options, write, serving, background_cleanup)


def options_base(options: BuildOptions) -> str:
    """What every page key and cache key starts from: kb's code and the options that shape the output."""
    return sha(code_version(), repr((options.drafts, options.base_url, options.now, options.strict)))


class FastStages(Stages):
    """The stages cached by content, on every core and beside one another (see the module's docstring).

    `background_cleanup` (`kb build`): a large site's previous tree is kept as the spare the next
    build updates, or deleted in the background.
    """

    def __init__(self, options: BuildOptions, write: bool = True, serving: Serving | None = None,
                 background_cleanup: bool = False):
        super().__init__(options, write, serving)
        self.background_cleanup = background_cleanup
        self.cache = BuildCache(cache_folder(options.source) if options.cache else None, readonly=not write)
        self.memo = serving.memo if serving is not None else None
        self.records: dict[str, FileRecord] | None = None  # `kb build`: the output folder's manifest
        self.looked: tuple[BuildRecord | None, Inputs] | None = None
        self.claim: SpareClaim | None = None  # the spare tree the write stage updates
        self.checks: list[Background[list[Problem]]] = []  # joined before anything is written
        self.start: Background[list[OutputFile]] | None = None  # the start page's index
        self.cards: Background[list[Markup | None]] | None = None  # the entries' cards
        self.stamps: dict = {}  # the sources' stamps as recorded (see documents.py)
        self.settled = 0
        self.exits = contextlib.ExitStack()
        # made by `derived`, for the stages after it:
        self.model: Site | None = None  # the site
        self.reuse: Reuse | None = None
        self.terms: CachedTerms | None = None
        self.weeks: list[WeekDigest] = []
        self.templates: TemplateDigests | None = None
        self.beside = False  # a child makes the search files and related entries (a large site's rebuild)
        self.early: dict[int, OutputFile] = {}  # pages besides the entries' own, rendered while that child works

    def __enter__(self) -> FastStages:
        self.exits.enter_context(collector_paused())
        self.exits.callback(self._close)
        return self

    def __exit__(self, *exc) -> None:
        self.exits.__exit__(*exc)

    def _close(self) -> None:
        """The build is over, or stopped: so is every child at work, and the cache."""
        for work in [*self.checks, self.cards, self.start]:
            if work is not None:
                work.cancel()
        if self.claim is not None:
            self.claim.release()
        self.cache.close()

    @property
    def large(self) -> bool:
        return len(self.model.entries) >= BACKGROUND_ENTRIES

    @property
    def pages_first(self) -> bool:
        """`kb serve`: the pages are written before the other files are made (see `written`)."""
        return self.write and self.serving is not None and self.serving.pages_written is not None

    # --- the output folder, and whether there is anything to do ---------------------------------

    def guard_output(self, records: dict[str, FileRecord] | None = None) -> None:
        if self.write and self.serving is None:
            self.records = self.cache.outputs(self.options.output_dir.resolve())
        super().guard_output(self.records)

    def last_build(self) -> BuildRecord | None:
        if self.records is None:  # `kb serve`, `kb check`: nothing to look at
            return None
        with self.timed("look"):
            self.looked = last_build(self.cache, self.options, self.records)
        if self.looked and self.looked[0]:
            return self.looked[0]
        self.timings.pop("look")
        return None

    # --- sources, documents, site, checks -----------------------------------------------------

    def sources(self, problems: Problems) -> list[SourceFile]:
        if self.records is not None and self.background_cleanup:  # walked by a child while the site loads
            self.claim = SpareClaim(self.options.output_dir, make=len(self.records) > SPARE_FILES)
        with self.timed("read"):
            self.stamps = known_stamps(self.cache) if self.memo is None else {}
            self.settled = settled_before()
            memo = self.memo.sources if self.memo is not None else None
            return read_sources(self.options.source, memo, None if self.memo else self.stamps, problems)

    def documents(self, sources: list[SourceFile], config: SiteConfig) -> list[Document]:
        with self.timed("parse"):
            memo = self.memo.documents if self.memo is not None else None
            documents, sources = parse_sources(sources, config, self.cache, memo, self.options.source)
            if self.memo is None:
                save_stamps(self.cache, sources, self.settled, self.stamps)
            return documents

    def check(self, site: Site, documents: list[Document], files: SiteFiles, problems: Problems) -> None:
        """On a large site, in a child beside the stages that follow, unless the build stops here anyway."""
        options = self.options

        def checks() -> list[Problem]:
            return site_checks(options, site, documents, files)

        with self.timed("assemble"):
            work = Background(checks, here=not self.write or len(documents) < BACKGROUND_ENTRIES)
            if not work.forked or (problems.items if options.strict else problems.errors):
                problems.extend(work.result())  # the build stops here: one report, the checks' problems too
            else:
                self.checks.append(work)

    # --- derive ------------------------------------------------------------------------------

    def derived(self, site: Site, problems: Problems) -> Derived:
        started = time.perf_counter()
        self.model = site
        reuse, whole_site = self._reuse(site)
        related_work = None
        try:
            files: list[OutputFile] = []
            # in a cold build, the search files first: they use both cores at times, and their timing is theirs alone
            search = self.terms.search_files() if not self.pages_first and not self.beside else None
            related_work = cached_related(site, reuse, whole_site, self.memo, compute=not self._previewing(), terms=self.terms,
                                          search=self.beside, beside=self.large)
            self.stop_if_cancelled()
            self.weeks = self._week_digests(site, reuse)
            self.renderer = Renderer(site, self.options.source, self.cache.folder_for("templates", code_version()))
            facts = self.cache.artifact(TEMPLATE_FACTS, code_version())
            self.templates = TemplateDigests(self.renderer.env, dict(facts) if isinstance(facts, dict) else {})
            if not self.pages_first:  # while a child works out related entries
                files += self._files(site, reuse, search, problems)
            related, besides, besides_keys = self._besides(site, reuse, related_work)
            if self.beside:
                files += related_work.search_files()
        finally:
            if related_work is not None:
                related_work.cancel()
        entries_own, keys = self._entry_pages(site, reuse, related)
        if (used := self.templates.used()) != facts:
            self.cache.save_artifact(TEMPLATE_FACTS, code_version(), used)
        derived = self._joined(entries_own, besides, keys, besides_keys, files, problems)
        self.timings["derive"] = time.perf_counter() - started - sum(self.terms.seconds.values())
        self.timings.update(self.terms.seconds)  # the term index (search and related entries), the search files
        return derived

    def _reuse(self, site: Site) -> tuple[Reuse, str | None]:
        """What this build finds earlier builds' work by, and the digest of the whole site; the children
        that start now (the start page's index, in a large site's cold build)."""
        records = self.records
        self.beside = not self.pages_first and bool(records) and self.large
        if not self.pages_first and not self.beside and self.large:
            # The start page's index of every entry, by a child beside the entry digests and the checks, not
            # later in a cold build, when one core idles after related entries. Beside the term index's
            # child it is made in this process: a third child costs more in forking and copied pages.
            def start_index() -> list[OutputFile]:
                return start_files(site, digest_weeks(site))

            self.start = Background(start_index)
        digests = entry_digests(site.entries, self.memo.entry_digests if self.memo else None)
        whole_site = value_digest(site, digests)
        kept = on_disk(records, self.options.output_dir.resolve()) if records is not None else None  # files not loaded
        self.reuse = reuse = Reuse(self.cache, options_base(self.options), digests, kept)
        self.terms = CachedTerms(site, self.cache, [digests[id(e)] for e in doc_entries(site)], kept)
        return reuse, whole_site

    def _previewing(self) -> bool:
        """`kb serve` after a save: related entries are the last build's, not worked out again."""
        return bool(self.serving and self.serving.preview and self.memo and self.memo.related)

    def _week_digests(self, site: Site, reuse: Reuse) -> list[WeekDigest]:
        """Each week's digest, digested once: the digest pages, their index and the feed's items refer to it so."""
        weeks = site_digests(site)
        reuse.digests.update({id(week): digest for week in weeks if (digest := value_digest(week, reuse.digests))})
        return weeks

    def _files(self, site: Site, reuse: Reuse, search: list[OutputFile] | None, problems: Problems) -> list[OutputFile]:
        files, file_problems = site_files(site, self.renderer, reuse, self.terms, self.weeks, self.templates,
                                          search or [], self.start)
        problems.extend(file_problems)
        return files

    def _besides(self, site: Site, reuse: Reuse, related_work: RelatedWork
                 ) -> tuple[dict[str, list[Entry]] | None, list[Page], list[str | None]]:
        """Related entries, and every page but the entries' own, with their keys, made while a child works
        out related entries; the few of those pages that changed are rendered then too."""
        first = self.write and self.records == {} and self.large
        if first:
            # Nothing built here before: every list is rendered, and the entries' cards they show are made
            # by a child beside the page list, the keys and the files written (once the related entries'
            # child is done, so that the two do not raise the peak together).
            related = related_work.entries()
            renderer = self.renderer
            self.cards = Background(lambda: [card_or_none(renderer, e) for e in site.entries])
        besides = with_alternates(site, pages_besides_entries(site, self.weeks))
        keys = page_keys(besides, site, self.renderer.env, reuse.base, reuse.digests, self.templates,
                         (WeekDigest,)) if self.write else []
        kept = reuse.kept
        self.early = rendered_now(besides, keys, kept, self.renderer) if kept is not None and not first else {}
        if not first:
            related = related_work.entries()
        return related, besides, keys

    def _entry_pages(self, site: Site, reuse: Reuse, related: dict[str, list[Entry]] | None
                     ) -> tuple[list[Page], list[str | None]]:
        """The entries' own pages, which show related entries, with their keys."""
        if related is None and self._previewing():
            by_url = site.by_url()
            related = {e.url: [by_url[u] for u in self.memo.related.get(e.url, ()) if u in by_url] for e in site.entries}
            self.approximate = True
        if related is None:  # not stored, and not to be computed beside the other stages
            related = related_entries(site, site.config.related_count)
        pages = with_alternates(site, entry_pages(site, related))
        keys = page_keys(pages, site, self.renderer.env, reuse.base, reuse.digests, self.templates) if self.write else []
        return pages, keys

    def _joined(self, entries_own: list[Page], besides: list[Page], keys: list[str | None],
                besides_keys: list[str | None], files: list[OutputFile], problems: Problems) -> Derived:
        """Every page and file, the collisions between them and the checks' problems reported; the pages
        rendered already (see `_besides`) given as files, with their page keys."""
        pages = entries_own + besides
        problems.extend(collisions(self.options.source, pages, files))
        for work in self.checks:
            problems.extend(work.result())
        self.checks = []
        if self.early:
            files = files + list(self.early.values())
            besides_keys = [k for i, k in enumerate(besides_keys) if i not in self.early]
            besides = [p for i, p in enumerate(besides) if i not in self.early]
        return Derived(entries_own + besides, files, keys + besides_keys)

    # --- render and write ----------------------------------------------------------------------

    def rendered(self, derived: Derived, problems: Problems) -> Rendered:
        """Pages are rendered where they are written (each by a worker, straight into the tree), so
        `kb build` renders nothing here; `kb check` renders every page for its problems."""
        if self.write:
            return Rendered(derived.files, derived.pages, derived.keys)
        with self.timed("render"):
            problems.extend(render_problems(self.renderer, derived.pages))
        return Rendered([])

    def written(self, site: Site, rendered: Rendered, problems: Problems) -> WriteResult:
        """Only what changed rendered and written (see output.py); the output manifest and the record the
        next build looks at kept. `kb serve` has the pages written first, then the files made and written."""
        output = self.options.output_dir.resolve()
        previous = self.records if self.records is not None else self.cache.outputs(output)
        out = KeyedOutput(output, previous)
        made = len(rendered.pages) + len(rendered.files)
        with self.timed("plan"):
            paths = [output_path(p.url) for p in rendered.pages]
            fresh = out.fresh(paths, rendered.keys)
            statics = statics_besides(self.options.source, set(paths) | {f.path for f in rendered.files})
            wanted = len(rendered.pages) + len(rendered.files) + len(statics)
        if not self.pages_first and all(fresh) and out.unchanged(rendered.files, statics, wanted):
            self.timings["write"] = 0.0
            return self._recorded(site, made, WriteResult(0, wanted, 0), problems)
        self._compile(rendered.pages)
        out.tree = (InPlaceOutput(output) if self.serving is not None else
                    SpareOutput(output, self.claim) if self.background_cleanup else StagedOutput(output))
        placing = None
        try:
            with self.timed("render"):
                placing = None if self.pages_first else out.placing(rendered.files)
                if placing is not None and not placing.forked:
                    out.count_files(placing.result())
                rendered.files.clear()  # their bytes (the search index, the feeds) are not to be in the render workers
                self._cards(site, fresh)
                page_problems, pages_changed = out.place_pages(rendered.pages, paths, rendered.keys, fresh, self.renderer)
                if placing is not None and placing.forked:
                    out.count_files(placing.result())
                problems.extend(page_problems)
                problems.raise_if_errors(self.options.strict)
            with self.timed("write"):
                if self.pages_first:
                    statics = self._files_after_pages(out, rendered.pages, paths, pages_changed, problems)
                result, records = out.commit(statics, self.background_cleanup)
        except BaseException:
            if placing is not None:
                placing.cancel()
            out.tree.abort()
            raise
        with self.timed("write"):
            self.cache.save_outputs(output, records, previous)
        return self._recorded(site, made, result, problems)

    def _compile(self, pages: list[Page]) -> None:
        """Every template the pages use compiled here, once, rather than in each worker."""
        for template in sorted({p.template for p in pages}):
            try:
                self.renderer.env.get_template(template)
            except Exception:  # reported with its line when the page is rendered
                pass

    def _cards(self, site: Site, fresh: list[bool]) -> None:
        """When most lists are to be rendered, the entries' cards they show, made once before the render
        workers are forked (each of those would otherwise make nearly every card again)."""
        if fresh.count(False) <= len(site.entries) // 4:
            return
        entries, renderer = site.entries, self.renderer
        made = self.cards.result() if self.cards else parallel_map(lambda i: card_or_none(renderer, entries[i]),
                                                                   range(len(entries)))
        renderer.keep_cards(entries, made)

    def _files_after_pages(self, out: KeyedOutput, pages: list[Page], paths: list[str], pages_changed: bool,
                           problems: Problems) -> dict[str, Path]:
        """`kb serve`: the open tabs are told once the pages are written; then the other files are made,
        checked for collisions and placed. The static files to publish beside them."""
        if pages_changed:
            self.serving.pages_written()
        self.stop_if_cancelled()
        try:
            files, file_problems = site_files(self.model, self.renderer, self.reuse, self.terms, self.weeks, self.templates)
        finally:
            self.terms.release()
        problems.extend(file_problems)
        problems.extend(collisions(self.options.source, pages, files))
        problems.raise_if_errors(self.options.strict)
        out.count_files(out.placing(files, beside=False).result())
        return statics_besides(self.options.source, set(paths) | {f.path for f in files})

    def _recorded(self, site: Site, made: int, result: WriteResult, problems: Problems) -> WriteResult:
        """The result, recorded for the next build to look at (see unchanged.py)."""
        if self.looked is not None:
            save_build(self.cache, self.options.output_dir.resolve(), self.looked[1], site, made, result,
                       tuple(problems.warnings))
        return result
