"""Site → the entry pages, with what search engines and chat apps read of them: schema.org
JSON-LD and the share image.

Q&A entries become a `QAPage` whose `mainEntity` is the Question with its
accepted and suggested answers; every other entry is an `Article`. The dicts
are rendered with `tojson_safe`, so no text in them can end the <script>.
"""
from __future__ import annotations

import functools
import html as html_lib
import re
from typing import Any
from urllib.parse import urljoin

from ..config import SECTION_IDS
from ..model import urls
from ..model.pages import Page
from ..model.records import Answer, Entry, Site

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|pre|blockquote|tr|div)>", re.I)
_IMG = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]+)\"", re.I)


def entry_pages(site: Site, related: dict[str, list[Entry]]) -> list[Page]:
    """Every entry's page (`related`: URL → its related entries, from derive/related.py)."""
    pages = []
    for section in SECTION_IDS:
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


def plain_text(html: str) -> str:
    """Visible text of our own sanitised HTML, one line per block."""
    text = html_lib.unescape(_TAG.sub("", _BLOCK_END.sub("\n", html)))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def ordered_answers(entry: Entry) -> list[tuple[int, Answer]]:
    """(position as written, 1-based; answer): the accepted answer first, then the others in order.

    The position names the answer's anchor (#answer-2), so links stay the same
    whichever answer is accepted later.
    """
    if not entry.question:
        return []
    numbered = list(enumerate(entry.question.answers, start=1))
    return [item for item in numbered if item[1].accepted] + [item for item in numbered if not item[1].accepted]


def person(site: Site, who: str) -> dict[str, str]:
    data = {"@type": "Person", "name": site.member_name(who)}
    if who in site.members:
        data["url"] = urls.absolute(site.config, urls.member(who))
    return data


def entry_image(entry: Entry, site: Site) -> str:
    """The share image: the entry's first image, else the site's `image`; site-relative or absolute."""
    match = _IMG.search(entry.html)
    if match:
        src = html_lib.unescape(match.group(1))
        if not src.startswith("data:"):
            return urljoin(entry.url, src)
    return site.config.image


def structured_data(site: Site, entry: Entry) -> dict[str, Any]:
    """The JSON-LD object of an entry page."""
    url = urls.absolute(site.config, entry.url)
    image = entry_image(entry, site)
    if entry.question is None:
        data: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "Article",
            "headline": entry.title[:110], "description": entry.summary, "url": url, "mainEntityOfPage": url,
            "datePublished": entry.date.isoformat(), "dateModified": (entry.updated or entry.date).isoformat(),
            "author": [person(site, who) for who in entry.authors] or {"@type": "Organization", "name": site.config.title},
            "publisher": {"@type": "Organization", "name": site.config.title, "url": site.config.base_url},
            "inLanguage": site.config.language,
        }
        if entry.tags:
            data["keywords"] = [t.name for t in entry.tags]
        if image:
            data["image"] = urls.absolute(site.config, image)
        return data

    question = entry.question
    asker = question.asker or (entry.authors[0] if entry.authors else None)
    main: dict[str, Any] = {
        "@type": "Question", "name": entry.title, "text": plain_text(entry.html) or entry.title,
        "answerCount": len(question.answers), "dateCreated": entry.date.isoformat(), "url": url,
    }
    if asker:
        main["author"] = person(site, asker)
    suggested = []
    for number, answer in ordered_answers(entry):
        item: dict[str, Any] = {"@type": "Answer", "text": answer.text or plain_text(answer.html),
                                "url": f"{url}#answer-{number}",
                                "dateCreated": (answer.date or entry.date).isoformat()}
        if answer.author:
            item["author"] = person(site, answer.author)
        if answer.accepted:
            main["acceptedAnswer"] = item
        else:
            suggested.append(item)
    if suggested:
        main["suggestedAnswer"] = suggested
    return {"@context": "https://schema.org", "@type": "QAPage", "inLanguage": site.config.language, "mainEntity": main}
