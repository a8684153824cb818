from html.parser import HTMLParser

import pytest

from generator.stages.sanitize import clean_html, foreign_markup_as_text, is_safe_url


class Elements(HTMLParser):
    """(tag, attributes) of every start tag, from a real HTML parser."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    '<svg><script>alert(1)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<style>body{display:none}</style>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example"><input type="submit" formaction="javascript:alert(1)"></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<a href="https://e.org" onclick="alert(1)" target="_blank" rel="opener">x</a>',
    '<details open ontoggle=alert(1)>x</details>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_executable_survives(attack):
    clean = clean_html(attack)
    for tag, attrs in Elements(clean).found:
        assert tag not in ("script", "style", "iframe", "svg", "math", "form", "noscript"), clean
        assert not any(name.startswith("on") for name in attrs), clean
        assert "style" not in attrs or tag in ("td", "th"), clean
        for name in ("href", "src", "action", "formaction"):
            value = "".join((attrs.get(name) or "").split()).lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), clean
        if tag == "input":
            assert attrs.get("type") == "checkbox" and "disabled" in attrs, clean


def test_ordinary_markup_is_kept():
    html = ('<p>正文 <strong>粗</strong> <a href="/qa/x/#a" title="t">内链</a> <img src="/images/a.png" alt="图"></p>'
            '<table><tr><td style="text-align: center">1</td></tr></table><details><summary>更多</summary>x</details>')
    tags = [tag for tag, _ in Elements(clean_html(html)).found]
    assert tags == ["p", "strong", "a", "img", "table", "tbody", "tr", "td", "details", "summary"]


def test_external_links_get_noopener_and_internal_ones_do_not():
    found = dict((a["href"], a.get("rel")) for tag, a in Elements(clean_html(
        '<a href="https://e.org" rel="opener">a</a><a href="//e.org">b</a><a href="/qa/">c</a>'
        '<a title="x>y" href="http://e.org">d</a><a href="mailto:a@e.org">e</a>')).found if tag == "a")
    assert found == {"https://e.org": "noopener", "//e.org": "noopener", "/qa/": None, "http://e.org": "noopener",
                     "mailto:a@e.org": None}


def test_task_list_checkboxes_stay_disabled_checkboxes():
    found = Elements(clean_html('<input type="checkbox" checked><input type="text" autofocus onfocus="x()">')).found
    assert found == [("input", {"checked": "", "disabled": "disabled", "type": "checkbox"}),
                     ("input", {"disabled": "disabled", "type": "checkbox"})]


def test_trusted_html_is_kept_as_written():
    html = '<script src="/widget.js"></script><iframe src="https://map.example"></iframe>'
    assert clean_html(html, trusted=True) == html


@pytest.mark.parametrize("url, safe", [
    ("https://e.org/a", True), ("http://e.org", True), ("mailto:a@e.org", True), ("/images/me.png", True),
    ("me.png", True), ("//e.org/x", True), ("javascript:alert(1)", False), (" JavaScript:alert(1)", False),
    ("java\tscript:alert(1)", False), ("data:text/html,x", False), ("vbscript:x", False), ("http://[", False),
])
def test_safe_urls_for_member_profiles(url, safe):
    assert is_safe_url(url) is safe


@pytest.mark.parametrize("html,text", [
    ("<p>the <script> tag and the rest</p>", "the <script> tag and the rest"),
    ("<p>a <STYLE>b</p><p>c</p>", "a <STYLE>bc"),
    ("<p>a <template>b</p><p>c</p>", "a <template>bc"),
    ("<p>a <textarea>b</p><p>c</p>", "a <textarea>bc"),
    ("<p>a <svg><p>b</p></svg></p>", "a <svg>b</svg>"),
    ("<p>a <plaintext>b</p><p>c</p>", "a <plaintext>bc"),
    ('<p>a <script src="x>y">b</p>', 'a <script src="x>y">b'),
    ("<p>a <!-- open</p><p>c</p>", "a <!-- openc"),
    ("<p>a <!-- closed --> b <!-- open</p><p>c</p>", "a  b <!-- openc"),
    ("<p>a <!--> b</p>", "a  b"),
    ("<p>a <? b ?> <!x> </ c> </> d</p>", "a <? b ?> <!x> </ c> </> d"),
])
def test_markup_the_sanitiser_would_remove_is_shown_as_text(html, text):
    from bs4 import BeautifulSoup

    assert BeautifulSoup(clean_html(html), "html.parser").get_text() == text


def test_allowed_tags_are_not_taken_for_foreign_ones():
    html = '<p><a href="/x">a</a> <abbr title="t">b</abbr> <b>c</b> <br/> <h1\tid="x">d</h1> </p>'
    assert foreign_markup_as_text(html) == html
    assert foreign_markup_as_text("<ab>x</ab><h7>y</h7><a-b>z</a-b>") == "&lt;ab>x&lt;/ab>&lt;h7>y&lt;/h7>&lt;a-b>z&lt;/a-b>"


def test_character_references_to_control_characters_leave_nothing_xml_forbids():
    html = clean_html("<p>a&#1;b &#x1b;c &#xFFFE;d &#0;e</p>")
    assert html == "<p>ab c d \ufffde</p>"
