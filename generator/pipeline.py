"""The stages of a build as they are, with the speed layer off: each a call with plain values in and
out, one after another, in this process, nothing read from or kept for another build.

    sources → documents → site → derived pages and files → rendered files → written output

build.py runs them in that order; speed/plan.py runs the same stages faster (cached by content, on
every core, beside one another), and the output is the same, byte for byte
(tests/e2e/test_speed_switch.py).
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from .config import SiteConfig, load_config
from .core.dates import current_time
from .core.errors import Problem, Problems, SiteError
from .derive.digest import site_digests
from .derive.related import related_entries
from .derive.site import page_urls, site_files, site_pages, term_index
from .model.pages import OutputFile, Page, output_path
from .model.records import Site
from .output_folder import UnsafeOutput, output_refusal
from .render import THEME, Renderer, TemplateProblem
from .site_folder import files_inside, static_files, static_sources
from .speed.cache import BuildMemo, FileRecord
from .speed.unchanged import BuildRecord
from .stages.assemble import assemble_site
from .stages.check import SiteFiles, check_site, page_origins
from .stages.members import load_members
from .stages.parse import Document, MarkdownRenderer, parse_document
from .stages.sources import SourceFile, read_sources
from .write import WriteResult, clean_leftovers, path_collisions, write_output


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
    speed: bool = True  # the speed layer (speed/plan.py; KB_SPEED=0 turns it off too): never changes the output

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.source / "output"


@dataclass(frozen=True)
class Serving:
    """How `kb serve` builds: into its private folder, updated in place."""

    memo: BuildMemo = field(default_factory=BuildMemo)  # what the speed layer keeps between builds
    pages_written: Callable[[], None] | None = None  # told once the pages are written, before the other files
    preview: bool = False  # related entries may be the last build's (see speed/plan.py)
    cancelled: Callable[[], bool] | None = None  # asked between stages: a newer save came in


class BuildCancelled(Exception):
    """The build was stopped between stages: its result is not wanted any more."""


@dataclass(frozen=True)
class Derived:
    """Every page and every other file of the site, before the pages are rendered."""

    pages: list[Page]
    files: list[OutputFile]  # bytes, or None: output/ holds the file as made with its key (speed layer)
    keys: list[str | None] = field(default_factory=list)  # each page's key (speed/fingerprint.py), if known


@dataclass(frozen=True)
class Rendered:
    """The site's files: `files` made, and `pages` rendered where they are written (each by a worker,
    the speed layer's way) with their keys; with the speed layer off, every page is among `files`."""

    files: list[OutputFile]
    pages: list[Page] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)


def site_config(options: BuildOptions, problems: Problems) -> SiteConfig:
    """The config; on errors (reported), the defaults, so that the content's problems are reported too."""
    try:
        return load_config(options.source, options.base_url, problems)
    except SiteError as exc:
        problems.extend(exc.problems)
        return SiteConfig()


def assembled(options: BuildOptions, config: SiteConfig, documents: list[Document], problems: Problems
              ) -> tuple[Site, SiteFiles]:
    """The site, and the files its links may point at; what the static and template folders skip is warned about."""
    now: datetime = current_time(options.now, config.tz, dict(os.environ))
    members, member_problems = load_members(options.source, config)
    problems.extend(member_problems)
    assembly = assemble_site(config, documents, members, now, include_drafts=options.drafts)
    problems.extend(list(assembly.problems))
    statics, skipped = static_sources(options.source)
    problems.extend(skipped)  # symlinks out of the site, loops: static/ and templates/ alike
    problems.extend(files_inside(options.source / "templates", options.source, "templates/")[1])
    problems.extend(files_inside(THEME / "templates", THEME, "generator/theme/templates/", "kb's theme folder")[1])
    content = files_inside(options.source / "content", options.source, "content/")[0]  # warned about by sources
    return assembly.site, SiteFiles(not_markdown(statics), not_markdown(content, "content/"))


def not_markdown(files: dict[str, Path], prefix: str = "") -> frozenset[str]:
    """The paths (with `prefix`) of the files that are not Markdown: those a link may point at as they are."""
    return frozenset(prefix + rel for rel in files if PurePosixPath(rel).suffix != ".md")


def site_checks(options: BuildOptions, site: Site, documents: list[Document], files: SiteFiles) -> list[Problem]:
    """The cross-site checks: links, anchors and images, people, tag spellings."""
    return check_site(site, documents, files, PageUrls(site), links_are_errors=options.links_are_errors)


