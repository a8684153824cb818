"""Site → RSS 2.0 and Atom feeds (feedgen), as OutputFiles.

Feeds leave the site: every link in them is absolute, every date carries its
offset, and the bytes depend only on the content, never on the clock, so a
rebuild that changes nothing rewrites nothing.
"""
from __future__ import annotations

import html as html_lib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from ..config import SECTION_IDS, SiteConfig
from ..core.i18n import format_week, format_week_range
from ..model import urls
from ..model.digest import WeekDigest
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Entry, Site

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # text pasted from chats can hold these
GENERATOR = "kb"
DIGEST_ITEM_TEMPLATE = "digest_feed_item.html"
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")  # the build date of a feed with no items


def xml_text(text: str) -> str:
    """Text without the characters XML 1.0 forbids, so one stray control character cannot break a build."""
    return NOT_XML.sub("", text)


def rss_html(text: str) -> str:
    """Plain text for an RSS <description>, which readers render as HTML: a "<script>" in a summary stays text."""
    return html_lib.escape(xml_text(text), quote=False)


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, whatever it comes from (an entry, a week's digest)."""

    id: str  # absolute, stable: the GUID
    title: str
    link: str  # absolute
    published: datetime
    updated: datetime
    summary: str  # plain text
    content: str  # HTML with absolute links
    authors: tuple[str, ...] = ()  # display names
    categories: tuple[str, ...] = ()


def entry_html(site: Site, entry: Entry) -> str:
    """The whole entry as feed content: the body, then a Q&A entry's answers."""
    parts = [entry.html]
    q = entry.question
    if q is not None:
        t = site.config.translator()
        for answer in sorted(q.answers, key=lambda a: not a.accepted):
            label = t("accepted_answer") if answer.accepted else t("answer")
            who = site.member_name(answer.author) if answer.author else ""
            parts.append(f"<h2>{html_lib.escape(label + (t('colon') + who if who else ''))}</h2>\n{answer.html}")
        if q.is_open:
            parts.append(f"<p><strong>{html_lib.escape(t('open'))}</strong> — {html_lib.escape(t('no_answers'))}</p>")
    return urls.absolute_links("\n".join(parts), entry.url, site.config)


def entry_item(site: Site, entry: Entry) -> FeedItem:
    link = urls.absolute(site.config, entry.url)
    full = site.config.feed_full_content
    return FeedItem(
        id=link, title=entry.title, link=link, published=entry.date, updated=entry.updated or entry.date,
        summary=entry.summary, content=entry_html(site, entry) if full else "",
        authors=tuple(site.member_name(a) for a in entry.contributors),
        categories=tuple(t.name for t in entry.tags),
    )


def items_feed_bytes(config: SiteConfig, title: str, url: str, items: list[FeedItem], *,
                     description: str = "", page_url: str = "/", atom: bool = False) -> bytes:
    """RSS 2.0 (or Atom) bytes for items, newest first, at most `feed_limit` of them."""
    items = sorted(items, key=lambda i: (-i.published.timestamp(), i.id))[: config.feed_limit]
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(urls.absolute(config, page_url))
    fg.title(xml_text(title))
    subtitle = description or config.description or title
    fg.subtitle(xml_text(subtitle) if atom else rss_html(subtitle))
    fg.link(href=urls.absolute(config, url), rel="self")
    fg.link(href=urls.absolute(config, page_url), rel="alternate")  # last: feedgen makes it the RSS <link>
    fg.language(config.language)
    fg.generator(GENERATOR)
    fg.author(name=xml_text(config.title))
    # The newest change, not the clock: the same content gives the same bytes.
    changed = max((max(i.updated, i.published) for i in items), default=None)
    if changed is not None:
        fg.lastBuildDate(changed)
        fg.updated(changed)
    else:
        fg.lastBuildDate(EPOCH)
        fg.updated(EPOCH)
    for item in items:
        fe = fg.add_entry(order="append")
        fe.id(item.id)
        fe.guid(item.id, permalink=item.id == item.link)
        fe.title(xml_text(item.title))
        fe.link(href=item.link, rel="alternate")
        fe.published(item.published)
        fe.updated(item.updated)
        if item.summary:
            fe.summary(xml_text(item.summary) if atom else rss_html(item.summary))
        if item.content:
            fe.content(xml_text(item.content), type="html")
        elif not item.summary:
            fe.summary(xml_text(item.title) if atom else rss_html(item.title))
        for name in item.authors:
            if atom:
                fe.author(name=xml_text(name))
            else:
                fe.dc.dc_creator(xml_text(name))
        for category in item.categories:
            fe.category(term=xml_text(category))
    return fg.atom_str(pretty=True) if atom else fg.rss_str(pretty=True)


def feed_bytes(site: Site, title: str, url: str, entries: list[Entry], *, description: str = "",
               page_url: str = "/", atom: bool = False, items: dict[int, FeedItem] | None = None) -> bytes:
    """A feed of entries (newest first, `feed_limit` at most) at site-relative `url`.

    `page_url` is the HTML page the feed stands for (its <link>); reusable by any
    stage that wants a feed of its own entries, e.g. /qa/open/feed.xml. `items` (id of
    an entry → its item) lets the many feeds an entry is in make its item once.
    """
    items = items if items is not None else {}
    chosen = []
    for e in entries[: site.config.feed_limit]:
        item = items.get(id(e))
        if item is None:
            item = items[id(e)] = entry_item(site, e)
        chosen.append(item)
    return items_feed_bytes(site.config, title, url, chosen, description=description, page_url=page_url, atom=atom)


@dataclass(frozen=True)
class EntryFeed:
    """One feed of entries, before it is made: what its bytes depend on, besides the config and members."""

    title: str
    url: str
    entries: tuple[Entry, ...]  # newest first, at most feed_limit
    description: str = ""
    page_url: str = "/"
    atom: bool = False

    @property
    def path(self) -> str:
        """Where it goes in output/: "tags/x/feed.xml"."""
        return output_path(self.url)

    def bytes(self, site: Site, items: dict[int, FeedItem] | None = None) -> bytes:
        return feed_bytes(site, self.title, self.url, list(self.entries), description=self.description,
                          page_url=self.page_url, atom=self.atom, items=items)


def feed_title(site: Site, name: str) -> str:
    return f"{name} · {site.config.title}"


def digest_item(site: Site, digest: WeekDigest, render: Callable[[Page], OutputFile]) -> FeedItem:
    """A completed week as one item; its GUID is the week's page, which never moves (`render`: the
    Renderer's, for the item's template)."""
    config = site.config
    t = config.translator()
    page = Page(digest.url, DIGEST_ITEM_TEMPLATE, {"digest": digest, "absolute": True})
    content = render(page).data.decode("utf-8")
    week = format_week(digest.week, config.language)
    link = urls.absolute(config, digest.url)
    closed = digest.week.end(config.tz)
    summary = (f"{format_week_range(digest.week, config.language)} · {digest.counts.entries} {t('digest_count_entries')}"
               f" · {digest.counts.answers} {t('digest_count_answers')} · {digest.counts.contributors} {t('digest_count_people')}")
    return FeedItem(id=link, title=t("digest_week_title", week=week), link=link, published=closed, updated=closed,
                    summary=summary, content=urls.absolute_links(content, digest.url, config))


def digest_feed_weeks(site: Site, digests: list[WeekDigest]) -> list[WeekDigest]:
    """The weeks /digest/feed.xml shows: the latest completed ones, oldest first, never the week in
    progress (`digests`: `digest.site_digests(site)`)."""
    return [d for d in digests if not d.in_progress][-site.config.feed_limit:]


def digest_feed_of_items(site: Site, items: list[FeedItem]) -> bytes:
    """/digest/feed.xml from its items (`digest_item` of each week): the build reuses items of unchanged weeks."""
    t = site.config.translator()
    return items_feed_bytes(site.config, feed_title(site, t("feed_digest")), urls.DIGEST_FEED, items,
                            description=t("digest_about"), page_url=urls.DIGESTS)


def entry_feeds(site: Site) -> list[EntryFeed]:
    """Every feed of entries: all of them (RSS and Atom), per section, per tag."""
    config = site.config
    t = config.translator()
    limit = config.feed_limit
    entries = site.entries[:limit]
    everything = feed_title(site, t("feed_all"))
    feeds = [EntryFeed(everything, urls.FEED, entries), EntryFeed(everything, urls.ATOM, entries, atom=True)]
    for section in SECTION_IDS:
        feeds.append(EntryFeed(feed_title(site, t(section)), urls.section_feed(section),
                               tuple(site.in_section(section)[:limit]), t(f"{section}_about"), urls.section(section)))
    by_tag: dict[str, list[Entry]] = defaultdict(list)
    for e in site.entries:
        for tag in e.tags:
            if len(by_tag[tag.slug]) < limit:
                by_tag[tag.slug].append(e)
    for slug, tagged in sorted(by_tag.items()):
        name = t("feed_tag", tag=site.tags[slug].name)
        feeds.append(EntryFeed(feed_title(site, name), urls.tag_feed(slug), tuple(tagged),
                               t("tagged", tag=site.tags[slug].name), urls.tag(slug)))
    return feeds


def open_questions_feed(site: Site) -> OutputFile:
    """/qa/open/feed.xml, newest question first, for members who like to help."""
    t = site.config.translator()
    waiting = sorted((e for e in site.entries if e.question and e.question.is_open), key=lambda e: (e.date, e.url),
                     reverse=True)
    data = feed_bytes(site, feed_title(site, t("open_feed_title")), urls.OPEN_QUESTIONS_FEED, waiting,
                      description=t("open_about"), page_url=urls.OPEN_QUESTIONS)
    return OutputFile(output_path(urls.OPEN_QUESTIONS_FEED), data)


def page_alternates(site: Site, url: str, t: Callable[..., str] | None = None) -> list[tuple[str, str]]:
    """The feeds a page links with <link rel="alternate">: its own first, then the site's
    (`t`: the site's translator, made once by a caller asking for many pages)."""
    t = t or site.config.translator()
    own: list[tuple[str, str]] = []
    if url == urls.OPEN_QUESTIONS:
        own.append((feed_title(site, t("open_feed_title")), urls.OPEN_QUESTIONS_FEED))
    kind, key = urls.area(url)
    if kind == "section":
        own.append((feed_title(site, t(key)), urls.section_feed(key)))
    elif kind == "tag" and key in site.tags:
        own.append((feed_title(site, t("feed_tag", tag=site.tags[key].name)), urls.tag_feed(key)))
    elif url.startswith((urls.DIGESTS, urls.START)):
        own.append((feed_title(site, t("feed_digest")), urls.DIGEST_FEED))
    everything = feed_title(site, t("feed_all"))
    common = [(everything, urls.FEED), (everything, urls.ATOM)]
    if not own or own[0][1] != urls.DIGEST_FEED:
        common.append((feed_title(site, t("feed_digest")), urls.DIGEST_FEED))
    return own + common


def with_alternates(site: Site, pages: list[Page]) -> list[Page]:
    """Pages with their feeds added to the context (pages that set their own keep them)."""
    out = []
    t = site.config.translator()
    known: dict[tuple[str, str, bool], list[tuple[str, str]]] = {}  # by what page_alternates reads of a URL
    for page in pages:
        if not page.url.endswith("/") or "alternates" in page.context:
            out.append(page)
            continue
        kind = (*urls.area(page.url), page.url == urls.OPEN_QUESTIONS)
        if kind not in known:
            known[kind] = page_alternates(site, page.url, t)
        out.append(Page(page.url, page.template, {**page.context, "alternates": known[kind]}, page.derived))
    return out
