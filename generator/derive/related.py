"""Site → related entries for every entry: shared tags plus text similarity that reads Chinese.

Text is TF-IDF over the search index's own tokens (CJK bigrams and words, folded alike; see
core/tokens.py), compared by cosine. To stay well under quadratic on big sites, each entry keeps only
its strongest terms, candidates come from an inverted index of its strongest terms and its tags
(each capped to its strongest entries), and only the best candidates get an exact score.

Everything runs on NumPy arrays, with ties broken by content (token numbers, entry order) and
candidate scores summed as integers, so that the result is the same in every run, whatever
the order of the work: a pure function of the site.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..core.term_index import TermIndex, fresh_index
from ..core.tokens import CODE_BITS, FILTER_PREFIX, LONG, Tokenizer, filter_tokens, load_folding, token_id
from ..model.records import Entry, Site

STOP_WORDS = frozenset("the and for with that this are was you your from have has not but can will its into".split())
VECTOR_TERMS = 64  # strongest terms kept per entry
QUERY_TERMS = 10  # of those, how many look for candidates
CANDIDATES = 24  # candidates scored exactly per entry
POSTINGS = 30  # entries listed per term or tag in the candidate index
TEXT_WEIGHT, TAG_WEIGHT = 0.6, 0.4
MIN_SCORE = 0.04
SCALE = 1 << 20  # candidate scores are summed as integers of this many parts
TITLE_COUNT = 3  # a title occurrence counts as three in the text: it says more about the entry
# A posting's weight holds the tf bucket (0, 1, 2, 3–4, 5–8, 9–16, 17–32, 33+ occurrences) and
# the title flag; a typical count stands for each bucket.
_TYPICAL = (0.0, 1.0, 2.0, 3.5, 6.5, 12.5, 24.5, 40.0)
TF_WEIGHTS = np.array([1 + math.log(_TYPICAL[w >> 1] + TITLE_COUNT * (w & 1)) if w > 1 or w & 1 else 0.0
                        for w in range(16)])


@dataclass(frozen=True)
class Related:
    entry: Entry
    score: float
    text: float  # cosine of the TF-IDF vectors
    tags: float  # cosine of the IDF-weighted tag sets


def _sorted(*fields: tuple[np.ndarray, int]) -> list[np.ndarray]:
    """The fields (non-negative ints, each with its bit width) sorted together, first field first.

    No two items may be equal in every field: then one sort of the fields packed into a
    uint64 gives them back (fast); if they do not fit in 64 bits, a lexsort does.
    """
    if sum(bits for _, bits in fields) <= 64:
        key = np.zeros(len(fields[0][0]), dtype=np.uint64)
        for values, bits in fields:
            key = key << np.uint64(bits) | values.astype(np.uint64)
        key.sort()
        out, shift = [], 0
        for _, bits in reversed(fields):
            out.append(((key >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int64))
            shift += bits
        return out[::-1]
    order = np.lexsort([values for values, _ in reversed(fields)])
    return [values[order].astype(np.int64) for values, _ in fields]


def _first_of_each(groups: np.ndarray, keep: int) -> np.ndarray:
    """Mask of the first `keep` items of each run of equal values in sorted `groups`."""
    if not len(groups):
        return np.zeros(0, dtype=bool)
    heads = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    sizes = np.diff(np.append(heads, len(groups)))
    return np.arange(len(groups)) - np.repeat(heads, sizes) < keep


def _bits(largest: int) -> int:
    return max(1, int(largest).bit_length())


def _expand(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges (start, length): the index of the range each item comes from, and the item's position."""
    owner = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    return owner, np.arange(len(owner)) - first[owner] + starts[owner]


def text_rows(index: TermIndex) -> np.ndarray:
    """The tokens that compare texts: two characters or more, not a filter, ASCII digits or a stop word."""
    ids = index.ids
    short = ids < np.uint64(LONG)
    mask = np.uint64((1 << CODE_BITS) - 1)
    chars = [(ids >> np.uint64(CODE_BITS * k)) & mask for k in (2, 1, 0)]
    digits = np.ones(len(ids), dtype=bool)
    for char in chars:
        digits &= (char == 0) | ((char >= ord("0")) & (char <= ord("9")))
    stop = np.isin(ids, np.array([token_id(w) for w in STOP_WORDS], dtype=np.uint64))
    keep = short & (chars[1] != 0) & ~digits & ~stop
    for row in np.flatnonzero(~short).tolist():
        name = index.names[int(ids[row])]
        keep[row] = not name.startswith(FILTER_PREFIX) and not (name.isascii() and name.isdigit()) and name not in STOP_WORDS
    return np.flatnonzero(keep)


