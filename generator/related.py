"""Site → related entries for every entry: shared tags plus text similarity that reads Chinese.

Text is TF-IDF over the search index's own tokens (CJK bigrams and words, folded alike; see
terms.py), compared by cosine. To stay well under quadratic on big sites, each entry keeps only
its strongest terms, candidates come from an inverted index of its strongest terms and its tags
(each capped to its strongest entries), and only the best candidates get an exact score.

Everything runs on NumPy arrays, with ties broken by content (token numbers, entry order) and
candidate scores summed as integers, so that the result is the same in every run, whatever
the order of the work: a pure function of the site.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import Entry, Site
from .terms import (
    CODE_BITS,
    FILTER_PREFIX,
    LONG,
    TermIndex,
    Tokenizer,
    filter_tokens,
    fresh_index,
    load_folding,
    token_id,
)

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
_TF_WEIGHTS = np.array([1 + math.log(_TYPICAL[w >> 1] + TITLE_COUNT * (w & 1)) if w > 1 or w & 1 else 0.0
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
    entries = site.entries  # newest first: entry k is doc n - 1 - k
    n = len(entries)
    if n < 2:
        return {e.url: [] for e in entries}
    index = index if index is not None else site_index(site)
    doc_bits = _bits(n)

    # TF-IDF weights of every (entry, text token); each entry keeps its strongest VECTOR_TERMS
    rows = text_rows(index)
    counts = index.counts()
    owner, at = _expand(index.starts[rows], counts[rows])
    idf_of_df = np.log((1 + n) / (1 + np.arange(n + 1))) + 1
    values, rank_of = np.unique((_TF_WEIGHTS[None, :] * idf_of_df[:, None]).ravel(), return_inverse=True)
    largest_first = len(values) - 1 - rank_of  # by df * 16 + weight flags
    v_doc, v_rank, v_row = _sorted(
        ((index.postings[at] >> 4).astype(np.int64), doc_bits),
        (largest_first[counts[rows[owner]] * 16 + (index.postings[at] & 15)], _bits(len(values))),
        (rows[owner], _bits(len(index.ids))))
    del owner, at
    kept = _first_of_each(v_doc, VECTOR_TERMS)
    v_doc, v_row, v_weight = v_doc[kept], v_row[kept], values[len(values) - 1 - v_rank[kept]]
    norms = np.sqrt(np.bincount(v_doc, weights=v_weight * v_weight, minlength=n))
    v_weight = v_weight / np.where(norms > 0, norms, 1.0)[v_doc]

    # each term lists the entries where it weighs most (ties: newer), so a common term costs no
    # more than a rare one when looking for candidates
    weights, weight_rank = np.unique(v_weight, return_inverse=True)
    p_row, p_rank, p_newer = _sorted((v_row, _bits(len(index.ids))), (len(weights) - 1 - weight_rank, _bits(len(weights))),
                                     (n - 1 - v_doc, doc_bits))
    top = _first_of_each(p_row, POSTINGS)
    p_row, p_doc, p_weight = p_row[top], n - 1 - p_newer[top], weights[len(weights) - 1 - p_rank[top]]
    p_rows, p_start = np.unique(p_row, return_index=True)
    p_len = np.diff(np.append(p_start, len(p_row)))

    # tags: IDF-weighted sets; each tag lists its newest entries
    slugs = sorted({t.slug for e in entries for t in e.tags})
    tag_number = {slug: k for k, slug in enumerate(slugs)}
    pairs = sorted((n - 1 - k, tag_number[t.slug]) for k, e in enumerate(entries) for t in e.tags)
    t_doc = np.array([d for d, _ in pairs], dtype=np.int64)  # by doc, then tag (so, slug)
    t_tag = np.array([t for _, t in pairs], dtype=np.int64)
    if len(t_doc):
        unique = np.concatenate([[True], (t_doc[1:] != t_doc[:-1]) | (t_tag[1:] != t_tag[:-1])])
        t_doc, t_tag = t_doc[unique], t_tag[unique]
    tag_idf2 = (np.log((1 + n) / (1 + np.bincount(t_tag, minlength=len(slugs)))) + 1) ** 2
    tag_norm = np.sqrt(np.bincount(t_doc, weights=tag_idf2[t_tag], minlength=n))
    b_tag, b_newer = _sorted((t_tag, _bits(len(slugs))), (n - 1 - t_doc, doc_bits))
    newest = _first_of_each(b_tag, POSTINGS)
    b_tag, b_doc = b_tag[newest], n - 1 - b_newer[newest]
    b_start = np.searchsorted(b_tag, np.arange(len(slugs)))
    b_len = np.bincount(b_tag, minlength=len(slugs))

    # candidates: partial scores from the query terms and the tags, summed as integers (in any order)
    query = _first_of_each(v_doc, QUERY_TERMS)
    q_doc, q_row, q_weight = v_doc[query], v_row[query], v_weight[query]
    where = np.searchsorted(p_rows, q_row)
    source, at = _expand(p_start[where], p_len[where])
    c_doc, c_other = q_doc[source], p_doc[at]
    c_part = np.rint(q_weight[source] * p_weight[at] * SCALE).astype(np.int64)
    source, at = _expand(b_start[t_tag], b_len[t_tag])
    boost = TAG_WEIGHT * tag_idf2[t_tag] / np.where(tag_norm > 0, tag_norm, 1.0)[t_doc]
    c_doc = np.concatenate([c_doc, t_doc[source]])
    c_other = np.concatenate([c_other, b_doc[at]])
    c_part = np.concatenate([c_part, np.rint(boost[source] * SCALE).astype(np.int64)])
    other = c_doc != c_other
    pair, partial = _sums(c_doc[other] * n + c_other[other], c_part[other], _bits(n * n))
    c_doc, c_other = pair // n, pair % n
    top_partial = int(partial.max(initial=0))
    c_doc, _, c_newer = _sorted((c_doc, doc_bits), (top_partial - partial, _bits(top_partial)), (n - 1 - c_other, doc_bits))
    best = _first_of_each(c_doc, CANDIDATES)
    c_doc, c_other = c_doc[best], n - 1 - c_newer[best]

    # exact scores of the candidates
    text = _cosines(n, v_doc, v_row, v_weight, c_doc, c_other)
    tags = _tag_cosines(n, t_doc, t_tag, tag_idf2, tag_norm, c_doc, c_other)
    score = TEXT_WEIGHT * text + TAG_WEIGHT * tags
    good = score >= MIN_SCORE
    c_doc, c_other = c_doc[good], c_other[good]
    units = {k: np.rint(x[good] * 1e6).astype(np.int64) for k, x in (("score", score), ("text", text), ("tags", tags))}
    pair_units = {int(k): (s, t, g) for k, s, t, g in zip((c_doc * n + c_other).tolist(), units["score"].tolist(),
                                                          units["text"].tolist(), units["tags"].tolist(), strict=True)}
    top_score = int(units["score"].max(initial=0))
    c_doc, _, c_newer = _sorted((c_doc, doc_bits), (top_score - units["score"], _bits(top_score)), (n - 1 - c_other, doc_bits))
    shown = _first_of_each(c_doc, limit)
    result: dict[str, list[Related]] = {e.url: [] for e in entries}
    for doc, newer in zip(c_doc[shown].tolist(), c_newer[shown].tolist(), strict=True):
        s, t, g = pair_units[doc * n + n - 1 - newer]
        result[entries[n - 1 - doc].url].append(Related(entries[newer], s / 1e6, t / 1e6, g / 1e6))
    return result


def _sums(keys: np.ndarray, parts: np.ndarray, key_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and the sum of the parts of each (non-negative ints)."""
    part_bits = _bits(int(parts.max(initial=0)))
    if key_bits + part_bits <= 64:
        packed = np.sort(keys.astype(np.uint64) << np.uint64(part_bits) | parts.astype(np.uint64))
        keys, parts = (packed >> np.uint64(part_bits)).astype(np.int64), (packed & np.uint64((1 << part_bits) - 1)).astype(np.int64)
    else:
        order = np.argsort(keys, kind="stable")
        keys, parts = keys[order], parts[order]
    if not len(keys):
        return keys, parts
    heads = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[heads], np.add.reduceat(parts, heads)


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
    """Dot products of the (normalised, sparse) vectors of each pair (docs[k], others[k]).

    A block of docs at a time is spread into a dense matrix (columns: the terms any vector
    holds), and each pair reads its other's terms from its row.
    """
    columns, column = np.unique(v_row, return_inverse=True)
    width = len(columns) + 1  # the last column stays 0: where shorter vectors are padded
    slot = np.arange(len(v_doc)) - np.searchsorted(v_doc, v_doc)
    padded_column = np.full((n, VECTOR_TERMS), width - 1, dtype=np.int64)
    padded_weight = np.zeros((n, VECTOR_TERMS))
    padded_column[v_doc, slot] = column
    padded_weight[v_doc, slot] = v_weight
    block = max(1, min(n, (1 << 22) // width))  # 32 MB of float64 at most
    dense = np.zeros((block, width))
    out = np.zeros(len(docs))
    order = np.argsort(docs, kind="stable")
    bounds = np.searchsorted(docs[order], np.arange(0, n + block, block))
    for k in range(len(bounds) - 1):
        first = k * block
        members = np.arange(first, min(n, first + block))
        dense[members[:, None] - first, padded_column[members]] = padded_weight[members]
        pairs = order[bounds[k]:bounds[k + 1]]
        rows = docs[pairs] - first
        out[pairs] = (dense[rows[:, None], padded_column[others[pairs]]] * padded_weight[others[pairs]]).sum(axis=1)
        dense[members[:, None] - first, padded_column[members]] = 0.0
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
    return {url: [r.entry for r in items] for url, items in related_by_entry(site, limit, index).items()}


def related_urls(site: Site, limit: int, index: TermIndex | None = None) -> dict[str, Sequence[str]]:
    """URL → related URLs: what the build cache keeps."""
    return {url: [r.entry.url for r in items] for url, items in related_by_entry(site, limit, index).items()}
