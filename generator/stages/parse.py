"""SourceFile → Document: front matter checked, Markdown rendered, Q&A split.

Pure and per file, so its result can be cached by the file's digest and run
in parallel. Links to other entries' `.md` files become `kb:` placeholders
that the model stage resolves once every entry's URL is known.
"""
from __future__ import annotations

import functools
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as etree
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions.toc import TocExtension, TocTreeprocessor, slugify_unicode
from markdown.htmlparser import HTMLExtractor
from markdown.inlinepatterns import HtmlInlineProcessor
from markdown.preprocessors import HtmlBlockPreprocessor

from ..core.errors import Problem, SourceLocation, described, did_you_mean
from ..core.text import join_cjk_lines, reading_minutes, slugify, truncate
from ..core.yamltext import YamlError, load_yaml
from ..model.records import Body, Heading, WithBody
from .sanitize import TAGS, clean_html
from .sources import SourceFile

FRONT_MATTER_KEYS = ("title", "date", "tags", "authors", "summary", "draft", "slug", "pinned",
                     "updated", "weight", "asker", "status")
ANSWER_HEADING = re.compile(r"^##[ \t]+(?:回答|答|answer)(?=[ \t:：@\d(（]|$)[ \t]*[:：]?(?P<rest>.*?)[ \t#]*$", re.I)
ANSWERED_BY = re.compile(r"^\s*\*\*(?:回答者|Answered by)\s*[:：]?\s*\*\*\s*[:：]?\s*@?(?P<who>[^\s（(]+)\s*(?P<rest>.*?)\s*$", re.I)
ACCEPTED_WORDS = ("已采纳", "采纳", "accepted", "✓", "✔", "✅")
FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
DATE_TOKEN = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
TIME_TOKEN = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
SUMMARY_UNITS = 120
SEGMENT_BYTES = 200  # a slug, tag or member id becomes a folder name; file systems allow 255 bytes
PLACEHOLDER_SCHEME = "kb:"


ELEMENT_ID = re.compile(r'\bid="([^"]*)"')  # checked once here, not on every build


@dataclass(frozen=True)
class ParsedAnswer(WithBody):
    author: str
    body: Body
    date: datetime | None
    accepted: bool
    line: int


@dataclass(frozen=True)
class Document(WithBody):
    """One parsed file: checked front matter values plus rendered Markdown."""

    source: str
    section: str
    stem: str
    meta: dict[str, Any]  # only keys that passed their checks
    meta_lines: dict[str, int]
    body: Body  # html: the body (the question's for Q&A); text: the whole file's, answers too
    first_paragraph: str
    toc: tuple[Heading, ...]
    answers: tuple[ParsedAnswer, ...]
    links: tuple[tuple[str, int], ...]  # ("content/x.md#a" or "/url/", line)
    problems: tuple[Problem, ...] = field(default=())
    minutes: int = 0  # reading time, measured once here rather than on every build
    images: tuple[tuple[str, int], ...] = ()  # (src as written, line), for `kb check`
    anchors: tuple[tuple[str, int], ...] = ()  # same-page links ("#fragment", line)
    key_lines: Mapping[tuple, int] = field(default_factory=dict)  # front matter ("tags", 1) -> line
    ids: frozenset[str] = frozenset()  # element ids in the body and answers: link anchors can aim at them
    key: str = ""  # its cache key (source digest, path, section, kb's code, options), when it has one
    placeholders: bool = False  # its body or an answer has `kb:` links for the assembler to resolve

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


# --- Markdown ---------------------------------------------------------------------------


class _EntryTreeprocessor(markdown.treeprocessors.Treeprocessor):
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
                _make_task(el)
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


def _make_task(li: etree.Element) -> None:
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