def related_by_entry(site: Site, limit: int, index: TermIndex | None = None) -> dict[str, list[Related]]:
    """URL → up to `limit` related entries, best first (ties: newer, then URL).

    `index`: the site's term index (doc ids oldest first, see search.doc_entries); made here if not given.
    """
    entries, n = site.entries, len(site.entries)  # newest first: entry k is doc n - 1 - k
    result: dict[str, list[Related]] = {e.url: [] for e in entries}
    for doc, other, s, t, g in zip(*(a.tolist() for a in _related(site, limit, index)), strict=True):
        result[entries[n - 1 - doc].url].append(Related(entries[n - 1 - other], s / 1e6, t / 1e6, g / 1e6))
    return result


def _related(site: Site, limit: int, index: TermIndex | None) -> tuple[np.ndarray, ...]:
    """(doc, related doc, score, text score, tag score), scores in millionths: by doc, best first."""
    entries = site.entries
    n = len(entries)
    if n < 2:
        return tuple(np.zeros(0, np.int64) for _ in range(5))
    index = index if index is not None else site_index(site)
    vectors = _vectors(index, n)
    tags = _tag_sets(entries)
    c_doc, c_other = _candidate_pairs(n, vectors, _term_postings(vectors, n, len(index.ids)), tags)
    # exact scores of the candidates
    text = _cosines(n, *vectors, c_doc, c_other)
    tag = _tag_cosines(n, tags.doc, tags.tag, tags.idf2, tags.norm, c_doc, c_other)
    score = TEXT_WEIGHT * text + TAG_WEIGHT * tag
    good = score >= MIN_SCORE
    c_doc, c_other = c_doc[good], c_other[good]
    score_units, text_units, tag_units = (np.rint(x[good] * 1e6).astype(np.int64) for x in (score, text, tag))
    order = np.lexsort((n - 1 - c_other, -score_units, c_doc))  # by entry, best first, then newer
    order = order[_first_of_each(c_doc[order], limit)]
    return c_doc[order], c_other[order], score_units[order], text_units[order], tag_units[order]


class TermPostings(NamedTuple):
    """Each term's entries where it weighs most (ties: newer), at most POSTINGS: so a common term
    costs no more than a rare one when looking for candidates."""

    rows: np.ndarray  # the token rows that have postings, ascending
    start: np.ndarray  # per row: where its postings start in `doc` and `weight`
    length: np.ndarray
    doc: np.ndarray
    weight: np.ndarray


def _term_postings(vectors: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, tokens: int) -> TermPostings:
    v_doc, v_row, v_weight = vectors
    weights, weight_rank = np.unique(v_weight, return_inverse=True)
    p_row, p_rank, p_newer = _sorted((v_row, _bits(tokens)), (len(weights) - 1 - weight_rank, _bits(len(weights))),
                                     (n - 1 - v_doc, _bits(n)))
    top = _first_of_each(p_row, POSTINGS)
    p_row, p_doc, p_weight = p_row[top], n - 1 - p_newer[top], weights[len(weights) - 1 - p_rank[top]]
    p_rows, p_start = np.unique(p_row, return_index=True)
    return TermPostings(p_rows, p_start, np.diff(np.append(p_start, len(p_row))), p_doc, p_weight)


class TagSets(NamedTuple):
    """The entries' tags as IDF-weighted sets, and each tag's newest entries (at most POSTINGS)."""

    doc: np.ndarray  # (doc, tag) pairs, by doc, then tag (so, slug)
    tag: np.ndarray
    idf2: np.ndarray  # per tag: its IDF, squared
    norm: np.ndarray  # per doc: the norm of its set
    newest_doc: np.ndarray  # per tag, its newest entries
    start: np.ndarray  # per tag: where its entries start in `newest_doc`
    length: np.ndarray


