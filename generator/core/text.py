"""Text measures that know Chinese: CJK counts characters, Latin counts words."""
from __future__ import annotations

import re
import unicodedata

# Han, kana, Hangul and CJK punctuation / full-width forms.
CJK = r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
LATIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’-][A-Za-z0-9\u00c0-\u024f]+)*")
NOT_CJK = re.compile(f"[^{CJK}]+")
CJK_NEWLINE = re.compile(f"(?<=[{CJK}])[ \\t]*\\n[ \\t]*(?=[{CJK}])")

CJK_PER_MINUTE = 400
WORDS_PER_MINUTE = 200


def join_cjk_lines(text: str) -> str:
    """A line break between two CJK characters is no space in Chinese: drop it."""
    return CJK_NEWLINE.sub("", text)


def text_length(text: str) -> int:
    """Characters of CJK text plus words of Latin text."""
    return len(NOT_CJK.sub("", text)) + len(LATIN_WORD.findall(text))


def reading_minutes(text: str) -> int:
    cjk = len(NOT_CJK.sub("", text))  # counts CJK characters without a list of them
    words = len(LATIN_WORD.findall(text))
    return max(1, round(cjk / CJK_PER_MINUTE + words / WORDS_PER_MINUTE))


def truncate(text: str, limit: int) -> str:
    """Cut to about `limit` units (CJK characters or Latin words), on a boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:  # a unit is a character at least: short enough as it is (most summaries)
        return text
    units = 0
    for match in re.finditer(f"[{CJK}]|{LATIN_WORD.pattern}", text):
        units += 1
        if units > limit:
            cut = text[: match.start()].rstrip(" ,，、;；:：")
            return cut + "…"
    return text


# What cannot stand in a URL path segment as written, or in a file name on some system.
NOT_IN_SLUG = re.compile(r"[\s\x00-\x1f\x7f/\\?#%\"'<>`|^{}\[\]:*]+")


def slugify(value: str) -> str:
    """A URL segment that keeps Unicode: NFC, lower-cased, whitespace and reserved characters → '-'."""
    value = unicodedata.normalize("NFC", value).strip().lower()
    value = NOT_IN_SLUG.sub("-", value)
    value = re.sub(r"-{2,}", "-", value).strip("-.")
    return value
