"""Scripts planted in every field a curator or member controls never run on the built site.

tests/sites/hostile plants `<script>`, `onerror=`, `javascript:`, `</script>`, `]]>` and
U+2028 in titles, tags, summaries, bodies, answers, member names, ids and the site config.
Every file of the output is parsed by type (HTML with an HTML parser, XML with an XML
parser, JSON with json), so outputs other stages add (feeds, search index, JSON-LD) are
covered too.
"""
from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.commands.cli import main
from tests.conftest import NOW, copy_site
from tests.helpers import page

MARK = "XSSMARK"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "srcset", "data"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "frame", "frameset", "base", "applet"}  # the theme may use svg, form
HTML_IN_XML = {"description", "{http://purl.org/rss/1.0/modules/content/}encoded"}
ATOM = "{http://www.w3.org/2005/Atom}"


def _bad_url(value: str) -> bool:
    squeezed = "".join(ch for ch in value if ch > " ").lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:"))


class UnsafeMarkup(HTMLParser):
    """What a browser would run from this HTML: script elements, event handlers, script URLs."""

    def __init__(self, where: str):
        super().__init__(convert_charrefs=True)
        self.where = where
        self.findings: list[str] = []
        self.script: tuple[dict, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name, value in attributes.items():
            if name.startswith("on"):
                self.findings.append(f"{self.where}: <{tag} {name}=…> event handler")
            if name in URL_ATTRIBUTES and _bad_url(value):
                self.findings.append(f"{self.where}: <{tag} {name}={value[:40]!r}>")
            if name == "style" and ("javascript" in value.lower() or "expression(" in value.lower()):
                self.findings.append(f"{self.where}: <{tag} style={value[:40]!r}>")
        if tag in FORBIDDEN_TAGS:
            self.findings.append(f"{self.where}: <{tag}> element")
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            self.findings.append(f"{self.where}: <meta http-equiv=refresh>")
        if tag in ("script", "style"):
            self.script = (attributes, [])

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.script is not None:
            attributes, parts = self.script
            self.script = None
            text = "".join(parts)
            if attributes.get("type") == "application/ld+json":
                try:
                    json.loads(text)
                except ValueError as exc:
                    self.findings.append(f"{self.where}: JSON-LD that does not parse ({exc}): {text[:60]!r}")
            elif MARK in text or MARK in json.dumps(attributes):
                self.findings.append(f"{self.where}: <{tag}> with planted content: {text[:60]!r}")


def html_findings(text: str, where: str) -> list[str]:
    parser = UnsafeMarkup(where)
    parser.feed(text)
    parser.close()
    if parser.script is not None:  # a script left open swallows the rest of the page
        parser.findings.append(f"{where}: unclosed <script>")
    return parser.findings


def xml_findings(data: bytes, where: str) -> list[str]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        return [f"{where}: not well-formed XML: {exc}"]
    findings = []
    for element in root.iter():
        carries_html = element.tag in HTML_IN_XML or (
            element.tag in (ATOM + "content", ATOM + "summary", ATOM + "title") and element.get("type") == "html")
        if carries_html and element.text:
            findings += html_findings(element.text, f"{where} <{element.tag}>")
        if element.tag.startswith("{http://www.w3.org/1999/xhtml}"):  # Atom type="xhtml"
            inner = ElementTree.tostring(element, encoding="unicode")
            findings += html_findings(inner, f"{where} xhtml")
    return findings


def unsafe_outputs(root: Path) -> list[str]:
    """Every way planted markup could run, in every file of the output folder."""
    findings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = path.relative_to(root).as_posix()
        data = path.read_bytes()
        suffix = path.suffix.lower()
        if data[:2] == b"\x1f\x8b":  # gzip, as a search index may be: judge what is inside
            data = gzip.decompress(data)
            suffix = Path(path.stem).suffix.lower() or suffix
        if suffix not in (".html", ".htm", ".xml", ".rss", ".atom", ".json") and data.lstrip()[:1] in (b"{", b"["):
            suffix = ".json"  # JSON under another name (".bin")
        if suffix in (".html", ".htm"):
            findings += html_findings(data.decode("utf-8"), where)
        elif suffix in (".xml", ".rss", ".atom"):
            findings += xml_findings(data, where)
        elif suffix == ".json":
            try:
                json.loads(data)
            except ValueError as exc:
                findings.append(f"{where}: JSON that does not parse: {exc}")
        elif suffix in (".txt", ".js", ".css", ".svg"):
            if MARK.encode() in data and suffix != ".txt":
                findings.append(f"{where}: planted text inside a {suffix} file")
            if suffix == ".txt" and b"<script" in data.lower():
                findings.append(f"{where}: <script> in a text file")
    return findings


def build(site: Path, capsys) -> Path:
    assert main(["build", "--source", str(site), "--now", NOW]) == 0, capsys.readouterr().err
    return site / "output"


@pytest.fixture
def hostile_output(tmp_path, capsys) -> Path:
    return build(copy_site("hostile", tmp_path), capsys)


def test_no_planted_markup_runs_in_any_output(hostile_output):
    assert len(list(hostile_output.rglob("*.html"))) > 10
    assert unsafe_outputs(hostile_output) == []


def test_the_planted_text_is_shown_as_text_not_dropped(hostile_output):
    entry = page(hostile_output, "/highlights/x\"'<b>/")  # the slug as written, on disk
    title = "标题</script><script>alert('XSSMARK title')</script><!--"
    assert entry.find("h1").get_text() == title
    assert entry.find("title").get_text().startswith(title)
    assert entry.find("meta", attrs={"name": "description"})["content"].startswith("摘要 <script>")
    tags = [a.get_text() for a in entry.select("p.tags a")]
    assert "#<img src=x onerror=alert('XSSMARK tag')>" in tags
    member = page(hostile_output, "/members/mallory/")
    assert member.find("h1").get_text() == "Mal</script><script>alert('XSSMARK member')</script>"
    question = page(hostile_output, "/qa/hostile-question/")
    assert "<script>alert('XSSMARK asker')</script>" in question.find("p", class_="byline").get_text()


def test_planted_links_are_dropped_and_external_links_get_noopener(hostile_output):
    prose = page(hostile_output, "/highlights/x\"'<b>/").find("div", class_="prose")
    assert [a.get("href") for a in prose.find_all("a")] == [None, None, None]
    member = page(hostile_output, "/members/mallory/")
    link = member.select_one("p.links a")
    assert link["href"] == 'https://example.org/?q="><script>alert(1)</script>' and "noopener" in link["rel"]


def test_the_checker_finds_planted_markup_when_the_site_trusts_raw_html(tmp_path, capsys):
    """The same site with `trusted_html: true`: proves the walk above can fail."""
    site = copy_site("hostile", tmp_path)
    config = site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "trusted_html: true\n", encoding="utf-8")
    findings = unsafe_outputs(build(site, capsys))
    assert any("<script> with planted content" in f for f in findings)
    assert any("onerror" in f for f in findings)
    assert any("javascript:" in f.lower() for f in findings)


def test_checker_catches_each_kind_of_leak(tmp_path):
    leaks = {
        "a.html": "<p><script>alert('XSSMARK')</script></p>",
        "b.html": '<img src="x" onerror="alert(1)">',
        "c.html": '<a href=" javascript:alert(1)">x</a>',
        "d.html": '<script type="application/ld+json">{"name": "</script><script>alert(1)</script>"}</script>',
        "e.xml": "<rss><channel><item><description>&lt;img src=x onerror=alert(1)&gt;</description></item></channel></rss>",
        "f.xml": "<rss><title>\x08</title></rss>",
        "g.json": '{"title": "x"',
        "h.txt": "<script>alert(1)</script>",
    }
    for name, text in leaks.items():
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
        assert unsafe_outputs(folder), name
    packed = tmp_path / "packed"
    (packed / "search").mkdir(parents=True)
    (packed / "search/d.bin").write_bytes(gzip.compress(b'[{"t": "unclosed"'))
    assert unsafe_outputs(packed) and "JSON" in unsafe_outputs(packed)[0]
