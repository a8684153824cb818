"""Related entries (a pure function of the site, and costly), reused while the site and code are the
same, else worked out by a child process while the build goes on with the digests and feeds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..derive.related import related_entries
from ..model.pages import OutputFile
from ..model.records import Entry, Site
from .cache import BuildCache, BuildMemo
from .fingerprint import sha
from .parallel import Background
from .reuse import Reuse
from .terms import CachedTerms


def cached_related(site: Site, reuse: Reuse, whole_site: str | None, memo: BuildMemo | None = None,
                   compute: bool = True, terms: CachedTerms | None = None, search: bool = False,
                   beside: bool = False) -> RelatedWork:
    """Related entries (a pure function of the site, and costly), reused when the site and code are the same.

    When they must be worked out `beside` the other stages (a large site), a child process does it
    while this one goes on with the digests and feeds (`RelatedWork.entries()` waits for it).
    With `search` (and `terms`), that child makes the site's search files first, from the term
    index it then goes on with, which this process never loads (`RelatedWork.search_files()`).
    """
    cache = reuse.cache
    key = sha(reuse.base, "related", str(site.config.related_count), whole_site) if whole_site else ""
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
    return RelatedWork(site, cache, key, memo, None, Background(related, here=not beside))


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
