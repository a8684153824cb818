"""ISO weeks in the site's timezone: the unit of digests and activity reviews.

A week is named by its ISO label ("2026-W47") and runs from Monday 00:00 to
the next Monday 00:00 in the site's timezone, whatever offset an entry's date
was written with.

The arithmetic is total: every date Python can hold has a week, and shifting
stops at the first and last weeks a date can hold (0001-W01, 9999-W52).
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
FIRST_MONDAY = date.min.toordinal()  # 0001-01-01 is a Monday: 0001-W01 starts there
LAST_MONDAY = date.max.toordinal() - date.max.weekday()  # of 9999-W52


@dataclass(frozen=True, order=True)
class Week:
    year: int  # ISO year
    number: int  # 1..53

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        """Its last day (the last date a date can hold, in the calendar's last week)."""
        return _days_after(self.monday, 6) or date.max

    def start(self, tz: tzinfo) -> datetime:
        return datetime.combine(self.monday, time(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """The first moment after the week (next Monday 00:00); the last moment a datetime
        can hold for the calendar's last week."""
        after = _days_after(self.monday, 7)
        return datetime.combine(after, time(), tz) if after else datetime.max.replace(tzinfo=tz)

    def shifted(self, weeks: int) -> Week:
        """The week `weeks` later (earlier if negative), stopping at the calendar's first and last weeks."""
        ordinal = self.monday.toordinal() + 7 * weeks
        return week_of_date(date.fromordinal(min(max(ordinal, FIRST_MONDAY), LAST_MONDAY)))

    def __str__(self) -> str:
        return self.label


def _days_after(day: date, days: int) -> date | None:
    """`days` after `day`, or None past the last date a date can hold."""
    return date.fromordinal(day.toordinal() + days) if day.toordinal() + days <= date.max.toordinal() else None


def week_of_date(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def week_of(moment: datetime, tz: tzinfo) -> Week:
    """The week a moment falls in, seen from the site's timezone."""
    try:
        day = moment.astimezone(tz).date()
    except OverflowError:  # within hours of the first or last date a date can hold
        day = date.min if moment.year == date.min.year else date.max
    return week_of_date(day)


def parse_week(label: str) -> Week:
    """"2026-W47" → Week; ValueError with a readable message otherwise."""
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise ValueError(f'"{label}" is not a week: write it as 2026-W47')
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f'"{label.strip()}" is not a week kb can show ({YEARS}): write it as 2026-W47')
    last = week_of_date(date(year, 12, 28)).number  # the 28th of December is always in its year's last week
    if not 1 <= number <= last:
        raise ValueError(f"{year} has no week {number}: its weeks are {year}-W01 to {year}-W{last:02d}")
    return Week(year, number)


def year_problem(moment: date, written: str) -> str | None:
    """Why a date read from the site is not one to take, if it is not: its year is outside
    FIRST_YEAR..LAST_YEAR."""
    if moment.year < FIRST_YEAR:
        return f'"{written}" is before {FIRST_YEAR}, so it looks like an unset date: write the real date ({YEARS})'
    if moment.year > LAST_YEAR:
        return f'"{written}" is after {LAST_YEAR}, so it looks like a mistyped year: write the real date ({YEARS})'
    return None


def last_completed_week(now: datetime, tz: tzinfo) -> Week:
    return week_of(now, tz).shifted(-1)


def is_complete(week: Week, now: datetime, tz: tzinfo) -> bool:
    return week.end(tz) <= now
