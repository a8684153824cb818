"""Entries' tokens inverted once, for search and related entries: the postings of every token.

Docs are numbered oldest first, so a new entry (the newest) adds a number instead of shifting
them all, and an edit changes only the postings of the tokens it touched: the index of the last
build is patched (`patched_index`) instead of rebuilt, and gives the same arrays as a clean
build (`fresh_index` is that patch applied to nothing).
"""
from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .tokens import LONG, EntryTerms, run_starts, shard_key, short_names

MANY_NEW = 1 << 16  # new postings above which patching merges by one search over every posting


@dataclass(frozen=True)
class Postings:
    """Some docs' tokens inverted: the index of those docs alone. A worker makes one per block
    of docs, so that the sorting is shared among cores and the blocks are merely joined."""

    ids: np.ndarray  # uint64, ascending
    counts: np.ndarray  # int64 per token: its postings are the next `count` values
    values: np.ndarray  # uint32: doc << 4 | weight, by token, then value
    names: dict[int, str]  # number → token, for the tokens of four or more characters


def postings_of(docs: Sequence[int], terms: Sequence[EntryTerms]) -> Postings:
    """The postings of these docs (their terms in the same order): one sort of uint64 keys,
    local row << 32 | doc << 4 | weight."""
    sizes = [len(t.weights) for t in terms]
    every = np.concatenate([np.frombuffer(t.ids, dtype="<u8") for t in terms]) if terms else np.zeros(0, np.uint64)
    ids = np.unique(every)
    key = np.searchsorted(ids, every).astype(np.uint64) << np.uint64(32)
    del every
    key |= np.frombuffer(b"".join(t.weights for t in terms), dtype=np.uint8).astype(np.uint64)
    key |= np.repeat(np.array(docs, dtype=np.uint64) << np.uint64(4), sizes)
    key.sort()
    values = key.astype(np.uint32)  # the low 32 bits
    counts = np.bincount((key >> np.uint64(32)).astype(np.int64), minlength=len(ids))
    names: dict[int, str] = {}
    for t in terms:
        numbers = np.frombuffer(t.ids, dtype="<u8")
        names.update(zip(numbers[len(numbers) - len(t.names):].tolist(), t.names, strict=True))
    return Postings(ids.astype(np.uint64), counts, values, names)


def joined(blocks: Sequence[Postings]) -> Postings:
    """The postings of all the blocks' docs, each block's docs after the last block's."""
    if len(blocks) == 1:
        return blocks[0]
    ids = np.unique(np.concatenate([b.ids for b in blocks])) if blocks else np.zeros(0, np.uint64)
    rows = [np.searchsorted(ids, b.ids) for b in blocks]
    counts = np.zeros(len(ids), dtype=np.int64)
    for b, row in zip(blocks, rows, strict=True):
        counts[row] += b.counts
    filled = np.concatenate([[0], np.cumsum(counts)[:-1]])  # where each token's next posting goes
    values = np.empty(int(counts.sum()), dtype=np.uint32)
    names: dict[int, str] = {}
    for b, row in zip(blocks, rows, strict=True):
        local_first = np.cumsum(b.counts) - b.counts
        values[np.repeat(filled[row] - local_first, b.counts) + np.arange(len(b.values))] = b.values
        filled[row] += b.counts
        names.update(b.names)
    return Postings(ids.astype(np.uint64), counts, values, names)



@dataclass(frozen=True)
class TermIndex:
    """Postings of every token: tokens in number order, each list in doc order (doc 0: the oldest entry)."""

    docs: tuple[str, ...]  # per doc, the key of the entry it was made from
    ids: np.ndarray  # uint64, ascending
    starts: np.ndarray  # int64, len(ids) + 1: token k's postings are postings[starts[k]:starts[k + 1]]
    postings: np.ndarray  # uint32: doc << 4 | weight
    crcs: np.ndarray  # uint32 per token: CRC-32 of its shard key (see shard_of)
    names: Mapping[int, str]  # number → token, for the tokens of four or more characters

    def tokens(self, rows: np.ndarray) -> list[str]:
        """The tokens at these rows."""
        return _tokens(self.ids[rows], self.names)

    def counts(self) -> np.ndarray:
        return np.diff(self.starts)

    def digest(self) -> str:
        """Names the index: it is a pure function of the docs' keys (and the code)."""
        return index_digest(self.docs)


