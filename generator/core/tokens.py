"""What a token is, for search (search.js reads the same) and related entries.

CJK runs give their overlapping bigrams and their single characters, other letters and digits
give words; tokens are folded (NFKC, lower case, traditional → simplified, `data/t2s.json`) one
spelling at a time.

A token is numbered by its code points when it has at most three (CJK characters, bigrams,
short words: exact, and in string order), else by a 63-bit BLAKE2b of its UTF-8 with the top
bit set (the string is kept apart). Texts are tokenised as NumPy arrays of code points, which
gives exactly what `raw_token_counts` and `fold_token` give, string by string
(tests/unit/test_tokens.py), without a Python step per character.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).parent.parent / "data" / "t2s.json"
PREFIX_KEY = 3  # Latin words shard by their first 3 characters, so a prefix finds its words
TF_CAP = 1023  # counts above this are all "very often"
FILTER_PREFIX = "§"  # filter tokens ("§s:qa", "§t:slug") can never come from text

# Letters indexed as bigrams: Han (with compatibility ideographs and the supplementary
# planes), kana, Hangul, halfwidth katakana; 々 and 〇. Punctuation is not in the class,
# so bigrams never span it. search.js holds the same class: change both together.
CJK_RANGES = ((0x3005, 0x3005), (0x3007, 0x3007), (0x3040, 0x309F), (0x30A0, 0x30FA), (0x30FC, 0x30FF),
              (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFF66, 0xFF9D),
              (0x20000, 0x3134F))
CJK_CLASS = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in CJK_RANGES)
_BIGRAMS = re.compile(f"(?=([{CJK_CLASS}]{{2}}))")
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_NOT_CJK = re.compile(f"[^{CJK_CLASS}]+")
WORDS = re.compile(f"(?:(?![{CJK_CLASS}])[^\\W_])+")

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


def is_cjk(char: str) -> bool:
    return _CJK_CHAR.fullmatch(char) is not None


def raw_token_counts(text: str) -> Counter[str]:
    """Bigrams and single characters of CJK runs, words of other letters and digits.

    `text` should already be lower-cased; tokens are folded afterwards, once per spelling,
    which is the same as folding the text first, only cheaper.
    """
    counts = Counter(_BIGRAMS.findall(text))
    counts.update(_NOT_CJK.sub("", text))  # single CJK characters (never a letter of a word)
    counts.update(WORDS.findall(text))
    return counts


def tokens_of(text: str, folding: Folding) -> Counter[str]:
    """Folded tokens of a text with their counts: what the index stores for it."""
    folded: Counter[str] = Counter()
    for token, n in raw_token_counts(text.lower()).items():
        key = fold_token(token, folding)
        if key:
            folded[key] += n
    return folded


def fold_token(token: str, folding: Folding) -> str:
    """The folded token, or "" when folding makes it something else than a token."""
    folded = folding.fold(token)
    # NFKC can turn one character into several (㍻ → 平成) or a bigram into one (ｶﾞ → ガ):
    # keep the token only if it is still one of ours.
    if is_cjk(token[0]):
        return folded if len(folded) == len(token) and all(map(is_cjk, folded)) else ""
    return folded if WORDS.fullmatch(folded) else ""


def shard_key(token: str) -> str:
    """What decides a token's shard: Latin words share one with every word of the same prefix."""
    if token.startswith(FILTER_PREFIX) or is_cjk(token[0]):
        return token
    return token[:PREFIX_KEY]


def shard_of(token: str, shards: int) -> int:
    """CRC-32 of the shard key's UTF-8, modulo the shard count (search.js does the same)."""
    return zlib.crc32(shard_key(token).encode("utf-8")) % shards


def tf_bucket(tf: int) -> int:
    """Term frequency on a log scale, 0…7 (0, 1, 2, 3–4, 5–8, 9–16, 17–32, 33+): ranking needs
    no more, and small numbers compress well."""
    return 0 if tf <= 0 else min(7, (tf - 1).bit_length() + 1)


# --- Numbers and arrays ------------------------------------------------------------------------

