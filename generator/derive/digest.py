"""Site → weekly digests: what each week produced, as a record and as pages.

A week starts on the site's `week_start` day at 00:00 in the site's timezone and is labelled
by the ISO week of its Thursday (core/weeks.py). A Q&A entry belongs to the week it was
answered in (its accepted answer's date, else its first dated answer, else the entry's own
date), and to the week it was asked in.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ..core.weeks import Week, is_complete, parse_week, week_of
from ..model import urls
from ..model.digest import WeekCounts, WeekDigest
from ..model.pages import Page
from ..model.records import Entry, Site, Tag

TOP_TAGS = 8
TOP_CONTRIBUTORS = 8
OPEN_SHOWN = 8


def answered_at(entry: Entry) -> datetime | None:
    """When a Q&A entry was answered; None while it is open or not a question."""
    q = entry.question
    if q is None or q.is_open:
        return None
    return q.answered_at or entry.date


def answer_moments(entry: Entry) -> list[tuple[str, datetime]]:
    """(author, when) for every answer; an undated answer counts at the entry's date."""
    if entry.question is None:
        return []
    return [(a.author, a.date or entry.date) for a in entry.question.answers]


@dataclass(frozen=True)
class WeekIndex:
    """Entries and answers bucketed by week once, so every digest is a lookup."""

    tz: tzinfo
    starts_on: int  # the ISO weekday weeks start on
    now: datetime
    new: dict[Week, list[Entry]]
    answered: dict[Week, list[Entry]]
    answers: dict[Week, list[tuple[str, Entry]]]
    questions: tuple[tuple[Entry, datetime | None], ...]  # (question, when answered), newest first
    notes: dict[str, str]
    asked: list[float]  # the questions' timestamps, negated: ascending
    closed: list[float]  # when each answered question was both asked and answered, ascending

    @property
    def current(self) -> Week:
        return week_of(self.now, self.tz, self.starts_on)

    def weeks(self) -> list[Week]:
        """Weeks that get a digest page: any activity or a note, and this week; never a later one."""
        found = set(self.new) | set(self.answered) | set(self.answers)
        if found:
            found.add(self.current)  # the week in progress, even before its first entry
        for label in self.notes:
            try:
                found.add(parse_week(label, self.starts_on))
            except ValueError:
                continue
        return sorted(w for w in found if w <= self.current)


def week_index(site: Site) -> WeekIndex:
    tz, starts_on = site.config.tz, site.config.week_start
    new: dict[Week, list[Entry]] = defaultdict(list)
    answered: dict[Week, list[Entry]] = defaultdict(list)
    answers: dict[Week, list[tuple[str, Entry]]] = defaultdict(list)
    for e in site.entries:  # newest first, so every bucket is too
        new[week_of(e.date, tz, starts_on)].append(e)
        when = answered_at(e)
        if when is not None:
            answered[week_of(when, tz, starts_on)].append(e)
        for who, moment in answer_moments(e):
            answers[week_of(moment, tz, starts_on)].append((who, e))
    questions = tuple((e, answered_at(e)) for e in site.entries if e.question is not None)
    asked = [-e.date.timestamp() for e, _ in questions]
    closed = sorted(max(e.date, when).timestamp() for e, when in questions if when is not None)
    return WeekIndex(tz, starts_on, site.now, dict(new), dict(answered), dict(answers), questions, dict(site.notes), asked, closed)


def _counts(index: WeekIndex, week: Week) -> WeekCounts:
    new = index.new.get(week, [])
    answers = index.answers.get(week, [])
    return WeekCounts(len(new), len(answers), len(_contributions(new, answers)))


def _contributions(new: list[Entry], answers: list[tuple[str, Entry]]) -> Counter:
    counter: Counter = Counter()
    for e in new:
        for who in e.authors:
            counter[who] += 1
        if e.question and e.question.asker:
            counter[e.question.asker] += 1
    for who, _ in answers:
        if who:
            counter[who] += 1
    return counter


def _open_at_end(index: WeekIndex, week: Week) -> tuple[list[Entry], int]:
    """The newest OPEN_SHOWN questions asked by the end of the week that were still unanswered
    then, and how many there were: found by bisection, as a site has hundreds of weeks."""
    end = week.end(index.tz)
    first = bisect_right(index.asked, -end.timestamp())  # the newest asked before the end
    total = len(index.asked) - first - bisect_left(index.closed, end.timestamp())
    wanted = min(OPEN_SHOWN, total)
    shown: list[Entry] = []
    for e, when in index.questions[first:]:
        if len(shown) >= wanted:
            break
        if when is None or when >= end:
            shown.append(e)
    return shown, total


