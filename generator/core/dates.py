"""Dates as curators write them in front matter and members.yaml (a date or a date-time, in the
site's timezone), and the clock every time-dependent stage reads."""
from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from typing import Any

from ..core.errors import described
from ..core.weeks import year_problem


def parse_when(value: Any, tz: tzinfo) -> datetime:
    """A front matter date or date-time; naive values are in the site's timezone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        raw = str(value).strip()
        if not re.match(r"^\d{4}-\d{1,2}-\d{1,2}", raw):
            raise ValueError(f'"{raw}" is not a date: write it as 2026-11-03 or 2026-11-03 21:30')
        y, m, d = (int(x) for x in re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", raw).groups())
        date(y, m, d)  # raises "day is out of range for month" for 2026-02-30
        normalised = re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})", f"{y:04d}-{m:02d}-{d:02d}", raw)
        normalised = re.sub(r"(?<=\d)[ ]+(?=\d{1,2}:)", "T", normalised, count=1)
        normalised = re.sub(r"T(\d):", r"T0\1:", normalised)
        normalised = re.sub(r"\s*Z$", "+00:00", normalised)
        try:
            moment = datetime.fromisoformat(normalised)
        except ValueError:
            raise ValueError(f'"{raw}" is not a valid date-time: write it as 2026-11-03 21:30 or 2026-11-03T21:30:00+08:00') from None
    else:
        raise ValueError(f"{described(value)} is not a date: write it as 2026-11-03 or 2026-11-03 21:30")
    if problem := year_problem(moment, str(value).strip()):  # years every later stage can count weeks in
        raise ValueError(problem)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def current_time(now: str | None, tz, environ: dict) -> datetime:
    """--now, else SOURCE_DATE_EPOCH, else the clock; always in the site's timezone."""
    if now:
        return parse_when(now, tz)
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz)
    return datetime.now(tz)
