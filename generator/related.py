"""Site → related entries for every entry: shared tags plus text similarity that reads Chinese.

Text is TF-IDF over CJK character bigrams and Latin words (Chinese has no
spaces, and bigrams catch most words without a dictionary), compared by
cosine. To stay well under quadratic on big sites, each entry keeps only its
strongest terms, candidates come from an inverted index of the rarer terms and
tags (each capped to its strongest entries), and only the best candidates
get an exact score.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from .model import Entry, Site

CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[a-z][a-z0-9]+|[0-9]+[a-z][a-z0-9]*")
STOP_WORDS = frozenset("the and for with that this are was you your from have has not but can will its into".split())
VECTOR_TERMS = 64  # strongest terms kept per entry
QUERY_TERMS = 10  # of those, how many look for candidates
CANDIDATES = 24  # candidates scored exactly per entry
POSTINGS = 30  # entries listed per term or tag in the candidate index
TEXT_WEIGHT, TAG_WEIGHT = 0.6, 0.4
MIN_SCORE = 0.04


def terms(text: str) -> list[str]:
    """CJK bigrams (a lone character stays a unigram) and Latin words, lower-cased."""
    text = text.casefold()
    out: list[str] = []
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    out.extend(w for w in LATIN_WORD.findall(text) if w not in STOP_WORDS)
    return out


def entry_terms(entry: Entry) -> Counter:
    counts = Counter(terms(entry.text))
    for term in terms(entry.title):  # a title says more about what an entry is about
        counts[term] += 3
    return counts


@dataclass(frozen=True)
class Related:
    entry: Entry
    score: float
    text: float  # cosine of the TF-IDF vectors
    tags: float  # cosine of the IDF-weighted tag sets


def _weighted(counts: Counter, idf: dict[str, float], keep: int) -> dict[str, float]:
    weights = {t: (1 + math.log(n)) * idf[t] for t, n in counts.items()}
    top = heapq.nlargest(keep, weights.items(), key=lambda kv: (kv[1], kv[0]))
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / norm for t, w in top}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(a[t] * b[t] for t in a.keys() & b.keys())


def related_by_entry(site: Site, limit: int) -> dict[str, list[Related]]:
    """URL → up to `limit` related entries, best first (ties: newer, then URL)."""
    entries = list(site.entries)
    n = len(entries)
    if n < 2:
        return {e.url: [] for e in entries}
    counts = [entry_terms(e) for e in entries]
    df = Counter(t for c in counts for t in c)
    idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
    vectors = [_weighted(c, idf, VECTOR_TERMS) for c in counts]
    # Impact-ordered postings: each term lists only the entries where it weighs most, so a
    # common term costs no more than a rare one when looking for candidates.
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, vector in enumerate(vectors):
        for term, weight in vector.items():
            postings[term].append((i, weight))
    for term, items in postings.items():
        if len(items) > POSTINGS:
            postings[term] = heapq.nlargest(POSTINGS, items, key=lambda iw: (iw[1], -iw[0]))

    tag_df = Counter(t.slug for e in entries for t in e.tags)
    tag_idf = {slug: math.log((1 + n) / (1 + d)) + 1 for slug, d in tag_df.items()}
    tag_sets = [{t.slug for t in e.tags} for e in entries]
    tag_norm = [math.sqrt(sum(tag_idf[s] ** 2 for s in tags)) for tags in tag_sets]
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i, tags in enumerate(tag_sets):
        for slug in tags:
            if len(by_tag[slug]) < POSTINGS:  # the newest entries with the tag
                by_tag[slug].append(i)

    result: dict[str, list[Related]] = {}
    for i, entry in enumerate(entries):
        partial: dict[int, float] = {}
        query = heapq.nlargest(QUERY_TERMS, ((w, t) for t, w in vectors[i].items()))
        for weight, term in query:
            for j, other_weight in postings[term]:
                partial[j] = partial.get(j, 0.0) + weight * other_weight
        for slug in tag_sets[i]:
            boost = TAG_WEIGHT * tag_idf[slug] ** 2 / (tag_norm[i] or 1)
            for j in by_tag[slug]:
                partial[j] = partial.get(j, 0.0) + boost
        partial.pop(i, None)
        scored = []
        for j in heapq.nlargest(CANDIDATES, partial, key=partial.__getitem__):
            text = _cosine(vectors[i], vectors[j])
            shared = tag_sets[i] & tag_sets[j]
            tags = sum(tag_idf[s] ** 2 for s in shared) / (tag_norm[i] * tag_norm[j]) if shared else 0.0
            score = TEXT_WEIGHT * text + TAG_WEIGHT * tags
            if score >= MIN_SCORE:
                scored.append(Related(entries[j], round(score, 6), round(text, 6), round(tags, 6)))
        scored.sort(key=lambda r: (-r.score, -r.entry.date.timestamp(), r.entry.url))
        result[entry.url] = scored[:limit]
    return result


def related_entries(site: Site, limit: int) -> dict[str, list[Entry]]:
    """URL → related entries, for the entry pages."""
    return {url: [r.entry for r in items] for url, items in related_by_entry(site, limit).items()}