def _past_years(index: WeekIndex, week: Week) -> list[tuple[int, tuple[Entry, ...]]]:
    out = []
    for past, entries in index.new.items():
        if past.number == week.number and past.year < week.year and entries:
            out.append((past.year, tuple(entries)))
    return sorted(out, key=lambda ye: -ye[0])


def week_digest(site: Site, week: Week, index: WeekIndex | None = None,
                weeks: list[Week] | None = None) -> WeekDigest:
    """The digest of one week, in progress or complete, empty or not."""
    index = index or week_index(site)
    new = index.new.get(week, [])
    answered = index.answered.get(week, [])
    answers = index.answers.get(week, [])
    tags: Counter = Counter()
    tag_of: dict[str, Tag] = {}
    for e in {id(e): e for e in (*new, *answered)}.values():  # by identity: an entry's hash reads all of it
        for tag in e.tags:
            tags[tag.slug] += 1
            tag_of[tag.slug] = tag
    top_tags = tuple((tag_of[slug], n) for slug, n in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TAGS])
    people = _contributions(new, answers)
    contributors = tuple(sorted(people.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CONTRIBUTORS])
    open_now, open_total = _open_at_end(index, week)
    weeks = index.weeks() if weeks is None else weeks
    position = bisect_left(weeks, week)
    earlier = weeks[:position]
    later = weeks[position + (position < len(weeks) and weeks[position] == week):]
    previous = week.shifted(-1)  # none before the calendar's first week
    return WeekDigest(
        week=week,
        in_progress=not is_complete(week, index.now, index.tz),
        highlights=tuple(e for e in new if e.section == "highlights"),
        lessons=tuple(e for e in new if e.section == "lessons"),
        asked=tuple(e for e in new if e.section == "qa"),
        answered=tuple(answered),
        open_questions=tuple(open_now),
        open_total=open_total,
        top_tags=top_tags,
        contributors=contributors,
        counts=_counts(index, week),
        previous_counts=_counts(index, previous) if previous != week else WeekCounts(),
        past_years=tuple(_past_years(index, week)),
        note=index.notes.get(week.label, ""),
        prev_week=earlier[-1] if earlier else None,
        next_week=later[0] if later else None,
    )


def site_digests(site: Site) -> list[WeekDigest]:
    """Every week with a digest page, oldest first."""
    index = week_index(site)
    weeks = index.weeks()
    return [week_digest(site, w, index, weeks) for w in weeks]


def digest_weeks(site: Site) -> list[Week]:
    """The weeks that get a digest page, oldest first: those of `site_digests`, without making them."""
    return week_index(site).weeks()


def month_of(week: Week) -> tuple[int, int]:
    """The (year, month) a week is filed under: its Thursday's, as ISO years are."""
    return week.thursday.year, week.thursday.month


def digests_by_month(digests: list[WeekDigest]) -> list[tuple[int, list[tuple[tuple[int, int], list[WeekDigest]]]]]:
    """Newest first: [(year, [((year, month), [digest, …]), …]), …]."""
    years: dict[int, dict[tuple[int, int], list[WeekDigest]]] = defaultdict(lambda: defaultdict(list))
    for d in sorted(digests, key=lambda d: d.week, reverse=True):
        ym = month_of(d.week)
        years[ym[0]][ym].append(d)
    return [(year, list(months.items())) for year, months in sorted(years.items(), reverse=True)]


def digest_pages(site: Site, digests: list[WeekDigest]) -> list[Page]:
    """/digest/ (newest first, by year and month) and /digest/<YYYY-Www>/ for each week
    (`digests`: `site_digests(site)`)."""
    pages = [Page(urls.DIGESTS, "digest_index.html", {
        "years": digests_by_month(digests), "total": len(digests),
        "current": next((d for d in digests if d.in_progress), None),
        "latest": next((d for d in reversed(digests) if not d.in_progress), None),
    })]
    for d in digests:
        pages.append(Page(d.url, "digest.html", {"digest": d}))
    return pages
