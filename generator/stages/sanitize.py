"""Raw HTML from chats is untrusted: keep an allow-list of tags, attributes and URL
schemes (nh3, the Rust ammonia sanitiser), unless the site opts in to trust it.

Markdown's own output goes through the same filter, so a `javascript:` link
written in Markdown syntax is dropped as surely as one written in HTML.

A tag that is not on the list is shown as written, as text: members write about
"the <script> tag" far more often than they mean one, and removing it would take
everything up to its end tag (the rest of the entry, when there is none) with it.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import nh3

from ..core.yamltext import INVALID_CHARS, without_invalid_chars

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "hreflang"},  # rel="noopener" is added to external links below
    "img": {"src", "alt", "width", "height", "loading"},
    "input": {"checked"},  # always a disabled checkbox: task lists
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "style", "scope"},
    "details": {"open"},
}
FORCED_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": "disabled"}}
# "kb" is the placeholder scheme parse.py gives links to other entries' .md files.
URL_SCHEMES = {"http", "https", "mailto", "tel", "kb"}
# An <a> start tag as the sanitiser writes it: attribute values always in double quotes.
_A_TAG = re.compile(r'<a((?:\s+[^\s=>"]+(?:="[^"]*")?)*)\s*>')
_EXTERNAL_HREF = re.compile(r'\shref="(?:https?:)?//', re.I)
_INPUT_TAG = re.compile(r'<input((?:\s+[^\s=>"]+(?:="[^"]*")?)*)\s*>')
_ATTRIBUTE = re.compile(r'[^\s=>"]+(?:="[^"]*")?')
# A "<" that opens markup the sanitiser would remove: a tag not on the list (its name runs, as for
# an HTML parser, to ASCII whitespace, "/" or ">"), an end tag without a name, "<!" or "<?" (which
# a parser reads as a comment up to the next ">"). Comments ("<!--") are looked at on their own.
_NAMES = "|".join(sorted(TAGS, key=len, reverse=True))
_FOREIGN = re.compile(rf"<(?=[A-Za-z/!?])(?!/?(?:{_NAMES})[\t\n\f\r />])(?!!--)", re.I)


# Built once: setting up the sanitiser's allow-lists is a large part of a call's cost.
_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    set_tag_attribute_values=FORCED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel=None,
    strip_comments=True,
    filter_style_properties={"text-align"},
)


def clean_html(html: str, trusted: bool = False) -> str:
    """The HTML with only allowed tags, attributes and URL schemes; other markup shown as text."""
    if trusted:
        return html
    clean = _CLEANER.clean(foreign_markup_as_text(html))
    if INVALID_CHARS.search(clean):  # from character references (&#1;): invisible, and fatal to XML outputs
        clean = without_invalid_chars(clean)
    if "<input" in clean:  # the forced attributes come in a different order in each process
        clean = _INPUT_TAG.sub(lambda m: "<input " + " ".join(sorted(_ATTRIBUTE.findall(m.group(1)))) + ">", clean)
    return _A_TAG.sub(_with_noopener, clean) if "<a" in clean else clean


def foreign_markup_as_text(html: str) -> str:
    """The HTML with every tag the sanitiser would remove, and a comment left open, made text."""
    if _FOREIGN.search(html):
        html = _FOREIGN.sub("&lt;", html)
    last_open = html.rfind("<!--")
    if last_open >= 0 and last_open + 2 > html.rfind("-->"):  # "<!-->" is a closed, empty comment
        html = _open_comment_as_text(html)
    return html


def _open_comment_as_text(html: str) -> str:
    """A "<!--" with no "-->" after it would hide the rest of the entry: it and those after it are shown."""
    closed_until = html.rfind("-->")
    at = html.find("<!--")
    while at + 2 <= closed_until:
        at = html.find("<!--", at + 4)
    return html[:at] + html[at:].replace("<!--", "&lt;!--")


def _with_noopener(match: re.Match) -> str:
    """rel="noopener" on links to other sites: the page they open cannot reach back to ours."""
    attributes = match.group(1)
    if _EXTERNAL_HREF.search(attributes):
        return f'<a{attributes} rel="noopener">'
    return match.group(0)


def is_safe_url(url: str) -> bool:
    """True for links a member profile may carry: http(s), mailto, or a site path."""
    text = "".join(ch for ch in url if ch > " ")  # browsers skip tabs, newlines and spaces in a scheme
    try:
        return urlsplit(text).scheme.lower() in ("", "http", "https", "mailto")
    except ValueError:
        return False
