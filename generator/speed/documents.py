"""The parse stage, cached: a document is parsed once for its file's digest and the options, on every core.

`kb build` knows a file by its stat stamp from an earlier build (SOURCE_STAMPS), so that it need
not read it to know its digest; `kb serve` keeps whole documents in memory instead (BuildMemo).
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from ..config import SiteConfig
from ..stages.parse import Document, MarkdownRenderer, parse_document
from ..stages.sources import SourceFile, recorded_stamps, with_text
from .cache import BuildCache
from .fingerprint import code_version, sha
from .parallel import parallel_map
from .unchanged import SETTLE_NS

SOURCE_STAMPS = "source-stamps"  # rel path → (stat stamp, digest): see sources.read_sources


def known_stamps(cache: BuildCache) -> dict:
    """The sources' stamps and digests as the last build recorded them (see `save_stamps`)."""
    recorded = cache.artifact(SOURCE_STAMPS, "")
    return recorded if isinstance(recorded, dict) else {}


def settled_before() -> int:
    """The moment (ns) before which a file's stamp is settled: a change after it gives a newer stamp."""
    return time.time_ns() - SETTLE_NS


def save_stamps(cache: BuildCache, sources: list[SourceFile], settled_ns: int, recorded: dict) -> None:
    """Record the stamps and digests of the sources settled before `settled_ns`, if they are not what is recorded."""
    if (stamps := recorded_stamps(sources, settled_ns)) != recorded:
        cache.save_artifact(SOURCE_STAMPS, "", stamps)


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
