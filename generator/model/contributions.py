"""Who contributed what, and when, as records: what the community pages, the home page and the
activity review read (made by derive/community.py).

Every contribution is one dated event (an entry written, a question asked, an answer given),
so the honor roll of any period, a member's record and the activity review all count the
same things the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .records import Answer, Entry

KINDS = ("wrote", "asked", "answered")


@dataclass(frozen=True)
class Contribution:
    who: str  # member id, or a free name
    kind: str  # "wrote" | "asked" | "answered"
    entry: Entry
    date: datetime  # an answer's own date when it has one, else the entry's
    answer: Answer | None = None  # for "answered"

    @property
    def accepted(self) -> bool:
        return bool(self.answer and self.answer.accepted)


@dataclass(frozen=True)
class HonorRollRow:
    """One person's line on an honor roll (光荣榜)."""

    rank: int  # 1-based; equal contributions and accepted answers share a rank
    who: str  # member id, or a free name
    name: str  # display name
    url: str | None  # "/members/<id>/" for members, None for guests
    count: int  # contributions in the period: wrote + asked + answered
    wrote: int
    asked: int
    answered: int
    accepted: int  # of the answers, how many were accepted


@dataclass(frozen=True)
class HonorRoll:
    key: str  # "week" | "month" | "all"
    start: datetime | None
    end: datetime | None
    rows: tuple[HonorRollRow, ...]

    @property
    def last_day(self) -> date | None:
        return (self.end - timedelta(days=1)).date() if self.end else None

    def first(self, count: int) -> HonorRoll:
        """The same roll cut to its first `count` rows (ranks stay: they were worked out in order)."""
        return HonorRoll(self.key, self.start, self.end, self.rows[:count])


@dataclass(frozen=True)
class OpenQuestion:
    entry: Entry
    waited_days: int  # whole days since it was asked, as of site.now
