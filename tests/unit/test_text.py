from hypothesis import given
from hypothesis import strategies as st

from generator.core.text import join_cjk_lines, reading_minutes, slugify, text_length, truncate


def test_line_break_between_chinese_characters_disappears():
    assert join_cjk_lines("新人进群后\n一直潜水") == "新人进群后一直潜水"
    assert join_cjk_lines("第一句。\n  第二句") == "第一句。第二句"


def test_line_break_next_to_latin_text_stays():
    assert join_cjk_lines("用 Python\n入门") == "用 Python\n入门"
    assert join_cjk_lines("hello\nworld") == "hello\nworld"


def test_length_counts_characters_for_chinese_and_words_for_latin():
    assert text_length("社群运营") == 4
    assert text_length("community building is fun") == 4
    assert text_length("Python 入门") == 3


def test_reading_time():
    assert reading_minutes("字" * 400 * 3) == 3
    assert reading_minutes("word " * 600) == 3
    assert reading_minutes("") == 1


def test_truncate_counts_units_and_marks_the_cut():
    assert truncate("一二三四五六", 4) == "一二三四…"
    assert truncate("one two three four", 2) == "one two…"
    assert truncate("短", 10) == "短"
    assert truncate("一二三四", 4) == "一二三四" and truncate("一二三四五", 4) == "一二三四…"  # at the limit, and past it
    assert truncate(" 短\n  文 ", 10) == "短 文"  # short, and its spaces still collapsed


def test_slugify_keeps_unicode_and_drops_separators():
    assert slugify("新人 必读") == "新人-必读"
    assert slugify("Python 入门/../x") == "python-入门-..-x"
    assert slugify("  Community  ") == "community"
    assert "/" not in slugify("a/b\\c")


RESERVED = set('?#%/\\:*|"<>')  # a query, a fragment, an escape, a folder; not in a Windows file name


@given(st.text())
def test_a_slug_made_from_any_text_holds_nothing_a_link_or_a_file_name_cannot(text):
    slug = slugify(text)
    assert not RESERVED & set(slug) and not any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in slug)
    assert slug not in (".", "..") and not slug.endswith(".")


def test_reserved_characters_in_a_title_become_dashes():
    assert [slugify(t) for t in ("a?b#c", "a%2Fb", "Python: tips", "x*y|z", "C#", "a\x00b\x7fc")] == [
        "a-b-c", "a-2fb", "python-tips", "x-y-z", "c", "a-b-c"]
