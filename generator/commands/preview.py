"""`kb serve`'s fast path: saved entries' own pages, rendered from the last build.

Hugo's "fast render": when a save changes only what entries say, not where they
stand (URL, section, date, tags, published or not), their own pages are what the
open tabs show. These are rendered with the last build's neighbours and related
entries, the new entries swapped in; the normal build that follows brings every
other page (lists, tags, feeds, search) up to date. Anything else returns None,
and the normal build is all there is.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from ..config import SECTION_IDS
from ..core.errors import Problem
from ..derive.entries import entry_page, neighbours
from ..derive.feeds import with_alternates
from ..model.pages import OutputFile, Page
from ..model.records import Body, Entry, Site
from ..render import Renderer, TemplateProblem
from ..stages.assemble import assemble_site, html_with_links
from ..stages.parse import Document, MarkdownRenderer, parse_document
from ..stages.sources import CONTENT_DIR, read_source

MOST_FILES = 20  # more at once (a `git checkout`): the normal build is as quick as rendering each


@dataclass(frozen=True)
class LastBuild:
    """What the fast path reuses of the last good build."""

    site: Site
    related: Mapping[str, Sequence[str]]  # entry URL → related URLs, as its page shows them
    sources: frozenset[str]  # every Markdown file read ("content/qa/x.md"), published or not


@dataclass(frozen=True)
class Preview:
    """The saved entries' pages, or the errors to show instead."""

    files: tuple[OutputFile, ...] = ()
    problems: tuple[Problem, ...] = ()


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by one fast render, kept for the next (compiling is most of its time);
    Jinja compiles a template again when its source changed."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


def entry_sections(rel_paths: set[str], sources: frozenset[str]) -> dict[str, str] | None:
    """rel path → section of the changed files, if all are entries that the last build read (and few)."""
    if len(rel_paths) > MOST_FILES:
        return None
    found = {}
    for rel in rel_paths:
        parts = rel.split("/")
        if len(parts) < 3 or parts[0] != CONTENT_DIR or parts[1] not in SECTION_IDS or rel not in sources:
            return None
        found[rel] = parts[1]
    return found or None


def previewed_site(last: LastBuild, documents: Sequence[Document], include_drafts: bool = False) -> Site | None:
    """The last site with these documents' entries swapped in; None if other pages would change shape.

    The entries are assembled alone, so what needs the whole site comes from the last
    one: tag spellings, and the URLs that links to other entries' .md files point at.
    """
    site = last.site
    by_source = {e.source: e for e in site.entries}
    url_of_source = {e.source: e.url for e in site.entries}
    swapped: dict[str, Entry] = {}
    for doc in documents:
        old = by_source.get(doc.source)
        if old is None or not doc.ok:
            return None
        targets = {target.split("#", 1)[0] for target, _ in doc.links}
        if any(t in last.sources and t not in url_of_source for t in targets):
            return None  # links to a draft: the whole site knows its URL
        doc = replace(doc, body=Body(html_with_links(doc.html, url_of_source, site.config.base_path), doc.text),
                      answers=tuple(replace(a, body=Body(html_with_links(a.html, url_of_source, site.config.base_path), a.text))
                                    for a in doc.answers))
        assembly = assemble_site(site.config, [doc], dict(site.members), site.now, include_drafts=include_drafts)
        if any(p.severity == "error" for p in assembly.problems) or len(assembly.site.entries) != 1:
            return None
        new = assembly.site.entries[0]
        if (new.url, new.section, new.date, [t.slug for t in new.tags]) != \
                (old.url, old.section, old.date, [t.slug for t in old.tags]):
            return None
        swapped[old.url] = replace(new, tags=old.tags)
    return replace(site, entries=tuple(swapped.get(e.url, e) for e in site.entries))


def preview_pages(site: Site, urls: Sequence[str], related: Mapping[str, Sequence[str]]) -> list[Page]:
    """The pages of these entries, with neighbours from `site` and related entries as `related` lists them."""
    by_url = site.by_url()
    pages = []
    for url in urls:
        entry = by_url[url]
        same = site.in_section(entry.section)
        others = [by_url[u] for u in related.get(url, ()) if u in by_url]
        pages.append(entry_page(site, entry, *neighbours(same, same.index(entry)), others))
    return with_alternates(site, pages)


def preview(last: LastBuild, site_root: Path, rel_paths: set[str], include_drafts: bool = False,
            compiled: CompiledTemplates | None = None) -> Preview | None:
    """The saved entries' pages, their errors, or None when only a normal build will do.

    An empty Preview: the files changed on disk but not in what they say.
    """
    gone = {rel for rel in rel_paths if rel not in last.sources and not (site_root / rel).exists()}
    sections = entry_sections(rel_paths - gone, last.sources)  # gone: an editor's temporary files
    if sections is None:
        return None
    config = last.site.config
    renderer = MarkdownRenderer(trusted_html=config.trusted_html)
    documents = []
    for rel, section in sorted(sections.items()):
        try:
            source = read_source(site_root, site_root / rel, section, rel)
        except OSError:  # deleted since
            return None
        documents.append(parse_document(source, renderer, config.tz))
    errors = tuple(p for d in documents for p in d.problems if p.severity == "error")
    if errors:
        return Preview(problems=errors)
    site = previewed_site(last, documents, include_drafts)
    if site is None:
        return None
    before = last.site.by_url()
    urls = [e.url for e in site.entries if e.source in sections and e != before[e.url]]
    templates = Renderer(site, site_root)
    templates.env.bytecode_cache = compiled
    try:
        files = tuple(templates.render(page) for page in preview_pages(site, urls, last.related))
    except TemplateProblem as exc:
        return Preview(problems=(exc.problem,))
    return Preview(files=files)
