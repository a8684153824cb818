"""Every UI string, in every shipped language, in one place."""
from __future__ import annotations

from collections.abc import Callable

STRINGS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "highlights": "精华", "qa": "问答", "lessons": "经验分享",
        "highlights_about": "群聊里最好的讨论，整理后留存", "qa_about": "群里问过的问题和有效的回答",
        "lessons_about": "成员写下的经验与教训",
        "home": "首页", "tags": "标签", "members": "成员", "archive": "归档", "search": "搜索",
        "digest": "周报", "start": "新人必读", "stats": "数据", "open_questions": "待解答",
        "skip": "跳到正文", "menu": "导航", "pinned": "新人必读", "latest": "最新",
        "more": "查看全部", "entries_count": "{n} 篇", "members_count": "{n} 位成员",
        "tags_count": "{n} 个标签", "reading_time": "约 {n} 分钟读完", "updated": "更新于",
        "by": "作者", "asked_by": "提问", "answered_by": "回答", "toc": "目录",
        "previous": "上一篇", "next": "下一篇", "related": "相关内容", "tagged": "标签：{tag}",
        "page_n": "第 {n} 页", "page_of": "第 {n} / {total} 页", "newer": "较新", "older": "较早",
        "not_found": "页面不存在", "not_found_body": "这个页面不存在或已被移走。可以试试搜索，或者回到首页。",
        "answers": "{n} 个回答", "answer": "回答", "accepted": "已采纳", "open": "待解答",
        "answered": "已解答", "no_answers": "还没有人回答。知道答案？在群里回复，管理员会整理进来。",
        "question": "问题", "wrote": "写的内容", "asked": "提的问题", "answered_list": "回答过的问题",
        "joined": "{date} 入群", "first_contribution": "首次贡献：{date}", "no_entries": "暂无内容",
        "contributions": "{n} 次贡献", "month": "{y} 年 {m} 月", "year": "{y} 年",
        "all_entries": "全部内容", "footer_built": "由 kb 生成", "pinned_badge": "必读",
        "draft": "草稿", "guest": "嘉宾", "date_format": "{y} 年 {m} 月 {d} 日",
        "accepted_answer": "已采纳的回答", "other_answers": "其他回答",
        "stat_entries": "篇内容", "stat_members": "位成员", "stat_open": "个待解答问题",
        "archive_about": "按月份浏览全部内容", "tags_about": "按话题浏览", "members_about": "这些成员贡献了本站的内容",
    },
    "en": {
        "highlights": "Highlights", "qa": "Q&A", "lessons": "Lessons",
        "highlights_about": "The best discussions from the chat, cleaned up and kept",
        "qa_about": "Questions asked in the group and the answers that worked",
        "lessons_about": "What members learned, written up",
        "home": "Home", "tags": "Tags", "members": "Members", "archive": "Archive", "search": "Search",
        "digest": "Digest", "start": "Start here", "stats": "Stats", "open_questions": "Open questions",
        "skip": "Skip to content", "menu": "Menu", "pinned": "Must-reads", "latest": "Latest",
        "more": "See all", "entries_count": "{n} entries", "members_count": "{n} members",
        "tags_count": "{n} tags", "reading_time": "{n} min read", "updated": "Updated",
        "by": "By", "asked_by": "Asked by", "answered_by": "Answered by", "toc": "Contents",
        "previous": "Previous", "next": "Next", "related": "Related", "tagged": "Tagged: {tag}",
        "page_n": "Page {n}", "page_of": "Page {n} of {total}", "newer": "Newer", "older": "Older",
        "not_found": "Page not found", "not_found_body": "This page does not exist or has moved. Try searching, or go back home.",
        "answers": "{n} answers", "answer": "Answer", "accepted": "Accepted", "open": "Open",
        "answered": "Answered", "no_answers": "No answers yet. Know the answer? Reply in the group and a curator will add it.",
        "question": "Question", "wrote": "Wrote", "asked": "Asked", "answered_list": "Answered",
        "joined": "Joined {date}", "first_contribution": "First contribution: {date}", "no_entries": "Nothing here yet",
        "contributions": "{n} contributions", "month": "{month_name} {y}", "year": "{y}",
        "all_entries": "All entries", "footer_built": "Built with kb", "pinned_badge": "Must-read",
        "draft": "Draft", "guest": "Guest", "date_format": "{month_name} {d}, {y}",
        "accepted_answer": "Accepted answer", "other_answers": "Other answers",
        "stat_entries": "entries", "stat_members": "members", "stat_open": "open questions",
        "archive_about": "Every entry, by month", "tags_about": "Browse by topic", "members_about": "The members who wrote this site",
    },
}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def translator(language: str, overrides: dict[str, str] | None = None) -> Callable[..., str]:
    """t("reading_time", n=3) in the site's language, falling back to English keys."""
    table = {**STRINGS["en"], **STRINGS.get(language, {}), **(overrides or {})}

    def t(key: str, **values) -> str:
        text = table.get(key, key)
        return text.format(**values) if values else text

    return t


def format_date(moment, language: str) -> str:
    table = STRINGS.get(language, STRINGS["en"])
    return table["date_format"].format(y=moment.year, m=moment.month, d=moment.day,
                                       month_name=MONTHS_EN[moment.month - 1])


def format_month(year: int, month: int, language: str) -> str:
    table = STRINGS.get(language, STRINGS["en"])
    return table["month"].format(y=year, m=month, month_name=MONTHS_EN[month - 1])
