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
        "search_placeholder": "搜索标题和正文", "search_results": "{n} 条结果", "search_results_about": "约 {n} 条结果",
        "search_none": "没有找到与“{q}”相关的内容", "search_missing": "没有任何内容包含“{term}”，所以没有结果",
        "search_loading": "正在搜索…", "search_error": "搜索索引加载失败，请刷新重试",
        "search_hint": "输入关键词，多个词之间用空格分开；用引号搜索完整短语，例如 \"社群运营\"",
        "search_see_all": "查看全部结果 →", "search_more": "更多结果", "search_section": "栏目", "search_tag": "标签",
        "search_all_sections": "全部栏目", "search_all_tags": "全部标签", "search_noscript": "搜索需要启用 JavaScript。",
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
        "search_placeholder": "Search titles and text", "search_results": "{n} results", "search_results_about": "About {n} results",
        "search_none": "Nothing matches “{q}”", "search_missing": "No entry contains “{term}”, so there are no results",
        "search_loading": "Searching…", "search_error": "Could not load the search index; reload to retry",
        "search_hint": "Type words separated by spaces; quote a phrase to find it exactly, e.g. \"code of conduct\"",
        "search_see_all": "See all results →", "search_more": "More results", "search_section": "Section", "search_tag": "Tag",
        "search_all_sections": "All sections", "search_all_tags": "All tags", "search_noscript": "Search needs JavaScript.",
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
