"""The build cache: hits, misses, invalidation, and damage that costs only time."""
from __future__ import annotations

import multiprocessing
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import generator.speed.cache as cache_module
import generator.speed.documents as documents_module
import generator.speed.files as files_module
from generator.build import BuildOptions, build
from generator.core.errors import SiteError
from generator.speed.cache import CACHE_DIR, BuildCache, FileRecord, record_of
from tests.conftest import NOW


def counted(monkeypatch, module, name: str, label: Callable[..., str]) -> list[str]:
    """The calls of `name` in a module of the speed layer, each recorded as label(*its arguments)."""
    calls: list[str] = []
    real = getattr(module, name)

    def wrapper(*args):
        calls.append(label(*args))
        return real(*args)

    monkeypatch.setattr(module, name, wrapper)
    monkeypatch.setenv("KB_WORKERS", "1")  # count in this process
    return calls


def counting_parser(monkeypatch) -> list[str]:
    return counted(monkeypatch, documents_module, "parse_document", lambda source, *_: source.rel_path)


def test_documents_are_parsed_once_then_read_from_the_cache(basic_site, monkeypatch):
    parsed = counting_parser(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW))
    first = len(parsed)
    assert first >= 5
    parsed.clear()
    build(BuildOptions(source=basic_site, now=NOW))
    assert parsed == []


def test_an_edited_file_is_the_only_one_parsed_again(basic_site, monkeypatch):
    parsed = counting_parser(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW))
    parsed.clear()
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert parsed == ["content/qa/ask.md"]


def test_markdown_options_are_part_of_the_key(basic_site, monkeypatch):
    parsed = counting_parser(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW))
    parsed.clear()
    config = basic_site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "trusted_html: true\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert len(parsed) >= 5


def test_without_the_cache_nothing_is_stored(basic_site, monkeypatch):
    parsed = counting_parser(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW, cache=False))
    build(BuildOptions(source=basic_site, now=NOW, cache=False))
    assert not (basic_site / CACHE_DIR).exists()
    assert len(parsed) == 2 * len(set(parsed))


def test_records_match_only_the_file_they_describe(tmp_path):
    path = tmp_path / "a.html"
    path.write_bytes(b"one")
    record = record_of("k", path)
    assert record.matches(path)
    path.write_bytes(b"two")  # same size, new mtime or inode
    assert not FileRecord("k", record.size, record.mtime_ns - 1, record.ino).matches(path)
    assert not record.matches(tmp_path / "missing.html")


def test_outputs_are_kept_per_folder_and_replaced_whole(tmp_path):
    cache = BuildCache(tmp_path / CACHE_DIR)
    cache.save_outputs(Path("/a"), [("x.html", FileRecord("k1", 1, 2, 3)), ("y.html", FileRecord("k2", 4, 5, 6))])
    cache.save_outputs(Path("/b"), [("x.html", FileRecord("k3", 1, 2, 3))])
    cache.save_outputs(Path("/a"), [("y.html", FileRecord("k4", 4, 5, 6))])
    assert cache.outputs(Path("/a")) == {"y.html": FileRecord("k4", 4, 5, 6)}
    assert cache.outputs(Path("/b")) == {"x.html": FileRecord("k3", 1, 2, 3)}
    cache.close()


def test_outputs_saved_against_what_was_loaded_write_only_the_rows_that_differ(tmp_path):
    cache = BuildCache(tmp_path / CACHE_DIR)
    first = {f"p{n}.html": FileRecord(f"k{n}", n, n, n) for n in range(50)}
    cache.save_outputs(Path("/a"), first.items())
    cache.save_outputs(Path("/b"), first.items())
    loaded = cache.outputs(Path("/a"))
    now = {**{p: r for p, r in first.items() if p != "p0.html"}, "p1.html": FileRecord("new", 1, 1, 9), "q.html": FileRecord("q", 1, 1, 1)}
    before = cache.db.total_changes
    cache.save_outputs(Path("/a"), now.items(), loaded)
    assert cache.db.total_changes - before == 3  # p0 deleted, p1 replaced, q added; 48 rows untouched
    assert cache.outputs(Path("/a")) == now and cache.outputs(Path("/b")) == first
    cache.close()


def stored_documents(site: Path, later: bool = True) -> dict:
    cache = BuildCache(site / CACHE_DIR, readonly=True)
    try:
        return cache.documents(later)
    finally:
        cache.close()


