"""Weeks: total over every date Python can hold, whatever day they start on, each named by the ISO
week of its Thursday; labels parsed with messages that say the fix."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.core.weeks import (
    SUNDAY,
    Week,
    is_complete,
    last_completed_week,
    parse_week,
    week_of,
    week_of_date,
    year_problem,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = Week(1, 1), Week(9999, 52)


def test_the_first_and_last_weeks_a_date_can_hold_have_every_property():
    assert week_of_date(date.min) == FIRST and week_of_date(date.max) == LAST
    assert FIRST.shifted(-1) == FIRST and LAST.shifted(1) == LAST  # the calendar stops there
    assert FIRST.shifted(1) == Week(1, 2) and LAST.shifted(-1) == Week(9999, 51)
    assert LAST.last_day == date.max and LAST.end(SHANGHAI) == datetime.max.replace(tzinfo=SHANGHAI)
    assert FIRST.start(SHANGHAI) == datetime(1, 1, 1, tzinfo=SHANGHAI) and FIRST.label == "0001-W01"
    now = datetime(2026, 11, 21, 12, tzinfo=SHANGHAI)
    assert is_complete(FIRST, now, SHANGHAI) and not is_complete(LAST, now, SHANGHAI)
    assert last_completed_week(datetime(1, 1, 3, tzinfo=SHANGHAI), SHANGHAI) == FIRST


def test_moments_at_the_ends_of_the_calendar_fall_in_its_first_and_last_weeks():
    east, west = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    assert week_of(datetime.max.replace(tzinfo=UTC), east) == LAST  # 10000-01-01 in Kiribati
    assert week_of(datetime.min.replace(tzinfo=UTC), west) == FIRST  # year 0 on Baker Island
    assert week_of(datetime.min.replace(tzinfo=UTC), SHANGHAI) == FIRST


@settings(max_examples=300, deadline=None)
@given(st.dates(), st.integers(min_value=-10**30, max_value=10**30))
def test_shifting_any_week_by_any_number_is_a_week_of_the_calendar(day, weeks):
    week = week_of_date(day)
    shifted = week.shifted(weeks)
    assert FIRST <= shifted <= LAST
    try:
        expected = week_of_date(week.first_day + timedelta(weeks=weeks))
    except OverflowError:
        expected = FIRST if weeks < 0 else LAST
    assert shifted == expected
    assert shifted.start(UTC) < shifted.end(UTC) and shifted.first_day <= shifted.last_day


def test_week_labels_are_parsed_with_messages_that_say_the_fix():
    assert parse_week(" 2026-W47 ") == Week(2026, 47) and parse_week("2020-W53") == Week(2020, 53)
    with pytest.raises(ValueError, match="^2026 has no week 54: its weeks are 2026-W01 to 2026-W53$"):
        parse_week("2026-W54")
    with pytest.raises(ValueError, match="^2025 has no week 53: its weeks are 2025-W01 to 2025-W52$"):
        parse_week("2025-W53")
    with pytest.raises(ValueError, match="2026 has no week 0"):
        parse_week("2026-W00")
    for label in ("0001-W01", "0000-W01", "9999-W52"):
        with pytest.raises(ValueError, match=f'^"{label}" is not a week kb can show \\(kb takes years 1970 to 2100\\)'):
            parse_week(label)
    for label in ("2026-47", "２０２６-W47", "2026-W4"):
        with pytest.raises(ValueError, match="write it as 2026-W47"):
            parse_week(label)


def test_years_outside_1970_to_2100_are_named_as_mistakes():
    assert year_problem(date(1970, 1, 1), "x") is None and year_problem(date(2100, 12, 31), "x") is None
    assert year_problem(date(1, 1, 1), "0001-01-01") == (
        '"0001-01-01" is before 1970, so it looks like an unset date: write the real date (kb takes years 1970 to 2100)')
    assert "is after 2100" in year_problem(datetime(2101, 1, 1), "2101-01-01")


def test_saturday_night_and_sunday_morning_in_shanghai_are_two_weeks_only_when_weeks_start_on_sunday():
    saturday, sunday = datetime(2026, 11, 14, 23, 30, tzinfo=SHANGHAI), datetime(2026, 11, 15, 8, tzinfo=SHANGHAI)
    assert week_of(saturday, SHANGHAI) == week_of(sunday, SHANGHAI) == Week(2026, 46)
    assert week_of(saturday, SHANGHAI, SUNDAY) == Week(2026, 46, SUNDAY)
    assert week_of(sunday, SHANGHAI, SUNDAY) == Week(2026, 47, SUNDAY)
    assert week_of(datetime(2026, 11, 14, 17, 30, tzinfo=UTC), SHANGHAI, SUNDAY).label == "2026-W47"  # Sunday in Shanghai
    week = Week(2026, 47, SUNDAY)
    assert (week.first_day, week.last_day) == (date(2026, 11, 15), date(2026, 11, 21))
    assert week.start(SHANGHAI) == datetime(2026, 11, 15, tzinfo=SHANGHAI) and week.end(SHANGHAI) == datetime(2026, 11, 22, tzinfo=SHANGHAI)
    assert last_completed_week(datetime(2026, 11, 16, 10, tzinfo=SHANGHAI), SHANGHAI, SUNDAY) == Week(2026, 46, SUNDAY)
    assert parse_week("2026-W47", SUNDAY) == week


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2099, 12, 31)), st.integers(min_value=1, max_value=7))
def test_a_week_starting_on_any_weekday_holds_seven_days_and_is_named_by_its_thursday(day, starts_on):
    week = week_of_date(day, starts_on)
    assert week.first_day <= day <= week.last_day and week.first_day.isoweekday() == starts_on
    assert (week.last_day - week.first_day).days == 6 and week.first_day <= week.thursday <= week.last_day
    assert week.label == "{:04d}-W{:02d}".format(*week.thursday.isocalendar()[:2]) and parse_week(week.label, starts_on) == week
    assert week.start(SHANGHAI) == datetime.combine(week.first_day, time(), SHANGHAI)
    assert week.end(SHANGHAI) == week.shifted(1).start(SHANGHAI) and week.shifted(-1).shifted(1) == week


def test_the_ends_of_the_calendar_have_weeks_whatever_day_they_start_on():
    for starts_on in range(1, 8):
        first, last = week_of_date(date.min, starts_on), week_of_date(date.max, starts_on)
        assert (first.label, last.label) == ("0001-W01", "9999-W52")
        assert first.shifted(-1) == first and last.shifted(1) == last
        assert first.start(UTC) < first.end(UTC) <= last.start(UTC) < last.end(UTC)
        assert first.first_day <= first.last_day and last.first_day <= last.last_day
    assert week_of_date(date.min, SUNDAY).start(UTC) == datetime.min.replace(tzinfo=UTC)  # its Sunday is in year 0
