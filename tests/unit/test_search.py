"""The search index: folding, tokens, shards, the binary format, and an index of a small site."""
from __future__ import annotations

import gzip
import json
import shutil
import zlib
from array import array
from pathlib import Path

import numpy as np
import pytest

from generator.build import BuildOptions, build
from generator.core.tokens import FILTER_PREFIX, load_folding, shard_key, shard_of, tf_bucket, tokens_of
from generator.derive.search import (
    IndexReader,
    decode_shard,
    doc_entries,
    encode_rows,
    encode_shard,
    parse_query,
    read_varints,
    search_files,
    shard_count,
    varints,
)
from tests.conftest import NOW, SITES
from tests.helpers import page


@pytest.fixture(scope="module")
def folding():
    return load_folding()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    source = tmp_path_factory.mktemp("search") / "site"
    shutil.copytree(SITES / "search", source)
    result = build(BuildOptions(source=source, now=NOW))
    return source / "output", result.site


@pytest.fixture(scope="module")
def reader(built) -> IndexReader:
    root = built[0] / "search"
    return IndexReader({p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.bin")})


def urls(reader: IndexReader, site, query: str, **filters) -> list[str]:
    return [doc_entries(site)[doc].url for doc in reader.search(query, **filters)]


# --- Folding and tokens --------------------------------------------------------------------


def test_fold_is_nfkc_lower_case_and_simplified(folding):
    assert folding.fold("ＰＹＴＨＯＮ入門") == "python入门"
    assert folding.fold("臺灣的潛水員") == "台湾的潜水员"
    assert folding.fold("羣裡衞") == "群里卫"  # variants of traditional characters too
    assert folding.fold("么抬着") == "么抬着"  # simplified characters stay as they are
    assert folding.fold("ΟΔΟΣ") == "οδοσ"  # final sigma folds like search.js's per-character lower case


def test_tokens_are_bigrams_characters_and_words(folding):
    tokens = tokens_of("社群运营，Python入门 v2", folding)
    assert {"社群", "群运", "运营", "社", "群", "运", "营", "入门", "入", "门", "python", "v2"} == set(tokens)
    assert "营p" not in tokens and "营，" not in tokens  # bigrams never cross punctuation or scripts
    assert "p" not in tokens and "2" not in tokens  # letters and digits only as whole words


def test_tokens_count_and_fold_traditional_into_simplified(folding):
    tokens = tokens_of("臺灣台湾，群聊群聊", folding)
    assert tokens["台湾"] == 2 and tokens["群聊"] == 2
    assert "臺灣" not in tokens


def test_tf_bucket_is_logarithmic():
    assert [tf_bucket(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 10_000)] == [0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 7]


# --- Shards and the binary format -------------------------------------------------------------


def test_shard_is_crc32_of_the_key_and_words_share_their_prefix_shard():
    assert shard_of("社群", 97) == zlib.crc32("社群".encode()) % 97
    assert shard_key("python") == shard_key("pythonic") == "pyt"
    assert shard_of("python", 500) == shard_of("pyt", 500) == shard_of("pytest", 500)
    assert shard_key(f"{FILTER_PREFIX}t:python") == f"{FILTER_PREFIX}t:python"
    assert shard_key("go") == "go"


@pytest.mark.parametrize("values", [[0, 1, 127], [128, 300, 2**31], list(range(0, 5000, 7))])
def test_varints_round_trip(values):
    data = varints(values)
    assert read_varints(data, 0, len(values)) == (values, len(data))


def test_shard_round_trip_keeps_order_tf_and_title():
    postings = [("运营", array("I", [0 << 4 | 2, 5 << 4 | 3, 300 << 4 | 14, 70_000 << 4 | 2])),
                ("a", array("I", [7 << 4 | 1]))]
    assert decode_shard(encode_shard(postings)) == {
        "a": [(7, 0, True)], "运营": [(0, 1, False), (5, 1, True), (300, 7, False), (70_000, 1, False)]}


def test_shards_encoded_as_arrays_equal_the_reference_encoder(folding):
    from generator.core.term_index import fresh_index
    from generator.core.tokens import Tokenizer

    tokenizer = Tokenizer(folding)
    texts = ["社群运营，Python入门 v2", "运营" * 300, "", "臺灣 python pythonic", "社群" * 5 + "a b c"]
    # doc ids far apart need wide gaps: pad with empty docs
    docs = texts + [""] * 70_000 + ["社群 a 运营"]
    index = fresh_index([str(n) for n in range(len(docs))],
                        lambda numbers: [tokenizer.entry_terms("标题 a", docs[d], ["§s:qa"]) for d in numbers])
    rows = np.arange(len(index.ids))
    names = index.tokens(rows)
    groups = [np.array(sorted(part, key=names.__getitem__), dtype=np.int64) for part in (rows[:3], rows[3:], rows[:0])]
    for group, encoded in zip(groups, encode_rows(index, groups), strict=True):
        reference = [(names[k], array("I", index.postings[index.starts[k]:index.starts[k + 1]].tolist())) for k in group]
        assert encoded == encode_shard(reference)
        assert list(decode_shard(encoded)) == [names[k] for k in group]


def test_shard_count_steps_so_a_few_more_entries_rarely_change_it():
    assert [shard_count(n * 16_000) for n in (0, 1, 2, 7, 8, 9, 10, 11, 17, 100)] == [1, 1, 2, 7, 8, 10, 10, 12, 20, 112]
    counts = [shard_count(n) for n in range(0, 10_000_000, 1000)]
    assert len(set(counts)) < 40 and shard_count(10**12) == 4096


# --- Queries ----------------------------------------------------------------------------------


def test_query_terms(folding):
    terms = parse_query('"社群 运营" 潛水員 Python pyth', folding)
    assert [(t.text, t.tokens, t.check, t.prefix) for t in terms] == [
        ("社群 运营", ("社群", "运营"), "社群 运营", False),
        ("潜水员", ("潜水", "水员"), "潜水员", False),
        ("python", ("python",), None, False),
        ("pyth", ("pyth",), None, True),
    ]
    assert parse_query("pyth ", folding)[0].prefix is False  # a finished word is matched whole
    assert parse_query("群", folding)[0].tokens == ("群",)
    assert parse_query("“社群运营”", folding)[0].check == "社群运营"


# --- An index of the search sample site ----------------------------------------------------------


def test_words_inside_unspaced_sentences_are_found(reader, built):
    _, site = built
    assert urls(reader, site, "社群运营") == ["/highlights/ops-review/"]
    assert urls(reader, site, "新人引导") == ["/highlights/ops-review/"]
    assert urls(reader, site, "值班表") == ["/highlights/ops-review/"]
    assert urls(reader, site, "入门") == ["/qa/python-start/"]
    assert urls(reader, site, "Python 入门") == ["/qa/python-start/"]
    assert urls(reader, site, "PYTHON") == ["/qa/python-start/"]
    assert urls(reader, site, "pandas") == ["/qa/python-start/"]


def test_title_matches_rank_first_then_frequency_then_newer(reader, built):
    _, site = built
    found = urls(reader, site, "群")
    assert found[0] == "/highlights/ops-review/"  # 社群 in its title
    assert set(found) == {"/highlights/ops-review/", "/qa/scattered/", "/qa/python-start/"}
    assert urls(reader, site, "运营")[0] == "/highlights/ops-review/"


def test_traditional_and_simplified_find_each_other(reader, built):
    _, site = built
    assert urls(reader, site, "台湾") == ["/highlights/tw-notes/"]
    assert urls(reader, site, "潛水") == urls(reader, site, "潜水") == ["/highlights/tw-notes/"]
    assert urls(reader, site, "社羣運營") == ["/highlights/ops-review/"]


def test_long_runs_and_phrases_are_checked_in_the_text(reader, built):
    _, site = built
    terms = parse_query("社群运营", reader.folding)
    candidates = {doc_entries(site)[h.doc].url for h in reader.candidates(terms)}
    assert "/qa/scattered/" in candidates  # has 社群, 群运 and 运营, but apart
    assert urls(reader, site, "社群运营") == ["/highlights/ops-review/"]
    assert urls(reader, site, '"code of conduct"') == ["/lessons/english/"]
    assert urls(reader, site, '"conduct code"') == []
    assert urls(reader, site, '"Meetups work"') == ["/lessons/english/"]  # across a line break


def test_a_long_run_fetches_a_few_tokens_and_is_checked_whole(reader, built):
    _, site = built
    term = parse_query("报名表只收必要信息", reader.folding)[0]
    assert term.tokens == ("报名", "名表", "只收", "收必", "要信", "信息") and term.check == "报名表只收必要信息"
    assert urls(reader, site, "报名表只收必要信息") == ["/qa/scattered/"]
    assert urls(reader, site, "报名表只收必要的信息") == []


def test_latin_prefix_only_for_the_word_being_typed(reader, built):
    _, site = built
    assert urls(reader, site, "v") == []  # the v of "venue" is no word of its own
    assert urls(reader, site, "meet") == ["/lessons/english/"]
    assert urls(reader, site, "meet ") == []
    assert urls(reader, site, "meetup") == ["/lessons/english/"]


def test_a_term_found_nowhere_means_no_results(reader, built):
    _, site = built
    assert urls(reader, site, "社群 量子纠缠") == []
    assert urls(reader, site, "zzzqqq 运营") == []
    assert urls(reader, site, "社区运营") == []


def test_filters_by_section_and_tag(reader, built):
    _, site = built
    assert urls(reader, site, "", section="qa") == ["/qa/scattered/", "/qa/python-start/"]  # newest first
    assert urls(reader, site, "群", section="qa") == ["/qa/scattered/", "/qa/python-start/"]
    assert urls(reader, site, "", tag="python") == ["/qa/python-start/"]
    assert urls(reader, site, "运营", tag="复盘") == ["/highlights/ops-review/"]
    assert urls(reader, site, "运营", tag="meetup") == []


def test_meta_lists_sections_tags_and_only_the_folding_pairs_in_use(reader):
    meta = reader.meta
    assert meta["docs"] == 6 and meta["shards"] >= 1
    assert [s[:2] for s in meta["sections"]] == [["highlights", "精华"], ["qa", "问答"], ["lessons", "经验分享"]]
    assert ["python", "Python", 1] in meta["tags"]
    pairs = dict(zip(meta["fold"][0::2], meta["fold"][1::2], strict=True))
    assert pairs["臺"] == "台" and pairs["潛"] == "潜"
    assert "龜" not in pairs  # 龟 occurs nowhere, so its traditional form needs no folding


def test_every_token_sits_in_its_own_shard(built):
    root = built[0] / "search"
    meta = json.loads(gzip.decompress((root / "meta.bin").read_bytes()))
    for n in range(meta["shards"]):
        for token in decode_shard(gzip.decompress((root / f"s/{n}.bin").read_bytes())):
            assert shard_of(token, meta["shards"]) == n


def test_files_are_gzip_and_the_same_every_build(built):
    _, site = built
    first, second = search_files(site), search_files(site)
    assert [(f.path, f.data) for f in first] == [(f.path, f.data) for f in second]
    assert all(f.data[:2] == b"\x1f\x8b" for f in first)


def test_untrusted_text_stays_text(reader, built):
    output, site = built
    titles = [reader.doc(n)["t"] for n in range(reader.meta["docs"])]
    assert "</script><script>alert('x')</script> 标题里的尖括号" in titles
    search = page(output, "/search/")
    options = [o.get_text() for o in search.select("select[name=tag] option")]
    assert "<img src=x onerror=alert(1)>" in options
    assert search.find("img") is None
    scripts = search.find_all("script")
    assert "/assets/search.js" in [s.get("src") for s in scripts]
    assert all(s.get("src") and not s.string for s in scripts)  # nothing from the content runs


def test_search_page_and_header_box(built):
    output, _ = built
    search = page(output, "/search/")
    form = search.select_one("form[data-kb-search][data-search-page]")
    assert form["action"] == "/search/" and form["data-index"] == "/search/"
    assert form.select_one("input[name=q]") and form.select_one("[data-search-results]")
    assert [o["value"] for o in form.select("select[name=section] option")] == ["", "highlights", "qa", "lessons"]
    assert form["data-s-results"] == "{n} 条结果"
    assert search.select("header form[data-kb-search]") == []  # the page's own form is the box
    home = page(output, "/")
    box = home.select_one("header form[data-kb-search]")
    assert box["action"] == "/search/" and box.select_one("input[name=q][role=combobox]")


def test_index_build_is_part_of_kb_build(built):
    output, site = built
    assert (output / "search" / "meta.bin").is_file()
    assert len(list((output / "search" / "d").glob("*.bin"))) == -(-len(site.entries) // 4)


def test_a_site_without_entries_gets_an_empty_index(tmp_path: Path):
    """A site without entries still gets a loadable (empty) index."""
    (tmp_path / "content").mkdir()
    (tmp_path / "site_config.yaml").write_text("title: 空站\n", encoding="utf-8")
    build(BuildOptions(source=tmp_path, now=NOW))
    root = tmp_path / "output" / "search"
    reader = IndexReader({p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.bin")})
    assert reader.meta["docs"] == 0 and reader.search("社群") == []


# --- Reuse between builds ----------------------------------------------------------------------


def synthetic_site(count: int, edited: int | None = None):
    from tests.unit.test_related import entry, site_of

    words = ["社群", "运营", "新人", "活跃", "留存", "拉新", "复盘", "签到", "押金", "机器人", "群规", "分享", "python"]
    entries = [entry(f"e{i}", f"第 {i} 篇：{words[i % 13]}", "，".join(words[(i * k + 3) % 13] + words[(i + k) % 13]
                                                                   for k in range(12)) + (" 量子纠缠" if i == edited else ""),
                     (words[i % 5],), days_ago=i) for i in range(count)]
    return site_of(*entries)


def test_an_edit_remakes_only_the_shards_it_touches_and_equals_a_fresh_index(folding, monkeypatch):
    from generator.core.term_index import fresh_index, patched_index
    from generator.core.tokens import Tokenizer, filter_tokens
    from generator.derive import search
    from generator.derive.search import index_files

    monkeypatch.setattr(search, "SHARD_TARGET", 400)  # many small shards
    tokenizer = Tokenizer(folding)

    def terms_of(site):
        entries = doc_entries(site)
        return lambda docs: [tokenizer.entry_terms(entries[d].title, entries[d].text,
                                                   filter_tokens(entries[d].section, [t.slug for t in entries[d].tags]))
                             for d in docs]

    before = synthetic_site(300)
    keys = [e.url for e in doc_entries(before)]
    index = fresh_index(keys, terms_of(before))
    files, state = index_files(before, index, folding)
    for after in (synthetic_site(300, edited=150), synthetic_site(301)):
        new_keys = [e.url + ("*" if "量子" in e.text else "") for e in doc_entries(after)]
        patched, changed = patched_index(index, new_keys, terms_of(after))
        reused, _ = index_files(after, patched, folding, changed, state)
        fresh, _ = index_files(after, fresh_index(new_keys, terms_of(after)), folding)
        assert [(f.path, f.data) for f in reused] == [(f.path, f.data) for f in fresh]
        old_shards = {f.path: f.data for f in files if "/s/" in f.path}
        new_shards = {f.path: f.data for f in fresh if "/s/" in f.path}
        assert len(new_shards) == len(old_shards) >= 40
        differ = sum(old_shards[p] != data for p, data in new_shards.items())
        if "量子" in "".join(e.text for e in after.entries):
            assert 0 < differ <= 7  # 量子, 子纠, 纠缠 and their 4 characters: at most 7 shards of 40
