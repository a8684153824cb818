"""tests/sites/community built by the CLI: member pages, honor rolls, open questions and their
feed, Q&A structured data, share meta and the activity review, read back from the HTML."""
from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from tests.conftest import NOW, copy_site, run_kb
from tests.helpers import page


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    source = copy_site("community", tmp_path_factory.mktemp("site"))
    result = run_kb("build", "--source", str(source), "--now", NOW)
    assert result.returncode == 0, result.stderr
    return source / "output"


def text(el) -> str:
    return " ".join(el.get_text(" ").split())


def json_ld(doc) -> dict:
    scripts = doc.select('script[type="application/ld+json"]')
    assert len(scripts) == 1
    return json.loads(scripts[0].string)


def test_qa_page_json_ld_has_the_question_and_the_accepted_answer(out):
    data = json_ld(page(out, "/qa/q1/"))
    assert data["@context"] == "https://schema.org" and data["@type"] == "QAPage"
    q = data["mainEntity"]
    assert (q["@type"], q["name"], q["answerCount"]) == ("Question", "新人不说话怎么办？", 2)
    assert q["text"] == "新人进群以后一直不说话。"
    assert q["dateCreated"] == "2026-11-16T08:00:00+08:00"
    assert q["author"] == {"@type": "Person", "name": "大卫", "url": "https://kb.example.org/members/dave/"}
    accepted = q["acceptedAnswer"]
    assert accepted["author"]["name"] == "爱丽丝" and accepted["text"] == "给每条自我介绍回一句具体的话。"
    assert accepted["url"] == "https://kb.example.org/qa/q1/#answer-2"  # the second answer written
    assert accepted["dateCreated"] == "2026-11-16T00:00:00+08:00"
    assert [a["author"]["name"] for a in q["suggestedAnswer"]] == ["鲍勃"]


def test_answered_page_shows_the_accepted_answer_first_each_with_its_author(out):
    answers = page(out, "/qa/q1/").select("section.answers > article")
    assert [a["id"] for a in answers] == ["answer-2", "answer-1"]
    assert "is-accepted" in answers[0]["class"]
    assert [text(a.select_one(".person")) for a in answers] == ["爱丽丝", "鲍勃"]


def test_no_text_breaks_out_of_the_json_ld_script(out):
    doc = page(out, "/qa/q5/")
    data = json_ld(doc)
    assert data["mainEntity"]["name"] == "网页里写 </script> 会出问题吗？"
    assert data["mainEntity"]["answerCount"] == 0 and "acceptedAnswer" not in data["mainEntity"]
    assert [s for s in doc.find_all("script") if not s.get("src") and s.get("type") != "application/ld+json"] == []


def test_other_entries_are_articles_with_share_meta(out):
    doc = page(out, "/lessons/l2/")
    data = json_ld(doc)
    assert data["@type"] == "Article" and data["headline"] == "嘉宾分享：怎样做访谈"
    assert data["author"] == [{"@type": "Person", "name": "鲍勃", "url": "https://kb.example.org/members/bob/"},
                              {"@type": "Person", "name": "王老师"}]
    meta = {m.get("property") or m.get("name"): m["content"] for m in doc.select("meta[content]")}
    assert meta["og:title"] == meta["twitter:title"] == "嘉宾分享：怎样做访谈 · 社区测试站"
    assert meta["og:description"] == meta["twitter:description"] == "王老师来群里做了一次分享。"
    assert meta["twitter:card"] == "summary" and meta["og:type"] == "article"
    # a guest is credited by name, a member with a link to their page
    byline = doc.select_one("p.byline")
    assert [(p.name, text(p)) for p in byline.select(".person")] == [("a", "鲍勃"), ("span", "王老师")]


def test_open_questions_page_lists_the_longest_waiting_first(out):
    doc = page(out, "/qa/open/")
    items = doc.select("ol.open-list > li")
    assert [(i["data-url"], i["data-waited"]) for i in items] == [("/qa/q4/", "81"), ("/qa/q3/", "11"), ("/qa/q5/", "0")]
    assert text(items[0].select_one(".waited")) == "已等待 81 天"
    assert text(items[2].select_one(".waited")) == "今天刚提出"
    assert "https://kb.example.org/qa/open/feed.xml" in [link["href"] for link in doc.select('link[rel="alternate"]')]