# What each of Python-Markdown's inline patterns needs in a text to match at all (their regular
# expressions cannot match without one of these characters).
INLINE_TRIGGERS = {"backtick": "`\\", "escape": "\\", "footnote": "[", "reference": "[", "link": "[",
                   "image_link": "[", "image_reference": "[", "short_reference": "[", "short_image_ref": "[",
                   "autolink": "<", "automail": "<", "linebreak": "\n", "html": "<", "entity": "&",
                   "em_strong": "*_", "em_strong2": "_", "not_strong": "*_", "strong": "*", "emphasis": "*",
                   "strong2": "_", "emphasis2": "_"}


class _QuickInline(markdown.treeprocessors.InlineProcessor):
    """Python-Markdown's inline processor, except that each text is searched only by the patterns
    whose characters it holds: most text nodes of chat prose have no markup at all, and the rest
    have one or two kinds (about a sixth of the parse time at 10,000 entries). Matching only ever
    replaces characters with placeholders, so a pattern that cannot match a text at the start
    cannot match it later. When a pattern kb does not know is registered, every pattern is tried."""

    @functools.cached_property
    def patterns(self) -> tuple[re.Pattern, tuple[tuple[Any, frozenset[str]], ...]] | None:
        """(any trigger character, (pattern, its characters) in priority order), made on the
        first text (every extension has registered its patterns by then), once."""
        registry = self.md.inlinePatterns
        known = {id(registry[name]): frozenset(chars) for name, chars in INLINE_TRIGGERS.items() if name in registry}
        if any(id(pattern) not in known for pattern in registry):  # a pattern kb does not know
            return None
        table = tuple((pattern, known[id(pattern)]) for pattern in registry)  # in priority order
        every = re.compile("[" + re.escape("".join(sorted(set().union(*(chars for _, chars in table))))) + "]")
        return every, table

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        """Overrides the private method every text goes through (the base class calls it by its mangled name)."""
        if self.patterns is None:
            return super()._InlineProcessor__handleInline(data, patternIndex)
        if isinstance(data, markdown.util.AtomicString):
            return data
        every, table = self.patterns
        present = set(every.findall(data))
        if not present:
            return data
        start = 0
        while patternIndex < len(table):
            pattern, chars = table[patternIndex]
            if chars.isdisjoint(present):
                patternIndex += 1
                continue
            data, matched, start = self._InlineProcessor__applyPattern(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


VOID_TAGS = frozenset({"br", "hr", "img", "input", "col", "wbr"})
_RAW_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)")
RAW_BLOCK_TRIES = 3  # unclosed raw blocks made text in one file before the rest is left as raw HTML


class _PairedHtml(HtmlInlineProcessor):
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


class _BlockExtractor(HTMLExtractor):
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


class _ClosedHtmlBlocks(HtmlBlockPreprocessor):
    """Raw HTML blocks, except one never closed ("<div> is a block element" at the start of a line):
    it would hold the rest of the entry as HTML, unrendered. Its tag is made text and the file read again."""

    def run(self, lines: list[str]) -> list[str]:
        stash = self.md.htmlStash
        kept = len(stash.rawHtmlBlocks)
        for _ in range(RAW_BLOCK_TRIES):
            parser = _BlockExtractor(self.md)
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


class _HeadingIds(TocTreeprocessor):
    """The toc extension's heading ids and tokens, without the HTML table of contents it would also
    make and serialise for every document: the page template draws its own from the tokens."""

    def build_toc_div(self, toc_list: list) -> etree.Element:
        return etree.Element("div")


class _Headings(TocExtension):
    TreeProcessorClass = _HeadingIds


