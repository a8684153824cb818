"""A week's digest as a record: what the digest pages, the digest feed, `kb digest` and the
start page read of a week (made by derive/digest.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.weeks import Week
from . import urls
from .records import Entry, Tag


@dataclass(frozen=True)
class WeekCounts:
    entries: int = 0  # new entries of any section
    answers: int = 0  # answers given
    contributors: int = 0  # distinct people who wrote, asked or answered


@dataclass(frozen=True)
class WeekDigest:
    week: Week
    in_progress: bool
    highlights: tuple[Entry, ...] = ()
    lessons: tuple[Entry, ...] = ()
    asked: tuple[Entry, ...] = ()  # questions asked this week (listed under answered or open)
    answered: tuple[Entry, ...] = ()  # Q&A answered this week
    open_questions: tuple[Entry, ...] = ()  # unanswered at the end of the week (new ones too), newest first
    open_total: int = 0
    top_tags: tuple[tuple[Tag, int], ...] = ()
    contributors: tuple[tuple[str, int], ...] = ()  # (member id or name, contributions)
    counts: WeekCounts = field(default_factory=WeekCounts)
    previous_counts: WeekCounts = field(default_factory=WeekCounts)
    past_years: tuple[tuple[int, tuple[Entry, ...]], ...] = ()  # (year, entries) newest year first
    note: str = ""  # the curator's note, HTML
    prev_week: Week | None = None  # neighbouring weeks that have a digest page
    next_week: Week | None = None

    @property
    def url(self) -> str:
        return urls.digest(self.week)

    @property
    def new_entries(self) -> tuple[Entry, ...]:
        """Everything new this week, in the order a digest lists it."""
        return self.highlights + self.lessons + self.asked

    @property
    def is_empty(self) -> bool:
        return not (self.new_entries or self.answered or self.note)
