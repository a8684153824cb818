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
import unicodedata
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path

from .i18n import format_date, translator
from .model import SECTIONS, Site
from .render import OutputFile, Page

FORMAT = 1
DATA_FILE = Path(__file__).parent / "data" / "t2s.json"

# Letters indexed as bigrams: Han (with compatibility ideographs and the supplementary
# planes), kana, Hangul, halfwidth katakana; 々 and 〇. Punctuation is not in the class,
# so bigrams never span it. search.js holds the same class: change both together.
CJK_CLASS = ("\u3005\u3007\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
             "\uac00-\ud7a3\uf900-\ufaff\uff66-\uff9d\U00020000-\U0003134f")
_BIGRAMS = re.compile(f"(?=([{CJK_CLASS}]{{2}}))")
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_NOT_CJK = re.compile(f"[^{CJK_CLASS}]+")
_WORDS = re.compile(f"(?:(?![{CJK_CLASS}])[^\\W_])+")
_SPACE = re.compile(r"\s+")

PREFIX_KEY = 3  # Latin words shard by their first 3 characters, so a prefix finds its words
TF_CAP = 1023  # counts above this are all "very often"
SHARD_TARGET = 16_000  # postings per shard: about 12 KB compressed
MAX_WORKERS = 4
BUNDLE = 4  # entries per stored-text file: compresses far better than one, costs little more
MAX_SHARDS = 4096
MAX_TOKENS = 6  # per term checked in the stored text (search.js: the same)
FILTER_PREFIX = "§"  # filter tokens ("§s:qa", "§t:slug") can never come from text


@dataclass(frozen=True)
class Folding:
    """What makes index and query comparable: NFKC, lower case, traditional → simplified."""

    pairs: Mapping[str, str]  # traditional character → simplified
    table: Mapping[int, str]  # the same, for str.translate

    def fold(self, text: str) -> str:
        """The searchable form of a text; search.js computes the same per character."""
        text = unicodedata.normalize("NFKC", text).lower().replace("ς", "σ")
        return text if text.isascii() else text.translate(self.table)


def load_folding(path: Path = DATA_FILE) -> Folding:
    """Read the OpenCC-derived table shipped with the generator (done per build, not on import)."""
    flat = json.loads(path.read_text(encoding="utf-8"))["pairs"]
    pairs = dict(zip(flat[0::2], flat[1::2], strict=True))
    return Folding(pairs, {ord(k): v for k, v in pairs.items()})


# --- Tokens --------------------------------------------------------------------------------


def is_cjk(char: str) -> bool:
    return _CJK_CHAR.fullmatch(char) is not None


def raw_token_counts(text: str) -> Counter[str]:
    """Bigrams and single characters of CJK runs, words of other letters and digits.

    `text` should already be lower-cased; tokens are folded afterwards, once per spelling,
    which is the same as folding the text first, only cheaper.
    """
    counts = Counter(_BIGRAMS.findall(text))
    counts.update(_NOT_CJK.sub("", text))  # single CJK characters (never a letter of a word)
    counts.update(_WORDS.findall(text))
    return counts


def tokens_of(text: str, folding: Folding) -> Counter[str]:
    """Folded tokens of a text with their counts: what the index stores for it."""
    folded: Counter[str] = Counter()
    for token, n in raw_token_counts(text.lower()).items():
        key = _fold_token(token, folding)
        if key:
            folded[key] += n
    return folded


def _fold_token(token: str, folding: Folding) -> str:
    folded = folding.fold(token)
    # NFKC can turn one character into several (㍻ → 平成) or a bigram into one (ｶﾞ → ガ):
    # keep the token only if it is still one of ours.
    if is_cjk(token[0]):
        return folded if len(folded) == len(token) and all(map(is_cjk, folded)) else ""
    return folded if _WORDS.fullmatch(folded) else ""


def shard_key(token: str) -> str:
    """What decides a token's shard: Latin words share one with every word of the same prefix."""
    if token.startswith(FILTER_PREFIX) or is_cjk(token[0]):
        return token
    return token[:PREFIX_KEY]


def shard_of(token: str, shards: int) -> int:
    """CRC-32 of the shard key's UTF-8, modulo the shard count (search.js does the same)."""
    return zlib.crc32(shard_key(token).encode("utf-8")) % shards


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


def merge_postings(a: Sequence[int], b: Sequence[int]) -> array:
    """Two posting lists of one token (two spellings that fold alike): per doc, the larger tf
    and either title flag."""
    by_doc: dict[int, int] = {}
    for value in (*a, *b):
        doc, weight = value >> 4, value & 15
        old = by_doc.get(doc)
        by_doc[doc] = weight if old is None else max(old & 14, weight & 14) | ((old | weight) & 1)
    return array("I", sorted(doc << 4 | weight for doc, weight in by_doc.items()))


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


# --- The index ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchIndex:
    shards: tuple[bytes, ...]  # uncompressed shard bodies
    bundles: tuple[bytes, ...]  # uncompressed JSON lists of BUNDLE entries, by doc id // BUNDLE
    meta: Mapping[str, object]
    postings: int


def tf_bucket(tf: int) -> int:
    """Term frequency on a log scale, 0…7 (0, 1, 2, 3–4, 5–8, 9–16, 17–32, 33+): ranking needs
    no more, and small numbers compress well."""
    return 0 if tf <= 0 else min(7, (tf - 1).bit_length() + 1)