class _EntryExtension(markdown.Extension):
    def __init__(self, state: dict, trusted_html: bool):
        super().__init__()
        self.state = state
        self.trusted_html = trusted_html

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_QuickInline(md), "inline", 20)  # the default's name and priority
        md.treeprocessors.register(_EntryTreeprocessor(md, self.state), "kb-entry", 1)
        if not self.trusted_html:  # the defaults' names and priorities
            md.preprocessors.register(_ClosedHtmlBlocks(md), "html_block", 20)
            md.inlinePatterns.register(_PairedHtml(markdown.inlinepatterns.HTML_RE, md), "html", 90)


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
                        _Headings(slugify=_heading_id, permalink=False, toc_depth="2-4", marker=""),
                        _EntryExtension(self.state, self.trusted_html)],
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
        return f"md{markdown.__version__}-trusted{self.trusted_html}-v4"

    def render(self, text: str, source_dir: str, first_line: int):
        """Markdown → (html, toc tokens, links found)."""
        self.md.reset()
        self.state.update(links=[], images=[], anchors=[], source_dir=source_dir, line=first_line)
        html = self.md.convert(text)
        links = _with_lines(text, first_line, self.state["links"])
        self.images = _with_lines(text, first_line, self.state["images"])
        self.anchors = _with_lines(text, first_line, self.state["anchors"])
        html = clean_html(html, trusted=self.trusted_html)
        return html, getattr(self.md, "toc_tokens", []), links


def _heading_id(value: str, separator: str) -> str:
    return unicodedata.normalize("NFC", slugify_unicode(value, separator)) or "section"


def _with_lines(text: str, first_line: int, found: list[tuple[str, str]]) -> list[tuple[str, int]]:
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


# --- Front matter -----------------------------------------------------------------------


