"""Honor rolls, member records and open questions computed for tests/sites/community."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.build import BuildOptions, build
from generator.config import SiteConfig
from generator.core.weeks import parse_week
from generator.derive.community import (
    contributions,
    everyones_rolls,
    honor_roll,
    honor_rolls,
    member_records,
    month_bounds,
    open_questions,
)
from generator.model.records import Answer, Body, Entry, Question, Site
from tests.conftest import NOW, copy_site

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    source = copy_site("community", tmp_path_factory.mktemp("site"))
    return build(BuildOptions(source=source, now=NOW), write=False).site


def rows(roll):
    return [(r.rank, r.who, r.count, r.wrote, r.asked, r.answered, r.accepted) for r in roll]


def test_honor_roll_of_a_week_counts_each_contribution_in_the_sites_timezone(site):
    week = parse_week("2026-W47")
    roll = honor_roll(site, week.start(TZ), week.end(TZ), limit=10)
    # carol's highlight is dated Sunday 20:00 UTC = Monday 04:00 in Shanghai: this week.
    # Ties on (count, accepted) share a rank and are ordered by who contributed first.
    assert rows(roll) == [
        (1, "alice", 2, 1, 0, 1, 1),
        (2, "carol", 2, 1, 1, 0, 0),
        (2, "bob", 2, 1, 0, 1, 0),
        (4, "dave", 1, 0, 1, 0, 0),
        (4, "王老师", 1, 1, 0, 0, 0),
    ]


def test_honor_roll_credits_guests_without_a_member_page(site):
    week = parse_week("2026-W47")
    by_who = {r.who: r for r in honor_roll(site, week.start(TZ), week.end(TZ), limit=10)}
    assert by_who["王老师"].url is None and by_who["王老师"].name == "王老师"
    assert by_who["alice"].url == "/members/alice/" and by_who["alice"].name == "爱丽丝"


def test_honor_roll_of_a_month_and_of_all_time(site):
    start, end = month_bounds(datetime(2026, 11, 21, 12, tzinfo=TZ), TZ)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    # dave's lesson is dated Oct 31 18:00 UTC = Nov 1 02:00 in Shanghai: November.
    assert rows(honor_roll(site, start, end, limit=10)) == [
        (1, "bob", 4, 2, 1, 1, 0),
        (2, "alice", 3, 2, 0, 1, 1),
        (3, "dave", 2, 1, 1, 0, 0),
        (3, "carol", 2, 1, 1, 0, 0),
        (5, "王老师", 1, 1, 0, 0, 0),
    ]
    assert rows(honor_roll(site, None, None, limit=10)) == [
        (1, "bob", 5, 2, 1, 2, 1),
        (2, "carol", 5, 2, 2, 1, 0),
        (3, "alice", 3, 2, 0, 1, 1),
        (4, "dave", 3, 1, 2, 0, 0),
        (5, "王老师", 1, 1, 0, 0, 0),
    ]


def test_honor_roll_limit_and_empty_period(site):
    assert [r.who for r in honor_roll(site, None, None, limit=2)] == ["bob", "carol"]
    week = parse_week("2026-W30")
    assert honor_roll(site, week.start(TZ), week.end(TZ)) == []


def test_honor_rolls_are_this_week_this_month_and_all_time(site):
    rolls = honor_rolls(site, limit=3)
    assert [r.key for r in rolls] == ["week", "month", "all"]
    assert rolls[0].start.isoformat() == "2026-11-16T00:00:00+08:00"
    assert str(rolls[0].last_day) == "2026-11-22" and str(rolls[1].last_day) == "2026-11-30"
    assert rolls[2].start is None and rolls[2].last_day is None
    assert [len(r.rows) for r in rolls] == [3, 3, 3]


def test_month_bounds_wrap_the_year():
    start, end = month_bounds(datetime(2026, 12, 31, 23, tzinfo=TZ), TZ)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-12-01", "2027-01-01")


def test_contributions_use_the_answer_date_and_come_oldest_first(site):
    events = contributions(site)
    assert [c.date for c in events] == sorted(c.date for c in events)
    answer = next(c for c in events if c.who == "alice" and c.kind == "answered")
    assert answer.date.isoformat() == "2026-11-16T00:00:00+08:00" and answer.accepted


def test_member_records(site):
    records = member_records(site)
    alice = records["alice"]
    assert [e.slug for e in alice.highlights] == ["h1", "h2"]
    assert [(a.entry.slug, a.answer.accepted) for a in alice.answers] == [("q1", True)]
    assert alice.accepted == 1 and alice.count == 3
    assert (alice.first.kind, alice.first.entry.slug) == ("wrote", "h2")
    carol = records["carol"]
    assert [e.slug for e in carol.asked] == ["q5", "q2"]
    assert [e.slug for e in carol.lessons] == ["l1"]
    assert (carol.first.kind, carol.first.entry.slug) == ("answered", "q4")
    assert records["王老师"].lessons[0].slug == "l2"


def test_open_questions_oldest_first_with_days_waited(site):
    waiting = [(q.entry.slug, q.waited_days) for q in open_questions(site)]
    # q4 has an answer but `status: open`; q5 was asked three hours before "now".
    assert waiting == [("q4", 81), ("q3", 11), ("q5", 0)]


# --- Properties over random sites -------------------------------------------------------------

PEOPLE = ("ann", "ben", "cai", "客人")
START = datetime(2026, 9, 1, tzinfo=TZ)


@st.composite
def random_sites(draw) -> Site:
    entries = []
    for n in range(draw(st.integers(0, 12))):
        when = START + timedelta(hours=draw(st.integers(0, 24 * 80)))
        section = draw(st.sampled_from(("highlights", "qa", "lessons")))
        question = None
        if section == "qa":
            answers = tuple(Answer(draw(st.sampled_from(PEOPLE)), Body(), when + timedelta(hours=draw(st.integers(0, 200))),
                                   accepted=(i == 0 and draw(st.booleans())))
                            for i in range(draw(st.integers(0, 3))))
            question = Question(draw(st.sampled_from((None, *PEOPLE))), answers)
        authors = tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True)))
        entries.append(Entry(section=section, slug=f"e{n}", url=f"/{section}/e{n}/", source=f"content/{section}/e{n}.md",
                             title=f"e{n}", date=when, body=Body(), summary="", reading_minutes=1,
                             authors=authors, question=question))
    entries.sort(key=lambda e: (-e.date.timestamp(), e.url))
    return Site(config=SiteConfig(), now=START + timedelta(days=90), entries=tuple(entries))


@settings(max_examples=60, deadline=None)
@given(random_sites())
def test_weekly_rolls_add_up_to_the_all_time_roll(site):
    everyone = {r.who: r for r in honor_roll(site, None, None, limit=100)}
    assert sum(r.count for r in everyone.values()) == len(contributions(site))
    week = parse_week("2026-W35")  # the week of START
    summed: dict[str, int] = {}
    events = contributions(site)
    for _ in range(15):
        roll = honor_roll(site, week.start(TZ), week.end(TZ), limit=100, events=events)
        assert roll == honor_roll(site, week.start(TZ), week.end(TZ), limit=100)
        for row in roll:
            summed[row.who] = summed.get(row.who, 0) + row.count
        week = week.shifted(1)
    assert summed == {who: r.count for who, r in everyone.items()}


@settings(max_examples=60, deadline=None)
@given(random_sites(), st.integers(1, 4))
def test_ranks_follow_the_order_and_ties_share_them(site, limit):
    roll = honor_roll(site, None, None, limit=limit)
    assert len(roll) <= limit
    keys = [(r.count, r.accepted) for r in roll]
    assert keys == sorted(keys, reverse=True)
    for position, (row, key) in enumerate(zip(roll, keys, strict=True), start=1):
        assert row.rank == (roll[position - 2].rank if position > 1 and keys[position - 2] == key else position)
        assert row.count == row.wrote + row.asked + row.answered and row.accepted <= row.answered


@settings(max_examples=60, deadline=None)
@given(random_sites(), st.integers(1, 4))
def test_a_roll_of_everyone_cut_to_its_first_rows_is_the_roll_of_that_many(site, limit):
    """What the home and members pages show: the rolls of everyone, made once, cut to their first rows."""
    from generator.derive.pages import home_page

    events = contributions(site)
    everyone = everyones_rolls(site, events)
    assert [roll.first(limit) for roll in everyone] == honor_rolls(site, limit=limit)
    assert home_page(site, everyone, open_questions(site)).context["honor_rolls"] == honor_rolls(site)
