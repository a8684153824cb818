"""The site's files other than pages (feeds, the start page's index, the search files), each reused
from an earlier build while what it is made of is the same, and not even loaded when output/ holds
it as made with the same key: an edit remakes the few feeds its entry is in.
"""
from __future__ import annotations

from dataclasses import replace

import jinja2

from ..core.errors import Problem
from ..derive.feeds import (
    DIGEST_ITEM_TEMPLATE,
    FeedItem,
    digest_feed_of_items,
    digest_feed_weeks,
    digest_item,
    entry_feeds,
    open_questions_feed,
)
from ..derive.newcomers import start_files
from ..model import urls
from ..model.digest import WeekDigest
from ..model.pages import OutputFile, output_path
from ..model.records import Site
from ..render import Renderer, TemplateProblem
from .fingerprint import TemplateDigests, sha, value_digest
from .parallel import Background, parallel_map
from .reuse import Reuse, as_kept, kept_or_stored
from .terms import CachedTerms

FEED = output_path(urls.DIGEST_FEED)


def site_files(site: Site, renderer: Renderer, reuse: Reuse, terms: CachedTerms, weeks: list[WeekDigest],
               templates: TemplateDigests, search: list[OutputFile] | None = None,
               start: Background[list[OutputFile]] | None = None) -> tuple[list[OutputFile], list[Problem]]:
    """Every output that is bytes rather than a templated page (feeds, JSON), from each derive stage,
    the costly ones (the search index, the feeds) reused from earlier builds where they can be
    (`search`: the caller made the search files already; `start`: a child is making the start page's index).

    Not stored whole: the search index alone is tens of megabytes, and after an edit most of it is unchanged.
    """
    search = terms.search_files() if search is None else search
    terms.release()  # before the feeds are made: the two need not be in memory together
    feeds = cached_entry_feeds(site, reuse)
    digest_feed, problems = cached_digest_feed(site, renderer, reuse, weeks, templates)
    start = start.result() if start else start_files(site, [w.week for w in weeks])
    # keyed by their bytes: after an edit, the start page's index of every entry is megabytes, most often the same
    own = [replace(f, key=sha(f.data)) if f.data is not None and not f.key else f
           for f in start + [open_questions_feed(site)]]
    return feeds + digest_feed + as_kept(own, reuse.kept) + search, problems


def cached_entry_feeds(site: Site, reuse: Reuse) -> list[OutputFile]:
    """The feeds of entries, each reused from an earlier build when its entries, names and settings are the same
    (and not even loaded when output/ holds it as written with the same key: see `on_disk`).

    An edit touches the few feeds its entry is in, not the hundreds a site with many tags has.
    """
    shared = value_digest((site.config, dict(site.members)))  # item authors are members' names
    feeds = entry_feeds(site)
    keys = [sha(reuse.base, "feed", shared, repr((feed.path, feed.title, feed.url, feed.description, feed.page_url,
                                                  feed.atom)), *refs)
            if shared and all(refs := [reuse.digests.get(id(e)) for e in feed.entries]) else "" for feed in feeds]
    made = [kept_or_stored(reuse, "feed:", feed.path, key) for feed, key in zip(feeds, keys, strict=True)]
    missing = [i for i, file in enumerate(made) if file is None]
    # In this process: each entry's item is made once for all the feeds it is in, which workers
    # could not share, and a worker's copy of the model would raise the peak memory.
    items: dict = {}
    for i, data in zip(missing, [feeds[i].bytes(site, items) for i in missing], strict=True):
        made[i] = OutputFile(feeds[i].path, data, keys[i])
        if keys[i]:
            reuse.cache.save_artifact("feed:" + feeds[i].path, keys[i], data)
    return made


def cached_digest_feed(site: Site, renderer: Renderer, reuse: Reuse, all_weeks: list[WeekDigest],
                       templates: TemplateDigests) -> tuple[list[OutputFile], list[Problem]]:
    """The digest feed, each week's item reused while that week, the names, the config and the item
    template are the same, and the whole feed while every item is and output/ holds it: an edit renders
    one item, not fifty. The whole feed is not stored: it is megabytes, and made from its items in less
    time than storing it took (docs/performance.md)."""
    weeks = digest_feed_weeks(site, all_weeks)
    digests, kept, cache = reuse.digests, reuse.kept, reuse.cache
    try:
        template = templates.info(DIGEST_ITEM_TEMPLATE)
    except jinja2.TemplateError:  # made (and its error reported) below
        template = None
    shared = value_digest((site.config, dict(site.members))) if template and not template.reads_site else None
    keys = [sha(reuse.base, "digest-item", template.digest, shared, value)
            if shared and (value := digests.get(id(week)) or value_digest(week, digests)) else "" for week in weeks]
    key = sha(reuse.base, "digest-feed", shared, *keys) if shared and all(keys) else ""  # shared: when there are no weeks
    if key and kept is not None and kept(FEED, key):
        return [OutputFile(FEED, None, key)], []
    items = [cache.artifact("digest-item:" + week.url, item_key) if item_key else None
             for week, item_key in zip(weeks, keys, strict=True)]
    missing = [i for i, item in enumerate(items) if not isinstance(item, FeedItem)]
    try:
        made = parallel_map(lambda i: digest_item(site, weeks[i], renderer.render), missing)  # on every core when cold
    except TemplateProblem as exc:
        return [], [exc.problem]
    for i, item in zip(missing, made, strict=True):
        items[i] = item
        if keys[i]:
            cache.save_artifact("digest-item:" + weeks[i].url, keys[i], item)
    return [OutputFile(FEED, digest_feed_of_items(site, items), key)], []