CODE_BITS = 21
LONG = 1 << 63  # set in the number of every token of four or more characters
LIMIT = max(high for _, high in CJK_RANGES) + 1  # every CJK code point is below this
# Code points that compose with the character before them under NFKC (the kana voicing marks):
# a bigram ending in one is folded as a string, not character by character.
COMPOSING = (0x3099, 0x309A)
_BUCKETS = np.array([tf_bucket(n) << 1 for n in range(TF_CAP + 1)], dtype=np.uint8)


def token_id(token: str) -> int:
    """The number of a token (see the module docstring)."""
    if len(token) <= 3:
        value = 0
        for char in token.ljust(3, "\0"):
            value = value << CODE_BITS | ord(char)
        return value
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big") | LONG


def short_names(ids: np.ndarray) -> list[str]:
    """The tokens of numbers below LONG, decoded all at once."""
    if not len(ids):
        return []
    mask = np.uint64((1 << CODE_BITS) - 1)
    codes = np.empty((len(ids), 4), dtype=np.uint32)
    for k in range(3):
        codes[:, k] = (ids >> np.uint64(CODE_BITS * (2 - k))) & mask
    codes[:, 3] = 10  # "\n" ends each token; no token holds one
    flat = codes.ravel()
    return flat[flat != 0].astype("<u4").tobytes().decode("utf-32-le").split("\n")[:-1]


@dataclass(frozen=True)
class EntryTerms:
    """One entry's tokens: numbers ascending, a weight each (tf bucket << 1 | in title)."""

    ids: bytes  # uint64, little-endian, ascending
    weights: bytes  # one byte per token
    names: tuple[str, ...]  # the tokens of four or more characters: their numbers are the last ones, in order


