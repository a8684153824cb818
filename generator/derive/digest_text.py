"""A WeekDigest as text to paste elsewhere: `kb digest --format txt|md|html`.

txt is for chat groups that show no Markdown: numbered items, each with its
absolute URL, split into messages no longer than `digest_message_limit`.
"""
from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable

from ..core.i18n import format_week, format_week_range
from ..model import urls
from ..model.digest import WeekDigest
from ..model.pages import OutputFile, Page
from ..model.records import Entry, Site

FORMATS = ("md", "txt", "html")
PAST_YEAR_ITEMS = 3
MESSAGE_SEPARATOR = "\n\n——— ✂ ———\n\n"
_BLOCK_END = re.compile(r"</(p|li|h\d|blockquote|pre|tr|div)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(html: str) -> str:
    """Visible text of a sanitised HTML fragment, one block a line."""
    text = html_lib.unescape(_TAG.sub("", _BLOCK_END.sub("\n", html)))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def _sections(digest: WeekDigest) -> list[tuple[str, tuple[Entry, ...]]]:
    parts = [("digest_new_highlights", digest.highlights), ("digest_new_lessons", digest.lessons),
             ("digest_answered", digest.answered),
             ("digest_open", digest.open_questions)]
    return [(key, entries) for key, entries in parts if entries]


def credit(site: Site, entry: Entry, key: str, t: Callable[..., str]) -> str:
    """Who to thank for an item: answerers for answered questions, the asker for questions, else authors."""
    q = entry.question
    if key == "digest_answered" and q is not None:
        best = q.accepted or (q.answers[0] if q.answers else None)
        if best and best.author:
            mark = t("in_parens", x=t("accepted")) if best.accepted else ""
            return f"{t('answered_by')} {site.member_name(best.author)}{mark}"
    if q is not None and q.asker:
        return f"{t('asked_by')} {site.member_name(q.asker)}"
    return t("list_sep").join(site.member_name(a) for a in entry.authors)


def _title(site: Site, digest: WeekDigest, t: Callable[..., str]) -> str:
    week = format_week(digest.week, site.config.language)
    title = f"{site.config.title} · {t('digest_week_title', week=week)}"
    return title + (t("in_parens", x=t("in_progress")) if digest.in_progress else "")


def _numbers(digest: WeekDigest, t: Callable[..., str]) -> str:
    c, p = digest.counts, digest.previous_counts
    return " · ".join(f"{now} {t(key)}{t('in_parens', x=t('digest_vs_prev', n=before))}" for now, before, key in (
        (c.entries, p.entries, "digest_count_entries"), (c.answers, p.answers, "digest_count_answers"),
        (c.contributors, p.contributors, "digest_count_people")))


def _people(site: Site, digest: WeekDigest, t: Callable[..., str]) -> str:
    return t("list_sep").join(f"{site.member_name(who)} {t('digest_times', n=n)}" for who, n in digest.contributors)


def digest_blocks(site: Site, digest: WeekDigest) -> list[str]:
    """The txt digest as blocks that must not be split: header, items, footer."""
    config = site.config
    t = config.translator()
    blocks = [f"【{_title(site, digest, t)}】\n{format_week_range(digest.week, config.language)}\n{_numbers(digest, t)}"]
    if digest.note:
        blocks.append(f"{t('digest_note')}{t('colon').rstrip()}\n{html_to_text(digest.note)}")
    if digest.is_empty:
        blocks.append(t("digest_empty"))
    number = 0
    for key, entries in _sections(digest):
        heading = f"▍{t(key)}"
        for index, entry in enumerate(entries):
            number += 1
            who = credit(site, entry, key, t)
            item = f"{number}. {entry.title}" + (f" — {who}" if who else "") + f"\n{urls.absolute(config, entry.url)}"
            blocks.append(f"{heading}\n{item}" if index == 0 else item)
        if key == "digest_open" and digest.open_total > len(entries):
            blocks.append(t("digest_open_more", n=digest.open_total - len(entries)) + f"\n{urls.absolute(config, urls.OPEN_QUESTIONS)}")
    if digest.top_tags:
        blocks.append(f"▍{t('digest_top_tags')}\n" + " ".join(f"#{tag.name}" for tag, _ in digest.top_tags))
    if digest.contributors:
        blocks.append(f"▍{t('digest_contributors')}\n{_people(site, digest, t)}")
    for year, entries in digest.past_years:  # a reminder, not a list: the first few of each year
        for index, e in enumerate(entries[:PAST_YEAR_ITEMS]):
            item = f"· {e.title}\n{urls.absolute(config, e.url)}"
            blocks.append(f"▍{t('digest_past_years')} · {t('year', y=year)}\n{item}" if index == 0 else item)
    blocks.append(f"{t('digest_view_online')}{t('colon')}{urls.absolute(config, digest.url)}")
    return blocks


def split_messages(blocks: list[str], limit: int) -> list[str]:
    """Pack blocks into messages of at most `limit` characters, numbering them when there are several."""
    marker_room = len("（99/99）\n")
    room = max(1, limit - marker_room)
    pieces: list[str] = []
    for block in blocks:  # a block longer than a message is cut, as a last resort
        pieces += [block[i:i + room] for i in range(0, len(block), room)] or [""]
    messages: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= room:
            current = candidate
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    if len(messages) == 1:
        return messages
    return [f"（{i}/{len(messages)}）\n{m}" for i, m in enumerate(messages, 1)]


def digest_txt(site: Site, digest: WeekDigest) -> str:
    messages = split_messages(digest_blocks(site, digest), site.config.digest_message_limit)
    return MESSAGE_SEPARATOR.join(messages) + "\n"


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def digest_md(site: Site, digest: WeekDigest) -> str:
    config = site.config
    t = config.translator()
    lines = [f"# {_md_escape(_title(site, digest, t))}", "",
             f"*{format_week_range(digest.week, config.language)}* · {_numbers(digest, t)}", ""]
    if digest.note:
        lines += [f"> **{t('digest_note')}**", ">"]
        lines += [f"> {_md_escape(line)}" for line in html_to_text(digest.note).split("\n")] + [""]
    if digest.is_empty:
        lines += [t("digest_empty"), ""]
    for key, entries in _sections(digest):
        lines += [f"## {t(key)}", ""]
        for index, entry in enumerate(entries, 1):
            who = credit(site, entry, key, t)
            lines.append(f"{index}. [{_md_escape(entry.title)}]({urls.absolute(config, entry.url)})" + (f" — {_md_escape(who)}" if who else ""))
            if entry.summary:
                lines.append(f"   {_md_escape(entry.summary)}")
        if key == "digest_open" and digest.open_total > len(entries):
            lines.append(f"\n[{t('digest_open_more', n=digest.open_total - len(entries))}]({urls.absolute(config, urls.OPEN_QUESTIONS)})")
        lines.append("")
    if digest.top_tags:
        tags = " ".join(f"[#{_md_escape(tag.name)}]({urls.absolute(config, urls.tag(tag.slug))})" for tag, _ in digest.top_tags)
        lines += [f"## {t('digest_top_tags')}", "", tags, ""]
    if digest.contributors:
        lines += [f"## {t('digest_contributors')}", "", _md_escape(_people(site, digest, t)), ""]
    if digest.past_years:
        lines += [f"## {t('digest_past_years')}", ""]
        for year, entries in digest.past_years:
            lines += [f"**{t('year', y=year)}**", ""]
            lines += [f"- [{_md_escape(e.title)}]({urls.absolute(config, e.url)})" for e in entries] + [""]
    lines.append(f"[{t('digest_view_online')}]({urls.absolute(config, digest.url)})")
    return "\n".join(lines) + "\n"


def digest_html(site: Site, digest: WeekDigest, render: Callable[[Page], OutputFile]) -> str:
    """A standalone e-mail page: inline styles, no scripts, absolute links only (`render`: the Renderer's)."""
    page = Page(digest.url, "digest_email.html", {
        "digest": digest, "note_html": urls.absolute_links(digest.note, digest.url, site.config),
        "sections": _sections(digest),
    })
    return render(page).data.decode("utf-8")


def digest_text(site: Site, digest: WeekDigest, fmt: str, render: Callable[[Page], OutputFile]) -> str:
    """The digest in `fmt` (one of FORMATS); `render` (the Renderer's) makes the html one."""
    if fmt == "txt":
        return digest_txt(site, digest)
    if fmt == "md":
        return digest_md(site, digest)
    return digest_html(site, digest, render)
