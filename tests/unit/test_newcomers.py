"""/start/: must-reads in curated order and the catch-up index written at build time."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.build import BuildOptions, build, load_site
from generator.core.errors import Problems
from generator.derive.digest import digest_weeks
from generator.derive.newcomers import catchup_index, start_files, start_page
from tests.conftest import NOW, copy_site


@pytest.fixture
def site(tmp_path: Path):
    return load_site(BuildOptions(source=copy_site("weeks", tmp_path), now=NOW), Problems(), {})


def test_must_reads_in_curated_order(site):
    page = start_page(site)
    assert page.url == "/start/"
    assert [e.title for e in page.context["pinned"]] == ["去年同一周的精华", "周日深夜的讨论"]  # weight 1, 2


def test_index_days_and_weeks_are_in_the_site_timezone(site):
    index = catchup_index(site, digest_weeks(site))
    by_title = {e["title"]: e for e in index["entries"]}
    assert by_title["UTC Sunday evening is Monday in Shanghai"]["day"] == "2026-11-16"
    assert by_title["UTC Sunday evening is Monday in Shanghai"]["week"] == "2026-W47"
    assert by_title["周日深夜的讨论"]["week"] == "2026-W46"
    assert by_title["周日深夜的讨论"]["url"] == "/kb/highlights/sunday-late/"
    assert [e["date"] for e in index["entries"]] == sorted((e["date"] for e in index["entries"]), reverse=True)
    assert index["weeks"]["2026-W47"]["in_progress"] is True
    assert index["weeks"]["2026-W46"] == {"title": "2026 年第 46 周", "range": "11 月 9 日–11 月 15 日",
                                          "url": "/kb/digest/2026-W46/", "in_progress": False}


def test_index_file_is_compact_deterministic_json(site):
    [first] = start_files(site, digest_weeks(site))
    [second] = start_files(site, digest_weeks(site))
    assert first.path == "start/entries.json" and first.data == second.data
    assert len(json.loads(first.data)["entries"]) == len(site.entries)


def test_start_page_is_built_with_the_catchup_form(tmp_path: Path):
    source = copy_site("weeks", tmp_path)
    build(BuildOptions(source=source, now=NOW))
    from html.parser import HTMLParser

    found: dict[str, dict] = {}

    class Ids(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "id" in a:
                found[a["id"]] = a

    Ids().feed((source / "output" / "start" / "index.html").read_text(encoding="utf-8"))
    assert found["catchup-date"]["type"] == "date"
    assert found["catchup"]["data-index"] == "/kb/start/entries.json"
    assert (source / "output" / "start" / "entries.json").exists()
    assert (source / "output" / "assets" / "catchup.js").exists()


def test_the_weeks_of_the_index_are_those_of_the_digests(site):
    from generator.derive.digest import site_digests

    assert digest_weeks(site) == [d.week for d in site_digests(site)]