def index_digest(keys: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


EMPTY = TermIndex((), np.zeros(0, np.uint64), np.zeros(1, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint32), {})


def _tokens(ids: np.ndarray, names: Mapping[int, str]) -> list[str]:
    short = ids < np.uint64(LONG)
    decoded = iter(short_names(ids[short]))
    return [next(decoded) if s else names[n] for s, n in zip(short.tolist(), ids.tolist(), strict=True)]


def patched_index(old: TermIndex, keys: Sequence[str], terms_of: Callable[[list[int]], Postings | list[EntryTerms]]
                  ) -> tuple[TermIndex, np.ndarray]:
    """The index of docs with these keys (oldest first), from `old` and the terms of the docs that are
    new or changed (`terms_of(doc numbers)`: their terms, or their postings, which the build makes block
    by block in workers); and the shard-key CRCs of the tokens whose postings changed.

    The docs of `old` that are still there, in the same order, keep their postings (renumbered
    if docs before them came or went); every other doc is added from its terms.
    """
    remap, added = _renumbering(old, keys)
    kept = _kept_postings(old, remap)
    fresh = terms_of(added)
    if not isinstance(fresh, Postings):
        fresh = postings_of(added, fresh)
    names = {**old.names, **fresh.names}
    changed = kept.changed
    if len(fresh.values) + len(kept.removed) <= MANY_NEW:  # an edit: a doc added again may leave a token as it was
        new_ids = np.repeat(fresh.ids, fresh.counts)
        gone_ids, gone_values = old.ids[kept.removed_rows], old.postings[kept.removed]
        changed[kept.removed_rows[_differ(gone_ids, gone_values, new_ids, fresh.values)]] = True
        touched = np.unique(new_ids[_differ(new_ids, fresh.values, gone_ids, gone_values)])
        del new_ids
    else:
        changed[kept.removed_rows] = True
        touched = fresh.ids
    remaining = kept.counts > 0
    ids = np.union1d(old.ids[remaining], fresh.ids).astype(np.uint64)
    old_rows = np.searchsorted(ids, old.ids[remaining])
    new_rows = np.searchsorted(ids, fresh.ids)
    counts = np.zeros(len(ids), dtype=np.int64)
    counts[new_rows] = fresh.counts
    counts[old_rows] += kept.counts[remaining]
    starts = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    merged = _merged(kept.postings, old_rows, kept.counts[remaining], len(ids), new_rows, fresh.counts, fresh.values)
    del fresh

    names = {n: names[n] for n in ids[ids >= np.uint64(LONG)].tolist()}
    crcs = np.zeros(len(ids), dtype=np.uint32)
    crcs[old_rows] = old.crcs[remaining]
    unknown = np.flatnonzero(~np.isin(ids, old.ids[remaining]))
    crcs[unknown] = [zlib.crc32(shard_key(token).encode("utf-8")) for token in _tokens(ids[unknown], names)]
    index = TermIndex(tuple(keys), ids, starts, merged, crcs, names)
    touched = crcs[np.searchsorted(ids, touched)]
    return index, np.union1d(old.crcs[changed], touched).astype(np.uint32)


def _renumbering(old: TermIndex, keys: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    """(the new number of each doc of `old`, -1 if it is not kept; the new docs to add from their terms).

    A doc is kept when its key is still there, after the last doc kept: the order of kept docs stays.
    """
    where = {key: i for i, key in enumerate(old.docs)}
    remap = np.full(len(old.docs), -1, dtype=np.int64)
    last = -1
    added: list[int] = []
    for doc, key in enumerate(keys):
        i = where.get(key, -1)
        if i > last:
            remap[i] = doc
            last = i
        else:
            added.append(doc)
    return remap, added


class KeptPostings(NamedTuple):
    """What stays of an index's postings once some docs are dropped and the others renumbered."""

    postings: np.ndarray  # by token row, then value, as in the index
    counts: np.ndarray  # per token row of the old index: its postings kept
    changed: np.ndarray  # per token row: its kept postings were renumbered
    removed: np.ndarray  # positions of the dropped postings in the old index
    removed_rows: np.ndarray  # the token row of each


def _kept_postings(old: TermIndex, remap: np.ndarray) -> KeptPostings:
    if not len(old.postings):
        nothing = np.zeros(0, np.int64)
        return KeptPostings(old.postings, nothing, np.zeros(0, bool), nothing, nothing)
    unchanged = np.zeros(len(old.ids), dtype=bool)
    if np.array_equal(remap, np.arange(len(old.docs))):  # docs only added at the end: nothing to renumber
        return KeptPostings(old.postings, old.counts(), unchanged, np.zeros(0, np.int64), np.zeros(0, np.int64))
    if np.all((remap < 0) | (remap == np.arange(len(old.docs)))) and np.sum(remap < 0) <= 16:
        docs = old.postings >> np.uint32(4)  # a few docs edited in place: find their postings, renumber none
        hit = np.zeros(len(docs), dtype=bool)
        for doc in np.flatnonzero(remap < 0).tolist():
            hit |= docs == doc
        removed = np.flatnonzero(hit)
        del docs, hit
        removed_rows = np.searchsorted(old.starts, removed, side="right") - 1
        counts = old.counts() - np.bincount(removed_rows, minlength=len(old.ids))
        return KeptPostings(np.delete(old.postings, removed), counts, unchanged, removed, removed_rows)
    old_docs = (old.postings >> np.uint32(4)).astype(np.int32)
    new_docs = remap.astype(np.int32)[old_docs]
    kept = new_docs >= 0
    heads = old.starts[:-1]
    changed = np.logical_or.reduceat(kept & (new_docs != old_docs), heads)  # renumbered
    removed = np.flatnonzero(~kept)
    removed_rows = np.searchsorted(old.starts, removed, side="right") - 1
    postings = new_docs[kept].astype(np.uint32) << np.uint32(4) | (old.postings[kept] & np.uint32(15))
    return KeptPostings(postings, np.add.reduceat(kept, heads, dtype=np.int64), changed, removed, removed_rows)


def _differ(ids: np.ndarray, values: np.ndarray, other_ids: np.ndarray, other_values: np.ndarray) -> np.ndarray:
    """Mask of the postings (ids[k], values[k]) of tokens whose postings in `other` are not the same."""
    mine: dict[int, list[int]] = {}
    for number, value in zip(ids.tolist(), values.tolist(), strict=True):
        mine.setdefault(number, []).append(value)
    theirs: dict[int, list[int]] = {}
    for number, value in zip(other_ids.tolist(), other_values.tolist(), strict=True):
        theirs.setdefault(number, []).append(value)
    same = {n for n, v in mine.items() if sorted(v) == sorted(theirs.get(n, ()))}
    return np.array([n not in same for n in ids.tolist()], dtype=bool)


def _merged(postings: np.ndarray, old_rows: np.ndarray, kept_counts: np.ndarray, rows: int,
            new_rows: np.ndarray, new_counts: np.ndarray, new_values: np.ndarray) -> np.ndarray:
    """Kept and new postings in one array, by row then posting (both inputs are in that order;
    the new ones: `new_counts[k]` values for row `new_rows[k]`)."""
    if not len(new_values) or not len(postings):
        return new_values if len(new_values) else postings
    new_rows = np.repeat(new_rows, new_counts)
    kept_in_row = np.zeros(rows, dtype=np.int64)
    kept_in_row[old_rows] = kept_counts
    kept_start = np.concatenate([[0], np.cumsum(kept_in_row)])
    if len(new_rows) > MANY_NEW:  # many: one search over keys that sort rows and postings together
        old_keys = np.repeat(np.arange(rows, dtype=np.uint64), kept_in_row) << np.uint64(32) | postings
        at = np.searchsorted(old_keys, new_rows.astype(np.uint64) << np.uint64(32) | new_values)
    else:  # an edit or two: a search within each row that gets postings
        at = np.empty(len(new_rows), dtype=np.int64)
        heads = np.flatnonzero(run_starts(new_rows)).tolist() + [len(new_rows)]
        for first, end in zip(heads[:-1], heads[1:], strict=True):
            row = new_rows[first]
            low, high = kept_start[row], kept_start[row + 1]
            at[first:end] = low + np.searchsorted(postings[low:high], new_values[first:end])
    return np.insert(postings, at, new_values)


def fresh_index(keys: Sequence[str], terms_of: Callable[[list[int]], Postings | list[EntryTerms]]) -> TermIndex:
    """The index of every doc, made from nothing: what patching must always give."""
    return patched_index(EMPTY, keys, terms_of)[0]
