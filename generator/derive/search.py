"""Site → a static search index that works for Chinese, and the `/search/` page.

Chinese has no spaces between words, so CJK text is indexed as overlapping character
bigrams (plus single characters) and Latin text as words: any substring of two or more
characters is found by construction. The browser (`theme/static/search.js`) ANDs the
terms, checks longer runs and quoted phrases in the stored text, ranks and highlights.
Tokens are sharded by a hash so that one query downloads a few small files; index and
query are folded alike (NFKC, lower case, traditional → simplified, see `data/t2s.json`).

Files, under `/search/` (all gzip, read by search.js; see docs/search-design.md):
    meta.bin        JSON: format, shard count, build id, sections, tags, folding pairs
    s/<n>.bin       a shard: for each token, its posting list (binary, below)
    d/<n>.bin       JSON list of entries n*4 … n*4+3: title, URL, section, date, tags, text

Doc ids count entries oldest first (a new entry adds one); the tokens come from core/tokens.py,
inverted by core/term_index.py, which the build keeps between builds, so that only changed
shards are made again.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import operator
import os
import re
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from ..config import SECTION_IDS
from ..core.i18n import format_date
from ..core.term_index import TermIndex, fresh_index
from ..core.tokens import (
    CJK_CLASS,
    CODE_BITS,
    FILTER_PREFIX,
    LONG,
    PREFIX_KEY,
    WORDS,
    Folding,
    Tokenizer,
    filter_tokens,
    is_cjk,
    load_folding,
    shard_of,
)
from ..model import urls
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Entry, Site

FORMAT = 1
_SPACE = re.compile(r"\s+")
SHARD_TARGET = 16_000  # postings per shard: about 12 KB compressed
MAX_WORKERS = 4
BUNDLE = 4  # entries per stored-text file: compresses far better than one, costs little more
MAX_SHARDS = 4096
MAX_TOKENS = 6  # per term checked in the stored text (search.js: the same)
ENCODE_BATCH = 1 << 21  # postings encoded at once: bounds the memory of the arrays doing it


# --- Binary encoding -------------------------------------------------------------------------


def varints(values: Sequence[int]) -> bytes:
    """LEB128 unsigned varints; a list of small numbers (the common case) costs one C call."""
    if not values:
        return b""
    if max(values) < 128:
        return bytes(values)  # a list or a bytearray: one byte each
    out = bytearray()
    for value in values:
        while value >= 128:
            out.append((value & 127) | 128)
            value >>= 7
        out.append(value)
    return bytes(out)


def read_varints(data: bytes, offset: int, count: int) -> tuple[list[int], int]:
    values = []
    for _ in range(count):
        value = shift = 0
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 127) << shift
            shift += 7
            if byte < 128:
                break
        values.append(value)
    return values, offset


def encode_shard(postings: Iterable[tuple[str, array]]) -> bytes:
    """For each token (sorted): varint UTF-8 length, the UTF-8, varint n, one byte k, then the n
    differences between successive postings (doc id << 4 | tf_bucket << 1 | in title; the first
    from 0) as k byte planes, low byte first. Planes keep the encoding in C and compress well."""
    out = bytearray()
    for token, values in sorted(postings, key=operator.itemgetter(0)):
        name = token.encode("utf-8")
        gaps = array("I", map(operator.sub, values, chain((0,), values)))  # > 0: doc ids ascend
        if sys.byteorder == "big":
            gaps.byteswap()
        width = (max(gaps).bit_length() + 7) // 8 or 1
        raw = gaps.tobytes()
        out += varints([len(name)]) + name + varints([len(values)]) + bytes((width,))
        for plane in range(width):
            out += raw[plane::4]
    return bytes(out)


def decode_shard(data: bytes) -> dict[str, list[tuple[int, int, bool]]]:
    """token → [(doc id, tf bucket, in title)]: the reader search.js implements, in Python."""
    out: dict[str, list[tuple[int, int, bool]]] = {}
    offset = 0
    while offset < len(data):
        (length,), offset = read_varints(data, offset, 1)
        token = data[offset:offset + length].decode("utf-8")
        offset += length
        (count,), offset = read_varints(data, offset, 1)
        width = data[offset]
        offset += 1
        gaps = [0] * count
        for plane in range(width):
            for i, byte in enumerate(data[offset:offset + count]):
                gaps[i] |= byte << (8 * plane)
            offset += count
        value, postings = 0, []
        for gap in gaps:
            value += gap
            postings.append((value >> 4, (value & 15) >> 1, bool(value & 1)))
        out[token] = postings
    return out


def compress(data: bytes) -> bytes:
    """gzip without a timestamp, so the same index gives the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def compressed_key(body_digest: bytes) -> str:
    """What a file that `compress` made is a function of: its body, and zlib (its version's deflate)."""
    return hashlib.sha256(zlib.ZLIB_RUNTIME_VERSION.encode() + b"\0" + body_digest).hexdigest()


