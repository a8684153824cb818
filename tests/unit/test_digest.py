"""Weekly digests: which week an entry lands in, what a week's digest holds, the pages."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from generator.build import BuildOptions, load_site
from generator.core.errors import Problems
from generator.core.weeks import Week
from generator.derive.digest import answered_at, digest_pages, site_digests, week_digest, week_index
from tests.conftest import NOW, copy_site

W45, W46, W47 = Week(2026, 45), Week(2026, 46), Week(2026, 47)


@pytest.fixture
def weeks_site(tmp_path: Path):
    return load_site(BuildOptions(source=copy_site("weeks", tmp_path), now=NOW), Problems(), {})


def titles(entries) -> set[str]:
    return {e.title for e in entries}


def test_sunday_late_and_monday_early_in_shanghai_land_in_their_own_weeks(weeks_site):
    index = week_index(weeks_site)
    assert "周日深夜的讨论" in titles(index.new[W46])  # Sunday 23:40 +08:00
    assert "周一凌晨的经验" in titles(index.new[W47])  # Monday 00:10 +08:00
    assert "周日深夜的讨论" not in titles(index.new[W47])


def test_dates_with_another_offset_are_seen_from_the_site_timezone(weeks_site):
    index = week_index(weeks_site)
    # 2026-11-15T15:50+00:00 is Sunday 23:50 in Shanghai; 20:30+00:00 is already Monday 04:30.
    assert 'Title with <b>tags</b> & "quotes" and 符号' in titles(index.new[W46])
    assert "UTC Sunday evening is Monday in Shanghai" in titles(index.new[W47])


def test_week_digest_sections(weeks_site):
    d = week_digest(weeks_site, W46)
    assert titles(d.highlights) == {"周日深夜的讨论", 'Title with <b>tags</b> & "quotes" and 符号'}
    assert d.lessons == ()
    # answered by its (undated) answer → the entry's own date; the other was answered in W47
    assert titles(d.answered) == {"回答没写日期的问题"}
    assert titles(d.open_questions) == {"周日问的问题，下周才有人回答", "至今没人回答的问题"}
    assert d.open_total == 2
    assert not d.in_progress
    assert "管理员寄语" in d.note
    assert 'href="/kb/highlights/sunday-late/"' in d.note  # a note's .md links resolve like an entry's


def test_answer_date_decides_the_week_a_question_was_answered(weeks_site):
    d = week_digest(weeks_site, W47)
    assert titles(d.answered) == {"周日问的问题，下周才有人回答"}
    assert titles(d.open_questions) == {"至今没人回答的问题"}
    assert d.in_progress  # now is Saturday 2026-11-21


def test_counts_compare_with_the_previous_week(weeks_site):
    d = week_digest(weeks_site, W47)
    assert d.counts.entries == 3  # monday-early, utc-monday, this-week
    assert d.counts.answers == 1
    assert d.previous_counts == week_digest(weeks_site, W46).counts
    assert d.previous_counts.entries == 5


def test_contributors_and_tags(weeks_site):
    d = week_digest(weeks_site, W46)
    people = dict(d.contributors)
    # alice wrote one entry and asked one question; bob asked one and answered one; carol wrote one, asked one
    assert people == {"alice": 2, "bob": 2, "carol": 2}
    assert [tag.name for tag, _ in d.top_tags][0] == "活跃度"
    assert dict((tag.name, n) for tag, n in d.top_tags)["活跃度"] == 2


def test_this_week_in_past_years(weeks_site):
    d = week_digest(weeks_site, W46)
    assert [(year, titles(entries)) for year, entries in d.past_years] == [(2025, {"去年同一周的精华"})]
    assert week_digest(weeks_site, W47).past_years == ()


def test_prev_next_skip_weeks_without_activity(weeks_site):
    digests = site_digests(weeks_site)
    labels = [d.week.label for d in digests]
    assert labels == ["2025-W46", "2026-W46", "2026-W47"]
    assert digests[1].prev_week == Week(2025, 46) and digests[1].next_week == W47
    assert digests[0].prev_week is None and digests[-1].next_week is None


def test_empty_week(weeks_site):
    d = week_digest(weeks_site, W45)
    assert d.is_empty and d.counts.entries == 0 and d.past_years == ()


def test_digest_pages_urls_and_in_progress(weeks_site):
    pages = {p.url: p for p in digest_pages(weeks_site, site_digests(weeks_site))}
    assert set(pages) == {"/digest/", "/digest/2025-W46/", "/digest/2026-W46/", "/digest/2026-W47/"}
    assert pages["/digest/"].context["current"].week == W47
    assert pages["/digest/"].context["latest"].week == W46
    years = pages["/digest/"].context["years"]
    assert [year for year, _ in years] == [2026, 2025]  # newest first
    assert years[0][1][0][0] == (2026, 11)


def test_no_week_after_now(weeks_site, tmp_path):
    earlier = load_site(BuildOptions(source=copy_site("weeks", tmp_path / "x"), now="2026-11-15T23:45:00+08:00"),
                        Problems(), {})
    labels = [d.week.label for d in site_digests(earlier)]
    assert labels[-1] == "2026-W46"
    assert site_digests(earlier)[-1].in_progress
    assert earlier.now == datetime.fromisoformat("2026-11-15T23:45:00+08:00")


def test_the_week_in_progress_is_shown_before_its_first_entry(tmp_path):
    monday = load_site(BuildOptions(source=copy_site("weeks", tmp_path), now="2026-11-23T09:00:00+08:00"),
                       Problems(), {})
    last = site_digests(monday)[-1]
    assert last.week == Week(2026, 48) and last.in_progress and last.is_empty
    assert last.prev_week == W47 and not week_digest(monday, W47).in_progress
    assert titles(last.open_questions) == {"至今没人回答的问题"}  # still asking for help


@pytest.mark.parametrize("seed", range(4))
def test_open_questions_at_each_weeks_end_are_those_asked_before_it_and_answered_after(seed):
    import random
    from datetime import timedelta
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from generator.derive.digest import OPEN_SHOWN
    from generator.model.records import Answer, Body, Entry, Question

    rng, tz = random.Random(seed), ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 1, 1, tzinfo=tz)
    entries = []
    for k in range(rng.randint(0, 120)):
        asked = start + timedelta(hours=rng.randrange(24 * 7 * 20))
        if rng.random() < 0.3:  # midnight: some fall exactly on a week's end
            asked = asked.replace(hour=0)
        answers = tuple(Answer("a", Body(), asked + timedelta(days=rng.randint(-3, 40)), accepted=rng.random() < 0.3)
                        for _ in range(rng.choice([0, 0, 1, 2])))
        entries.append(Entry(section="qa", slug=f"q{k}", url=f"/qa/q{k}/", source=f"content/qa/q{k}.md", title=f"q{k}",
                             date=asked, body=Body(), summary="", reading_minutes=1,
                             question=Question(None, answers, forced_open=rng.random() < 0.1)))
    entries.sort(key=lambda e: (-e.date.timestamp(), e.url))  # as the site holds them: newest first
    site = SimpleNamespace(config=SimpleNamespace(tz=tz, week_start=1), now=start + timedelta(days=150),
                           entries=tuple(entries), notes={})
    index = week_index(site)
    for number in range(1, 23):
        digest = week_digest(site, Week(2026, number), index)
        end = Week(2026, number).end(tz)
        still_open = [e for e in entries if e.date < end and (answered_at(e) is None or answered_at(e) >= end)]
        assert digest.open_total == len(still_open)
        assert list(digest.open_questions) == still_open[:OPEN_SHOWN]


def test_the_first_and_last_weeks_of_the_calendar_have_digests(weeks_site):
    """0001-W01 has no week before it, 9999-W52 no Monday after it: neither is an OverflowError."""
    first, last = week_digest(weeks_site, Week(1, 1)), week_digest(weeks_site, Week(9999, 52))
    assert first.is_empty and first.previous_counts.entries == 0 and not first.in_progress
    assert last.is_empty and last.in_progress and last.prev_week is not None and last.next_week is None
    assert first.prev_week is None and first.next_week is not None