def split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """(yaml, body, body_first_line); raise YamlError when the block is missing."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise YamlError(Problem(SourceLocation(path, 1),
            'missing front matter: start the file with a line "---", then "title: …" and "date: …", then "---"'))
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise YamlError(Problem(SourceLocation(path, 1),
        'front matter is not closed: add a line "---" after the last "key: value" line'))


def parse_when(value: Any, tz: tzinfo) -> datetime:
    """A front matter date or date-time; naive values are in the site's timezone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        raw = str(value).strip()
        if not re.match(r"^\d{4}-\d{1,2}-\d{1,2}", raw):
            raise ValueError(f'"{raw}" is not a date: write it as 2026-11-03 or 2026-11-03 21:30')
        y, m, d = (int(x) for x in re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", raw).groups())
        date(y, m, d)  # raises "day is out of range for month" for 2026-02-30
        normalised = re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})", f"{y:04d}-{m:02d}-{d:02d}", raw)
        normalised = re.sub(r"(?<=\d)[ ]+(?=\d{1,2}:)", "T", normalised, count=1)
        normalised = re.sub(r"T(\d):", r"T0\1:", normalised)
        normalised = re.sub(r"\s*Z$", "+00:00", normalised)
        try:
            moment = datetime.fromisoformat(normalised)
        except ValueError:
            raise ValueError(f'"{raw}" is not a valid date-time: write it as 2026-11-03 21:30 or 2026-11-03T21:30:00+08:00') from None
    else:
        raise ValueError(f"{described(value)} is not a date: write it as 2026-11-03 or 2026-11-03 21:30")
    from ..core.weeks import year_problem  # the years every later stage can count weeks and months in

    if problem := year_problem(moment, str(value).strip()):
        raise ValueError(problem)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,，、]", value) if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def check_front_matter(data: Any, doc, path: str, tz: tzinfo) -> tuple[dict, list[Problem]]:
    """Keep the values that pass; describe every one that does not, with its line."""
    problems: list[Problem] = []

    def at(key: str) -> SourceLocation:
        return SourceLocation(path, doc.line(key))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, [Problem(SourceLocation(path, 2), "front matter must be key: value lines (a YAML mapping)")]
    meta: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in FRONT_MATTER_KEYS:
            problems.append(Problem(at(key), f'unknown front matter key "{key}"{did_you_mean(key, FRONT_MATTER_KEYS)}', "warning"))
        elif value is None and key != "title":
            continue  # "summary:" left empty means no summary
        elif key in ("title", "summary", "slug", "asker"):
            if value is None or isinstance(value, (dict, list, bool)):
                problems.append(Problem(at(key), f'"{key}" must be text, not {described(value)}'))
            else:
                meta[key] = str(value).strip()
        elif key in ("date", "updated"):
            try:
                meta[key] = parse_when(value, tz)
            except (ValueError, OverflowError) as exc:
                reason = str(exc)
                if "range" in reason or "must be in" in reason:
                    reason = f'impossible date "{value}" ({reason}): check the month and day'
                problems.append(Problem(at(key), f'"{key}": {reason}'))
        elif key in ("tags", "authors"):
            items = _as_list(value)
            if items is None:
                problems.append(Problem(at(key), f'"{key}" must be a list such as [社群运营, 新人引导]'))
            else:
                if key == "tags":
                    for index, tag in enumerate(items):
                        if len(slugify(tag).encode()) > SEGMENT_BYTES:
                            problems.append(Problem(SourceLocation(path, doc.line(key, index)),
                                                    f'tag "{tag[:20]}…" is too long ({len(tag)} characters) to be a folder '
                                                    "of the site: a tag is a word or two"))
                    items = [t for t in items if len(slugify(t).encode()) <= SEGMENT_BYTES]
                meta[key] = items
        elif key in ("draft", "pinned"):
            if not isinstance(value, bool):
                problems.append(Problem(at(key), f'"{key}" must be true or false, not {value!r}'))
            else:
                meta[key] = value
        elif key == "weight":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(Problem(at(key), f'"weight" must be a whole number, not {value!r}'))
            else:
                meta[key] = value
        elif key == "status":
            if str(value).strip().lower() not in ("open", "answered", "待解答", "已解答"):
                problems.append(Problem(at(key), f'"status" must be open or answered, not {value!r}'))
            else:
                meta[key] = "open" if str(value).strip().lower() in ("open", "待解答") else "answered"

    for required in ("title", "date"):
        if required not in data:
            problems.append(Problem(SourceLocation(path, 1), f'missing "{required}": add a line "{required}: …" to the front matter'))
        elif required == "title" and required in meta and not meta["title"]:
            problems.append(Problem(at("title"), '"title" is empty'))
    if "slug" in meta:
        slug = unicodedata.normalize("NFC", meta["slug"])
        if len(slug.encode()) > SEGMENT_BYTES:
            problems.append(Problem(at("slug"), f'slug "{slug[:20]}…" is too long ({len(slug.encode())} bytes): '
                                                f"keep it under {SEGMENT_BYTES}, a few words"))
            del meta["slug"]
        elif not slug or slug in (".", "..") or re.search(r"[/\\]|\.\.|[\x00-\x1f\s]", slug):
            problems.append(Problem(at("slug"), f'slug "{meta["slug"]}" must be one path segment: no "/", "\\", "..", spaces or control characters'))
            del meta["slug"]
        elif reserved := _reserved_in_slug(slug):
            problems.append(Problem(at("slug"), f'slug "{slug}" has {reserved}, which would break its links or '
                                                f"its folder on some systems: {_slug_advice(slug)}"))
            del meta["slug"]
        else:
            meta["slug"] = slug
    return meta, problems


SLUG_RESERVED = re.compile(r"[?#%:*|\x7f]|\.$")  # a query, a fragment, an escape; not in a Windows file name


def _reserved_in_slug(slug: str) -> str:
    """The characters of an explicit slug that would break its links or its folder, quoted; '' if none."""
    found = dict.fromkeys(match.group() for match in SLUG_RESERVED.finditer(slug))
    return ", ".join('a final "."' if ch == "." else f'"{ch}"' if ch != "\x7f" else "a control character" for ch in found)


def _slug_advice(slug: str) -> str:
    suggestion = slugify(slug)
    return f"write slug: {suggestion}" if suggestion else 'use letters, digits and "-"'


# --- Q&A --------------------------------------------------------------------------------


def _answer_blocks(body: str) -> tuple[str, list[tuple[str, str, int]]]:
    """Split a Q&A body into (question, [(heading rest, answer text, line offset)])."""
    lines = body.split("\n")
    fence = None
    starts: list[int] = []
    for number, line in enumerate(lines):
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None and ANSWER_HEADING.match(line):
            starts.append(number)
    if not starts:
        return body, []
    blocks = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        rest = ANSWER_HEADING.match(lines[start]).group("rest")
        blocks.append((rest, "\n".join(lines[start + 1:end]), start + 1))
    return "\n".join(lines[: starts[0]]), blocks


