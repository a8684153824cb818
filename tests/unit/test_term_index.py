"""The term index: postings made block by block equal those of all docs at once, and a patched
index equals a fresh one, edit after edit."""
from __future__ import annotations

import random
import zlib

import numpy as np
import pytest

from generator.core import term_index
from generator.core.term_index import fresh_index, joined, patched_index, postings_of
from generator.core.tokens import Tokenizer, load_folding, shard_key, token_id


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(load_folding())


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


@pytest.mark.parametrize("many_new", [term_index.MANY_NEW, 0])
def test_patched_index_equals_fresh_index_edit_after_edit(tokenizer, monkeypatch, many_new):
    monkeypatch.setattr(term_index, "MANY_NEW", many_new)
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
