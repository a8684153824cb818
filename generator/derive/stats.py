"""Site → the activity review (数据分析) at /stats/: the numbers, then charts of them.

The numbers are computed first as plain records (tested exactly), and only
then drawn; each chart's numbers are also rendered as a table.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from ..config import SECTION_IDS
from ..core.weeks import Week, week_of
from ..model import urls
from ..model.contributions import Contribution, HonorRoll, HonorRollRow
from ..model.pages import Page
from ..model.records import Entry, Site, Tag
from .charts import Chart, Series, chart_svg

RECENT_WEEKS = 26
TOP_TAGS = 10
TOP_CONTRIBUTORS = 10
# Columns of a chart since the start: months while they fit, else years, else spans of years,
# so that an archive of 1995–2026 draws no more bars than one of four years.
MAX_PERIODS = 48
# Largest number of calendar days in each time-to-answer bucket; the last one is open-ended.
ANSWER_BUCKETS = (("same_day", 0), ("next_day", 1), ("d2_3", 3), ("d4_7", 7), ("over_week", None))


@dataclass(frozen=True)
class WeekActivity:
    week: Week
    entries: dict[str, int]  # section -> entries dated in the week
    asked: int  # questions asked in the week
    answered: int  # questions answered in the week (accepted answer's date, else the first answer's)
    contributors: int  # distinct people who wrote, asked or answered in the week

    @property
    def total(self) -> int:
        return sum(self.entries.values())


@dataclass(frozen=True)
class PeriodActivity:
    """A column of the charts since the start: a month, or whole years when months would not fit."""

    year: int
    month: int  # its first month
    months: int  # its length: 1, or a multiple of 12
    new_contributors: tuple[str, ...]  # people whose first contribution is in this period
    entries: dict[str, int]  # section -> entries dated in the period

    @property
    def label(self) -> str:
        """"2026-09", "2026" or "1970–1974"."""
        if self.months == 1:
            return f"{self.year}-{self.month:02d}"
        years = self.months // 12
        return str(self.year) if years == 1 else f"{self.year}–{self.year + years - 1}"

    @property
    def axis_label(self) -> str:
        return self.label[2:] if self.months == 1 else str(self.year)


@dataclass(frozen=True)
class ActivityReview:
    weeks: tuple[WeekActivity, ...]  # the last RECENT_WEEKS weeks, oldest first, up to this week
    periods: tuple[PeriodActivity, ...]  # from the first entry's or contribution's month to this month
    entries: int
    contributors: int
    questions: int
    answered: int  # questions not open
    accepted: int  # questions with an accepted answer
    open: int
    days_to_answer: tuple[int, ...]  # per answered question with a dated answer, sorted
    answer_buckets: tuple[tuple[str, int], ...]
    top_tags: tuple[tuple[Tag, int], ...]

    @property
    def median_days_to_answer(self) -> float | None:
        return statistics.median(self.days_to_answer) if self.days_to_answer else None

    @property
    def answered_share(self) -> int | None:
        """Percentage of questions answered, rounded."""
        return round(100 * self.answered / self.questions) if self.questions else None


def first_answer_at(entry: Entry) -> datetime | None:
    """When someone first answered, from the dated answers (not necessarily the accepted one)."""
    dates = [a.date for a in entry.question.answers if a.date] if entry.question else []
    return min(dates) if dates else None


def days_to_answer(entry: Entry, tz) -> int | None:
    """Calendar days (site timezone) from the question to its first dated answer.

    Days, not hours: answers are usually dated by day only ("2026-11-04"), and
    midnight would make a next-day answer look faster than it was.
    """
    answered = first_answer_at(entry)
    if answered is None:
        return None
    return max(0, (answered.astimezone(tz).date() - entry.date.astimezone(tz).date()).days)


def period_length(first: tuple[int, int], last: tuple[int, int]) -> int:
    """Months per column from `first` to `last` (year, month): one while MAX_PERIODS columns hold
    the span, else the fewest whole years that do."""
    if (last[0] - first[0]) * 12 + last[1] - first[1] < MAX_PERIODS:
        return 1
    return 12 * -(-(last[0] - first[0] + 1) // MAX_PERIODS)


def activity_periods(newcomers: dict[tuple[int, int], list[str]], entry_months: dict[tuple[int, int], dict[str, int]],
                     last: tuple[int, int]) -> list[PeriodActivity]:
    """The columns from the first month with a newcomer or an entry to `last`, oldest first."""
    if not newcomers and not entry_months:
        return []
    first = min([*newcomers, *entry_months])
    length = period_length(first, last)
    if length > 1:
        first = (first[0], 1)  # whole years

    def column(ym: tuple[int, int]) -> int:
        return ((ym[0] - first[0]) * 12 + ym[1] - first[1]) // length

    count = max(0, column(last) + 1)
    people: list[list[str]] = [[] for _ in range(count)]
    entries = [dict.fromkeys(SECTION_IDS, 0) for _ in range(count)]
    for ym, who in newcomers.items():
        if 0 <= (i := column(ym)) < count:
            people[i] += who
    for ym, counts in entry_months.items():
        if 0 <= (i := column(ym)) < count:
            for section, n in counts.items():
                entries[i][section] += n
    offsets = [first[1] - 1 + i * length for i in range(count)]  # months after January of the first year
    return [PeriodActivity(first[0] + offset // 12, offset % 12 + 1, length, tuple(sorted(people[i])), entries[i])
            for i, offset in enumerate(offsets)]


def activity_review(site: Site, events: list[Contribution], recent_weeks: int = RECENT_WEEKS) -> ActivityReview:
    """The numbers of /stats/ (`events`: `community.contributions(site)`)."""
    tz = site.config.tz
    questions = [e for e in site.entries if e.question]
    answered_questions = [e for e in questions if not e.question.is_open]
    days = sorted(d for d in (days_to_answer(e, tz) for e in answered_questions) if d is not None)
    buckets = Counter(next(k for k, limit in ANSWER_BUCKETS if limit is None or d <= limit) for d in days)
    tag_counts = Counter(t.slug for e in site.entries for t in e.tags)
    top = sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TAGS]
    return ActivityReview(
        weeks=weeks_activity(site, events, recent_weeks),
        periods=periods_since_start(site, events),
        entries=len(site.entries),
        contributors=len({c.who for c in events}),
        questions=len(questions),
        answered=len(answered_questions),
        accepted=sum(1 for e in questions if e.question.accepted),
        open=len(questions) - len(answered_questions),
        days_to_answer=tuple(days),
        answer_buckets=tuple((k, buckets[k]) for k, _ in ANSWER_BUCKETS),
        top_tags=tuple((site.tags[slug], n) for slug, n in top),
    )


def weeks_activity(site: Site, events: list[Contribution], count: int) -> tuple[WeekActivity, ...]:
    """The last `count` weeks up to this one (fewer in the calendar's first weeks), oldest first."""
    tz, starts_on = site.config.tz, site.config.week_start
    weeks = sorted({week_of(site.now, tz, starts_on).shifted(-n) for n in range(count)})
    index = {w: i for i, w in enumerate(weeks)}
    per_section = [dict.fromkeys(SECTION_IDS, 0) for _ in weeks]
    asked = [0] * len(weeks)
    answered = [0] * len(weeks)
    people: list[set[str]] = [set() for _ in weeks]
    first, end = weeks[0].start(tz), weeks[-1].end(tz)  # a moment outside is in none of them: no week to work out

    def recent(moment: datetime) -> int | None:
        return index[week_of(moment, tz, starts_on)] if first <= moment < end else None

    for entry in site.entries:
        if (i := recent(entry.date)) is not None:
            per_section[i][entry.section] += 1
            asked[i] += entry.question is not None
    for entry in site.entries:  # answered when the digests say so: the accepted answer's date, else the first's
        if entry.question and not entry.question.is_open:
            if (i := recent(entry.question.answered_at or entry.date)) is not None:
                answered[i] += 1
    for c in events:
        if (i := recent(c.date)) is not None:
            people[i].add(c.who)
    return tuple(WeekActivity(w, per_section[i], asked[i], answered[i], len(people[i])) for i, w in enumerate(weeks))


def periods_since_start(site: Site, events: list[Contribution]) -> tuple[PeriodActivity, ...]:
    """The columns from the first month with an entry or a contribution to this month."""
    tz = site.config.tz
    first_month: dict[str, tuple[int, int]] = {}
    for c in events:  # oldest first
        local = c.date.astimezone(tz)
        first_month.setdefault(c.who, (local.year, local.month))
    entry_months: dict[tuple[int, int], dict[str, int]] = {}
    for entry in site.entries:
        local = entry.date.astimezone(tz)
        entry_months.setdefault((local.year, local.month), dict.fromkeys(SECTION_IDS, 0))[entry.section] += 1
    newcomers: dict[tuple[int, int], list[str]] = {}
    for who, ym in first_month.items():
        newcomers.setdefault(ym, []).append(who)
    now = site.now.astimezone(tz)
    return tuple(activity_periods(newcomers, entry_months, (now.year, now.month)))


def review_charts(site: Site, review: ActivityReview, top: tuple[HonorRollRow, ...]) -> list[Chart]:
    """The charts of the review (`top`: the first rows of the all-time honor roll)."""
    t = site.config.translator()
    weeks = review.weeks
    week_labels = tuple(f"{w.week.label}（{w.week.first_day:%m-%d}）" for w in weeks)
    # a label every fourth week, counted back from this week so the newest is always labelled
    week_axis = tuple(f"{w.week.first_day.month}/{w.week.first_day.day}" if (len(weeks) - 1 - i) % 4 == 0 else ""
                      for i, w in enumerate(weeks))
    periods = review.periods
    step = max(1, -(-len(periods) // 8))
    period_axis = tuple(p.axis_label if (len(periods) - 1 - i) % step == 0 else "" for i, p in enumerate(periods))
    return [
        Chart("entries-per-week", t("chart_entries_per_week", n=len(weeks)), week_labels,
              tuple(Series(s, t(s), tuple(w.entries[s] for w in weeks)) for s in SECTION_IDS), week_axis),
        Chart("asked-answered", t("chart_asked_answered", n=len(weeks)), week_labels,
              (Series("asked", t("series_asked"), tuple(w.asked for w in weeks)),
               Series("answered", t("series_answered"), tuple(w.answered for w in weeks))), week_axis, stacked=False),
        Chart("time-to-answer", t("chart_time_to_answer"), tuple(t("bucket_" + k) for k, _ in review.answer_buckets),
              (Series("answered", t("series_questions"), tuple(n for _, n in review.answer_buckets)),),
              tuple(t("bucket_short_" + k) for k, _ in review.answer_buckets)),
        Chart("top-tags", t("chart_top_tags", n=len(review.top_tags)), tuple("#" + tag.name for tag, _ in review.top_tags),
              (Series("tags", t("series_entries"), tuple(n for _, n in review.top_tags)),), horizontal=True),
        Chart("contributors-per-week", t("chart_contributors_per_week", n=len(weeks)), week_labels,
              (Series("people", t("series_contributors"), tuple(w.contributors for w in weeks)),), week_axis),
        Chart("entries-per-month", _since_start_title(t, "entries", periods), tuple(p.label for p in periods),
              tuple(Series(s, t(s), tuple(p.entries[s] for p in periods)) for s in SECTION_IDS), period_axis),
        Chart("top-contributors", t("chart_top_contributors", n=len(top)), tuple(r.name for r in top),
              (Series("wrote", t("series_wrote"), tuple(r.wrote for r in top)),
               Series("answered", t("series_answers"), tuple(r.answered for r in top)),
               Series("asked", t("series_asked"), tuple(r.asked for r in top))), horizontal=True),
        Chart("new-contributors", _since_start_title(t, "new_contributors", periods), tuple(p.label for p in periods),
              (Series("new", t("series_new_contributors"), tuple(len(p.new_contributors) for p in periods)),), period_axis),
    ]


def _since_start_title(t, kind: str, periods: tuple[PeriodActivity, ...]) -> str:
    """"New entries per month", or per year, or per N years: what one column of the chart holds."""
    years = periods[0].months // 12 if periods else 0
    if not years:
        return t("chart_entries_per_month" if kind == "entries" else "chart_new_contributors")
    return t(f"chart_{kind}_per_year") if years == 1 else t(f"chart_{kind}_per_years", n=years)


def duration_text(days: float | None, t) -> str:
    if days is None:
        return "—"
    if days == 0:
        return t("same_day")
    return t("n_days", n=f"{days:.1f}".removesuffix(".0"))


def stats_pages(site: Site, events: list[Contribution], rolls: list[HonorRoll]) -> list[Page]:
    """/stats/ (`events`: `community.contributions(site)`; `rolls`: `community.everyones_rolls(site, events)`)."""
    review = activity_review(site, events)
    t = site.config.translator()
    everyone = next(roll for roll in rolls if roll.key == "all")
    charts = review_charts(site, review, everyone.rows[:TOP_CONTRIBUTORS])
    return [Page(urls.STATS, "stats.html", {
        "review": review, "charts": [(c, chart_svg(c)) for c in charts],
        "median_text": duration_text(review.median_days_to_answer, t),
        "weeks_from": review.weeks[0].week.first_day if review.weeks else None,
        "weeks_to": review.weeks[-1].week.last_day if review.weeks else None,
    })]
