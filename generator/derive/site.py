"""The derive stage as a whole: every page and every generated file of a site, from its siblings.

Each function here is the plain form, made from nothing. The speed layer (speed/plan.py) makes
the same pages and files in parts, reusing earlier builds' and working beside other stages;
the bytes are the same (tests/e2e/test_speed_switch.py).
"""
from __future__ import annotations

from collections.abc import Callable

from ..config import SECTION_IDS
from ..core.term_index import EMPTY, TermIndex, patched_index, postings_of
from ..core.tokens import Tokenizer, filter_tokens, load_folding
from ..model import urls
from ..model.digest import WeekDigest
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Entry, Site
from .community import contributions, everyones_rolls, member_pages, open_question_pages, open_questions
from .digest import digest_pages, site_digests
from .entries import entry_pages
from .feeds import (
    digest_feed_of_items,
    digest_feed_weeks,
    digest_item,
    entry_feeds,
    open_questions_feed,
    with_alternates,
)
from .newcomers import start_files, start_page
from .pages import listing_pages, utility_pages
from .search import doc_entries, index_files, search_page
from .stats import stats_pages


def site_pages(site: Site, related: dict[str, list[Entry]], weeks: list[WeekDigest]) -> list[Page]:
    """Every page of the site (`related`: see derive/related.py; `weeks`: `digest.site_digests(site)`)."""
    return with_alternates(site, entry_pages(site, related)) + with_alternates(site, pages_besides_entries(site, weeks))


def pages_besides_entries(site: Site, weeks: list[WeekDigest]) -> list[Page]:
    """Every page but the entries' own, which alone show related entries: these can be made
    (and keyed) while related entries are being worked out."""
    events = contributions(site)  # counted by the home, member and stats pages
    rolls = everyones_rolls(site, events)
    waiting = open_questions(site)
    pages = listing_pages(site, rolls, waiting)
    pages += member_pages(site, events, rolls)
    pages += digest_pages(site, weeks)
    pages.append(start_page(site))
    pages += open_question_pages(waiting)
    pages += stats_pages(site, events, rolls)
    pages.append(search_page(site))
    entry_urls = [e.url for e in site.entries if e.section in SECTION_IDS]  # the pages of entry_pages
    return pages + utility_pages(site, [p.url for p in pages] + entry_urls)


def page_urls(site: Site) -> set[str]:
    """The URL of every page, for the checks of links (related entries change no URL)."""
    unrelated = {e.url: [] for e in site.entries}
    return {p.url for p in entry_pages(site, unrelated) + pages_besides_entries(site, site_digests(site))}


def term_index(site: Site) -> TermIndex:
    """Every entry's tokens, inverted (for search and related entries); docs in `doc_entries` order."""
    tokenizer = Tokenizer(load_folding())
    entries = doc_entries(site)
    terms = [tokenizer.entry_terms(e.title, e.text, filter_tokens(e.section, [t.slug for t in e.tags])) for e in entries]
    index, _ = patched_index(EMPTY, [str(doc) for doc in range(len(entries))], lambda docs: postings_of(docs, [terms[d] for d in docs]))
    return index


def site_files(site: Site, render: Callable[[Page], OutputFile], weeks: list[WeekDigest], index: TermIndex
               ) -> list[OutputFile]:
    """Every output that is bytes rather than a templated page: feeds, the start page's index of
    entries, the search files (`render`: a digest feed item's template, see feeds.digest_item)."""
    items: dict = {}  # each entry's feed item, made once for all the feeds it is in
    feeds = [OutputFile(feed.path, feed.bytes(site, items)) for feed in entry_feeds(site)]
    digest_feed = digest_feed_of_items(site, [digest_item(site, week, render) for week in digest_feed_weeks(site, weeks)])
    search, _ = index_files(site, index, load_folding())
    return [*feeds, OutputFile(output_path(urls.DIGEST_FEED), digest_feed), *start_files(site, [w.week for w in weeks]),
            open_questions_feed(site), *search]
