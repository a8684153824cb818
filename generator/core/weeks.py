"""Weeks in the site's timezone: the unit of digests, honor rolls and activity reviews.

A week starts on the site's `week_start` day (ISO: Monday) at 00:00 in the site's timezone,
whatever offset an entry's date was written with, and runs seven days. It is named by the
ISO week that holds its Thursday ("2026-W47"), as ISO names a week's year by its Thursday:
with a Monday start that is the week's own ISO label; with a Sunday start, Sunday 15 to
Saturday 21 November 2026 is 2026-W47, the ISO week that holds six of its days. Every week
has exactly one Thursday, so each label names one week, and a week's label never changes.

The arithmetic is total: every date Python can hold has a week, and shifting stops at the
first and last weeks a date can hold (0001-W01, 9999-W52).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

WEEK_LABEL = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
# The years kb takes in a site's dates and labels: one outside is a placeholder (Hugo's zero
# date 0001-01-01) or a typo, and would stretch every chart over centuries.
FIRST_YEAR, LAST_YEAR = 1970, 2100
YEARS = f"kb takes years {FIRST_YEAR} to {LAST_YEAR}"
MONDAY, THURSDAY, SUNDAY = 1, 4, 7  # ISO weekdays
FIRST_THURSDAY = date.fromisocalendar(1, 1, THURSDAY).toordinal()  # of 0001-W01
LAST_THURSDAY = date.fromisocalendar(9999, 52, THURSDAY).toordinal()  # of 9999-W52


@dataclass(frozen=True, order=True)
class Week:
    year: int  # the ISO year and week number of its Thursday: its label
    number: int  # 1..53
    starts_on: int = MONDAY  # the ISO weekday it starts on: the site's week_start

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def thursday(self) -> date:
        return date.fromisocalendar(self.year, self.number, THURSDAY)

    @property
    def first_day(self) -> date:
        """Its first day (the first date a date can hold, in the calendar's first week)."""
        return date.fromordinal(max(self._first_ordinal, 1))

    @property
    def last_day(self) -> date:
        """Its last day (the last date a date can hold, in the calendar's last week)."""
        return date.fromordinal(min(self._first_ordinal + 6, date.max.toordinal()))

    @property
    def _first_ordinal(self) -> int:
        """The ordinal of its first day, which may be before the first date a date can hold."""
        return self.thursday.toordinal() - (THURSDAY - self.starts_on) % 7

    def start(self, tz: tzinfo) -> datetime:
        """Its first moment; the first moment a datetime can hold for a week that starts before it."""
        first = self._first_ordinal
        return datetime.combine(date.fromordinal(first), time(), tz) if first >= 1 else datetime.min.replace(tzinfo=tz)

    def end(self, tz: tzinfo) -> datetime:
        """The first moment after the week (the next week's start); the last moment a datetime
        can hold for a week that ends after it."""
        after = self._first_ordinal + 7
        if after > date.max.toordinal():
            return datetime.max.replace(tzinfo=tz)
        return datetime.combine(date.fromordinal(after), time(), tz)

    def shifted(self, weeks: int) -> Week:
        """The week `weeks` later (earlier if negative), stopping at the calendar's first and last weeks."""
        thursday = min(max(self.thursday.toordinal() + 7 * weeks, FIRST_THURSDAY), LAST_THURSDAY)
        year, number, _ = date.fromordinal(thursday).isocalendar()
        return Week(year, number, self.starts_on)

    def __str__(self) -> str:
        return self.label


def week_of_date(day: date, starts_on: int = MONDAY) -> Week:
    """The week that holds a day, weeks starting on ISO weekday `starts_on`."""
    if starts_on == MONDAY:  # its own ISO week: one call, as most sites count
        year, number, _ = day.isocalendar()
        return Week(year, number)
    first = day.toordinal() - (day.isoweekday() - starts_on) % 7
    thursday = min(max(first + (THURSDAY - starts_on) % 7, FIRST_THURSDAY), LAST_THURSDAY)
    year, number, _ = date.fromordinal(thursday).isocalendar()
    return Week(year, number, starts_on)


def week_of(moment: datetime, tz: tzinfo, starts_on: int = MONDAY) -> Week:
    """The week a moment falls in, seen from the site's timezone."""
    try:
        day = moment.astimezone(tz).date()
    except OverflowError:  # within hours of the first or last date a date can hold
        day = date.min if moment.year == date.min.year else date.max
    return week_of_date(day, starts_on)


def parse_week(label: str, starts_on: int = MONDAY) -> Week:
    """"2026-W47" → Week; ValueError with a readable message otherwise."""
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise ValueError(f'"{label}" is not a week: write it as 2026-W47')
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f'"{label.strip()}" is not a week kb can show ({YEARS}): write it as 2026-W47')
    last = date(year, 12, 28).isocalendar()[1]  # the 28th of December is always in its year's last week
    if not 1 <= number <= last:
        raise ValueError(f"{year} has no week {number}: its weeks are {year}-W01 to {year}-W{last:02d}")
    return Week(year, number, starts_on)


def year_problem(moment: date, written: str) -> str | None:
    """Why a date read from the site is not one to take, if it is not: its year is outside
    FIRST_YEAR..LAST_YEAR."""
    if moment.year < FIRST_YEAR:
        return f'"{written}" is before {FIRST_YEAR}, so it looks like an unset date: write the real date ({YEARS})'
    if moment.year > LAST_YEAR:
        return f'"{written}" is after {LAST_YEAR}, so it looks like a mistyped year: write the real date ({YEARS})'
    return None


def last_completed_week(now: datetime, tz: tzinfo, starts_on: int = MONDAY) -> Week:
    return week_of(now, tz, starts_on).shifted(-1)


def is_complete(week: Week, now: datetime, tz: tzinfo) -> bool:
    return week.end(tz) <= now
