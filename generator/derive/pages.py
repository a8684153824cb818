"""Site → the listing pages: home, section lists, tags, archive, and 404, sitemap, robots.txt.

Pure functions of the Site and of what other derive stages made of it (honor rolls, open
questions), which the pipeline passes in; each returns `Page`s for the renderer.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..config import SECTION_IDS
from ..model import urls
from ..model.contributions import HonorRoll, OpenQuestion
from ..model.pages import Page
from ..model.records import Entry, Site

LATEST_ON_HOME = 5
HONOR_ROLL_ON_HOME = 5  # rows of each honor roll on the home page


@dataclass(frozen=True)
class Pager:
    number: int
    total: int
    base_url: str  # the first page's

    def url_of(self, number: int) -> str:
        return urls.page(self.base_url, number)

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


def home_page(site: Site, rolls: list[HonorRoll], waiting: list[OpenQuestion]) -> Page:
    """`rolls`: the honor rolls of everyone (community.everyones_rolls); `waiting`: the open
    questions, longest-waiting first (community.open_questions)."""
    return Page(urls.HOME, "home.html", {
        "pinned": site.pinned(),
        "latest": {s: site.in_section(s)[:LATEST_ON_HOME] for s in SECTION_IDS},
        "counts": {s: len(site.in_section(s)) for s in SECTION_IDS},
        "open_count": len(waiting), "waiting": waiting[:LATEST_ON_HOME],
        "top_tags": top_tags(site, 16),
        "honor_rolls": [roll.first(HONOR_ROLL_ON_HOME) for roll in rolls],
    })


def top_tags(site: Site, limit: int) -> list[tuple[object, int]]:
    counts = Counter(t.slug for e in site.entries for t in e.tags)
    return [(site.tags[slug], n) for slug, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def section_pages(site: Site) -> list[Page]:
    pages = []
    for section in SECTION_IDS:
        for url, chunk, pager in paginated(urls.section(section), site.in_section(section), site.config.per_page):
            pages.append(Page(url, "list.html", {"kind": "section", "section": section, "entries": chunk, "pager": pager}))
    return pages


def tag_pages(site: Site) -> list[Page]:
    by_tag: dict[str, list[Entry]] = defaultdict(list)
    for e in site.entries:
        for t in e.tags:
            by_tag[t.slug].append(e)
    tags = sorted(((site.tags[slug], len(items)) for slug, items in by_tag.items()), key=lambda tn: (-tn[1], tn[0].slug))
    pages = [Page(urls.TAGS, "tags.html", {"tags": tags})]
    for slug, items in sorted(by_tag.items()):
        tag = site.tags[slug]
        for url, chunk, pager in paginated(urls.tag(slug), items, site.config.per_page):
            pages.append(Page(url, "list.html", {"kind": "tag", "tag": tag, "entries": chunk, "pager": pager, "total": len(items)}))
    return pages


def archive_pages(site: Site) -> list[Page]:
    """/archive/: each year with its months and their counts; /archive/YYYY/: that year's entries
    by month, newest first. A page per year stays small on a phone, and after an edit only the
    entry's year is rendered again."""
    by_month: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for e in site.entries:
        by_month[(e.date.year, e.date.month)].append(e)
    years: dict[int, list[tuple[tuple[int, int], list[Entry]]]] = defaultdict(list)
    for ym, entries in sorted(by_month.items(), reverse=True):
        years[ym[0]].append((ym, entries))
    order = list(years)  # newest first
    overview = [(year, sum(len(entries) for _, entries in months), [(ym, len(entries)) for ym, entries in months])
                for year, months in years.items()]
    pages = [Page(urls.ARCHIVE, "archive.html", {"years": overview})]
    for i, year in enumerate(order):
        pages.append(Page(urls.archive_year(year), "archive_year.html", {
            "year": year, "months": years[year],
            "newer": order[i - 1] if i > 0 else None, "older": order[i + 1] if i + 1 < len(order) else None}))
    return pages


def utility_pages(site: Site, page_urls: list[str]) -> list[Page]:
    """404, sitemap.xml and robots.txt; the sitemap lists every HTML page given."""
    lastmod = {e.url: (e.updated or e.date) for e in site.entries}
    listed = sorted(u for u in page_urls if u.endswith("/"))
    return [
        Page(urls.NOT_FOUND, "404.html", {}),
        Page(urls.SITEMAP, "sitemap.xml", {"urls": listed, "lastmod": lastmod}),
        Page(urls.ROBOTS, "robots.txt", {}),
    ]


def listing_pages(site: Site, rolls: list[HonorRoll], waiting: list[OpenQuestion]) -> list[Page]:
    """Home, sections, tags and archive (`rolls`, `waiting`: see `home_page`)."""
    return [home_page(site, rolls, waiting), *section_pages(site), *tag_pages(site), *archive_pages(site)]