def test_open_questions_feed(out):
    feed = feedparser.parse((out / "qa/open/feed.xml").read_bytes())
    assert not feed.bozo
    assert feed.feed.title == "待解答问题 · 社区测试站"
    assert feed.feed.link == "https://kb.example.org/qa/open/"
    assert [e.link for e in feed.entries] == ["https://kb.example.org/qa/q5/", "https://kb.example.org/qa/q3/",
                                              "https://kb.example.org/qa/q4/"]
    assert feed.entries[2].summary == "用机器人管理微信群，会不会被封号？"
    assert "我们用了一年没事" in feed.entries[2].content[0].value  # the answers so far, in full
    assert feed.feed.updated == "Sat, 21 Nov 2026 09:00:00 +0800"  # the newest question, not the clock


def test_home_and_members_pages_show_the_honor_rolls(out):
    for url in ("/", "/members/"):
        cards = page(out, url).select("section.honor-card")
        assert len(cards) == 3
        assert [text(a) for a in cards[0].select(".honor-who > .person")] == ["爱丽丝", "Carol", "鲍勃", "大卫", "王老师"]
    guests = page(out, "/members/").select("ul.guest-list > li")
    assert [text(g) for g in guests] == ["王老师 1 次贡献"]


def test_member_page_lists_every_kind_of_contribution(out):
    doc = page(out, "/members/alice/")
    stats = [text(li) for li in doc.select("ul.member-stats > li")]
    assert stats == ["2 精华", "0 经验分享", "0 提的问题", "1 回答", "1 已采纳"]
    assert doc.select_one("p.first-contribution a")["href"] == "/highlights/h2/"
    answers = doc.select("ul.answer-list > li")
    assert len(answers) == 1 and "已采纳" in text(answers[0])


def test_stats_page_has_a_chart_and_a_table_for_each_measure(out):
    doc = page(out, "/stats/")
    figures = doc.select("figure.chart")
    assert len(figures) == 8
    for figure in figures:
        assert figure.select_one("svg[role=img]") and figure.select_one("details table caption")
    kpis = [(text(li.strong), text(li.span)) for li in doc.select("ul.kpis > li")]
    assert kpis == [("11", "篇内容"), ("5", "位贡献者"), ("5", "个问题"), ("40%", "已解答（2 个）"),
                    ("1.5 天", "多久有人回答（中位数）"), ("3", "个待解答")]
    months = doc.select("figure#new-contributors tbody tr")
    assert [[text(c) for c in row.find_all(["th", "td"])] for row in months] == [
        ["2026-09", "2"], ["2026-10", "1"], ["2026-11", "2"]]


def test_member_page_lists_only_the_latest_thirty_of_each_kind(tmp_path):
    source = copy_site("community", tmp_path)
    for n in range(31):
        (source / "content/lessons" / f"many-{n}.md").write_text(
            f"---\ntitle: 第 {n} 篇\ndate: 2026-06-{n % 28 + 1:02d} 10:{n:02d}\nauthors: [dave]\n---\n\n正文 {n}\n", encoding="utf-8")
    assert run_kb("build", "--source", str(source), "--now", NOW).returncode == 0
    doc = page(source / "output", "/members/dave/")
    lessons = doc.select_one("#h-lessons").find_parent("section")
    assert len(lessons.select("article.card")) == 30
    assert text(lessons.select_one("#h-lessons .count")) == "32"  # the count stays whole
    assert text(lessons.select("p.muted")[-1]) == "只列出最近的 30 条。"


def test_member_page_shows_their_places_on_the_honor_rolls(out):
    chips = [text(c) for c in page(out, "/members/carol/").select(".member-ranks .rank-chip")]
    assert chips == ["本周 第 2 名", "本月 第 3 名", "总榜 第 2 名"]
    assert page(out, "/members/bob/").select_one(".member-ranks") is not None


def test_entry_cards_credit_authors_and_askers(out):
    cards = {c["data-url"]: c for c in page(out, "/lessons/").select("article.card")}
    assert [(p.name, text(p)) for p in cards["/lessons/l2/"].select(".card-people .person")] == [("a", "鲍勃"), ("span", "王老师")]
    asked = page(out, "/qa/").select_one('article.card[data-url="/qa/q3/"] .card-people')
    assert text(asked) == "提问： 鲍勃"


def test_a_site_without_entries_still_has_its_community_pages(tmp_path):
    (tmp_path / "content").mkdir()
    assert run_kb("build", "--source", str(tmp_path), "--now", NOW).returncode == 0
    out = tmp_path / "output"
    assert len(page(out, "/stats/").select("figure.chart svg")) == 8
    assert text(page(out, "/qa/open/").select_one("p.notice")) == "目前没有待解答的问题，大家太给力了。"
    assert [text(p) for p in page(out, "/members/").select(".honor-card p.muted")] == ["这段时间还没有贡献，等你来第一个。"] * 3
    assert feedparser.parse((out / "qa/open/feed.xml").read_bytes()).entries == []
