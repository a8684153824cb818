"""Site → the browsing pages: home, entries, section lists, tags, members, archive.

Pure functions of the Site; each returns `Page`s for the renderer.
"""
from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..model.pages import Page
from ..model.records import SECTIONS, Entry, Site
from .community import HONOR_ROLL_SIZE, Contribution, HonorRoll, contributions, honor_rolls, member_pages
from .community import open_questions as longest_waiting
from .related import related_entries
from .structured import entry_image, ordered_answers, structured_data

LATEST_ON_HOME = 5


@dataclass(frozen=True)
class Pager:
    number: int
    total: int
    base_url: str  # the first page's

    def url_of(self, number: int) -> str:
        return self.base_url if number == 1 else f"{self.base_url}page/{number}/"

    @property
    def url(self) -> str:
        return self.url_of(self.number)

    @property
    def urls(self) -> tuple[str, ...]:
        """Every page's URL, first to last (made when a template asks: a page's key digests its fields alone)."""
        return tuple(self.url_of(n) for n in range(1, self.total + 1))

    @property
    def prev_url(self) -> str | None:
        return self.url_of(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url_of(self.number + 1) if self.number < self.total else None


def paginated(base_url: str, items: list, per_page: int) -> list[tuple[str, list, Pager]]:
    """Split a list into pages at base_url, base_url/page/2/, …; always at least one."""
    total = max(1, math.ceil(len(items) / per_page))
    pagers = [Pager(n, total, base_url) for n in range(1, total + 1)]
    return [(p.url, items[(p.number - 1) * per_page: p.number * per_page], p) for p in pagers]


def pinned_entries(site: Site) -> list[Entry]:
    return sorted((e for e in site.entries if e.pinned), key=lambda e: (e.weight or 999, e.date))


def home_page(site: Site, events: list[Contribution] | None = None, rolls: list[HonorRoll] | None = None) -> Page:
    """`rolls`: the honor rolls of everyone (`honor_rolls` with no limit), if the caller has them."""
    latest = {s: site.in_section(s)[:LATEST_ON_HOME] for s in SECTIONS}
    counts = {s: len(site.in_section(s)) for s in SECTIONS}
    waiting = longest_waiting(site)
    return Page("/", "home.html", {
        "pinned": pinned_entries(site), "latest": latest, "counts": counts,
        "open_count": len(waiting), "waiting": waiting[:LATEST_ON_HOME],
        "top_tags": top_tags(site, 16),
        "honor_rolls": [roll.first(HONOR_ROLL_SIZE) for roll in rolls] if rolls is not None
        else honor_rolls(site, events=events),
    })


def top_tags(site: Site, limit: int) -> list[tuple[object, int]]:
    counts = Counter(t.slug for e in site.entries for t in e.tags)
    return [(site.tags[slug], n) for slug, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def entry_pages(site: Site, related: dict[str, list[Entry]] | None = None) -> list[Page]:
    """`related` may come from the build cache; it is computed here when not given."""
    if related is None:
        related = related_entries(site, site.config.related_count)
    pages = []
    for section in SECTIONS:
        entries = site.in_section(section)  # newest first
        for index, entry in enumerate(entries):
            pages.append(entry_page(site, entry, *neighbours(entries, index), related[entry.url]))
    return pages


def neighbours(entries: list[Entry], index: int) -> tuple[Entry | None, Entry | None]:
    """(newer, older) of entries[index] in a section's entries, newest first."""
    return (entries[index - 1] if index > 0 else None,
            entries[index + 1] if index + 1 < len(entries) else None)


def entry_page(site: Site, entry: Entry, newer: Entry | None, older: Entry | None, related: list[Entry]) -> Page:
    """One entry's page, given its neighbours in its section (`kb serve` renders one alone)."""
    return Page(entry.url, "entry.html", {
        "entry": entry, "newer": newer, "older": older, "related": related,
        "show_toc": len(entry.toc) >= site.config.toc_min_headings,
    }, derived={  # made from the entry when the page is rendered: not digested for its key
        "answers": functools.partial(ordered_answers, entry),
        "structured_data": functools.partial(structured_data, site, entry),
        "image": functools.partial(entry_image, entry, site),
    })


def section_pages(site: Site) -> list[Page]:
    pages = []
    for section in SECTIONS:
        for url, chunk, pager in paginated(f"/{section}/", site.in_section(section), site.config.per_page):
            pages.append(Page(url, "list.html", {"kind": "section", "section": section, "entries": chunk, "pager": pager}))
    return pages


def tag_pages(site: Site) -> list[Page]:
    by_tag: dict[str, list[Entry]] = defaultdict(list)
    for e in site.entries:
        for t in e.tags:
            by_tag[t.slug].append(e)
    tags = sorted(((site.tags[slug], len(items)) for slug, items in by_tag.items()), key=lambda tn: (-tn[1], tn[0].slug))
    pages = [Page("/tags/", "tags.html", {"tags": tags})]
    for slug, items in sorted(by_tag.items()):
        tag = site.tags[slug]
        for url, chunk, pager in paginated(f"/tags/{slug}/", items, site.config.per_page):
            pages.append(Page(url, "list.html", {"kind": "tag", "tag": tag, "entries": chunk, "pager": pager, "total": len(items)}))
    return pages


def archive_pages(site: Site) -> list[Page]:
    """/archive/: each year with its months and their counts; /archive/YYYY/: that year's entries
    by month, newest first. A page per year stays small on a phone (one page of ten thousand
    entries was 2 MB), and after an edit only the entry's year is rendered again."""
    by_month: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for e in site.entries:
        by_month[(e.date.year, e.date.month)].append(e)
    years: dict[int, list[tuple[tuple[int, int], list[Entry]]]] = defaultdict(list)
    for ym, entries in sorted(by_month.items(), reverse=True):
        years[ym[0]].append((ym, entries))
    order = list(years)  # newest first
    overview = [(year, sum(len(entries) for _, entries in months), [(ym, len(entries)) for ym, entries in months])
                for year, months in years.items()]
    pages = [Page("/archive/", "archive.html", {"years": overview})]
    for i, year in enumerate(order):
        pages.append(Page(f"/archive/{year}/", "archive_year.html", {
            "year": year, "months": years[year],
            "newer": order[i - 1] if i > 0 else None, "older": order[i + 1] if i + 1 < len(order) else None}))
    return pages


def utility_pages(site: Site, page_urls: list[str]) -> list[Page]:
    """404, sitemap.xml and robots.txt; the sitemap lists every HTML page given."""
    lastmod = {e.url: (e.updated or e.date) for e in site.entries}
    urls = sorted(u for u in page_urls if u.endswith("/"))
    return [
        Page("/404.html", "404.html", {}),
        Page("/sitemap.xml", "sitemap.xml", {"urls": urls, "lastmod": lastmod}),
        Page("/robots.txt", "robots.txt", {}),
    ]


def browsing_pages(site: Site, related: dict[str, list[Entry]] | None = None,
                   events: list[Contribution] | None = None) -> list[Page]:
    """`events`: `contributions(site)`, made once for every page that counts them."""
    return [*entry_pages(site, related), *listing_pages(site, events)]


def listing_pages(site: Site, events: list[Contribution] | None = None) -> list[Page]:
    """The browsing pages but the entries' own: home, sections, tags, members, archive."""
    events = contributions(site) if events is None else events
    rolls = honor_rolls(site, limit=len(events), events=events)  # everyone: each page shows the first few
    return [home_page(site, events, rolls), *section_pages(site), *tag_pages(site), *member_pages(site, events, rolls),
            *archive_pages(site)]
