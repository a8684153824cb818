"""Related entries: shared tags and Chinese text similarity, bounded candidates."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from generator.config import SiteConfig
from generator.derive.related import related_by_entry, related_entries, site_index, text_rows
from generator.model.records import Body, Entry, Site, Tag

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 12, tzinfo=TZ)


def entry(slug: str, title: str, text: str, tags: tuple[str, ...] = (), days_ago: int = 1) -> Entry:
    return Entry(section="lessons", slug=slug, url=f"/lessons/{slug}/", source=f"content/lessons/{slug}.md",
                 title=title, date=NOW - timedelta(days=days_ago), body=Body(f"<p>{text}</p>", text), summary=text[:20],
                 reading_minutes=1, tags=tuple(Tag(t, t) for t in tags))


def site_of(*entries: Entry) -> Site:
    ordered = sorted(entries, key=lambda e: (-e.date.timestamp(), e.url))
    tags = {t.slug: t for e in entries for t in e.tags}
    return Site(config=SiteConfig(), now=NOW, entries=tuple(ordered), tags=tags)


def test_texts_compare_by_cjk_bigrams_and_words_not_characters_numbers_stop_words_or_filters():
    index = site_index(site_of(entry("a", "線下", "线下活动 Meetup 2026 的 AI the", ("活动",))))
    assert sorted(index.tokens(text_rows(index))) == sorted(["线下", "下活", "活动", "meetup", "ai"])


FILLER = [
    entry("meetup-a", "线下聚会签到流程", "线下聚会签到的时候排了很长的队，我们后来改成扫码签到，押金到场退回。", ("活动",)),
    entry("meetup-b", "第二次线下聚会复盘", "这次线下聚会提前发了扫码签到的二维码，签到只用了五分钟，押金也按时退回了。", days_ago=5),
    entry("python", "Python 学习小组教材", "零基础学 Python，推荐先看官方教程，再做练习题。", ("学习",)),
    entry("rules", "群规修订", "广告、刷屏、人身攻击三条红线，违反一次警告，两次移出。", ("群规",)),
    entry("ads", "广告号清理", "十天进了 17 个广告号，我们给机器人加了关键词过滤和新号观察期。", ("群规", "机器人")),
    entry("bot", "机器人选型", "用机器人管理微信群，关键词过滤和欢迎语都能自动化。", ("机器人",)),
]


def test_text_similarity_finds_related_chinese_entries_without_shared_tags():
    site = site_of(*FILLER)
    related = related_by_entry(site, 3)
    best = related["/lessons/meetup-b/"][0]
    assert best.entry.slug == "meetup-a" and best.tags == 0 and best.text > 0.2
    assert "python" not in [r.entry.slug for r in related["/lessons/meetup-b/"]]


def test_shared_tags_and_text_together_rank_first():
    related = related_entries(site_of(*FILLER), 2)
    assert [e.slug for e in related["/lessons/ads/"]] == ["bot", "rules"]
    assert all(e.url != url for url, items in related.items() for e in items)  # never itself


def test_unrelated_entries_get_nothing_and_limit_holds():
    site = site_of(*FILLER)
    assert related_entries(site, 5)["/lessons/python/"] == []
    assert all(len(items) <= 1 for items in related_entries(site, 1).values())
    assert related_entries(site_of(FILLER[0]), 5) == {"/lessons/meetup-a/": []}


def test_big_site_stays_bounded():
    """2,000 entries with heavily shared vocabulary: every entry gets results, each list is exact top-k."""
    words = ["社群", "运营", "新人", "活跃", "留存", "拉新", "复盘", "签到", "押金", "机器人", "群规", "分享"]
    many = [entry(f"e{i}", f"第 {i} 篇：{words[i % 12]}{words[(i * 5) % 12]}",
                  "，".join(words[(i + k) % 12] + words[(i * 7 + k) % 12] for k in range(8)),
                  (words[i % 12],), days_ago=i % 300) for i in range(2000)]
    related = related_by_entry(site_of(*many), 5)
    assert len(related) == 2000
    assert all(1 <= len(items) <= 5 for items in related.values())
    for items in list(related.values())[:50]:
        assert [r.score for r in items] == sorted((r.score for r in items), reverse=True)


def reference(site: Site, limit: int) -> dict[str, list[tuple[str, float]]]:
    """The same definition as related.py, written plainly in Python, one entry at a time."""
    import numpy as np

    from generator.derive import related as r

    entries, n = site.entries, len(site.entries)
    index = site_index(site)
    doc_of = {e.url: n - 1 - k for k, e in enumerate(entries)}
    entry_of = {n - 1 - k: e for k, e in enumerate(entries)}
    weights: dict[int, list[tuple[float, int]]] = {d: [] for d in range(n)}
    for row in text_rows(index).tolist():
        postings = index.postings[index.starts[row]:index.starts[row + 1]].tolist()
        idf = float(np.log((1 + n) / (1 + len(postings))) + 1)
        for p in postings:
            weights[p >> 4].append((float(r.TF_WEIGHTS[p & 15] * idf), row))
    vectors = {}
    for d, items in weights.items():
        top = sorted(items, key=lambda wr: (-wr[0], wr[1]))[:r.VECTOR_TERMS]
        norm = 0.0
        for w, _ in top:
            norm += w * w
        norm = float(np.sqrt(norm)) or 1.0
        vectors[d] = [(row, w / norm) for w, row in top]
    impact: dict[int, list[tuple[int, float]]] = {}
    for d, vector in vectors.items():
        for row, w in vector:
            impact.setdefault(row, []).append((d, w))
    impact = {row: sorted(items, key=lambda dw: (-dw[1], -dw[0]))[:r.POSTINGS] for row, items in impact.items()}
    tags = {d: sorted({t.slug for t in entry_of[d].tags}) for d in range(n)}
    tag_df = {}
    for slugs in tags.values():
        for s in slugs:
            tag_df[s] = tag_df.get(s, 0) + 1
    idf2 = {s: float((np.log((1 + n) / (1 + df)) + 1) ** 2) for s, df in tag_df.items()}
    norm = {d: float(np.sqrt(sum(idf2[s] for s in slugs))) for d, slugs in tags.items()}
    by_tag = {s: sorted((d for d in range(n) if s in tags[d]), reverse=True)[:r.POSTINGS] for s in tag_df}
    out = {}
    for i in range(n):
        partial: dict[int, int] = {}
        for row, w in vectors[i][:r.QUERY_TERMS]:
            for j, wj in impact[row]:
                partial[j] = partial.get(j, 0) + int(np.rint(w * wj * r.SCALE))
        for s in tags[i]:
            boost = r.TAG_WEIGHT * idf2[s] / (norm[i] or 1.0)
            for j in by_tag[s]:
                partial[j] = partial.get(j, 0) + int(np.rint(boost * r.SCALE))
        partial.pop(i, None)
        scored = []
        for j in sorted(partial, key=lambda j: (-partial[j], -j))[:r.CANDIDATES]:
            mine = dict(vectors[i])
            text = sum(mine.get(row, 0.0) * w for row, w in vectors[j])
            shared = sum(idf2[s] for s in tags[i] if s in tags[j])
            tag = shared / (norm[i] * norm[j]) if norm[i] * norm[j] else 0.0
            score = r.TEXT_WEIGHT * text + r.TAG_WEIGHT * tag
            if score >= r.MIN_SCORE:
                scored.append((int(np.rint(score * 1e6)), j))
        scored.sort(key=lambda sj: (-sj[0], -sj[1]))
        out[entry_of[i].url] = [(entry_of[j].url, s / 1e6) for s, j in scored[:limit]]
    assert set(doc_of) == set(out)
    return out


def test_the_arrays_compute_what_the_plain_definition_says():
    import random

    rng = random.Random(3)
    words = ["社群", "运营", "新人", "活跃", "留存", "拉新", "复盘", "签到", "押金", "机器人", "群规", "分享",
             "python", "wiki", "线下", "活动", "周报", "门槛"]
    many = [entry(f"e{i}", f"第{i}篇 {rng.choice(words)}{rng.choice(words)}",
                  "，".join(rng.choice(words) + rng.choice(words) for _ in range(rng.randint(0, 40))),
                  tuple(rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 3))), days_ago=rng.randint(0, 50))
            for i in range(250)]
    site = site_of(*many)
    ours = {url: [(r.entry.url, r.score) for r in items] for url, items in related_by_entry(site, 5).items()}
    plain = reference(site, 5)
    assert ours.keys() == plain.keys()
    same = sum(ours[url] == plain[url] for url in ours)
    for url in ours:  # summation order may move a score by an ulp, and so a tie: nothing more
        assert [s for _, s in ours[url]] == pytest.approx([s for _, s in plain[url]], abs=2e-6)
    assert same >= 0.98 * len(ours) and sum(map(len, ours.values())) > 3 * len(ours), same
