"""Tokens as arrays equal tokens as strings; a patched index equals a fresh one, edit after edit."""
from __future__ import annotations

import random
import unicodedata
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.derive import terms
from generator.derive.terms import (
    CJK_RANGES,
    COMPOSING,
    LONG,
    TF_CAP,
    EntryTerms,
    Tokenizer,
    fold_token,
    fresh_index,
    joined,
    load_folding,
    patched_index,
    postings_of,
    raw_token_counts,
    shard_key,
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

WORDS = ["社群", "运营", "新人", "活跃", "留存", "拉新", "复盘", "签到", "押金", "机器人", "python", "wiki", "ai"]


def random_doc(rng: random.Random, n: int) -> tuple[str, str, tuple[str, ...]]:
    text = "，".join(rng.choice(WORDS) + rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
    return f"第{n}篇 {rng.choice(WORDS)}", text, tuple(rng.sample(["a", "b", "c"], rng.randint(0, 2)))


def assert_same(a, b):
    assert a.docs == b.docs
    for field in ("ids", "starts", "postings", "crcs"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert getattr(a, field).dtype == getattr(b, field).dtype, field
    assert dict(a.names) == dict(b.names)


@pytest.mark.parametrize("seed", range(5))
def test_postings_joined_block_by_block_equal_the_postings_of_all_docs(tokenizer, seed):
    rng = random.Random(seed)
    docs = [random_doc(rng, n) for n in range(rng.randint(0, 60))]
    docs += [("标题", "community 社群", ())]  # a long token: its name travels with its block
    every = [tokenizer.entry_terms(title, text, [f"§t:{t}" for t in tags]) for title, text, tags in docs]
    whole = postings_of(range(len(docs)), every)
    cuts = sorted({0, len(docs), *(rng.randrange(len(docs) + 1) for _ in range(rng.randint(0, 8)))})
    parts = joined([postings_of(range(a, b), every[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    for field in ("ids", "counts", "values"):
        assert np.array_equal(getattr(parts, field), getattr(whole, field)), field
        assert getattr(parts, field).dtype == getattr(whole, field).dtype, field
    assert parts.names == whole.names and token_id("community") in whole.names
    assert whole.counts.sum() == len(whole.values) == sum(len(t.weights) for t in every)
    nothing, no_blocks = postings_of([], []), joined([])  # a site with no entries
    for field in ("ids", "counts", "values"):
        assert np.array_equal(getattr(no_blocks, field), getattr(nothing, field)), field
        assert getattr(no_blocks, field).dtype == getattr(nothing, field).dtype, field


@pytest.mark.parametrize("many_new", [terms.MANY_NEW, 0])
def test_patched_index_equals_fresh_index_edit_after_edit(tokenizer, monkeypatch, many_new):
    monkeypatch.setattr(terms, "MANY_NEW", many_new)
    rng = random.Random(7)
    docs: dict[str, tuple] = {}
    order: list[str] = []
    counter = 0

    def terms_of(keys):
        return lambda numbers: [tokenizer.entry_terms(docs[keys[d]][0], docs[keys[d]][1],
                                                      [f"§t:{t}" for t in docs[keys[d]][2]]) for d in numbers]

    def new_key():
        nonlocal counter
        counter += 1
        docs[f"k{counter}"] = random_doc(rng, counter)
        return f"k{counter}"

    for _ in range(30):
        order.append(new_key())
    index = fresh_index(order, terms_of(order))
    for step in range(60):
        kind = rng.choice(["append", "edit", "delete", "insert", "move", "several", "same", "retouch"])
        if kind == "append":
            order.append(new_key())
        elif kind == "edit" and order:
            order[rng.randrange(len(order))] = new_key()
        elif kind == "delete" and order:
            order.pop(rng.randrange(len(order)))
        elif kind == "insert":
            order.insert(rng.randrange(len(order) + 1), new_key())
        elif kind == "move" and len(order) > 1:
            order.insert(rng.randrange(len(order)), order.pop(rng.randrange(len(order))))
        elif kind == "retouch" and order:  # the same text under a new key: postings as they were
            k = rng.randrange(len(order))
            docs[f"k{counter + 1}"] = docs[order[k]]
            counter += 1
            order[k] = f"k{counter}"
        elif kind == "several":
            for _ in range(rng.randint(1, 5)):
                order[rng.randrange(len(order))] = new_key()
        previous = index
        index, changed = patched_index(previous, list(order), terms_of(list(order)))
        fresh = fresh_index(list(order), terms_of(list(order)))
        assert_same(index, fresh)
        assert index.crcs.tolist() == [zlib.crc32(shard_key(t).encode()) for t in index.tokens(np.arange(len(index.ids)))]
        # every token whose list differs is reported (more may be: a doc added again)
        before = {t: previous.postings[previous.starts[r]:previous.starts[r + 1]].tolist()
                  for r, t in enumerate(previous.ids.tolist())}
        after = {t: index.postings[index.starts[r]:index.starts[r + 1]].tolist() for r, t in enumerate(index.ids.tolist())}
        differ = {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}
        crcs = dict(zip(previous.ids.tolist(), previous.crcs.tolist(), strict=True))
        crcs.update(zip(index.ids.tolist(), index.crcs.tolist(), strict=True))
        if many_new and kind not in ("move", "delete", "insert"):  # exactly those, when no doc is renumbered
            assert {crcs[t] for t in differ} == set(changed.tolist()), (step, kind)
        else:
            assert {crcs[t] for t in differ} <= set(changed.tolist()), (step, kind)
        if kind in ("same", "retouch") and many_new:
            assert len(changed) == 0