class PageUrls:
    """The URL of every page of the site, worked out when first asked about: few links need them."""

    def __init__(self, site: Site):
        self.site = site
        self.urls: set[str] | None = None

    def __contains__(self, url: object) -> bool:
        if self.urls is None:
            self.urls = page_urls(self.site)
        return url in self.urls


def collisions(site_root: Path, pages: list[Page], files: list[OutputFile]) -> list[Problem]:
    """Two outputs (pages, files, static files) that claim one path, each named by its source."""
    static = not_markdown(files_inside(site_root / "static", site_root, "static/")[0])
    return path_collisions([output_path(p.url) for p in pages] + [f.path for f in files], page_origins(pages), static)


def rendered_pages(renderer: Renderer, pages: list[Page]) -> tuple[list[OutputFile], list[Problem]]:
    """Each page rendered, and the template problems of those that could not be."""
    files, problems = [], []
    for page in pages:
        try:
            files.append(renderer.render(page))
        except TemplateProblem as exc:
            problems.append(exc.problem)
    return files, problems


def statics_besides(site_root: Path, paths: set[str]) -> dict[str, Path]:
    """The static files to publish, but for a path an output of the build already takes."""
    return {rel: source for rel, source in static_files(site_root).items() if rel not in paths}


class Stages:
    """The stages as they are (the speed layer off); speed/plan.py's FastStages runs them faster."""

    def __init__(self, options: BuildOptions, write: bool = True, serving: Serving | None = None):
        self.options, self.write, self.serving = options, write, serving
        self.timings: dict[str, float] = {}
        self.renderer: Renderer | None = None  # made with the site's pages, used to render them
        self.approximate = False  # related entries taken from the last build (the speed layer, for `kb serve`)

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started

    def stop_if_cancelled(self) -> None:
        """Raise BuildCancelled if `kb serve` says a newer save came in."""
        if self.serving is not None and self.serving.cancelled is not None and self.serving.cancelled():
            raise BuildCancelled

    def guard_output(self, records: dict[str, FileRecord] | None = None) -> None:
        """`kb build` writes only into a folder of kb's (else UnsafeOutput, before anything is touched),
        and tidies what an interrupted build left beside it (`kb serve` keeps a folder of its own)."""
        if self.write and self.serving is None:
            if refusal := output_refusal(self.options.source, self.options.output_dir, records):
                raise UnsafeOutput(refusal)
            clean_leftovers(self.options.output_dir.resolve())

    def last_build(self) -> BuildRecord | None:
        """The last build, if it is still the answer (only the speed layer looks)."""
        return None

    def sources(self, problems: Problems) -> list[SourceFile]:
        with self.timed("read"):
            return read_sources(self.options.source, problems=problems)

    def documents(self, sources: list[SourceFile], config: SiteConfig) -> list[Document]:
        with self.timed("parse"):
            markdown = MarkdownRenderer(trusted_html=config.trusted_html)
            return [parse_document(source, markdown, config.tz) for source in sources]

    def site(self, config: SiteConfig, documents: list[Document], problems: Problems) -> tuple[Site, SiteFiles]:
        with self.timed("assemble"):
            return assembled(self.options, config, documents, problems)

    def check(self, site: Site, documents: list[Document], files: SiteFiles, problems: Problems) -> None:
        with self.timed("assemble"):
            problems.extend(site_checks(self.options, site, documents, files))

    def derived(self, site: Site, problems: Problems) -> Derived:
        with self.timed("derive"):
            self.renderer = Renderer(site, self.options.source)
            weeks = site_digests(site)
            index = term_index(site)
            pages = site_pages(site, related_entries(site, site.config.related_count, index), weeks)
            try:
                files = site_files(site, self.renderer.render, weeks, index)
            except TemplateProblem as exc:  # the digest feed's item template
                problems.extend([exc.problem])
                files = []
            problems.extend(collisions(self.options.source, pages, files))
            return Derived(pages, files)

    def rendered(self, derived: Derived, problems: Problems) -> Rendered:
        with self.timed("render"):
            files, render_problems = rendered_pages(self.renderer, derived.pages)
            problems.extend(render_problems)
            return Rendered(files + derived.files)

    def written(self, site: Site, rendered: Rendered, problems: Problems) -> WriteResult:
        with self.timed("write"):
            statics = statics_besides(self.options.source, {f.path for f in rendered.files})
            return write_output(rendered.files, self.options.output_dir, statics, in_place=self.serving is not None)