# --- The index ---------------------------------------------------------------------------


def shard_count(postings: int) -> int:
    """About SHARD_TARGET postings a shard, rounded up to a step of 12–25 % (4…7 × 2^k, below 8 any
    count): a few more entries rarely change the count, which moves nearly every token elsewhere."""
    wanted = max(1, math.ceil(postings / SHARD_TARGET))
    step = 1 << max(0, wanted.bit_length() - 3)
    return min(MAX_SHARDS, -(-wanted // step) * step)


def encode_rows(index: TermIndex, groups: Sequence[np.ndarray]) -> list[bytes]:
    """`encode_shard` of each group of token rows (tokens in string order), for all at once in arrays."""
    out: list[bytes] = []
    batch: list[np.ndarray] = []
    size = 0
    counts = index.counts()
    for k, rows in enumerate(groups):
        batch.append(rows)
        size += int(counts[rows].sum())
        if size >= ENCODE_BATCH or k == len(groups) - 1:
            out += _encode_batch(index, batch)
            batch, size = [], 0
    return out


def _encode_batch(index: TermIndex, groups: list[np.ndarray]) -> list[bytes]:
    rows = np.concatenate([np.zeros(0, np.int64), *groups])
    counts = (index.starts[rows + 1] - index.starts[rows]).astype(np.int64)
    first = np.cumsum(counts) - counts  # of each token, among the batch's postings
    token_of = np.repeat(np.arange(len(rows)), counts)
    values = index.postings[np.arange(len(token_of)) + np.repeat(index.starts[rows] - first, counts)]
    gaps = values.copy()
    gaps[1:] -= values[:-1]
    gaps[first] = values[first]  # > 0 after the first: doc ids ascend
    widths = np.ones(len(rows), dtype=np.int64)
    if len(gaps):
        largest = np.maximum.reduceat(gaps, first)
        widths += (largest >= 1 << 8).astype(np.int64) + (largest >= 1 << 16) + (largest >= 1 << 24)
    heads = [varints([len(name)]) + name + varints([n]) + bytes((w,))
             for name, n, w in zip((t.encode("utf-8") for t in index.tokens(rows)), counts.tolist(), widths.tolist(),
                                   strict=True)]
    head_sizes = np.array([len(h) for h in heads], dtype=np.int64)
    sizes = head_sizes + widths * counts
    starts = np.cumsum(sizes) - sizes
    body = np.empty(int(sizes.sum()), dtype=np.uint8)
    head_bytes = np.frombuffer(b"".join(heads), dtype=np.uint8)
    body[np.arange(len(head_bytes)) + np.repeat(starts - (np.cumsum(head_sizes) - head_sizes), head_sizes)] = head_bytes
    planes = gaps.astype("<u4").view(np.uint8).reshape(-1, 4)
    at = (starts + head_sizes - first)[token_of] + np.arange(len(token_of))
    for plane in range(4):
        wide = widths[token_of] > plane
        body[at[wide] + plane * counts[token_of[wide]]] = planes[wide, plane]
    bounds = np.cumsum([0, *(len(g) for g in groups)])
    offsets = np.r_[starts, len(body)]
    return [body[offsets[bounds[k]]:offsets[bounds[k + 1]]].tobytes() for k in range(len(groups))]


@dataclass(frozen=True)
class SearchState:
    """What the next build reuses: the files made from one term index, each with its SHA-256."""

    index: str  # TermIndex.digest() of the index the shards were made from
    shards: tuple[tuple[bytes, bytes], ...]  # (gzip, SHA-256 of the body) per shard
    bundles: Mapping[str, tuple[bytes, bytes]] = field(default_factory=dict)  # bundle key → (gzip, SHA-256)


def doc_entries(site: Site) -> list[Entry]:
    """The entries in doc-id order: oldest first, so that a new entry adds an id and shifts none."""
    return list(reversed(site.entries))


def index_files(site: Site, index: TermIndex, folding: Folding,
                changed: np.ndarray | None = None, previous: SearchState | None = None,
                ) -> tuple[list[OutputFile], SearchState]:
    """The index as static files under /search/ (every one gzip; see module docstring), and what the
    next build reuses of them.

    `index` holds the tokens of the entries in doc-id order (see `doc_entries`).
    With `previous` (made from the index that `index` was patched from) and `changed` (the
    shard-key CRCs of the tokens whose postings differ), only the shards holding those are made
    again; entries are bundled again only when one of them changed.
    """
    entries, language = doc_entries(site), site.config.language
    count = shard_count(len(index.postings))
    reusable = previous is not None and changed is not None and len(previous.shards) == count
    bodies = shard_bodies(index, count, changed if reusable else None)
    bundle_keys = [hashlib.sha256("\n".join((language, *index.docs[n:n + BUNDLE])).encode()).hexdigest()
                   for n in range(0, len(entries), BUNDLE)]
    old_bundles = previous.bundles if previous is not None else {}
    missing = [n for n, key in enumerate(bundle_keys) if key not in old_bundles]
    with ThreadPoolExecutor(max_workers=default_workers()) as pool:  # zlib lets go of the GIL
        made_shards = dict(zip(bodies, pool.map(compress, bodies.values()), strict=True))
        made_bundles = dict(zip(missing, pool.map(lambda n: bundle(entries[n * BUNDLE:(n + 1) * BUNDLE], language),
                                                  missing), strict=True))
    shards = tuple((made_shards[n], hashlib.sha256(bodies[n]).digest()) if n in bodies else previous.shards[n]
                   for n in range(count))
    del bodies
    bundles = {key: made_bundles[n] if n in made_bundles else old_bundles[key] for n, key in enumerate(bundle_keys)}
    build = hashlib.sha256()
    for _, part_digest in (*shards, *(bundles[key] for key in bundle_keys)):
        build.update(part_digest)
    meta = meta_body(site, entries, count, build.hexdigest()[:16], folded_pairs(index, folding))
    # each keyed by its body's digest: after an edit, the build keeps the thousands unchanged as output/ holds them
    files = [OutputFile(search_path("meta.bin"), compress(meta), compressed_key(hashlib.sha256(meta).digest()))]
    files += [OutputFile(search_path(f"s/{n}.bin"), data, compressed_key(body)) for n, (data, body) in enumerate(shards)]
    files += [OutputFile(search_path(f"d/{n}.bin"), bundles[key][0], compressed_key(bundles[key][1]))
              for n, key in enumerate(bundle_keys)]
    return files, SearchState(index.digest(), shards, bundles)


def search_path(name: str) -> str:
    """Where a file of the index goes in output/ ("search/s/3.bin")."""
    return output_path(urls.search_file(name))


def shard_bodies(index: TermIndex, count: int, changed: np.ndarray | None) -> dict[int, bytes]:
    """Shard number → its body, uncompressed: every shard, or with `changed` (shard-key CRCs) only
    the shards that hold those tokens."""
    if changed is not None:
        dirty = np.zeros(count, dtype=bool)
        dirty[(changed % count).astype(np.int64)] = True
    else:
        dirty = np.ones(count, dtype=bool)
    shard_of_row = (index.crcs % count).astype(np.int64)
    wanted = np.flatnonzero(dirty[shard_of_row])
    names = index.tokens(wanted)
    by_shard: dict[int, list[tuple[str, int]]] = {int(n): [] for n in np.flatnonzero(dirty)}
    for row, name in zip(wanted.tolist(), names, strict=True):
        by_shard[shard_of_row[row]].append((name, row))
    numbers = sorted(by_shard)
    groups = [np.array([row for _, row in sorted(by_shard[n])], dtype=np.int64) for n in numbers]
    return dict(zip(numbers, encode_rows(index, groups), strict=True))


def bundle(entries: list[Entry], language: str) -> tuple[bytes, bytes]:
    """(gzip, SHA-256 of the body) of a few entries' stored text: made and compressed a bundle at a
    time, so that the whole site's text is never held uncompressed at once."""
    body = json.dumps([{"t": e.title, "u": e.url, "s": e.section, "d": e.date.strftime("%Y-%m-%d"),
                        "f": format_date(e.date, language), "g": [[tag.slug, tag.name] for tag in e.tags],
                        "x": e.text} for e in entries], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return compress(body), hashlib.sha256(body).digest()


def folded_pairs(index: TermIndex, folding: Folding) -> str:
    """The folding pairs (traditional, simplified) of the CJK characters the index holds, flat:
    what search.js needs to fold a query as the index was folded."""
    single = index.ids[(index.ids < np.uint64(LONG)) & (index.ids & np.uint64((1 << 2 * CODE_BITS) - 1) == 0)]
    folded_chars = {c for c in (chr(int(n) >> 2 * CODE_BITS) for n in single) if is_cjk(c)}
    return "".join(k + v for k, v in sorted(folding.pairs.items()) if v in folded_chars)


def meta_body(site: Site, entries: list[Entry], shards: int, build: str, pairs: str) -> bytes:
    """meta.bin's JSON: the index's shape, the build's id, the folding pairs, sections and tags with their counts."""
    t = site.config.translator()
    tag_counts = Counter(tag.slug for entry in entries for tag in entry.tags)
    meta = {
        "format": FORMAT, "shards": shards, "docs": len(entries), "bundle": BUNDLE, "prefix": PREFIX_KEY,
        "build": build, "fold": pairs,
        "sections": [[s, t(s), sum(e.section == s for e in entries)] for s in SECTION_IDS],
        "tags": [[slug, site.tags[slug].name, n]
                 for slug, n in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))],
    }
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def default_workers() -> int:
    """Threads for compression (zlib lets go of the GIL): the cores we may use, at most MAX_WORKERS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, cores))


def search_files(site: Site, folding: Folding | None = None) -> list[OutputFile]:
    """The index as static files under /search/, made from nothing (the build reuses the last one's)."""
    folding = folding or load_folding()
    entries = doc_entries(site)
    tokenizer = Tokenizer(folding)
    index = fresh_index([str(n) for n in range(len(entries))], lambda docs: [
        tokenizer.entry_terms(entries[d].title, entries[d].text, filter_tokens(entries[d].section, [t.slug for t in entries[d].tags]))
        for d in docs])
    return index_files(site, index, folding)[0]


def search_page(site: Site) -> Page:
    """/search/: the form works without JavaScript too (it is a GET with ?q=)."""
    tag_counts = Counter(tag.slug for entry in site.entries for tag in entry.tags)
    tags = [site.tags[slug] for slug, _ in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Page(urls.SEARCH, "search.html", {"sections": SECTION_IDS, "tags": tags})


def normalized_text(text: str, folding: Folding) -> str:
    """Folded text with runs of whitespace as one space: what phrases are checked against."""
    return _SPACE.sub(" ", folding.fold(text))


# --- The reader: what search.js does, in Python -------------------------------------------------

_PHRASE = re.compile(r'"([^"]*)"?|“([^”]*)”?|「([^」]*)」?')
_TERM = re.compile(f"[{CJK_CLASS}]+|{WORDS.pattern}")


@dataclass(frozen=True)
class Term:
    text: str  # normalized
    tokens: tuple[str, ...]  # all needed (AND); the last one as a prefix if `prefix`
    check: str | None = None  # must occur in the normalized title or text
    prefix: bool = False


def spread(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """At most MAX_TOKENS of a checked term's tokens, evenly spread (search.js picks the same):
    the stored-text check makes the rest redundant, and each token may cost a shard download."""
    if len(tokens) <= MAX_TOKENS:
        return tokens
    return tuple(tokens[js_round_div(i * (len(tokens) - 1), MAX_TOKENS - 1)] for i in range(MAX_TOKENS))


def js_round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, as JavaScript's Math.round does (not Python's round)."""
    return (2 * numerator + denominator) // (2 * denominator)


def term_tokens(part: str) -> tuple[str, ...]:
    """A CJK run → its bigrams (one character: itself); a word → itself."""
    if not is_cjk(part[0]) or len(part) == 1:
        return (part,)
    return tuple(part[i:i + 2] for i in range(len(part) - 1))


def parse_query(query: str, folding: Folding, prefix_key: int = PREFIX_KEY) -> list[Term]:
    """Quoted phrases, then CJK runs and words; the last word is a prefix while typing."""
    terms: list[Term] = []

    def phrase(match: re.Match) -> str:
        text = _SPACE.sub(" ", folding.fold(next((g for g in match.groups() if g), ""))).strip()
        tokens = tuple(t for part in _TERM.findall(text) for t in term_tokens(part))
        if tokens:
            terms.append(Term(text, spread(tokens), check=text))
        return " "

    rest = _PHRASE.sub(phrase, query)
    parts = _TERM.findall(folding.fold(rest))
    typing_last = bool(re.search(r"[^\W_]$", rest))
    for i, part in enumerate(parts):
        cjk = is_cjk(part[0])
        checked = cjk and len(part) >= 3
        terms.append(Term(part, spread(term_tokens(part)) if checked else term_tokens(part), check=part if checked else None,
                          prefix=not cjk and typing_last and i == len(parts) - 1 and len(part) >= prefix_key))
    return terms


@dataclass(frozen=True)
class Hit:
    doc: int
    titles: int  # terms found in the title
    tf: int  # summed tf buckets (index) or counts (stored text)


class IndexReader:
    """Reads a written index the way search.js does: the reference for tests and the benchmark."""

    def __init__(self, files: Mapping[str, bytes]):
        """`files`: path relative to the /search/ folder → bytes as written."""
        self.files = files
        self.meta = json.loads(gzip.decompress(files["meta.bin"]))
        flat = self.meta["fold"]
        pairs = dict(zip(flat[0::2], flat[1::2], strict=True))
        self.folding = Folding(pairs, {ord(k): v for k, v in pairs.items()})
        self._shards: dict[int, dict[str, list[tuple[int, int, bool]]]] = {}
        self._bundles: dict[str, list[dict]] = {}
        self.fetched: set[str] = set()

    def postings(self, token: str) -> list[tuple[int, int, bool]]:
        return self.shard(token).get(token, [])

    def shard(self, token: str) -> dict[str, list[tuple[int, int, bool]]]:
        n = shard_of(token, self.meta["shards"])
        if n not in self._shards:
            self.fetched.add(f"s/{n}.bin")
            self._shards[n] = decode_shard(gzip.decompress(self.files[f"s/{n}.bin"]))
        return self._shards[n]

    def doc(self, doc_id: int) -> dict:
        path = f"d/{doc_id // self.meta['bundle']}.bin"
        if path not in self._bundles:
            self.fetched.add(path)
            self._bundles[path] = json.loads(gzip.decompress(self.files[path]))
        return self._bundles[path][doc_id % self.meta["bundle"]]

    def term_hits(self, term: Term) -> dict[int, tuple[int, bool]]:
        """doc → (tf bucket, in title) for docs holding every token of the term."""
        result: dict[int, tuple[int, bool]] | None = None
        for i, token in enumerate(term.tokens):
            if term.prefix and i == len(term.tokens) - 1:
                lists = [p for t, p in self.shard(token).items() if t.startswith(token) and not t.startswith(FILTER_PREFIX)]
            else:
                lists = [self.postings(token)]
            union: dict[int, tuple[int, bool]] = {}
            for postings in lists:
                for doc, tf, title in postings:
                    old = union.get(doc, (0, False))
                    union[doc] = (max(old[0], tf), old[1] or title)
            if result is None:
                result = union
            else:
                result = {d: (min(h[0], union[d][0]), h[1] and union[d][1]) for d, h in result.items() if d in union}
        return result or {}

    def candidates(self, terms: list[Term], section: str = "", tag: str = "") -> list[Hit]:
        """Docs holding every term's tokens, in the filters; ranked as search.js ranks them."""
        per_term = [self.term_hits(term) for term in terms]
        if any(not hits for hits in per_term):
            return []
        allowed: set[int] | None = None
        for token in ([f"{FILTER_PREFIX}s:{section}"] if section else []) + ([f"{FILTER_PREFIX}t:{tag}"] if tag else []):
            docs = {d for d, _, _ in self.postings(token)}
            allowed = docs if allowed is None else allowed & docs
        if not terms:
            return [Hit(d, 0, 0) for d in sorted(allowed or (), reverse=True)]
        hits = [Hit(d, sum(h[d][1] for h in per_term), sum(h[d][0] for h in per_term))
                for d in per_term[0] if all(d in h for h in per_term) and (allowed is None or d in allowed)]
        return sorted(hits, key=lambda h: (-h.titles, -h.tf, -h.doc))  # then newer: doc ids are oldest first

    def verified(self, terms: list[Term], hit: Hit) -> Hit | None:
        """The hit rescored on its stored text, or None if a phrase or long run is not in it."""
        doc = self.doc(hit.doc)
        title, body = normalized_text(doc["t"], self.folding), normalized_text(doc["x"], self.folding)
        titles = tf = 0
        for term in terms:
            needle = term.check or term.text
            if term.check and needle not in title and needle not in body:
                return None
            titles += needle in title
            tf += body.count(needle)
        return Hit(hit.doc, titles, tf)

    def search(self, query: str, section: str = "", tag: str = "") -> list[int]:
        """Every matching doc id, best first (search.js shows these a page at a time)."""
        terms = parse_query(query, self.folding, self.meta["prefix"])
        if not terms and not section and not tag:
            return []
        hits = self.candidates(terms, section, tag)
        if any(t.check for t in terms):
            hits = [v for v in (self.verified(terms, h) for h in hits) if v]
        return [h.doc for h in hits]
