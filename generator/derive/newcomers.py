"""Site → /start/, the newcomers' path: rules and must-reads, then catching up.

Catching up runs in the browser from /start/entries.json, written here at build
time, so the site needs no server: pick a date, see every week since then.
"""
from __future__ import annotations

import json
from datetime import date

from ..core.i18n import format_week, format_week_range
from ..core.text import truncate
from ..core.weeks import Week, is_complete, week_of_date
from ..model import urls
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Site

SUMMARY_UNITS = 60


def catchup_index(site: Site, weeks: list[Week]) -> dict:
    """Every entry with its day and week in the site's timezone, newest first, and the weeks' digests
    (`weeks`: `digest.digest_weeks(site)`)."""
    config = site.config
    tz, base = config.tz, config.base_path
    t = config.translator()
    labels = {}
    for week in weeks:
        labels[week.label] = {
            "title": format_week(week, config.language), "range": format_week_range(week, config.language),
            "url": urls.link(base, urls.digest(week)), "in_progress": not is_complete(week, site.now, tz),
        }
    entries = []
    days: dict[date, tuple[str, str]] = {}  # a day's name and week's label, worked out once per day
    for e in site.entries:
        local = e.date.astimezone(tz)
        if (day := local.date()) not in days:
            days[day] = (local.strftime("%Y-%m-%d"), week_of_date(day, config.week_start).label)
        entries.append({
            "url": urls.link(base, e.url), "title": e.title, "section": e.section, "section_label": t(e.section),
            "date": local.isoformat(), "day": days[day][0], "week": days[day][1],
            "summary": truncate(e.summary, SUMMARY_UNITS),
        })
    return {"timezone": config.timezone, "weeks": labels, "entries": entries}


def start_files(site: Site, weeks: list[Week]) -> list[OutputFile]:
    """/start/entries.json (`weeks`: `digest.digest_weeks(site)`)."""
    data = json.dumps(catchup_index(site, weeks), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return [OutputFile(output_path(urls.START_INDEX), data.encode("utf-8"))]


def start_page(site: Site) -> Page:
    """/start/: the must-reads in curated order (weight), then the catch-up form."""
    today = site.now.astimezone(site.config.tz).strftime("%Y-%m-%d")
    first = site.entries[-1].date.astimezone(site.config.tz).strftime("%Y-%m-%d") if site.entries else today
    return Page(urls.START, "start.html", {"pinned": site.pinned(), "today": today, "first_day": first})
