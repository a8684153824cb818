"""SourceFile → Document: front matter checked, Markdown rendered, Q&A split.

Pure and per file, so its result can be cached by the file's digest and run
in parallel. Links to other entries' `.md` files become `kb:` placeholders
that the model stage resolves once every entry's URL is known. The front matter's
checks are frontmatter.py's; the Markdown, its extensions, the Q&A syntax and what
one file may cost are markdown/'s.
"""
from __future__ import annotations

import html as html_lib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from ..core.errors import Problem, SourceLocation
from ..core.text import reading_minutes, truncate
from ..core.yamltext import YamlError, load_yaml
from ..model.records import Body, Heading, WithBody
from .frontmatter import FrontMatter, check_front_matter, split_front_matter
from .markdown.answers import answer_blocks, answer_meta
from .markdown.limits import limit_problems, size_problem
from .markdown.renderer import MarkdownRenderer
from .markdown.tree import PLACEHOLDER_SCHEME
from .sources import SourceFile

SUMMARY_UNITS = 120
ELEMENT_ID = re.compile(r'\bid="([^"]*)"')  # checked once here, not on every build
TAG = re.compile(r"<[^>]+>")
BLOCK_END = re.compile(r"</(p|li|h[1-6]|pre|blockquote|tr|div|td|th)>", re.I)


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
    front: FrontMatter  # the values that passed their checks
    body: Body  # html: the body (the question's for Q&A); text: the whole file's, answers too
    first_paragraph: str = ""
    toc: tuple[Heading, ...] = ()
    answers: tuple[ParsedAnswer, ...] = ()
    links: tuple[tuple[str, int], ...] = ()  # ("content/x.md#a" or "/url/", line)
    problems: tuple[Problem, ...] = ()
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

    def line(self, key: str, index: int | None = None) -> int:
        """The line of a front matter key (or of its list's item), else of the key, else 1."""
        return (index is not None and self.key_lines.get((key, index))) or self.key_lines.get((key,), 1)


def parse_document(source: SourceFile, renderer: MarkdownRenderer, tz: tzinfo, key: str = "") -> Document:
    """`key`: what the document is a function of, if the caller knows it (see Document.key)."""
    path = source.rel_path
    problems: list[Problem] = list(source.problems)  # reading it: not UTF-8 (then nothing to parse), control characters
    if too_big := size_problem(source.text, path):
        problems.append(too_big)
    if any(p.severity == "error" for p in problems):
        return unrendered(source, problems, key)
    try:
        front_text, body, body_line = front_matter_and_body(source)
        yaml = load_yaml(front_text, path, line_offset=1)
    except YamlError as exc:
        return unrendered(source, [*problems, exc.problem], key)
    problems.extend(yaml.problems)  # keys given twice, lone surrogates, control characters
    front, front_problems = check_front_matter(yaml.data, yaml, path, tz)
    problems.extend(front_problems)
    if over := limit_problems(body, path, body_line):
        return unrendered(source, [*problems, *over], key, front, yaml.key_lines)
    rendering = Rendering(renderer, path, problems)
    question, blocks = answer_blocks(body) if source.section == "qa" else (body, [])
    html, toc_tokens = rendering.html(question, body_line, body_line,
                                      "the Markdown is nested too deeply to render: flatten the nested lists or quotes")
    answers = rendering.answers(blocks, body_line, tz)
    text = "\n".join(t for t in [plain_text(html), *(a.text for a in answers)] if t)
    return Document(
        source=path, section=source.section, stem=source.stem, front=front, body=Body(html, text),
        first_paragraph=first_paragraph(html), toc=tuple(flat_toc(toc_tokens)), answers=answers,
        links=tuple(rendering.links), problems=tuple(problems), minutes=reading_minutes(text),
        images=tuple(rendering.images), anchors=tuple(rendering.anchors), key_lines=yaml.key_lines,
        ids=frozenset(ELEMENT_ID.findall(html)).union(*(ELEMENT_ID.findall(a.html) for a in answers)), key=key,
        placeholders=any(PLACEHOLDER_SCHEME in h for h in [html, *(a.html for a in answers)]),
    )


