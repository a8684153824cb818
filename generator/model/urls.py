"""Every URL of the site, in one place: the contract's URL scheme (docs/pages.md).

Pages are keyed by site paths ("/qa/x/"); `link` and `absolute` turn a site path into what
HTML and feeds hold, under the site's base path. Templates reach the same names through
the `urls` global: `url(urls.tag(tag.slug))`.
"""
from __future__ import annotations

import html as html_lib
import re
from types import SimpleNamespace
from urllib.parse import quote, urljoin

from ..config import SECTION_IDS, SiteConfig
from ..core.weeks import Week

HOME = "/"
TAGS = "/tags/"
MEMBERS = "/members/"
DIGESTS = "/digest/"
DIGEST_FEED = "/digest/feed.xml"
SUBSCRIBE = "/digest/#subscribe"  # where the digest index lists every feed
FEED = "/feed.xml"  # RSS 2.0, every section
ATOM = "/atom.xml"
ARCHIVE = "/archive/"
SEARCH = "/search/"
START = "/start/"
START_INDEX = "/start/entries.json"  # what /start/'s catch-up reads in the browser
STATS = "/stats/"
OPEN_QUESTIONS = "/qa/open/"  # inside the Q&A section, so no question can have the slug "open"
OPEN_QUESTIONS_FEED = "/qa/open/feed.xml"
NOT_FOUND = "/404.html"
SITEMAP = "/sitemap.xml"
ROBOTS = "/robots.txt"
# What percent-encoding leaves as it is: a path encoded twice stays the same.
URL_SAFE = "/#?=&%:@~+-._"
_ATTRIBUTE_URL = re.compile(r'(?P<attr>\s(?:href|src))="(?P<url>[^"]*)"')


def entry(section: str, slug: str) -> str:
    return f"/{section}/{slug}/"


def section(section_id: str) -> str:
    return f"/{section_id}/"


def section_feed(section_id: str) -> str:
    return f"/{section_id}/feed.xml"


def tag(slug: str) -> str:
    return f"{TAGS}{slug}/"


def tag_feed(slug: str) -> str:
    return f"{TAGS}{slug}/feed.xml"


def member(member_id: str) -> str:
    return f"{MEMBERS}{member_id}/"


def digest(week: Week | str) -> str:
    """A week's digest, by its label ("2026-W47": see core/weeks.py for how a week is labelled)."""
    return f"{DIGESTS}{week.label if isinstance(week, Week) else week}/"


def archive_year(year: int) -> str:
    return f"{ARCHIVE}{year}/"


def page(first: str, number: int) -> str:
    """Page `number` of a paginated list whose first page is at `first`."""
    return first if number == 1 else f"{first}page/{number}/"


def asset(name: str) -> str:
    """A file of the theme's (or the site's) static/assets/ folder."""
    return f"/assets/{name}"


def search_file(name: str) -> str:
    """A file of the search index ("meta.bin", "s/3.bin"): search.js reads them from SEARCH."""
    return f"{SEARCH}{name}"


def area(url: str) -> tuple[str, str]:
    """The part of the site a page is in: ("section", id) for a section's entries and lists
    (the open questions too), ("tag", slug) for a tag's lists, else (first folder, "")."""
    parts = url.strip("/").split("/")
    if parts[0] == TAGS.strip("/") and len(parts) >= 2:
        return "tag", parts[1]
    return ("section", parts[0]) if parts[0] in SECTION_IDS else (parts[0], "")


def link(base_path: str, path: str) -> str:
    """A site path as a link from any page: under the base path ("/kb/"), percent-encoded once;
    an absolute URL, an anchor or a mailto: as it is."""
    if "://" in path or path.startswith(("#", "mailto:")):
        return path
    return quote(base_path + path.lstrip("/"), safe=URL_SAFE)


def absolute(config: SiteConfig, path: str) -> str:
    """A site path as an absolute URL (feeds, canonical links, JSON-LD), percent-encoded once."""
    return config.absolute(quote(path, safe=URL_SAFE))


def absolute_links(html: str, page_url: str, config: SiteConfig) -> str:
    """HTML of the page at `page_url` with every href and src absolute, resolved as the browser
    resolves them on the page itself, for HTML read elsewhere (feeds, e-mail).

    Links between entries already carry the base path ("/kb/qa/x/"), so they stay under base_url.
    """
    base = absolute(config, page_url)

    def fix(match: re.Match) -> str:
        url = html_lib.unescape(match.group("url"))
        if url.startswith(("data:", "mailto:", "tel:")) or re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
            return match.group(0)
        return f'{match.group("attr")}="{html_lib.escape(urljoin(base, url), quote=True)}"'

    return _ATTRIBUTE_URL.sub(fix, html)


def for_templates() -> SimpleNamespace:
    """The scheme as templates reach it, through the `urls` global: `url(urls.member(who))`.
    The functions a template needs to make a URL and the constants, nothing that reads the site."""
    return SimpleNamespace(
        HOME=HOME, TAGS=TAGS, MEMBERS=MEMBERS, DIGESTS=DIGESTS, DIGEST_FEED=DIGEST_FEED, SUBSCRIBE=SUBSCRIBE,
        FEED=FEED, ATOM=ATOM, ARCHIVE=ARCHIVE, SEARCH=SEARCH, START=START, START_INDEX=START_INDEX, STATS=STATS,
        OPEN_QUESTIONS=OPEN_QUESTIONS, OPEN_QUESTIONS_FEED=OPEN_QUESTIONS_FEED, SITEMAP=SITEMAP,
        entry=entry, section=section, section_feed=section_feed, tag=tag, tag_feed=tag_feed, member=member,
        digest=digest, archive_year=archive_year, page=page, asset=asset,
    )
