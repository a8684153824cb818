"""Markdown → sanitised HTML: Python-Markdown configured once, with kb's extensions beside it."""
from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

import markdown
from markdown.extensions.toc import TocExtension, TocTreeprocessor, slugify_unicode

from ..sanitize import TAGS, clean_html
from .inline import QuickInline
from .raw_html import ClosedHtmlBlocks, PairedHtml
from .tree import EntryTreeprocessor


class HeadingIds(TocTreeprocessor):
    """The toc extension's heading ids and tokens, without the HTML table of contents it would also
    make and serialise for every document: the page template draws its own from the tokens."""

    def build_toc_div(self, toc_list: list) -> etree.Element:
        return etree.Element("div")


class Headings(TocExtension):
    TreeProcessorClass = HeadingIds


class EntryExtension(markdown.Extension):
    """kb's processors in Python-Markdown's pipeline, under the names and priorities of those they replace."""

    def __init__(self, state: dict, trusted_html: bool):
        super().__init__()
        self.state = state
        self.trusted_html = trusted_html

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(QuickInline(md), "inline", 20)
        md.treeprocessors.register(EntryTreeprocessor(md, self.state), "kb-entry", 1)
        if not self.trusted_html:
            md.preprocessors.register(ClosedHtmlBlocks(md), "html_block", 20)
            md.inlinePatterns.register(PairedHtml(markdown.inlinepatterns.HTML_RE, md), "html", 90)


@dataclass
class MarkdownRenderer:
    """One configured Python-Markdown instance, reused across files (reset each time)."""

    trusted_html: bool = False
    state: dict = field(default_factory=lambda: {"links": [], "images": [], "anchors": [], "source_dir": "", "line": 0})

    def __post_init__(self) -> None:
        self.md = markdown.Markdown(
            extensions=["tables", "fenced_code", "codehilite", "footnotes", "admonition",
                        "sane_lists", "attr_list",
                        # no [TOC] marker: a chat's literal "[TOC]" stays text
                        Headings(slugify=heading_id, permalink=False, toc_depth="2-4", marker=""),
                        EntryExtension(self.state, self.trusted_html)],
            extension_configs={
                "codehilite": {"css_class": "highlight", "guess_lang": False},
                "footnotes": {"BACKLINK_TITLE": "↩"},
            },
            output_format="html",
        )
        if not self.trusted_html:
            # A tag the sanitiser would remove starts no raw HTML block (which would hold the rest of
            # the entry, unrendered, when it is never closed): it stays in its paragraph, as text.
            self.md.block_level_elements = [tag for tag in self.md.block_level_elements if tag in TAGS]

    @property
    def options_key(self) -> str:
        return f"md{markdown.__version__}-trusted{self.trusted_html}-v5"

    def render(self, text: str, source_dir: str, first_line: int):
        """Markdown → (html, toc tokens, links found)."""
        self.md.reset()
        self.state.update(links=[], images=[], anchors=[], source_dir=source_dir, line=first_line)
        html = self.md.convert(text)
        links = with_lines(text, first_line, self.state["links"])
        self.images = with_lines(text, first_line, self.state["images"])
        self.anchors = with_lines(text, first_line, self.state["anchors"])
        html = clean_html(html, trusted=self.trusted_html)
        return html, getattr(self.md, "toc_tokens", []), links


def heading_id(value: str, separator: str) -> str:
    return unicodedata.normalize("NFC", slugify_unicode(value, separator)) or "section"


def with_lines(text: str, first_line: int, found: list[tuple[str, str]]) -> list[tuple[str, int]]:
    """(target, line) for each (target, href as written), in document order.

    Each href is looked for after the previous one, so a link written twice gets
    two different lines; one that cannot be found (footnotes, references) starts over.
    """
    out = []
    cursor = 0
    for target, href in found:
        at = text.find(href, cursor) if href else -1
        if at < 0:
            at = text.find(href) if href else -1
        if at < 0:
            out.append((target, first_line))
            continue
        cursor = at + len(href)
        out.append((target, first_line + text.count("\n", 0, at)))
    return out
