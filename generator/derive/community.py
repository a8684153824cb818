"""Site → who contributed what, and when: honor rolls, member pages, open questions.

Every contribution is one dated event (model/contributions.py), so the honor roll of any
period, a member's record and the activity review all count the same things the same way.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ..core.weeks import week_of
from ..model import urls
from ..model.contributions import KINDS, Contribution, HonorRoll, HonorRollRow, OpenQuestion
from ..model.pages import Page
from ..model.records import Answer, Entry, Site

HONOR_ROLL_SIZE = 5
MEMBERS_ROLL_SIZE = 10  # rows of each honor roll on /members/
MEMBER_LIST_LIMIT = 30  # newest items shown per list on a member page; the counts stay whole


def contributions(site: Site) -> list[Contribution]:
    """Every contribution on the site, oldest first (ties: entry URL, kind, person)."""
    out: list[Contribution] = []
    for entry in site.entries:
        for who in dict.fromkeys(entry.authors):
            out.append(Contribution(who, "wrote", entry, entry.date))
        question = entry.question
        if question is None:
            continue
        if question.asker:
            out.append(Contribution(question.asker, "asked", entry, entry.date))
        for answer in question.answers:
            if answer.author:
                out.append(Contribution(answer.author, "answered", entry, answer.date or entry.date, answer))
    rank = {kind: i for i, kind in enumerate(KINDS)}
    out.sort(key=lambda c: (c.date, c.entry.url, rank[c.kind], c.who))
    return out


def honor_roll(site: Site, start: datetime | None, end: datetime | None, limit: int = HONOR_ROLL_SIZE, *,
               events: list[Contribution] | None = None) -> list[HonorRollRow]:
    """The most active contributors with start <= date < end (None: unbounded), best first.

    Ranked by contributions, then accepted answers, then who contributed first in
    the period; at most `limit` rows (people tied with the last one are cut).
    Pass `events=contributions(site)` when calling it for many periods (one per
    digest week, say): each call is then a bisection plus the period's events.
    """
    events = contributions(site) if events is None else events
    low = 0 if start is None else bisect_left(events, start, key=lambda c: c.date)
    high = len(events) if end is None else bisect_left(events, end, key=lambda c: c.date)
    tally: dict[str, dict[str, int]] = defaultdict(lambda: {"wrote": 0, "asked": 0, "answered": 0, "accepted": 0})
    first: dict[str, tuple] = {}
    for c in events[low:high]:
        tally[c.who][c.kind] += 1
        tally[c.who]["accepted"] += c.accepted
        first.setdefault(c.who, (c.date, c.entry.url))
    ordered = sorted(tally, key=lambda who: (-sum(tally[who][k] for k in KINDS), -tally[who]["accepted"], first[who], who))
    rows: list[HonorRollRow] = []
    previous: tuple[int, int] | None = None
    for position, who in enumerate(ordered[:limit], start=1):
        counts = tally[who]
        total = sum(counts[k] for k in KINDS)
        rank = rows[-1].rank if previous == (total, counts["accepted"]) else position
        previous = (total, counts["accepted"])
        rows.append(HonorRollRow(rank, who, site.member_name(who), urls.member(who) if who in site.members else None,
                                 total, counts["wrote"], counts["asked"], counts["answered"], counts["accepted"]))
    return rows


def month_bounds(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The calendar month a moment falls in, in the site's timezone: [first day, next first day)."""
    local = moment.astimezone(tz)
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    end = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def honor_rolls(site: Site, limit: int = HONOR_ROLL_SIZE, *, events: list[Contribution] | None = None,
                ) -> list[HonorRoll]:
    """This week's, this month's and the all-time honor roll, as of site.now (`events`: `contributions(site)`)."""
    tz = site.config.tz
    week = week_of(site.now, tz, site.config.week_start)
    month_start, month_end = month_bounds(site.now, tz)
    periods = (("week", week.start(tz), week.end(tz)), ("month", month_start, month_end), ("all", None, None))
    events = contributions(site) if events is None else events
    return [HonorRoll(key, start, end, tuple(honor_roll(site, start, end, limit, events=events)))
            for key, start, end in periods]