def unrendered(source: SourceFile, problems: list[Problem], key: str, front: FrontMatter | None = None,
               key_lines: Mapping[tuple, int] | None = None) -> Document:
    """A document whose body is not rendered: its problems say why."""
    return Document(source.rel_path, source.section, source.stem, front or FrontMatter(), Body(),
                    problems=tuple(problems), key_lines=key_lines or {}, key=key)


def front_matter_and_body(source: SourceFile) -> tuple[str, str, int]:
    """(front matter, body, the body's first line); raise YamlError when the front matter is missing."""
    if source.section == "digest" and source.text.split("\n", 1)[0].strip() != "---":
        return "", source.text, 1  # a week's note needs no front matter
    return split_front_matter(source.text, source.rel_path)


@dataclass
class Rendering:
    """A document's Markdown rendered part by part (its question, then its answers), with what the
    parts hold gathered in order: links, images, same-page anchors, and problems."""

    renderer: MarkdownRenderer
    path: str
    problems: list[Problem]
    links: list[tuple[str, int]] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)
    anchors: list[tuple[str, int]] = field(default_factory=list)

    def html(self, text: str, first_line: int, line: int, too_deep: str) -> tuple[str, list[dict]]:
        """(html, toc tokens) of `text`, which starts at `first_line`; `too_deep` is reported at `line`."""
        renderer = self.renderer
        try:
            html, toc_tokens, links = renderer.render(text, posixpath.dirname(self.path), first_line)
        except RecursionError:
            self.problems.append(Problem(SourceLocation(self.path, line), too_deep))
            return "", []
        self.links += links
        self.images += renderer.images
        self.anchors += renderer.anchors
        return html, toc_tokens

    def answers(self, blocks: list[tuple[str, str, int]], body_line: int, tz: tzinfo) -> tuple[ParsedAnswer, ...]:
        """The answers of a Q&A body (see markdown.answers.answer_blocks), each with its author, date and mark."""
        answers = []
        for rest, written, offset in blocks:
            line = body_line + offset - 1
            author, when, accepted, text, problem = answer_meta(rest, written, tz)
            dropped = written.count("\n") - text.count("\n")  # the "answered by" line, if any
            if problem:
                self.problems.append(Problem(SourceLocation(self.path, line), problem))
            if not author:
                self.problems.append(Problem(SourceLocation(self.path, line), 'answer without an author: write the '
                                             'heading as "## 回答 @member-id" (optionally a date and 已采纳)', "warning"))
            html, _ = self.html(text, line + 1 + dropped, line, "the answer is nested too deeply to render")
            answers.append(ParsedAnswer(author, Body(html, plain_text(html)), when, accepted, line))
        if sum(a.accepted for a in answers) > 1:
            second = [a for a in answers if a.accepted][1]
            self.problems.append(Problem(SourceLocation(self.path, second.line),
                                         "more than one answer is marked accepted: keep 已采纳 on one"))
        return tuple(answers)


def flat_toc(tokens: list[dict]) -> list[Heading]:
    out: list[Heading] = []
    for token in tokens:
        out.append(Heading(token["level"], token["id"], html_lib.unescape(token["name"])))
        out.extend(flat_toc(token.get("children", [])))
    return out


def plain_text(html: str) -> str:
    """Visible text of our own sanitised HTML, blocks on their own lines."""
    text = BLOCK_END.sub("\n", html)
    text = html_lib.unescape(TAG.sub("", text))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def first_paragraph(html: str) -> str:
    match = re.search(r"<p>(.*?)</p>", html, re.S)
    return truncate(html_lib.unescape(TAG.sub("", match.group(1))), SUMMARY_UNITS) if match else ""


def summary_of(doc: Document) -> str:
    return doc.front.summary or doc.first_paragraph or truncate(doc.text, SUMMARY_UNITS)


def minutes_of(doc: Document) -> int:
    return doc.minutes or reading_minutes(doc.text)
