"""ISO weeks in the site's timezone: the unit of digests and activity reviews.

A week is named by its ISO label ("2026-W47") and runs from Monday 00:00 to
the next Monday 00:00 in the site's timezone, whatever offset an entry's date
was written with.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class Week:
    year: int  # ISO year
    number: int  # 1..53

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def start(self, tz: tzinfo) -> datetime:
        return datetime.combine(self.monday, time(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """The first moment after the week (next Monday 00:00)."""
        return datetime.combine(self.monday + timedelta(days=7), time(), tz)

    def shifted(self, weeks: int) -> Week:
        return week_of_date(self.monday + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return self.label


def week_of_date(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def week_of(moment: datetime, tz: tzinfo) -> Week:
    """The week a moment falls in, seen from the site's timezone."""
    return week_of_date(moment.astimezone(tz).date())


def parse_week(label: str) -> Week:
    """"2026-W47" → Week; ValueError with a readable message otherwise."""
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise ValueError(f'"{label}" is not a week: write it as 2026-W47')
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {number}") from None
    return Week(year, number)


def last_completed_week(now: datetime, tz: tzinfo) -> Week:
    return week_of(now, tz).shifted(-1)


def is_complete(week: Week, now: datetime, tz: tzinfo) -> bool:
    return week.end(tz) <= now