def invert(documents: Sequence[tuple[str, str]]) -> dict[str, array]:
    """Postings per raw (lower-cased, unfolded) spelling of (title, text) pairs, numbered from 0;
    a posting is doc id << 4 | tf_bucket << 1 | in title.

    The hot loop: it runs once per (entry, distinct token), about 10 million times for 10,000
    entries, so it does one dict lookup and one append. Folding happens later, once per spelling.
    (Forking workers for it measured no faster on a busy 2-core machine, and costs memory.)
    """
    weight_of = [tf_bucket(n) << 1 for n in range(TF_CAP + 1)]
    top = weight_of[TF_CAP]
    raw_postings: defaultdict[str, array] = defaultdict(partial(array, "I"))
    for doc_id, (title, text) in enumerate(documents):
        base = doc_id << 4
        for raw, n in raw_token_counts(text.lower()).items():
            raw_postings[raw].append(base | (weight_of[n] if n <= TF_CAP else top))
        for raw in raw_token_counts(title.lower()):
            postings = raw_postings[raw]
            if postings and postings[-1] >> 4 == doc_id:
                postings[-1] |= 1
            else:
                postings.append(base | 1)
    return dict(raw_postings)


def default_workers() -> int:
    """Threads for compression (zlib lets go of the GIL): the cores we may use, at most MAX_WORKERS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, cores))


def build_index(site: Site, folding: Folding | None = None) -> SearchIndex:
    """Tokenise every entry once, invert, fold, shard. Doc ids follow site.entries: newest first."""
    folding = folding or load_folding()
    language = site.config.language
    t = translator(language, dict(site.config.section_labels))
    raw_postings = invert([(e.title, e.text) for e in site.entries])
    filters: defaultdict[str, array] = defaultdict(partial(array, "I"))
    docs: list[dict] = []
    for doc_id, entry in enumerate(site.entries):
        for token in dict.fromkeys([f"{FILTER_PREFIX}s:{entry.section}",
                                    *(f"{FILTER_PREFIX}t:{tag.slug}" for tag in entry.tags)]):
            filters[token].append(doc_id << 4)  # as they are: never folded
        docs.append({
            "t": entry.title, "u": entry.url, "s": entry.section,
            "d": entry.date.strftime("%Y-%m-%d"), "f": format_date(entry.date, language),
            "g": [[tag.slug, tag.name] for tag in entry.tags], "x": entry.text,
        })
    postings_of: dict[str, array] = {}
    for raw, postings in raw_postings.items():
        token = _fold_token(raw, folding)
        if token:
            postings_of[token] = merge_postings(postings_of[token], postings) if token in postings_of else postings
    del raw_postings
    postings_of.update(filters)
    total = sum(map(len, postings_of.values()))

    shard_count = max(1, min(MAX_SHARDS, math.ceil(total / SHARD_TARGET)))
    grouped: list[list[tuple[str, array]]] = [[] for _ in range(shard_count)]
    for token, postings in postings_of.items():
        grouped[shard_of(token, shard_count)].append((token, postings))
    shards = tuple(encode_shard(group) for group in grouped)
    bundles = tuple(json.dumps(docs[n:n + BUNDLE], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                    for n in range(0, len(docs), BUNDLE))

    folded_chars = {token for token in postings_of if len(token) == 1 and is_cjk(token)}
    pairs = "".join(k + v for k, v in sorted(folding.pairs.items()) if v in folded_chars)
    digest = hashlib.sha256()
    for part in (*shards, *bundles):
        digest.update(hashlib.sha256(part).digest())
    tag_counts = Counter(tag.slug for entry in site.entries for tag in entry.tags)
    meta = {
        "format": FORMAT, "shards": shard_count, "docs": len(docs), "bundle": BUNDLE, "prefix": PREFIX_KEY,
        "build": digest.hexdigest()[:16], "fold": pairs,
        "sections": [[s, t(s), sum(e.section == s for e in site.entries)] for s in SECTIONS],
        "tags": [[slug, site.tags[slug].name, n]
                 for slug, n in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))],
    }
    return SearchIndex(shards, bundles, meta, total)


def search_files(site: Site, folding: Folding | None = None) -> list[OutputFile]:
    """The index as static files under /search/ (every one gzip; see module docstring)."""
    index = build_index(site, folding)
    meta = json.dumps(index.meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    paths = ["search/meta.bin", *(f"search/s/{n}.bin" for n in range(len(index.shards))),
             *(f"search/d/{n}.bin" for n in range(len(index.bundles)))]
    with ThreadPoolExecutor(max_workers=default_workers()) as pool:  # zlib lets go of the GIL
        bodies = list(pool.map(compress, [meta, *index.shards, *index.bundles]))
    files = [OutputFile(path, body) for path, body in zip(paths, bodies, strict=True)]
    return files


def search_page(site: Site) -> Page:
    """/search/: the form works without JavaScript too (it is a GET with ?q=)."""
    tag_counts = Counter(tag.slug for entry in site.entries for tag in entry.tags)
    tags = [site.tags[slug] for slug, _ in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Page("/search/", "search.html", {"sections": SECTIONS, "tags": tags})


def normalized_text(text: str, folding: Folding) -> str:
    """Folded text with runs of whitespace as one space: what phrases are checked against."""
    return _SPACE.sub(" ", folding.fold(text))


# --- The reader: what search.js does, in Python -------------------------------------------------

_PHRASE = re.compile(r'"([^"]*)"?|“([^”]*)”?|「([^」]*)」?')
_TERM = re.compile(f"[{CJK_CLASS}]+|{_WORDS.pattern}")


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
            return [Hit(d, 0, 0) for d in sorted(allowed or ())]
        hits = [Hit(d, sum(h[d][1] for h in per_term), sum(h[d][0] for h in per_term))
                for d in per_term[0] if all(d in h for h in per_term) and (allowed is None or d in allowed)]
        return sorted(hits, key=lambda h: (-h.titles, -h.tf, h.doc))

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