@dataclass
class Tokenizer:
    """Tokens of texts as `raw_token_counts` + `fold_token` make them, from arrays of code points.

    One is made per build (forked workers inherit it); it keeps what it learns about each
    character and word for the next text.
    """

    folding: Folding
    cjk: np.ndarray = field(init=False)  # bool per code point up to LIMIT (which is not CJK)
    folded: np.ndarray = field(init=False)  # CJK code point → folded code point, 0 if dropped (where `known`)
    known: np.ndarray = field(init=False)
    numbers: dict[str, int] = field(default_factory=dict)  # spelling → its folded token's number (-1: dropped)
    names: dict[int, str] = field(default_factory=dict)  # number → token, for the long ones seen

    def __post_init__(self) -> None:
        self.cjk = np.zeros(LIMIT + 1, dtype=bool)
        for low, high in CJK_RANGES:
            self.cjk[low:high + 1] = True
        self.folded = np.zeros(LIMIT + 1, dtype=np.uint64)
        self.known = np.zeros(LIMIT + 1, dtype=bool)

    def _learn(self, chars: np.ndarray) -> None:
        new = chars[~self.known[chars]]
        for code in set(new.tolist()) if len(new) else ():
            token = fold_token(chr(code), self.folding)
            self.folded[code] = ord(token) if token else 0
            self.known[code] = True

    def weights(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(token numbers ascending, tf bucket << 1 of each) for one text.

        Counts are per spelling; spellings that fold alike keep the larger bucket.
        """
        lowered = text.lower()
        codes = np.frombuffer(lowered.encode("utf-32-le"), dtype="<u4")
        cjk = self.cjk[np.minimum(codes, LIMIT)]
        chars = codes[cjk]
        self._learn(chars)
        folded = self.folded[chars]
        pair = cjk[:-1] & cjk[1:]
        first, second = codes[:-1][pair], codes[1:][pair]
        composing = (second == COMPOSING[0]) | (second == COMPOSING[1])
        keep = (self.folded[first] != 0) & (self.folded[second] != 0) & ~composing
        # a single character's number stays below 2**21, a bigram's is above: one sort counts both
        raw = np.sort(np.concatenate([chars[folded != 0].astype(np.uint64),
                                      first[keep].astype(np.uint64) << np.uint64(CODE_BITS) | second[keep]]))
        heads = np.flatnonzero(run_starts(raw))
        counts = np.diff(np.append(heads, len(raw)))
        spellings = raw[heads]
        low, high = spellings & np.uint64((1 << CODE_BITS) - 1), spellings >> np.uint64(CODE_BITS)
        bigram = high != 0
        ids = np.where(bigram, self.folded[high] << np.uint64(2 * CODE_BITS) | self.folded[low] << np.uint64(CODE_BITS),
                       self.folded[low] << np.uint64(2 * CODE_BITS))
        # CJK numbers end in 21 zero bits: room for the weight, so one sort puts the largest last
        keyed = np.sort(ids | _BUCKETS[np.minimum(counts, TF_CAP)])
        ids = keyed & ~np.uint64(15)
        last = run_starts(ids[::-1])[::-1]
        ids, weights = ids[last], (keyed[last] & np.uint64(15)).astype(np.uint8)
        others = Counter(chr(a) + chr(b) for a, b in zip(first[composing].tolist(), second[composing].tolist(), strict=True))
        others.update(WORDS.findall(lowered))
        if not others:
            return ids, weights
        more: dict[int, int] = {}
        for spelling, n in others.items():
            number = self.number(spelling)
            if number >= 0:
                more[number] = max(more.get(number, 0), int(_BUCKETS[min(n, TF_CAP)]))
        if more:  # (a composing bigram may fold like another: merge by the larger weight)
            for number, weight in zip(ids.tolist(), weights.tolist(), strict=True) if composing.any() else ():
                more[number] = max(more.get(number, 0), weight)
            if composing.any():
                ids, weights = np.zeros(0, np.uint64), np.zeros(0, np.uint8)
            ids = np.concatenate([ids, np.array(list(more), dtype=np.uint64)])
            weights = np.concatenate([weights, np.array(list(more.values()), dtype=np.uint8)])
            order = np.argsort(ids, kind="stable")
            ids, weights = ids[order], weights[order]
        return ids, weights

    def number(self, spelling: str) -> int:
        """The number of a spelling's folded token, -1 if folding drops it."""
        number = self.numbers.get(spelling)
        if number is None:
            token = fold_token(spelling, self.folding)
            number = self.numbers[spelling] = token_id(token) if token else -1
            if number >= LONG:
                self.names[number] = token
        return number

    def title_tokens(self, title: str) -> set[int]:
        """The numbers of a short text's tokens (string by string: for a title, faster than arrays)."""
        numbers = set()
        for spelling in raw_token_counts(title.lower()):
            number = self.number(spelling)
            if number >= 0:
                numbers.add(number)
        return numbers

    def entry_terms(self, title: str, text: str, filters: Sequence[str] = ()) -> EntryTerms:
        """An entry's tokens: its text's with tf buckets, its title's flagged, its filters' (weight 0)."""
        text_ids, text_weights = self.weights(text)
        title_ids = np.array(sorted(self.title_tokens(title)), dtype=np.uint64)
        filter_ids = np.array([token_id(token) for token in filters], dtype=np.uint64)
        for token, number in zip(filters, filter_ids.tolist(), strict=True):
            self.names[number] = token
        ids = np.sort(np.concatenate([text_ids, title_ids, filter_ids]))
        ids = ids[run_starts(ids)]
        weights = np.zeros(len(ids), dtype=np.uint8)
        weights[np.searchsorted(ids, text_ids)] = text_weights
        weights[np.searchsorted(ids, title_ids)] |= np.uint8(1)
        long = ids[ids >= np.uint64(LONG)].tolist()
        return EntryTerms(ids.astype("<u8").tobytes(), weights.tobytes(), tuple(self.names[n] for n in long))


def run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts."""
    starts = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def filter_tokens(section: str, tags: Sequence[str]) -> list[str]:
    """Section and tag filters as tokens ("§s:qa", "§t:slug"): text never makes one."""
    return list(dict.fromkeys([f"{FILTER_PREFIX}s:{section}", *(f"{FILTER_PREFIX}t:{slug}" for slug in tags)]))
