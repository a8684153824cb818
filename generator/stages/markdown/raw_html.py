"""Raw HTML in Markdown, kept as HTML only where its writer closed it: a lone tag in a paragraph, or
a block element never closed, stays text."""
from __future__ import annotations

import re

import markdown
from markdown.htmlparser import HTMLExtractor
from markdown.inlinepatterns import HtmlInlineProcessor
from markdown.preprocessors import HtmlBlockPreprocessor

VOID_TAGS = frozenset({"br", "hr", "img", "input", "col", "wbr"})
_RAW_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)")
RAW_BLOCK_TRIES = 3  # unclosed raw blocks made text in one file before the rest is left as raw HTML


class PairedHtml(HtmlInlineProcessor):
    """Raw inline HTML, except a tag whose other half is not in the same paragraph: that one stays
    text. Whoever wrote "the <p> tag" meant the words, and a lone tag would reshape what follows."""

    def handleMatch(self, m: re.Match[str], data: str):
        if not self._has_partner(m.group(1), data, m.start(), m.end()):
            return None, None, None
        return super().handleMatch(m, data)

    def _has_partner(self, raw: str, data: str, start: int, end: int) -> bool:
        """True for a comment, a void or self-closed tag, a start tag whose end tag follows in `data`,
        and an end tag whose start tag came before it (kept by now in the stash, as a placeholder)."""
        tag = _RAW_TAG.match(raw)
        if tag is None or raw.endswith("/>"):
            return True
        name = tag.group(2)
        if not tag.group(1):
            return name.lower() in VOID_TAGS or re.search(rf"</{re.escape(name)}[\t\n\f\r ]*>", data[end:], re.I) is not None
        opening = re.compile(rf"<{re.escape(name)}[\t\n\f\r />]", re.I)
        return any(opening.match(earlier) for earlier in self._raw_html_in(data[:start]))

    def _raw_html_in(self, text: str):
        """The raw tags this pattern has already put behind placeholders in `text`."""
        nodes = self.md.treeprocessors["inline"].stashed_nodes
        blocks = self.md.htmlStash.rawHtmlBlocks
        for key in markdown.util.INLINE_PLACEHOLDER_RE.findall(text):
            node = nodes.get(key)
            if isinstance(node, str):
                for number in _HTML_PLACEHOLDER.findall(node):
                    yield str(blocks[int(number)])


_HTML_PLACEHOLDER = re.compile(markdown.util.HTML_PLACEHOLDER % r"(\d+)")


class BlockExtractor(HTMLExtractor):
    """Python-Markdown's raw HTML finder, noting where a raw block that is never closed begins."""

    def reset(self) -> None:
        super().reset()
        self.block_start: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        raw = self.inraw
        super().handle_starttag(tag, attrs)
        if self.inraw and not raw:
            self.block_start = self.getpos()

    @property
    def unclosed(self) -> tuple[int, int] | None:
        """(line, column) of the tag that opened a raw block still open at the end, once closed."""
        return self.block_start if self.inraw else None


class ClosedHtmlBlocks(HtmlBlockPreprocessor):
    """Raw HTML blocks, except one never closed ("<div> is a block element" at the start of a line):
    it would hold the rest of the entry as HTML, unrendered. Its tag is made text and the file read again."""

    def run(self, lines: list[str]) -> list[str]:
        stash = self.md.htmlStash
        kept = len(stash.rawHtmlBlocks)
        for _ in range(RAW_BLOCK_TRIES):
            parser = BlockExtractor(self.md)
            parser.feed("\n".join(lines))
            parser.close()
            if parser.unclosed is None:
                break
            line, column = parser.unclosed
            text = lines[line - 1]
            lines[line - 1] = text[:column] + "&lt;" + text[column + 1:]
            del stash.rawHtmlBlocks[kept:]
            stash.html_counter = kept
            parser = None
        if parser is None:  # every try left a block open: the last one stays raw, as before
            return HtmlBlockPreprocessor.run(self, lines)
        return "".join(parser.cleandoc).split("\n")

