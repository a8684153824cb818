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
        "contributions": "{n} 次贡献", "month": "{y} 年 {m} 月", "month_only": "{m} 月", "year": "{y} 年",
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
        "archive_about": "按年份和月份浏览全部内容", "archive_year_about": "{y} 年的全部内容，按月份排列", "all_years": "全部年份", "tags_about": "按话题浏览", "members_about": "这些成员贡献了本站的内容",
        "honor_roll": "光荣榜", "honor_roll_about": "谢谢这些群友：写精华和经验、提问、回答，都算一次贡献。",
        "honor_week": "本周", "honor_month": "本月", "honor_all": "总榜", "honor_empty": "这段时间还没有贡献，等你来第一个。",
        "rank_n": "第 {n} 名", "times": "次", "n_wrote": "写了 {n} 篇", "n_answered": "回答 {n} 次",
        "n_accepted": "{n} 次被采纳", "n_asked": "提问 {n} 个", "member_directory": "全部成员",
        "guests": "其他贡献者", "guests_about": "没有登记在成员名单里、但留下了内容的群友和嘉宾。",
        "member_description": "{name} 在本站的 {n} 次贡献", "answers_given": "回答",
        "kind_wrote": "写了", "kind_asked": "提问", "kind_answered": "回答了",
        "member_highlights": "整理的精华", "member_lessons": "分享的经验", "member_curated": "整理的问答",
        "member_asked": "提的问题", "member_answers": "回答过的问题",
        "open_about": "这些问题还在等人回答，等得最久的排在最前。知道答案就在群里回复，管理员会整理进来。",
        "open_feed_title": "待解答问题", "subscribe_open": "订阅待解答问题（RSS）", "waited_days": "已等待 {n} 天", "waited_one_day": "已等待 1 天",
        "waited_today": "今天刚提出", "open_none": "目前没有待解答的问题，大家太给力了。", "stats_link": "查看社群数据",
        "stats_title": "社群数据", "stats_about": "从本站内容算出来的活跃度：每周新增多少内容、问题有没有人回答、多少人在贡献。",
        "stats_as_of": "数据截至 {date}。", "kpi_entries": "篇内容", "kpi_contributors": "位贡献者", "kpi_questions": "个问题",
        "kpi_answered": "已解答（{n} 个）", "kpi_median": "多久有人回答（中位数）", "kpi_open": "个待解答",
        "chart_entries_per_week": "最近 {n} 周每周新增内容", "chart_asked_answered": "最近 {n} 周提问与解答",
        "chart_time_to_answer": "问题多久得到第一个回答", "chart_top_tags": "内容最多的 {n} 个标签",
        "chart_contributors_per_week": "最近 {n} 周每周贡献人数", "chart_new_contributors": "每月新增贡献者", "chart_entries_per_month": "建站以来每月新增内容", "chart_entries_per_year": "建站以来每年新增内容", "chart_entries_per_years": "建站以来每 {n} 年新增内容", "chart_new_contributors_per_year": "每年新增贡献者", "chart_new_contributors_per_years": "每 {n} 年新增贡献者", "chart_top_contributors": "贡献最多的 {n} 位群友", "series_wrote": "写", "series_answers": "回答",
        "series_asked": "提问", "series_answered": "得到解答", "series_questions": "问题数", "series_entries": "篇数",
        "series_contributors": "贡献人数", "series_new_contributors": "新贡献者",
        "bucket_same_day": "当天", "bucket_next_day": "第二天", "bucket_d2_3": "2–3 天后", "bucket_d4_7": "4–7 天后", "bucket_over_week": "一周以后",
        "bucket_short_same_day": "当天", "bucket_short_next_day": "次日", "bucket_short_d2_3": "2–3天", "bucket_short_d4_7": "4–7天", "bucket_short_over_week": ">7天",
        "chart_table": "查看数据表", "chart_category": "类别", "chart_total": "合计", "answer_link": "这个回答的链接",
        "first_badge": "起点", "showing_latest": "只列出最近的 {n} 条。", "first_sep": "，", "quoted_title": "《{title}》", "same_day": "当天", "n_days": "{n} 天",
        # digests, feeds, /start/
        "week_name": "{y} 年第 {n} 周", "week_range": "{m1} 月 {d1} 日–{m2} 月 {d2} 日",
        "digest_week_title": "{week}周报", "digest_about": "每周自动汇总：新精华、经验分享、问答、待解答的问题和活跃成员",
        "in_progress": "进行中", "in_progress_note": "本周还没结束，内容会继续增加；周日 24 点后定稿。",
        "digest_note": "管理员的话", "digest_new_highlights": "新精华", "digest_new_lessons": "经验分享",
        "digest_answered": "本周解答", "digest_open": "仍待解答（知道答案就在群里说一声）",
        "digest_open_more": "还有 {n} 个待解答问题", "digest_top_tags": "本周热门标签", "digest_contributors": "本周活跃成员",
        "digest_past_years": "往年今周", "digest_numbers": "本周数据", "digest_count_entries": "篇新内容",
        "digest_count_answers": "条回答", "digest_count_people": "位成员参与", "digest_vs_prev": "上周 {n}", "in_parens": "（{x}）", "colon": "：", "list_sep": "、",
        "digest_empty": "这一周没有新内容。", "digest_prev": "上一周", "digest_next": "下一周",
        "digest_count": "{n} 期周报", "digest_times": "{n} 次", "digest_this_week": "本周（进行中）",
        "digest_latest": "最新一期", "digest_view_online": "在网页上查看", "digest_items": "{n} 篇",
        "digest_mail_footer": "这是{title}的每周周报。", "digest_part": "{i}/{n}",
        "subscribe": "订阅", "subscribe_about": "不想错过？用 RSS 阅读器（Inoreader、Feedly、NetNewsWire、Reeder 等）订阅，有新内容会自动出现在阅读器里，不用守着群聊。把下面的链接复制到阅读器里即可。",
        "subscribe_more": "每个栏目和标签也有自己的订阅源，在它们页面的底部。", "feed_all": "全部内容",
        "feed_digest": "每周周报", "feed_section": "{section}", "feed_tag": "标签 #{tag}",
        "feed_of": "订阅“{name}”的 RSS", "new_badge": "新",
        "start_about": "刚进群？先读这几篇，再按周补一补之前错过的内容。", "start_rules": "群规与必读",
        "catchup": "补课", "catchup_about": "选一个日期（入群那天，或上次来看的那天），按周列出从那天起的周报和内容，最新的一周在前。",
        "catchup_since": "从这天起", "catchup_show": "查看", "catchup_last_visit": "上次来访",
        "catchup_week": "一周前", "catchup_month": "一个月前", "catchup_quarter": "三个月前",
        "catchup_none": "从这天起还没有新内容。", "catchup_result": "从 {date} 起共 {n} 篇内容",
        "catchup_read_digest": "读这周周报", "catchup_nojs": "补课需要浏览器启用 JavaScript；也可以直接按周浏览周报。",
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
        "contributions": "{n} contributions", "month": "{month_name} {y}", "month_only": "{month_name}", "year": "{y}",
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
        "archive_about": "Every entry, by year and month", "archive_year_about": "Every entry of {y}, by month", "all_years": "All years", "tags_about": "Browse by topic", "members_about": "The members who wrote this site",
        "honor_roll": "Honor roll", "honor_roll_about": "Thank you: writing a highlight or a lesson, asking and answering each count as a contribution.",
        "honor_week": "This week", "honor_month": "This month", "honor_all": "All time", "honor_empty": "No contributions yet in this period: be the first.",
        "rank_n": "Rank {n}", "times": "", "n_wrote": "wrote {n}", "n_answered": "answered {n}",
        "n_accepted": "{n} accepted", "n_asked": "asked {n}", "member_directory": "All members",
        "guests": "Other contributors", "guests_about": "Guests and members not listed in members.yaml who contributed.",
        "member_description": "{name}'s {n} contributions", "answers_given": "Answers",
        "kind_wrote": "wrote ", "kind_asked": "asked ", "kind_answered": "answered ",
        "member_highlights": "Highlights", "member_lessons": "Lessons", "member_curated": "Q&A written up",
        "member_asked": "Questions asked", "member_answers": "Answers given",
        "open_about": "Questions still waiting for an answer, the longest-waiting first. Know the answer? Reply in the group and a curator will add it.",
        "open_feed_title": "Open questions", "subscribe_open": "Subscribe to open questions (RSS)", "waited_days": "Waiting {n} days", "waited_one_day": "Waiting 1 day",
        "waited_today": "Asked today", "open_none": "No open questions right now.", "stats_link": "See the activity review",
        "stats_title": "Activity review", "stats_about": "How the community is doing, computed from this site: new entries each week, questions answered, people contributing.",
        "stats_as_of": "As of {date}.", "kpi_entries": "entries", "kpi_contributors": "contributors", "kpi_questions": "questions",
        "kpi_answered": "answered ({n})", "kpi_median": "median time to a first answer", "kpi_open": "open questions",
        "chart_entries_per_week": "New entries per week, last {n} weeks", "chart_asked_answered": "Questions asked and answered, last {n} weeks",
        "chart_time_to_answer": "Time until a question's first answer", "chart_top_tags": "The {n} biggest tags",
        "chart_contributors_per_week": "Contributors per week, last {n} weeks", "chart_new_contributors": "New contributors per month", "chart_entries_per_month": "New entries per month, since the start", "chart_entries_per_year": "New entries per year, since the start", "chart_entries_per_years": "New entries per {n} years, since the start", "chart_new_contributors_per_year": "New contributors per year", "chart_new_contributors_per_years": "New contributors per {n} years", "chart_top_contributors": "The {n} biggest contributors", "series_wrote": "Wrote", "series_answers": "Answers",
        "series_asked": "Asked", "series_answered": "Answered", "series_questions": "Questions", "series_entries": "Entries",
        "series_contributors": "Contributors", "series_new_contributors": "New contributors",
        "bucket_same_day": "Same day", "bucket_next_day": "Next day", "bucket_d2_3": "2–3 days later", "bucket_d4_7": "4–7 days later", "bucket_over_week": "Over a week later",
        "bucket_short_same_day": "Same day", "bucket_short_next_day": "Next day", "bucket_short_d2_3": "2–3d", "bucket_short_d4_7": "4–7d", "bucket_short_over_week": ">7d",
        "chart_table": "Show the numbers", "chart_category": "Category", "chart_total": "Total", "answer_link": "Link to this answer",
        "first_badge": "Start", "showing_latest": "Showing the latest {n}.", "first_sep": ", ", "quoted_title": "“{title}”", "same_day": "same day", "n_days": "{n} days",
        # digests, feeds, /start/
        "week_name": "Week {n}, {y}", "week_range": "{mon1} {d1} – {mon2} {d2}",
        "digest_week_title": "Weekly digest: {week}", "digest_about": "Every week, assembled: new highlights, lessons, Q&A, open questions and the most active members",
        "in_progress": "In progress", "in_progress_note": "This week is not over yet: the digest keeps growing until Sunday midnight.",
        "digest_note": "From the curators", "digest_new_highlights": "New highlights", "digest_new_lessons": "Lessons shared",
        "digest_answered": "Answered this week", "digest_open": "Still open: can you help?",
        "digest_open_more": "{n} more open questions", "digest_top_tags": "Top tags this week", "digest_contributors": "Most active this week",
        "digest_past_years": "This week in past years", "digest_numbers": "This week in numbers", "digest_count_entries": "new entries",
        "digest_count_answers": "answers", "digest_count_people": "members took part", "digest_vs_prev": "last week {n}", "in_parens": " ({x})", "colon": ": ", "list_sep": ", ",
        "digest_empty": "Nothing new this week.", "digest_prev": "Previous week", "digest_next": "Next week",
        "digest_count": "{n} digests", "digest_times": "×{n}", "digest_this_week": "This week (in progress)",
        "digest_latest": "Latest", "digest_view_online": "View online", "digest_items": "{n} entries",
        "digest_mail_footer": "This is the weekly digest of {title}.", "digest_part": "{i}/{n}",
        "subscribe": "Subscribe", "subscribe_about": "Don't want to miss anything? Follow the site in a feed reader (Inoreader, Feedly, NetNewsWire, Reeder…): new entries show up there by themselves, no need to watch the chat. Copy a link below into your reader.",
        "subscribe_more": "Every section and tag has its own feed too, linked at the bottom of its page.", "feed_all": "Everything",
        "feed_digest": "Weekly digest", "feed_section": "{section}", "feed_tag": "Tag #{tag}",
        "feed_of": "Subscribe to “{name}” (RSS)", "new_badge": "New",
        "start_about": "New here? Read these first, then catch up on what you missed, week by week.", "start_rules": "Rules and must-reads",
        "catchup": "Catch up", "catchup_about": "Pick a date (when you joined, or your last visit) to see the digests and entries since then, newest week first.",
        "catchup_since": "Since", "catchup_show": "Show", "catchup_last_visit": "Last visit",
        "catchup_week": "A week ago", "catchup_month": "A month ago", "catchup_quarter": "Three months ago",
        "catchup_none": "Nothing new since that day.", "catchup_result": "{n} entries since {date}",
        "catchup_read_digest": "Read the digest", "catchup_nojs": "Catching up needs JavaScript; you can also browse the digests week by week.",
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


def format_month(year: int, month: int, language: str, key: str = "month") -> str:
    """"2026 年 3 月" / "March 2026"; with key="month_only", "3 月" / "March"."""
    table = STRINGS.get(language, STRINGS["en"])
    return table[key].format(y=year, m=month, month_name=MONTHS_EN[month - 1])


def format_week(week, language: str) -> str:
    """"2026 年第 47 周" / "Week 47, 2026"."""
    table = STRINGS.get(language, STRINGS["en"])
    return table["week_name"].format(y=week.year, n=week.number)


def format_week_range(week, language: str) -> str:
    """Its first to its last day: "11 月 16 日–11 月 22 日" / "Nov 16 – Nov 22"."""
    table = STRINGS.get(language, STRINGS["en"])
    first, last = week.first_day, week.last_day
    return table["week_range"].format(m1=first.month, d1=first.day, m2=last.month, d2=last.day,
                                      mon1=MONTHS_EN[first.month - 1][:3], mon2=MONTHS_EN[last.month - 1][:3])
