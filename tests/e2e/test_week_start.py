"""`week_start: sunday` (tests/sites/sunday): every page that cuts weeks cuts them on Sunday 00:00 in
the site's timezone, and names each week by the ISO week of its Thursday.

The site's entries sit on Saturday 14 and Sunday 15 November 2026 in Shanghai: one ISO week
(2026-W46, Monday 9 to Sunday 15), but two weeks that start on Sunday (8–14: W46, 15–21: W47).
"""
from __future__ import annotations

import json

import feedparser
import pytest

from generator.build import BuildOptions, build
from generator.commands.cli import main
from tests.conftest import copy_site
from tests.helpers import page

MONDAY = "2026-11-16T10:00:00+08:00"  # the second day of the week that starts on Sunday 15 November
SATURDAY_NIGHT, SUNDAY_MORNING = "/highlights/saturday-night/", "/highlights/sunday-morning/"
UTC_SATURDAY, ASKED_SATURDAY = "/lessons/utc-saturday/", "/qa/asked-saturday/"


@pytest.fixture(scope="module")
def sunday(tmp_path_factory):
    source = copy_site("sunday", tmp_path_factory.mktemp("sunday"))
    build(BuildOptions(source=source, now=MONDAY))
    return source


def listed(output, url: str) -> dict[str, list[str]]:
    """A digest page's parts (new highlights, answered, …) with the URLs of the entries each lists."""
    doc = page(output, url)
    return {part["aria-labelledby"]: [li["data-url"] for li in part.select("li[data-url]")]
            for part in doc.select("section.digest-part") if part.select("li[data-url]")}


def test_saturday_night_and_sunday_morning_fall_in_two_weeks(sunday):
    output = sunday / "output"
    assert listed(output, "/digest/2026-W46/") == {"digest_new_highlights": [SATURDAY_NIGHT],
                                                   "digest_open": [ASKED_SATURDAY]}
    assert listed(output, "/digest/2026-W47/") == {"digest_new_highlights": [SUNDAY_MORNING],
                                                   "digest_new_lessons": [UTC_SATURDAY],
                                                   "digest_answered": [ASKED_SATURDAY]}
    first = page(output, "/digest/2026-W47/").select_one("main time")
    assert (first["datetime"], first.get_text()) == ("2026-11-15", "Nov 15 – Nov 21")
    index = page(output, "/digest/")
    assert [a["href"] for a in index.select(".digest-weeks a")] == ["/digest/2026-W47/", "/digest/2026-W46/"]


def test_with_a_monday_start_the_same_entries_share_one_week(tmp_path):
    source = copy_site("sunday", tmp_path)
    config = source / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("week_start: sunday", "week_start: monday"),
                      encoding="utf-8")
    build(BuildOptions(source=source, now=MONDAY))
    assert sorted(p.name for p in (source / "output/digest").iterdir() if p.is_dir()) == ["2026-W46", "2026-W47"]
    parts = listed(source / "output", "/digest/2026-W46/")
    assert parts["digest_new_highlights"] == [SUNDAY_MORNING, SATURDAY_NIGHT]
    assert parts["digest_new_lessons"] == [UTC_SATURDAY] and parts["digest_answered"] == [ASKED_SATURDAY]


def test_kb_digest_prints_the_weeks_the_site_cuts(sunday, capsys):
    assert main(["digest", "--source", str(sunday), "--now", MONDAY, "--format", "md"]) == 0
    last = capsys.readouterr().out
    assert "Week 46, 2026" in last and "*Nov 8 – Nov 14*" in last
    assert SATURDAY_NIGHT in last and SUNDAY_MORNING not in last
    assert main(["digest", "--source", str(sunday), "--now", MONDAY, "--week", "2026-W47", "--format", "md"]) == 0
    this = capsys.readouterr().out
    assert "(In progress)" in this and SUNDAY_MORNING in this and SATURDAY_NIGHT not in this
    assert main(["digest", "--source", str(sunday), "--now", MONDAY, "--week", "2026-W48"]) == 2
    assert "2026-W48 has not started yet (this week is 2026-W47)" in capsys.readouterr().err


def test_this_weeks_honor_roll_starts_on_sunday(sunday):
    week = page(sunday / "output", "/").select("section.honor-card")[0]
    assert week.select_one(".honor-range").get_text() == "2026-11-15 – 2026-11-21"
    assert [person.get_text() for person in week.select(".honor-who > .person")] == ["Bob"]  # Alice asked on Saturday


def test_weekly_charts_of_stats_have_a_column_per_week_from_sunday(sunday):
    figure = page(sunday / "output", "/stats/").select_one("figure#entries-per-week")
    rows = {row.th.get_text(): [int(td.get_text()) for td in row.select("td")] for row in figure.select("tbody tr")}
    assert list(rows)[-2:] == ["2026-W46（11-08）", "2026-W47（11-15）"]
    assert rows["2026-W46（11-08）"] == [1, 1, 0, 2] and rows["2026-W47（11-15）"] == [1, 0, 1, 2]  # highlights, qa, lessons


def test_start_pages_index_groups_entries_by_the_sites_weeks(sunday):
    index = json.loads((sunday / "output/start/entries.json").read_text(encoding="utf-8"))
    weeks = {entry["url"]: entry["week"] for entry in index["entries"]}
    assert weeks == {SATURDAY_NIGHT: "2026-W46", ASKED_SATURDAY: "2026-W46",
                     SUNDAY_MORNING: "2026-W47", UTC_SATURDAY: "2026-W47"}
    assert index["weeks"]["2026-W46"] == {"title": "Week 46, 2026", "range": "Nov 8 – Nov 14",
                                          "url": "/digest/2026-W46/", "in_progress": False}


def test_the_digest_feed_holds_each_completed_week_from_its_end(sunday):
    feed = feedparser.parse((sunday / "output/digest/feed.xml").read_bytes())
    assert [(item.link, item.published) for item in feed.entries] == [
        ("https://sunday.example.org/digest/2026-W46/", "Sun, 15 Nov 2026 00:00:00 +0800")]