def _answer_meta(rest: str, text: str, tz: tzinfo) -> tuple[str, datetime | None, bool, str, str | None]:
    """(author, date, accepted, text without the "answered by" line, problem)."""
    author, when, accepted, problem = "", None, False, None
    tokens = rest.replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ").split()
    date_text = ""
    for token in tokens:
        if token.startswith("@") and len(token) > 1:
            author = token[1:]
        elif token.lower() in ACCEPTED_WORDS:
            accepted = True
        elif DATE_TOKEN.match(token):
            date_text = token
        elif TIME_TOKEN.match(token) and date_text:
            date_text += " " + token
    if date_text:
        try:
            when = parse_when(date_text, tz)
        except ValueError as exc:
            problem = f"answer date: {exc}"
    if not author:
        lines = text.lstrip("\n").split("\n", 1)
        match = ANSWERED_BY.match(lines[0])
        if match:
            author = match.group("who").lstrip("@")
            text = lines[1] if len(lines) > 1 else ""
            rest = match.group("rest").replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ")
            accepted = accepted or any(token.lower() in ACCEPTED_WORDS for token in rest.split())
    return author, when, accepted, text, problem


# --- Limits -----------------------------------------------------------------------------
# What one file may hold, so that none costs more than a few seconds to parse: Python-Markdown's
# time grows with the size of a file, with the lines of a nesting times its depth, with a
# paragraph's links and brackets times its length, and faster than the length of a run of
# emphasis markers (bench/worst_shapes.py measures each shape at its limit). Checked by one
# pass over the lines, before Markdown runs.

MAX_FILE_BYTES = 300_000
MAX_DEPTH = 50
MAX_NESTING_WORK = 50_000  # the sum over lines of the quote and list markers each stands inside
MAX_LINK_WORK = 4_000_000  # the sum over paragraphs of their brackets and tags × their characters
MAX_MARKER_RUN = 1_000  # "*" and "_" in a row
_LINKISH = re.compile(r"\[|<[A-Za-z/]")  # a link, image, reference or footnote starts with one, a raw tag with the other
_MARKERS = re.compile(r"(?:>|(?<![^ \t>])(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))[ \t]*")  # a quote or list marker
_UNIT_START = re.compile(r"[ \t>]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|#|\|)")  # a list item, heading or table row
_MARKER_RUN = re.compile(rf"[*_]{{{MAX_MARKER_RUN + 1},}}")


def size_problem(text: str, path: str) -> Problem | None:
    if len(text) * 4 <= MAX_FILE_BYTES:  # no character takes more than 4 bytes
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= MAX_FILE_BYTES:
        return None
    return Problem(SourceLocation(path, 1), f"the file is {size / 1000:,.0f} kB; an entry may be at most "
                                            f"{MAX_FILE_BYTES / 1000:,.0f} kB: split it into several entries")


def nesting_depth(line: str) -> tuple[int, int]:
    """(depth, markers): the lists and quotes a line opens or stays inside, its indentation counted in
    steps of 4; and its quote and list markers alone."""
    indent = len(line) - len(line.lstrip(" \t"))
    markers = 0
    at = indent
    while (match := _MARKERS.match(line, at)) and match.end() > at:
        markers += 1
        at = match.end()
    return len(line[:indent].expandtabs(4)) // 4 + markers, markers


