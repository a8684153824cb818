"""The pipeline: sources → parse → assemble → derive → render → write."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .assemble import assemble_site, current_time, load_members
from .check import SiteFiles, files_in, page_origins, site_problems
from .community import open_question_pages, open_questions_feed
from .config import SiteConfig, load_config
from .digest import digest_pages
from .errors import Problem, Problems, SiteError
from .feeds import feed_files, with_alternates
from .model import Site
from .newcomers import start_files, start_page
from .pages import browsing_pages, utility_pages
from .parse import MarkdownRenderer, parse_document
from .render import THEME, OutputFile, Page, Renderer, render_all
from .search import search_files, search_page
from .sources import read_sources
from .stats import stats_pages
from .write import WriteResult, colliding_paths, write_output


@dataclass(frozen=True)
class BuildOptions:
    source: Path = Path(".")
    output: Path | None = None  # default: <source>/output
    drafts: bool = False
    base_url: str | None = None
    now: str | None = None
    strict: bool = False  # warnings fail the build too
    links_are_errors: bool = False  # `kb check`: broken links and images fail too

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.source / "output"


@dataclass(frozen=True)
class BuildResult:
    site: Site
    entries: int
    pages: int
    write: WriteResult | None
    warnings: tuple[Problem, ...]
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        total = sum(self.timings.values())
        line = f"built {self.entries} entries, {self.pages} pages in {total:.2f}s"
        if self.write:
            line += f" ({self.write.written} written, {self.write.unchanged} unchanged, {self.write.removed} removed)"
        if self.warnings:
            line += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return line


def load_site(options: BuildOptions, problems: Problems, timings: dict[str, float]) -> Site:
    """Everything up to the model; raises SiteError when the content has errors."""
    started = time.perf_counter()
    try:
        config: SiteConfig = load_config(options.source, options.base_url)
    except SiteError as exc:  # keep going with the defaults, to report the content's problems too
        problems.extend(exc.problems)
        config = SiteConfig()
    now: datetime = current_time(options.now, config.tz, dict(os.environ))
    sources = read_sources(options.source)
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    renderer = MarkdownRenderer(trusted_html=config.trusted_html)
    documents = [parse_document(s, renderer, config.tz) for s in sources]
    timings["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    members, member_problems = load_members(options.source, config)
    problems.extend(member_problems)
    assembly = assemble_site(config, documents, members, now, include_drafts=options.drafts)
    problems.extend(list(assembly.problems))
    files = SiteFiles(files_in([THEME / "static", options.source / "static"]),
                      files_in([options.source / "content"], "content/"))
    problems.extend(site_problems(assembly.site, documents, files, lambda: {p.url for p in site_pages(assembly.site)},
                                  links_are_errors=options.links_are_errors))
    timings["assemble"] = time.perf_counter() - started
    problems.raise_if_errors(options.strict)
    return assembly.site


def site_pages(site: Site) -> list[Page]:
    """Every page of the site, from each derive stage."""
    pages = browsing_pages(site)
    pages += digest_pages(site)
    pages.append(start_page(site))
    pages += open_question_pages(site)
    pages += stats_pages(site)
    pages.append(search_page(site))
    pages += utility_pages(site, [p.url for p in pages])
    return pages


def render_site(site: Site, options: BuildOptions, problems: Problems, timings: dict[str, float]) -> list[OutputFile]:
    started = time.perf_counter()
    pages = with_alternates(site, site_pages(site))
    renderer = Renderer(site, options.source)
    files, template_problems = render_all(renderer, pages)
    problems.extend(template_problems)
    feeds, feed_problems = feed_files(site, renderer)
    files += feeds + start_files(site) + [open_questions_feed(site)]
    problems.extend(feed_problems)
    timings["render"] = time.perf_counter() - started
    started = time.perf_counter()
    files += search_files(site)
    timings["search"] = time.perf_counter() - started
    problems.extend(colliding_paths(files, page_origins(pages), files_in([options.source / "static"])))
    problems.raise_if_errors(options.strict)
    return files


def build(options: BuildOptions, write: bool = True) -> BuildResult:
    """Build the site; raise SiteError (with every problem) and leave output/ alone on errors."""
    problems = Problems()
    timings: dict[str, float] = {}
    site = load_site(options, problems, timings)
    files = render_site(site, options, problems, timings)
    result = None
    if write:
        started = time.perf_counter()
        result = write_output(files, options.output_dir, [THEME / "static", options.source / "static"])
        timings["write"] = time.perf_counter() - started
    return BuildResult(site, len(site.entries), len(files), result, tuple(problems.warnings), timings)


__all__ = ["BuildOptions", "BuildResult", "build", "SiteError"]
