"""The activity review's numbers for tests/sites/community, checked exactly."""
from __future__ import annotations

import pytest

from generator.build import BuildOptions, build
from generator.i18n import translator
from generator.stats import activity_review, days_to_answer, duration_text, review_charts
from tests.conftest import NOW, copy_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    source = copy_site("community", tmp_path_factory.mktemp("site"))
    return build(BuildOptions(source=source, now=NOW), write=False).site


@pytest.fixture(scope="module")
def review(site):
    return activity_review(site, recent_weeks=4)


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
    assert [m.entries for m in review.months] == [{"highlights": 0, "qa": 1, "lessons": 0},
                                                  {"highlights": 0, "qa": 1, "lessons": 1},
                                                  {"highlights": 3, "qa": 3, "lessons": 2}]
    assert [(m.label, m.new_contributors) for m in review.months] == [
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
    charts = {c.id: c for c in review_charts(site, review)}
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
