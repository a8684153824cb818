"""kb's pass over each rendered tree: CJK line breaks joined, task lists, links recorded and rewritten.

A link to another entry's `.md` file becomes a `kb:` placeholder, which the assembler points at that
entry's URL once every URL is known.
"""
from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as etree
from urllib.parse import unquote, urlsplit

import markdown

from ...core.text import join_cjk_lines

PLACEHOLDER_SCHEME = "kb:"


class EntryTreeprocessor(markdown.treeprocessors.Treeprocessor):
    """Joins CJK line breaks, makes task lists, records links and marks external ones."""

    def __init__(self, md: markdown.Markdown, state: dict):
        super().__init__(md)
        self.state = state

    def run(self, root: etree.Element) -> None:
        source_dir = self.state["source_dir"]
        for el in root.iter():
            if el.tag in ("pre", "code"):
                continue
            if el.text and "\n" in el.text:
                el.text = join_cjk_lines(el.text)
            for child in el:
                if child.tail and "\n" in child.tail:
                    before = "".join(child.itertext())[-1:] or " "
                    child.tail = join_cjk_lines(before + child.tail)[1:]
            if el.tag == "li":
                make_task(el)
            elif el.tag == "a":
                href = el.get("href", "")
                el.set("href", self._rewrite(href, source_dir))
                if urlsplit(href).scheme in ("http", "https"):
                    el.set("rel", "noopener")
            elif el.tag == "img":
                el.set("loading", "lazy")
                self.state["images"].append((el.get("src", ""), el.get("src", "")))

    def _rewrite(self, href: str, source_dir: str) -> str:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            if href.startswith("#") and len(href) > 1:
                self.state["anchors"].append((href, href))
            return href
        path = unquote(parts.path)
        if path.endswith(".md"):
            target = posixpath.normpath(posixpath.join(source_dir, path))
            anchor = f"#{parts.fragment}" if parts.fragment else ""
            self.state["links"].append((target + anchor, href))
            return PLACEHOLDER_SCHEME + target + anchor
        self.state["links"].append((href, href))
        return href


def make_task(li: etree.Element) -> None:
    holder = li[0] if len(li) and li[0].tag == "p" and not (li.text or "").strip() else li
    text = holder.text or ""
    match = re.match(r"^\s*\[([ xX])\]\s+", text)
    if not match:
        return
    holder.text = text[match.end():]
    box = etree.Element("input", {"type": "checkbox", "disabled": "disabled"})
    if match.group(1) in "xX":
        box.set("checked", "checked")
    box.tail = holder.text
    holder.text = ""
    holder.insert(0, box)
    li.set("class", "task")

