"""The activity review's numbers for tests/sites/community, checked exactly."""
from __future__ import annotations

import pytest

from generator.build import BuildOptions, build
from generator.core.i18n import translator
from generator.derive.community import contributions, honor_roll
from generator.derive.stats import (
    MAX_PERIODS,
    activity_periods,
    activity_review,
    days_to_answer,
    duration_text,
    review_charts,
)
from tests.conftest import NOW, copy_site
from tests.helpers import page


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    source = copy_site("community", tmp_path_factory.mktemp("site"))
    return build(BuildOptions(source=source, now=NOW), write=False).site


@pytest.fixture(scope="module")
def review(site):
    return activity_review(site, contributions(site), recent_weeks=4)


def test_weekly_numbers(review):
    table = [(w.week.label, w.entries, w.asked, w.answered, w.contributors) for w in review.weeks]
    assert table == [
        ("2026-W44", {"highlights": 0, "qa": 0, "lessons": 1}, 0, 0, 1),
        ("2026-W45", {"highlights": 1, "qa": 0, "lessons": 0}, 0, 0, 2),
        ("2026-W46", {"highlights": 0, "qa": 1, "lessons": 0}, 1, 0, 1),
        ("2026-W47", {"highlights": 2, "qa": 2, "lessons": 1}, 2, 1, 5),
    ]
    assert [w.total for w in review.weeks] == [1, 1, 1, 5]


def test_questions_and_time_to_answer(review):
    assert (review.entries, review.questions, review.answered, review.accepted, review.open) == (11, 5, 2, 2, 3)
    assert review.answered_share == 40
    # q1: asked 08:00, answered "2026-11-16" (same calendar day) → 0; q2: Oct 5 → Oct 8 → 3.
    # q4 has an answer but is kept open, so it does not count.
    assert review.days_to_answer == (0, 3)
    assert review.median_days_to_answer == 1.5
    assert review.answer_buckets == (("same_day", 1), ("next_day", 0), ("d2_3", 1), ("d4_7", 0), ("over_week", 0))


def test_new_contributors_per_month_and_top_tags(review):
    assert [m.entries for m in review.periods] == [{"highlights": 0, "qa": 1, "lessons": 0},
                                                  {"highlights": 0, "qa": 1, "lessons": 1},
                                                  {"highlights": 3, "qa": 3, "lessons": 2}]
    assert [(m.label, m.new_contributors) for m in review.periods] == [
        ("2026-09", ("carol", "dave")), ("2026-10", ("bob",)), ("2026-11", ("alice", "王老师")),
    ]
    assert review.contributors == 5
    assert [(tag.name, n) for tag, n in review.top_tags] == [("新人", 2), ("活跃度", 2), ("复盘", 1)]


def test_days_to_answer_is_none_without_dated_answers(site):
    open_question = next(e for e in site.entries if e.slug == "q3")
    assert days_to_answer(open_question, site.config.tz) is None


def test_duration_text():
    t = translator("zh-CN")
    assert [duration_text(d, t) for d in (None, 0, 1, 1.5)] == ["—", "当天", "1 天", "1.5 天"]


def test_charts_carry_the_same_numbers_as_the_review(site, review):
    charts = {c.id: c for c in review_charts(site, review, honor_roll(site, None, None, limit=10))}
    assert set(charts) == {"entries-per-week", "asked-answered", "time-to-answer", "top-tags",
                           "contributors-per-week", "entries-per-month", "top-contributors", "new-contributors"}
    assert charts["entries-per-week"].totals == (1, 1, 1, 5)
    assert [s.values for s in charts["asked-answered"].series] == [(0, 0, 1, 2), (0, 0, 0, 1)]
    assert charts["new-contributors"].rows == [("2026-09", (2,)), ("2026-10", (1,)), ("2026-11", (2,))]
    assert charts["contributors-per-week"].series[0].values == (1, 2, 1, 5)
    # dave's lesson of Oct 31 18:00 UTC is November in Shanghai
    assert charts["entries-per-month"].rows == [("2026-09", (0, 1, 0)), ("2026-10", (0, 1, 1)), ("2026-11", (3, 3, 2))]
    top = charts["top-contributors"]
    assert top.labels == ("鲍勃", "Carol", "爱丽丝", "大卫", "王老师")
    assert [s.key for s in top.series] == ["wrote", "answered", "asked"] and top.totals == (5, 5, 3, 3, 1)