def _tag_sets(entries: tuple[Entry, ...]) -> TagSets:
    n = len(entries)
    slugs = sorted({t.slug for e in entries for t in e.tags})
    tag_number = {slug: k for k, slug in enumerate(slugs)}
    pairs = sorted((n - 1 - k, tag_number[t.slug]) for k, e in enumerate(entries) for t in e.tags)
    t_doc = np.array([d for d, _ in pairs], dtype=np.int64)
    t_tag = np.array([t for _, t in pairs], dtype=np.int64)
    if len(t_doc):
        unique = np.concatenate([[True], (t_doc[1:] != t_doc[:-1]) | (t_tag[1:] != t_tag[:-1])])
        t_doc, t_tag = t_doc[unique], t_tag[unique]
    tag_idf2 = (np.log((1 + n) / (1 + np.bincount(t_tag, minlength=len(slugs)))) + 1) ** 2
    tag_norm = np.sqrt(np.bincount(t_doc, weights=tag_idf2[t_tag], minlength=n))
    b_tag, b_newer = _sorted((t_tag, _bits(len(slugs))), (n - 1 - t_doc, _bits(n)))
    newest = _first_of_each(b_tag, POSTINGS)
    b_tag, b_doc = b_tag[newest], n - 1 - b_newer[newest]
    return TagSets(t_doc, t_tag, tag_idf2, tag_norm, b_doc, np.searchsorted(b_tag, np.arange(len(slugs))),
                   np.bincount(b_tag, minlength=len(slugs)))


def _candidate_pairs(n: int, vectors: tuple[np.ndarray, np.ndarray, np.ndarray], postings: TermPostings,
                     tags: TagSets) -> tuple[np.ndarray, np.ndarray]:
    """(doc, other) of each doc's CANDIDATES best partial scores, from its query terms and its tags.

    Partial scores are summed as integers (in any order), a block of docs at a time (each doc's
    candidates depend on its own contributions only), so that the temporaries stay small: all at
    once, they were the build's peak of memory.
    """
    v_doc, v_row, v_weight = vectors
    query = _first_of_each(v_doc, QUERY_TERMS)
    q_doc, q_weight = v_doc[query], v_weight[query]
    where = np.searchsorted(postings.rows, v_row[query])
    q_start, q_len = postings.start[where], postings.length[where]
    t_doc, t_tag = tags.doc, tags.tag
    boost = TAG_WEIGHT * tags.idf2[t_tag] / np.where(tags.norm > 0, tags.norm, 1.0)[t_doc]
    t_start, t_len = tags.start[t_tag], tags.length[t_tag]
    per_doc = np.bincount(q_doc, weights=q_len, minlength=n) + np.bincount(t_doc, weights=t_len, minlength=n)
    found = []
    for first, end in _chunks(per_doc.astype(np.int64), 1 << 19):
        qa, qb = np.searchsorted(q_doc, [first, end]).tolist()
        ta, tb = np.searchsorted(t_doc, [first, end]).tolist()
        pair, partial = _partial_scores(n, (q_doc[qa:qb], q_weight[qa:qb], q_start[qa:qb], q_len[qa:qb], postings.doc,
                                            postings.weight),
                                        (t_doc[ta:tb], boost[ta:tb], t_start[ta:tb], t_len[ta:tb], tags.newest_doc,
                                         np.ones(len(tags.newest_doc))))
        found.append(_candidates(n, pair, partial))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([c for c, _ in found]), np.concatenate([o for _, o in found])