def limit_problems(body: str, path: str, first_line: int) -> list[Problem]:
    """Where the body goes past a limit: its first line nested too deeply or with too long a run of
    emphasis markers, its deepest line when the nesting comes to more than MAX_NESTING_WORK, and its
    paragraph with the most brackets × characters when they come to more than MAX_LINK_WORK."""
    problems: list[Problem] = []
    fence = None
    nesting = work = links = chars = 0
    start = first_line
    too_deep = long_run = False
    deepest = (0, 0)  # markers, line
    worst = (0, 0, 0, 0)  # brackets × characters, brackets, characters, first line
    for number, line in enumerate(body.split("\n"), start=first_line):
        fenced = FENCE.match(line)
        if fenced or fence is not None:
            if fenced and fence is None:
                fence = fenced.group(1)[0] * len(fenced.group(1))
            elif fenced and line.strip().startswith(fence):
                fence = None
            continue
        blank = not line.strip()
        if blank or _UNIT_START.match(line):
            work += links * chars
            worst = max(worst, (links * chars, links, chars, start))
            links = chars = 0
            if blank:
                continue
            start = number
        elif not chars:  # the first line after a blank one
            start = number
        depth, markers = nesting_depth(line)
        nesting += markers
        deepest = max(deepest, (markers, -number))
        if depth > MAX_DEPTH and not too_deep:
            too_deep = True
            problems.append(Problem(SourceLocation(path, number),
                                    f"lists, quotes or indentation nested {depth} levels deep; at most {MAX_DEPTH}: "
                                    "flatten it, or break it into lists or quotes one after another"))
        if not long_run and ("*" in line or "_" in line) and (run := _MARKER_RUN.search(line)):
            long_run = True
            problems.append(Problem(SourceLocation(path, number),
                                    f'{len(run.group()):,} "*" and "_" in a row; at most {MAX_MARKER_RUN:,}: put them '
                                    "in a code span (`…`) or break the run with spaces"))
        if "[" in line or "<" in line:
            links += len(_LINKISH.findall(line))
        chars += len(line)
    work += links * chars
    worst = max(worst, (links * chars, links, chars, start))
    if nesting > MAX_NESTING_WORK:
        problems.append(Problem(SourceLocation(path, -deepest[1]),
                                f"lists and quotes nested {deepest[0]} levels deep here, and {nesting:,} levels over all "
                                f"the file's lines (a line 10 deep counts 10), more than the {MAX_NESTING_WORK:,} kb "
                                "takes: flatten them, or split the file"))
    if work > MAX_LINK_WORK:
        _, most, length, line = worst
        problems.append(Problem(SourceLocation(path, line),
                                f"{most:,} links, brackets or HTML tags in one paragraph of {length:,} characters: the "
                                f"time to render grows with their number × the characters, and this file comes to "
                                f"{work:,}, more than the {MAX_LINK_WORK:,} kb takes; put the links in a list, one an "
                                "item, or split the paragraph or the file"))
    return sorted(problems)


# --- The stage --------------------------------------------------------------------------


