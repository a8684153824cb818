"""JSON-LD and share images for entries built in memory."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from generator.config import SiteConfig
from generator.model import Answer, Entry, Member, Question, Site
from generator.render import json_for_script
from generator.structured import entry_image, ordered_answers, plain_text, structured_data

TZ = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 3, 21, 30, tzinfo=TZ)


def qa(answers: tuple[Answer, ...], html: str = "<p>问题正文</p>") -> Entry:
    return Entry(section="qa", slug="x", url="/qa/x/", source="content/qa/x.md", title="标题 </script>", date=WHEN,
                 html=html, text="", summary="", reading_minutes=1, question=Question("amy", answers))


def site(image: str = "") -> Site:
    return Site(config=SiteConfig(base_url="https://kb.example.org/kb/", image=image), now=WHEN, entries=(),
                members={"amy": Member("amy", "艾米")})


ANSWERS = (Answer("bo", "<p>一</p>", "一"), Answer("amy", "<p>二</p>", "二", accepted=True), Answer("", "<p>三</p>", "三"))


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