def _candidates(n: int, pair: np.ndarray, partial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(doc, other) of each doc's CANDIDATES best partial scores (ties: newer), by doc; not itself."""
    doc_bits = _bits(n)
    pair, partial = pair[pair % (n + 1) != 0], partial[pair % (n + 1) != 0]  # not itself (doc * n + doc)
    top_partial = int(partial.max(initial=0))
    partial_bits = _bits(top_partial)
    if 2 * doc_bits + partial_bits <= 64:
        key = (pair // n).astype(np.uint64) << np.uint64(partial_bits + doc_bits)
        key |= (top_partial - partial).astype(np.uint64) << np.uint64(doc_bits)
        key |= (n - 1 - pair % n).astype(np.uint64)
        del pair, partial
        best = _first_per_doc(key, n, partial_bits + doc_bits, CANDIDATES)
        return ((best >> np.uint64(partial_bits + doc_bits)).astype(np.int64),
                n - 1 - (best & np.uint64((1 << doc_bits) - 1)).astype(np.int64))
    c_doc, _, c_newer = _sorted((pair // n, doc_bits), (top_partial - partial, partial_bits), (n - 1 - pair % n, doc_bits))
    best = _first_of_each(c_doc, CANDIDATES)
    return c_doc[best], n - 1 - c_newer[best]


def _vectors(index: TermIndex, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each doc's strongest VECTOR_TERMS text tokens by TF-IDF, normalised: (doc, token row, weight),
    by doc, then weight (largest first), then row.

    The hot part (millions of postings): one uint64 key per posting, doc | weight rank | row,
    made with few passes and sorted once; a weight depends only on (df, tf bucket, title).
    """
    rows = text_rows(index)
    counts = index.counts()
    idf_of_df = np.log((1 + n) / (1 + np.arange(n + 1))) + 1
    values, rank_of = np.unique((TF_WEIGHTS[None, :] * idf_of_df[:, None]).ravel(), return_inverse=True)
    largest_first = (len(values) - 1 - rank_of).reshape(n + 1, 16)
    doc_bits, rank_bits, row_bits = _bits(n), _bits(len(values)), _bits(len(index.ids))
    if doc_bits + rank_bits + row_bits > 64:
        owner, at = _expand(index.starts[rows], counts[rows])
        doc, rank, row = _sorted(((index.postings[at] >> 4).astype(np.int64), doc_bits),
                                 (largest_first[counts[rows[owner]], index.postings[at] & 15], rank_bits),
                                 (rows[owner], row_bits))
    else:
        low = (largest_first[counts[rows]].astype(np.uint64) << np.uint64(row_bits) | rows[:, None].astype(np.uint64)).ravel()
        eligible = np.zeros(len(index.ids), dtype=bool)
        eligible[rows] = True
        key = np.empty(int(counts[rows].sum()), dtype=np.uint64)
        done = 0
        for first, end in _chunks(counts[rows]):  # bounded temporaries
            span = slice(rows[first], rows[end - 1] + 1)
            postings = index.postings[index.starts[span.start]:index.starts[span.stop]][np.repeat(eligible[span], counts[span])]
            part = key[done:done + len(postings)]
            part[:] = low[np.repeat(np.arange(16 * first, 16 * end, 16), counts[rows[first:end]]) + (postings & 15)]
            part |= (postings >> np.uint32(4)).astype(np.uint64) << np.uint64(rank_bits + row_bits)
            done += len(postings)
        del low
        key = _first_per_doc(key, n, rank_bits + row_bits, VECTOR_TERMS)
        doc = (key >> np.uint64(rank_bits + row_bits)).astype(np.int64)
        rank = ((key >> np.uint64(row_bits)) & np.uint64((1 << rank_bits) - 1)).astype(np.int64)
        row = (key & np.uint64((1 << row_bits) - 1)).astype(np.int64)
    kept = _first_of_each(doc, VECTOR_TERMS)
    doc, row, weight = doc[kept], row[kept], values[len(values) - 1 - rank[kept]]
    norms = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=n))
    return doc, row, weight / np.where(norms > 0, norms, 1.0)[doc]


def _starts_of_runs(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts."""
    starts = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _first_per_doc(key: np.ndarray, n: int, shift: int, keep: int) -> np.ndarray:
    """The `keep` smallest keys of each doc (key >> shift), ascending; sorts `key` in place."""
    key.sort()
    firsts = np.searchsorted(key, np.arange(n + 1, dtype=np.uint64) << np.uint64(shift))
    _, at = _expand(firsts[:-1], np.minimum(np.diff(firsts), keep))
    return key[at]


def _chunks(sizes: np.ndarray, most: int = 1 << 20) -> list[tuple[int, int]]:
    """Ranges [first, end) of items whose sizes add up to about `most`."""
    cuts = np.searchsorted(np.cumsum(sizes), np.arange(most, int(sizes.sum()), most), side="right")
    edges = sorted({0, len(sizes), *cuts.tolist()})
    return list(zip(edges[:-1], edges[1:], strict=True))


def _partial_scores(n: int, *sources: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (doc * n + other, ascending) and their summed integer scores, from sources
    (doc, weight, start, length, others, other weights): each doc meets the others in its range.

    Millions of contributions: each is packed as pair << bits | part into one uint64, sorted, summed.
    """
    part_bits = _bits(SCALE * 8)  # a part is at most TAG_WEIGHT * idf (< 8) * SCALE
    if 2 * _bits(n) + part_bits > 64:  # half a million entries or more: no packing
        part_bits = 0
    total = sum(int(source[3].sum()) for source in sources)
    key = np.empty(total, dtype=np.uint64)
    parts = np.empty(total if not part_bits else 0, dtype=np.uint64)
    done = 0
    for doc, weight, start, length, others, other_weight in sources:
        for first, end in _chunks(length):  # bounded temporaries
            doc_, weight_, start_, length_ = doc[first:end], weight[first:end], start[first:end], length[first:end]
            size = int(length_.sum())
            at = np.repeat(start_ - (np.cumsum(length_) - length_), length_) + np.arange(size)
            chunk = key[done:done + size]
            chunk[:] = np.repeat(doc_.astype(np.uint64) * np.uint64(n) << np.uint64(part_bits), length_)
            chunk += others.astype(np.uint64)[at] << np.uint64(part_bits)
            part = np.rint(np.repeat(weight_ * SCALE, length_) * other_weight[at]).astype(np.uint64)
            if part_bits:
                chunk += part
            else:
                parts[done:done + size] = part
            done += size
    if part_bits:
        key.sort()
        part = (key & np.uint64((1 << part_bits) - 1)).astype(np.int64)
        key >>= np.uint64(part_bits)
    else:
        order = np.argsort(key, kind="stable")
        key, part = key[order], parts[order].astype(np.int64)
    pair = key
    heads = np.flatnonzero(_starts_of_runs(pair))
    return pair[heads].astype(np.int64), np.add.reduceat(part, heads) if len(heads) else part


def _tag_cosines(n: int, t_doc: np.ndarray, t_tag: np.ndarray, tag_idf2: np.ndarray, tag_norm: np.ndarray,
                 docs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Cosine of the IDF-weighted tag sets of each pair (docs[k], others[k])."""
    if not len(t_doc) or not len(docs):
        return np.zeros(len(docs))
    tag_count = len(tag_idf2)
    held = t_doc * tag_count + t_tag  # ascending
    slot = np.arange(len(t_doc)) - np.searchsorted(t_doc, t_doc)
    padded = np.full((n, int(slot.max()) + 1), -1, dtype=np.int64)
    padded[t_doc, slot] = t_tag
    mine = padded[docs]
    wanted = others[:, None] * tag_count + mine
    found = (mine >= 0) & (held[np.minimum(np.searchsorted(held, wanted), len(held) - 1)] == wanted)
    shared = np.where(found, tag_idf2[np.maximum(mine, 0)], 0.0).sum(axis=1)
    denominator = tag_norm[docs] * tag_norm[others]
    return np.where(denominator > 0, shared / np.where(denominator > 0, denominator, 1.0), 0.0)


def _cosines(n: int, v_doc: np.ndarray, v_row: np.ndarray, v_weight: np.ndarray,
             docs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Dot products of the (normalised, sparse) vectors of each pair (docs[k], others[k]); `docs` ascending.

    A block of docs at a time is spread into a dense matrix (columns: the terms any vector
    holds), and each pair reads its other's terms from its doc's row.
    """
    columns, column = np.unique(v_row, return_inverse=True)
    width = len(columns) + 1  # the last column stays 0: where shorter vectors are padded
    slot = np.arange(len(v_doc)) - np.searchsorted(v_doc, v_doc)
    padded_column = np.full((n, VECTOR_TERMS), width - 1, dtype=np.int32)
    padded_weight = np.zeros((n, VECTOR_TERMS))
    padded_column[v_doc, slot] = column
    padded_weight[v_doc, slot] = v_weight
    block = min(n, max(16, (1 << 17) // width))  # 1 MB of float64 (if 16 docs fit): random reads stay in cache
    dense = np.zeros(block * width)
    out = np.zeros(len(docs))
    bounds = np.searchsorted(docs, np.arange(0, n + block, block))
    for first, start, end in zip(range(0, n + block, block), bounds[:-1].tolist(), bounds[1:].tolist(), strict=False):
        members = np.arange(first, min(n, first + block))
        spots = ((members - first) * width).astype(np.int32)[:, None] + padded_column[members]
        dense[spots] = padded_weight[members]
        reads = ((docs[start:end] - first) * width).astype(np.int32)[:, None] + padded_column[others[start:end]]
        out[start:end] = np.einsum("ij,ij->i", dense[reads], padded_weight[others[start:end]])
        dense[spots] = 0.0
    return out


def site_index(site: Site) -> TermIndex:
    """The term index of a site, made from nothing (the build patches the last one instead)."""
    tokenizer = Tokenizer(load_folding())
    entries = list(reversed(site.entries))
    return fresh_index([str(k) for k in range(len(entries))], lambda docs: [
        tokenizer.entry_terms(entries[d].title, entries[d].text, filter_tokens(entries[d].section, [t.slug for t in entries[d].tags]))
        for d in docs])


def related_entries(site: Site, limit: int, index: TermIndex | None = None) -> dict[str, list[Entry]]:
    """URL → related entries, for the entry pages."""
    entries, n = site.entries, len(site.entries)
    result: dict[str, list[Entry]] = {e.url: [] for e in entries}
    docs, others, *_ = _related(site, limit, index)
    for doc, other in zip(docs.tolist(), others.tolist(), strict=True):
        result[entries[n - 1 - doc].url].append(entries[n - 1 - other])
    return result