def test_stored_documents_read_their_texts_on_first_use_and_equal_whole_ones(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    later, whole = stored_documents(basic_site), stored_documents(basic_site, later=False)
    question = next(doc for doc in whole.values() if doc.answers)
    assert question.html and question.answers[0].html
    pending = later[question.key]
    assert not pending.body.is_read and not pending.answers[0].body.is_read
    assert pending.answers[1].text == question.answers[1].text  # one answer read, not its neighbours
    assert not pending.answers[0].body.is_read
    assert pending == question  # every field, the texts read as they are compared
    assert later == whole
    assert pending.body.is_read


def test_documents_read_from_the_snapshot_and_from_their_rows_are_the_same(basic_site, monkeypatch):
    build(BuildOptions(source=basic_site, now=NOW))
    snapshot = basic_site / CACHE_DIR / f"{cache_module.SNAPSHOT}.pickle"
    assert snapshot.is_file()  # taken by the first build
    from_snapshot = stored_documents(basic_site)
    rows_read: list[str] = []

    class CountingUnpickler(cache_module.HeadUnpickler):
        def load(self):
            rows_read.append("row")
            return super().load()

    monkeypatch.setattr(cache_module, "HeadUnpickler", CountingUnpickler)
    snapshot.unlink()
    from_rows = stored_documents(basic_site)
    monkeypatch.undo()
    assert len(rows_read) == len(from_rows) > 0 and from_rows == from_snapshot  # heads, then texts read on use
    assert from_snapshot == stored_documents(basic_site, later=False)
    snapshot.write_bytes(b"damaged" * 100)
    assert stored_documents(basic_site) == from_rows  # a damaged snapshot only costs time


def test_the_snapshot_is_taken_again_only_when_it_has_drifted(basic_site, monkeypatch):
    build(BuildOptions(source=basic_site, now=NOW))
    taken: list[int] = []
    real = BuildCache.save_large_artifact
    monkeypatch.setattr(BuildCache, "save_large_artifact", lambda self, name, key, value, *how: (
        taken.append(len(value)) if name == cache_module.SNAPSHOT else None, real(self, name, key, value, *how))[1])
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert taken == []  # one document the snapshot lacks: read from its row
    documents = stored_documents(basic_site)
    assert len(documents) == len(list((basic_site / "content").rglob("*.md")))
    assert any("补充一句" in doc.text for doc in documents.values())
    monkeypatch.setattr(cache_module, "SNAPSHOT_SLACK", 0)
    path.write_text(path.read_text(encoding="utf-8") + "\n再补一句。\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    documents = stored_documents(basic_site)
    assert taken == [len(documents)]  # drifted past the slack: taken again, of the build's documents
    assert path.relative_to(basic_site).as_posix() in {doc.source for doc in documents.values()}


def _html_in_a_child(doc, queue) -> None:
    queue.put(pickle.loads(doc).html)


def test_a_document_sent_to_another_process_reads_its_texts_there(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    doc = next(iter(stored_documents(basic_site).values()))
    context = multiprocessing.get_context("spawn")  # nothing inherited: the text comes from the cache
    queue = context.Queue()
    child = context.Process(target=_html_in_a_child, args=(pickle.dumps(doc), queue))
    child.start()
    sent = queue.get(timeout=60)
    child.join()
    assert sent == doc.html


def test_a_text_gone_from_the_cache_stops_the_build_with_a_clear_error(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    documents = stored_documents(basic_site)
    with sqlite3.connect(basic_site / CACHE_DIR / "cache.sqlite") as db:
        db.execute("DELETE FROM documents")
    with pytest.raises(SiteError, match="gone from the build cache .* run the build again") as raised:
        assert next(iter(documents.values())).text is None
    sent = pickle.loads(pickle.dumps(raised.value))  # as it reaches the build from a worker
    assert sent.problems == raised.value.problems and str(sent) == str(raised.value)


def test_an_edit_reads_the_texts_of_the_few_entries_it_shows(tmp_path, monkeypatch):
    (tmp_path / "site_config.yaml").write_text("title: 读文本\nfeed_limit: 5\n", encoding="utf-8")
    folder = tmp_path / "content/lessons"
    folder.mkdir(parents=True)
    for n in range(40):
        (folder / f"l{n:02}.md").write_text(f"---\ntitle: 第 {n} 课\ndate: 2026-01-{n % 28 + 1:02} 10:{n:02}\n"
                                           f"tags: [标签{n}]\n---\n\n第 {n} 课的正文，讲一件事。\n", encoding="utf-8")
    build(BuildOptions(source=tmp_path, now=NOW))
    read: list[str] = []
    real = cache_module.StoredBodies.texts
    monkeypatch.setattr(cache_module.StoredBodies, "texts", lambda self, key, answer=None: (
        read.append(key), real(self, key, answer))[1])
    monkeypatch.setenv("KB_WORKERS", "1")  # count in this process
    path = folder / "l00.md"  # the oldest: in no feed but its tag's
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    result = build(BuildOptions(source=tmp_path, now=NOW))
    assert result.write.written >= 1 and read  # the entries it shows beside its own page
    assert len(set(read)) <= 5, len(set(read))


def test_a_damaged_database_is_ignored(tmp_path):
    folder = tmp_path / CACHE_DIR
    folder.mkdir()
    (folder / "cache.sqlite").write_bytes(b"this is not sqlite" * 200)
    cache = BuildCache(folder)
    assert cache.documents() == {}
    assert cache.outputs(tmp_path) == {}
    cache.save_outputs(tmp_path, [("x", FileRecord("k", 1, 1, 1))])  # no exception
    cache.close()


def test_the_serve_memo_rereads_only_changed_files(basic_site, monkeypatch):
    from generator.speed.cache import BuildMemo
    from generator.stages import sources as sources_module

    memo = BuildMemo()
    first = {s.rel_path: s for s in sources_module.read_sources(basic_site, memo.sources)}
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n新的一行。\n", encoding="utf-8")
    second = {s.rel_path: s for s in sources_module.read_sources(basic_site, memo.sources)}
    assert second.keys() == first.keys()
    assert "新的一行" in second["content/qa/ask.md"].text
    assert second["content/qa/ask.md"].digest != first["content/qa/ask.md"].digest
    assert all(second[rel] is first[rel] for rel in first if rel != "content/qa/ask.md")  # not read again
    path.unlink()
    assert "content/qa/ask.md" not in {s.rel_path for s in sources_module.read_sources(basic_site, memo.sources)}


def test_the_serve_memo_gives_the_same_digests_as_a_fresh_count(basic_site):
    from dataclasses import replace

    from generator.build import load_site
    from generator.core.errors import Problems
    from generator.speed.cache import BuildMemo
    from generator.speed.fingerprint import entry_digests

    site = load_site(BuildOptions(source=basic_site, now=NOW), Problems(), {})
    memo = BuildMemo()
    fresh = entry_digests(site.entries)
    assert entry_digests(site.entries, memo.entry_digests) == fresh
    assert entry_digests(site.entries, memo.entry_digests) == fresh  # now from the memo
    changed = replace(site.entries[0], title="另一个标题")
    again = entry_digests((changed, *site.entries[1:]), memo.entry_digests)
    assert again[id(changed)] != fresh[id(site.entries[0])]
    assert len(memo.entry_digests) == len(site.entries)


def test_a_digest_feed_item_is_made_again_only_for_the_week_that_changed(basic_site, monkeypatch):
    import feedparser

    made = counted(monkeypatch, files_module, "digest_item", lambda site, week, renderer: week.url)
    build(BuildOptions(source=basic_site, now=NOW))
    assert len(made) >= 2  # the basic site has several completed weeks
    made.clear()
    build(BuildOptions(source=basic_site, now=NOW, output=basic_site / "other"))  # every item from the cache
    assert made == []
    rules = basic_site / "content/highlights/rules.md"  # dated in 2026-W45, a completed week
    rules.write_text(rules.read_text(encoding="utf-8").replace("title: 群规", "title: 新版群规"), encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert made == ["/digest/2026-W45/"]
    feed = feedparser.parse((basic_site / "output/digest/feed.xml").read_bytes())
    week = next(e for e in feed.entries if e.link.endswith("/digest/2026-W45/"))
    assert "新版群规" in week.content[0].value  # not the stale item of the week
    build(BuildOptions(source=basic_site, now=NOW, output=basic_site / "clean", cache=False))
    assert (basic_site / "output/digest/feed.xml").read_bytes() == (basic_site / "clean/digest/feed.xml").read_bytes()


def test_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again(basic_site):
    from jinja2.bccache import bc_magic

    from tests.helpers import tree

    build(BuildOptions(source=basic_site, now=NOW))
    (folder,) = (basic_site / CACHE_DIR).glob("templates-*")
    compiled = list(folder.iterdir())
    assert compiled
    for number, path in enumerate(compiled):  # the magic kept, what follows damaged in two ways
        path.write_bytes(bc_magic + (b"\x80\x05garbage" if number % 2 else b"garbage" * 10))
    build(BuildOptions(source=basic_site, now=NOW, output=basic_site / "again"))  # every page rendered
    assert tree(basic_site / "again") == tree(basic_site / "output")


def test_a_folder_of_the_cache_belongs_to_one_key(tmp_path):
    cache = BuildCache(tmp_path / CACHE_DIR)
    old = cache.folder_for("templates", "a" * 64)
    (old / "x.cache").write_bytes(b"x")
    new = cache.folder_for("templates", "b" * 64)
    assert new.is_dir() and not old.exists()
    assert BuildCache(tmp_path / CACHE_DIR, readonly=True).folder_for("templates", "b" * 64) is None
    assert BuildCache(None).folder_for("templates", "b" * 64) is None
    cache.close()


def test_a_digest_feed_without_weeks_follows_the_config(tmp_path):
    site = tmp_path / "site"
    (site / "content/lessons").mkdir(parents=True)
    (site / "site_config.yaml").write_text("title: 旧名字\nbase_url: https://example.org/\n", encoding="utf-8")
    (site / "content/lessons/new.md").write_text("---\ntitle: 本周的一条\ndate: 2026-11-20\n---\n\n正文。\n",
                                                 encoding="utf-8")
    build(BuildOptions(source=site, now=NOW))
    assert "旧名字" in (site / "output/digest/feed.xml").read_text(encoding="utf-8")
    (site / "site_config.yaml").write_text("title: 新名字\nbase_url: https://example.org/\n", encoding="utf-8")
    build(BuildOptions(source=site, now=NOW))
    feed = (site / "output/digest/feed.xml").read_text(encoding="utf-8")
    assert "新名字" in feed and "旧名字" not in feed


def counting_reader(monkeypatch) -> list[str]:
    """The texts `kb build` decodes (one per file read); stamps are recorded at once (no settling)."""
    from generator.stages import sources as sources_module

    monkeypatch.setattr(documents_module, "SETTLE_NS", 0)
    monkeypatch.setenv("KB_WORKERS", "1")  # count in this process
    texts: list[str] = []
    real = sources_module._text_of
    monkeypatch.setattr(sources_module, "_text_of", lambda data: texts.append(real(data)) or texts[-1])
    return texts


def test_kb_build_reads_only_the_files_whose_stamp_changed(basic_site, monkeypatch, tmp_path):
    from tests.e2e.test_incremental import clean_build
    from tests.helpers import tree

    read = counting_reader(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW))
    assert len(read) >= 5
    read.clear()
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert len(read) == 1 and "补充一句" in read[0]
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)


def test_a_file_known_by_its_stamp_is_read_when_its_document_is_not_cached(basic_site, monkeypatch, tmp_path):
    from tests.e2e.test_incremental import clean_build
    from tests.helpers import tree

    read = counting_reader(monkeypatch)
    build(BuildOptions(source=basic_site, now=NOW))
    files = len(read)
    cache = BuildCache(basic_site / CACHE_DIR)
    cache.save_documents({}, set())  # the parsed documents are gone, the stamps are not
    cache.close()
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    read.clear()
    build(BuildOptions(source=basic_site, now=NOW))
    assert len(read) == files
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)


def test_feeds_that_output_holds_as_made_are_not_even_loaded(basic_site, monkeypatch, tmp_path):
    from tests.e2e.test_incremental import clean_build
    from tests.helpers import tree

    loaded: list[str] = []
    real = BuildCache.artifact

    def artifact(self, name, key):
        value = real(self, name, key)
        if name.startswith("feed:") and value is not None:
            loaded.append(name)
        return value

    monkeypatch.setattr(BuildCache, "artifact", artifact)
    build(BuildOptions(source=basic_site, now=NOW))
    path = basic_site / "content/qa/ask.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert loaded == []  # the feeds without that entry: kept as they are; those with it: made again
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)
    (basic_site / "output/feed.xml").write_bytes(b"<rss>changed by hand</rss>")  # not the file recorded
    build(BuildOptions(source=basic_site, now=NOW))
    assert "feed:feed.xml" in loaded
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)
