"""The term index (every entry's tokens, inverted: for search and related entries), patched, not made again.

Search doc ids are oldest first, so an edited entry changes only the postings of the tokens it
touched, and a new entry adds a doc id; only the search files holding changed tokens or entries
are made again. A clean build patches an empty index, so the two give the same bytes.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from ..core.term_index import EMPTY, Postings, TermIndex, joined, patched_index, postings_of
from ..core.tokens import DATA_FILE, Tokenizer, filter_tokens, load_folding
from ..derive.search import Folding, SearchState, doc_entries, index_files
from ..model.pages import OutputFile
from ..model.records import Site
from .cache import BuildCache
from .fingerprint import code_version, sha
from .parallel import parallel_map
from .reuse import OnDisk, as_kept

STALE_DOCS = 8  # docs the stored term index may lack before a build stores its own (see CachedTerms.index)


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