def parse_document(source: SourceFile, renderer: MarkdownRenderer, tz: tzinfo, key: str = "") -> Document:
    """`key`: what the document is a function of, if the caller knows it (see Document.key)."""
    path = source.rel_path
    source_dir = posixpath.dirname(path)
    problems: list[Problem] = list(source.problems)  # reading it: not UTF-8 (then nothing to parse), control characters
    if too_big := size_problem(source.text, path):
        problems.append(too_big)
    if any(p.severity == "error" for p in problems):
        return Document(path, source.section, source.stem, {}, {}, Body(), "", (), (), (), tuple(problems), key=key)
    try:
        if source.section == "digest" and source.text.split("\n", 1)[0].strip() != "---":
            front, body, body_line = "", source.text, 1  # a week's note needs no front matter
        else:
            front, body, body_line = split_front_matter(source.text, path)
        doc = load_yaml(front, path, line_offset=1)
    except YamlError as exc:
        return Document(path, source.section, source.stem, {}, {}, Body(), "", (), (), (), (*problems, exc.problem), key=key)
    problems.extend(doc.problems)  # keys given twice, lone surrogates, control characters
    meta, meta_problems = check_front_matter(doc.data, doc, path, tz)
    problems.extend(meta_problems)
    meta_lines = {str(k[0]): line for k, line in doc.key_lines.items() if len(k) == 1}
    if over := limit_problems(body, path, body_line):
        return Document(path, source.section, source.stem, meta, meta_lines, Body(), "", (), (), (),
                        (*problems, *over), key_lines=doc.key_lines, key=key)

    question, blocks = (_answer_blocks(body) if source.section == "qa" else (body, []))
    images: list[tuple[str, int]] = []
    anchors: list[tuple[str, int]] = []
    try:
        html, toc_tokens, links = renderer.render(question, source_dir, body_line)
        images += renderer.images
        anchors += renderer.anchors
    except RecursionError:
        problems.append(Problem(SourceLocation(path, body_line), "the Markdown is nested too deeply to render: flatten the nested lists or quotes"))
        html, toc_tokens, links = "", [], []
    texts = [_plain_text(html)]
    answers: list[ParsedAnswer] = []
    for rest, text, offset in blocks:
        line = body_line + offset - 1
        written = text
        author, when, accepted, text, problem = _answer_meta(rest, text, tz)
        dropped = written.count("\n") - text.count("\n")  # the "answered by" line, if any
        if problem:
            problems.append(Problem(SourceLocation(path, line), problem))
        if not author:
            problems.append(Problem(SourceLocation(path, line),
                'answer without an author: write the heading as "## 回答 @member-id" (optionally a date and 已采纳)', "warning"))
        try:
            answer_html, _, answer_links = renderer.render(text, source_dir, line + 1 + dropped)
            images += renderer.images
            anchors += renderer.anchors
        except RecursionError:
            problems.append(Problem(SourceLocation(path, line), "the answer is nested too deeply to render"))
            answer_html, answer_links = "", []
        links.extend(answer_links)
        answer_text = _plain_text(answer_html)
        texts.append(answer_text)
        answers.append(ParsedAnswer(author, Body(answer_html, answer_text), when, accepted, line))
    if sum(a.accepted for a in answers) > 1:
        second = [a for a in answers if a.accepted][1]
        problems.append(Problem(SourceLocation(path, second.line), "more than one answer is marked accepted: keep 已采纳 on one"))

    toc = tuple(_flatten_toc(toc_tokens))
    return Document(
        source=path, section=source.section, stem=source.stem, meta=meta, meta_lines=meta_lines,
        body=Body(html, "\n".join(t for t in texts if t)), first_paragraph=_first_paragraph(html),
        toc=toc, answers=tuple(answers), links=tuple(links), problems=tuple(problems),
        minutes=reading_minutes("\n".join(t for t in texts if t)),
        images=tuple(images), anchors=tuple(anchors), key_lines=doc.key_lines,
        ids=frozenset(ELEMENT_ID.findall(html)).union(*(ELEMENT_ID.findall(a.html) for a in answers)), key=key,
        placeholders=any(PLACEHOLDER_SCHEME in h for h in [html, *(a.html for a in answers)]),
    )


def _flatten_toc(tokens: list[dict]) -> list[Heading]:
    out: list[Heading] = []
    for token in tokens:
        out.append(Heading(token["level"], token["id"], _unescape(token["name"])))
        out.extend(_flatten_toc(token.get("children", [])))
    return out


_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|pre|blockquote|tr|div|td|th)>", re.I)


def _unescape(text: str) -> str:
    import html as html_lib

    return html_lib.unescape(text)


def _plain_text(html: str) -> str:
    """Visible text of our own sanitised HTML, blocks on their own lines."""
    text = _BLOCK_END.sub("\n", html)
    text = _unescape(_TAG.sub("", text))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def _first_paragraph(html: str) -> str:
    match = re.search(r"<p>(.*?)</p>", html, re.S)
    return truncate(_unescape(_TAG.sub("", match.group(1))), SUMMARY_UNITS) if match else ""


def summary_of(doc: Document) -> str:
    return doc.meta.get("summary") or doc.first_paragraph or truncate(doc.text, SUMMARY_UNITS)


def minutes_of(doc: Document) -> int:
    return doc.minutes or reading_minutes(doc.text)