def columns(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[str, int]]:
    """The labels of the columns since the start, with the entries each holds (one in the first month)."""
    periods = activity_periods({}, {first: {"highlights": 0, "qa": 1, "lessons": 0}}, last)
    return [(p.label, sum(p.entries.values())) for p in periods]


def test_columns_since_the_start_are_months_while_they_fit_then_years():
    assert [label for label, _ in columns((2022, 12), (2026, 11))] == [f"{y}-{m:02d}" for y in range(2022, 2027)
                                                                          for m in range(1, 13)][11:-1]  # 48 months
    assert columns((2022, 11), (2026, 11)) == [("2022", 1), ("2023", 0), ("2024", 0), ("2025", 0), ("2026", 0)]
    archive = columns((1995, 3), (2026, 11))
    assert [label for label, _ in archive] == [str(y) for y in range(1995, 2027)] and archive[0] == ("1995", 1)
    widest = columns((1970, 1), (2100, 12))
    assert len(widest) == 44 <= MAX_PERIODS
    assert widest[0] == ("1970–1972", 1) and widest[-1] == ("2099–2101", 0)
    assert columns((2027, 1), (2026, 11)) == []  # everything after now


@pytest.fixture(scope="module")
def far_apart(tmp_path_factory):
    """The community site with one entry in 1970 and one in 2100, built on the last day of 2100: output."""
    source = copy_site("community", tmp_path_factory.mktemp("far"))
    for slug, day, who in (("first", "1970-01-01 08:00", "alice"), ("last", "2100-12-30 08:00", "bob")):
        (source / f"content/lessons/{slug}.md").write_text(
            f"---\ntitle: {slug}\ndate: {day}\nauthors: [{who}]\n---\n\n正文。\n", encoding="utf-8")
    build(BuildOptions(source=source, now="2100-12-31T12:00:00+08:00"))
    return source / "output"


def test_stats_of_a_site_spanning_131_years_draw_at_most_max_periods_columns(far_apart, tmp_path):
    stats = page(far_apart, "/stats/")
    for figure in stats.select("figure.chart"):
        assert len(figure.select("tbody tr")) <= MAX_PERIODS, figure["id"]
        assert len(figure.select("svg rect")) <= MAX_PERIODS * 3, figure["id"]
    entries = stats.select_one("figure#entries-per-month")
    assert entries.h2.get_text() == "建站以来每 3 年新增内容"
    rows = {row.th.get_text(): [int(td.get_text()) for td in row.select("td")] for row in entries.select("tbody tr")}
    assert rows["1970–1972"] == [0, 0, 1, 1] and rows["2099–2101"] == [0, 0, 1, 1]  # highlights, qa, lessons, total
    near = copy_site("community", tmp_path)
    build(BuildOptions(source=near, now=NOW))
    assert (far_apart / "stats/index.html").stat().st_size < 1.5 * (near / "output/stats/index.html").stat().st_size


def test_digests_archive_start_and_honor_roll_of_that_site_follow_its_entries_not_its_years(far_apart):
    """The pages beside /stats/ that count time: a page per week or year with entries, none for the years between."""
    import json

    digests = sorted(p.name for p in (far_apart / "digest").iterdir() if p.is_dir())
    assert digests[0] == "1970-W01" and digests[-1] == "2100-W52" and len(digests) == 9
    assert sorted(p.name for p in (far_apart / "archive").iterdir() if p.is_dir()) == ["1970", "2026", "2100"]
    index = json.loads((far_apart / "start/entries.json").read_text(encoding="utf-8"))
    assert len(index["entries"]) == 13 and sorted(index["weeks"]) == digests
    week_roll = page(far_apart, "/").select(".honor-card")[0]
    assert "2100-12-27 – 2101-01-02" in week_roll.get_text(" ", strip=True)
