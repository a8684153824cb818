"""JSON-LD and share images for entries built in memory, and the URLs of a built page."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser

from generator.commands.cli import main
from generator.config import SiteConfig
from generator.derive.entries import entry_image, ordered_answers, plain_text, structured_data
from generator.model.records import Answer, Body, Entry, Member, Question, Site
from generator.render import json_for_script
from tests.conftest import NOW
from tests.helpers import page

TZ = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 3, 21, 30, tzinfo=TZ)


def qa(answers: tuple[Answer, ...], html: str = "<p>问题正文</p>") -> Entry:
    return Entry(section="qa", slug="x", url="/qa/x/", source="content/qa/x.md", title="标题 </script>", date=WHEN,
                 body=Body(html), summary="", reading_minutes=1, question=Question("amy", answers))


def site(image: str = "") -> Site:
    return Site(config=SiteConfig(base_url="https://kb.example.org/kb/", image=image), now=WHEN, entries=(),
                members={"amy": Member("amy", "艾米")})


ANSWERS = (Answer("bo", Body("<p>一</p>", "一")), Answer("amy", Body("<p>二</p>", "二"), accepted=True),
           Answer("", Body("<p>三</p>", "三")))


def test_ordered_answers_put_the_accepted_one_first_and_keep_their_numbers():
    assert [(n, a.text) for n, a in ordered_answers(qa(ANSWERS))] == [(2, "二"), (1, "一"), (3, "三")]


def test_qapage_without_an_accepted_answer_has_only_suggested_ones():
    data = structured_data(site(), qa(ANSWERS[:1]))
    assert "acceptedAnswer" not in data["mainEntity"]
    assert data["mainEntity"]["suggestedAnswer"][0]["author"] == {"@type": "Person", "name": "bo"}
    assert data["mainEntity"]["suggestedAnswer"][0]["url"] == "https://kb.example.org/kb/qa/x/#answer-1"


def test_qapage_round_trips_through_the_script_escaper():
    data = structured_data(site(), qa(ANSWERS))
    rendered = str(json_for_script(data))
    assert "</script>" not in rendered and "<" not in rendered
    assert json.loads(rendered) == data
    assert data["mainEntity"]["acceptedAnswer"]["author"]["url"] == "https://kb.example.org/kb/members/amy/"
    assert "author" not in data["mainEntity"]["suggestedAnswer"][1]  # an answer without an author


def test_share_image_is_the_first_image_else_the_sites():
    assert entry_image(qa((), '<p><img src="pic.png" alt=""></p>'), site("/card.png")) == "/qa/x/pic.png"
    assert entry_image(qa((), '<p><img src="/img/a.png"></p>'), site()) == "/img/a.png"
    assert entry_image(qa(()), site("/card.png")) == "/card.png"
    assert entry_image(qa(()), site()) == ""


def test_plain_text_keeps_blocks_on_lines_and_unescapes():
    assert plain_text("<p>a &amp; b</p><ul><li>一</li><li>二</li></ul>") == "a & b\n一\n二"


def test_every_url_of_a_page_is_escaped_once(basic_site, capsys):
    """og:image, og:url, canonical, JSON-LD, feed links and avatars give back the URL itself once parsed."""
    (basic_site / "static/img").mkdir(parents=True)
    (basic_site / "static/img/a&b.png").write_bytes(b"png")
    (basic_site / "content/highlights/amp.md").write_text(
        "---\ntitle: 与号\ndate: 2026-11-10\nslug: a&b\nauthors: [dora]\n---\n\n![图](../../img/a&b.png)\n", encoding="utf-8")
    (basic_site / "content/highlights/中文 网址.md").write_text(
        "---\ntitle: 中文\ndate: 2026-11-09\n---\n\n![图](<../../img/a&b.png>)\n", encoding="utf-8")
    members = basic_site / "content/members.yaml"
    members.write_text(members.read_text(encoding="utf-8") + "- id: dora\n  name: Dora\n  avatar: /img/a&b.png\n", encoding="utf-8")
    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 0, capsys.readouterr().err
    output = basic_site / "output"
    image = "https://test.example.org/kb/img/a&b.png"
    for slug, url in (("a&b", "https://test.example.org/kb/highlights/a&b/"),
                      ("中文-网址", "https://test.example.org/kb/highlights/%E4%B8%AD%E6%96%87-%E7%BD%91%E5%9D%80/")):
        entry = page(output, f"/highlights/{slug}/")
        assert entry.find("link", rel="canonical")["href"] == url
        assert entry.find("meta", property="og:url")["content"] == url
        assert entry.find("meta", property="og:image")["content"] == image
        assert entry.find("meta", attrs={"name": "twitter:image"})["content"] == image
        data = json.loads(entry.find("script", type="application/ld+json").string)
        assert (data["url"], data["image"]) == (url, image)
        assert entry.find("div", class_="prose").find("img")["src"] == "../../img/a&b.png"
    links = {e.title: e.link for e in feedparser.parse((output / "feed.xml").read_bytes()).entries}
    assert links["与号"] == "https://test.example.org/kb/highlights/a&b/"
    assert page(output, "/members/dora/").find("img", class_="avatar")["src"] == "/kb/img/a&b.png"