# --- Members ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerGiven:
    entry: Entry
    answer: Answer


@dataclass(frozen=True)
class MemberRecord:
    """What one person did on the site, each list newest first."""

    who: str
    highlights: tuple[Entry, ...]
    lessons: tuple[Entry, ...]
    curated: tuple[Entry, ...]  # Q&A entries they wrote up as an author
    asked: tuple[Entry, ...]
    answers: tuple[AnswerGiven, ...]
    first: Contribution | None

    @property
    def accepted(self) -> int:
        return sum(a.answer.accepted for a in self.answers)

    @property
    def count(self) -> int:
        return len(self.highlights) + len(self.lessons) + len(self.curated) + len(self.asked) + len(self.answers)


EMPTY_RECORD = MemberRecord("", (), (), (), (), (), None)


def member_records(site: Site, events: list[Contribution] | None = None) -> dict[str, MemberRecord]:
    """Every contributor's record, members and guests alike, keyed by id or free name."""
    grouped: dict[str, list[Contribution]] = defaultdict(list)
    for c in contributions(site) if events is None else events:
        grouped[c.who].append(c)
    records = {}
    for who, items in grouped.items():
        newest = sorted(items, key=lambda c: (c.date, c.entry.url), reverse=True)
        wrote = [c.entry for c in newest if c.kind == "wrote"]
        records[who] = MemberRecord(
            who=who,
            highlights=tuple(e for e in wrote if e.section == "highlights"),
            lessons=tuple(e for e in wrote if e.section == "lessons"),
            curated=tuple(e for e in wrote if e.section == "qa"),
            asked=tuple(c.entry for c in newest if c.kind == "asked"),
            answers=tuple(AnswerGiven(c.entry, c.answer) for c in newest if c.answer),
            first=items[0],
        )
    return dict(sorted(records.items()))


def everyones_rolls(site: Site, events: list[Contribution]) -> list[HonorRoll]:
    """The honor rolls with everyone on them (`events`: `contributions(site)`): each page shows the first few."""
    return honor_rolls(site, limit=len(events), events=events)


def member_pages(site: Site, events: list[Contribution], full: list[HonorRoll]) -> list[Page]:
    """/members/ (honor rolls, every member, guests) and /members/<id>/ (`events`: `contributions(site)`;
    `full`: `everyones_rolls(site, events)`)."""
    records = member_records(site, events)
    members = sorted(site.members.values(), key=lambda m: (-records.get(m.id, EMPTY_RECORD).count, m.id))
    guests = sorted((r for who, r in records.items() if who not in site.members), key=lambda r: (-r.count, r.who))
    rolls = [roll.first(MEMBERS_ROLL_SIZE) for roll in full]
    pages = [Page(urls.MEMBERS, "members.html", {"members": members, "records": records, "empty": EMPTY_RECORD,
                                                "guests": guests, "honor_rolls": rolls})]
    for member in members:
        record = records.get(member.id, EMPTY_RECORD)
        ranks = [(r.key, row.rank) for r in full for row in r.rows if row.who == member.id]
        pages.append(Page(urls.member(member.id), "member.html",
                          {"member": member, "c": record, "list_limit": MEMBER_LIST_LIMIT, "ranks": ranks}))
    return pages


# --- Open questions -----------------------------------------------------------------------


def open_questions(site: Site) -> list[OpenQuestion]:
    """Questions still waiting for an answer, the longest-waiting first."""
    waiting = [e for e in site.entries if e.question and e.question.is_open]
    waiting.sort(key=lambda e: (e.date, e.url))
    return [OpenQuestion(e, max(0, (site.now - e.date).days)) for e in waiting]


def open_question_pages(waiting: list[OpenQuestion]) -> list[Page]:
    """/qa/open/ (`waiting`: `open_questions(site)`); its feed is made with the others (feeds.py)."""
    return [Page(urls.OPEN_QUESTIONS, "open.html", {"questions": waiting})]
