"""Tokens as arrays equal tokens as strings, on any text; short token numbers decode and sort like strings."""
from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.core.tokens import (
    CJK_RANGES,
    COMPOSING,
    LONG,
    TF_CAP,
    EntryTerms,
    Tokenizer,
    fold_token,
    load_folding,
    raw_token_counts,
    short_names,
    tf_bucket,
    token_id,
)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(load_folding())


def reference(title: str, text: str, filters=()) -> dict[str, int]:
    """What the index stores for an entry, string by string: per folded token, the largest tf
    bucket of its spellings << 1, | 1 if the title has it; filters with weight 0."""
    folding = load_folding()
    out: dict[str, int] = {}
    for raw, n in raw_token_counts(text.lower()).items():
        token = fold_token(raw, folding)
        if token:
            out[token] = max(out.get(token, 0), tf_bucket(min(n, TF_CAP)) << 1)
    for raw in raw_token_counts(title.lower()):
        token = fold_token(raw, folding)
        if token:
            out[token] = out.get(token, 0) | 1
    for token in filters:
        out.setdefault(token, 0)
    return out


def as_dict(terms: EntryTerms) -> dict[str, int]:
    ids = np.frombuffer(terms.ids, dtype="<u8")
    assert list(ids) == sorted(ids)
    names = short_names(ids[ids < np.uint64(LONG)]) + list(terms.names)
    assert [token_id(n) for n in names] == ids.tolist()
    return dict(zip(names, terms.weights, strict=True))


TRICKY = ("社群运营臺灣台湾羣裡衞ｶｷｸｶﾞか\u3099が\u309aパ㍻々〇가나다丽\uf900\uf9dc𠀀𪜀"
          "PythonＰＹＴＨＯＮİıΣσς ΟΔΟΣ straße 2026 v2 ab_c a-b x ",)


def test_examples_equal_the_string_reference(tokenizer):
    text = "线下活动 Meetup 2026 的 AI，群聊群聊，臺灣台湾" + TRICKY[0] * 3 + "的" * 40
    title = "活动 AI 復盤 Python入門 ｶﾞ"
    assert as_dict(tokenizer.entry_terms(title, text, ["§s:qa", "§t:ai"])) == reference(title, text, ["§s:qa", "§t:ai"])


cjk_chars = st.sampled_from([chr(c) for low, high in CJK_RANGES for c in range(low, min(high, low + 40) + 1)]
                            + [chr(c) for c in COMPOSING] + list("臺灣羣裡衞丽\uf900\uf9dc"))
other_chars = st.sampled_from(list("aZ09 _-，。\n\tİıΣς߀ßＡ１㍻゛ﾞ") + ["\u0301", "\U0001F600"])
texts = st.lists(st.one_of(cjk_chars, other_chars), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(title=texts, text=texts)
def test_arrays_equal_strings_on_any_text(tokenizer, title, text):
    assert as_dict(tokenizer.entry_terms(title, text)) == reference(title, text)


def test_only_the_kana_voicing_marks_compose_with_a_cjk_character_before_them():
    seconds = set()
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    composing = {code for low, high in CJK_RANGES for code in range(low, high + 1)
                 if unicodedata.combining((d := unicodedata.normalize("NFKD", chr(code)))[0]) or ord(d[0]) in seconds}
    assert composing == set(COMPOSING)


def test_short_token_numbers_decode_and_sort_like_strings():
    tokens = sorted(["a", "ab", "abc", "b", "社", "社群", "𠀀𪜀", "z9"])
    ids = [token_id(t) for t in tokens]
    assert ids == sorted(ids) and max(ids) < LONG
    assert short_names(np.array(ids, dtype=np.uint64)) == tokens
    assert token_id("python") >= LONG and token_id("python") == token_id("python")


# --- Patching ----------------------------------------------------------------------------------
