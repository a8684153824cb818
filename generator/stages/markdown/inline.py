"""Python-Markdown's inline processor, made to try on each text only the patterns that can match it."""
from __future__ import annotations

import functools
import re
from typing import Any

import markdown

# What each of Python-Markdown's inline patterns needs in a text to match at all (their regular
# expressions cannot match without one of these characters).
INLINE_TRIGGERS = {"backtick": "`\\", "escape": "\\", "footnote": "[", "reference": "[", "link": "[",
                   "image_link": "[", "image_reference": "[", "short_reference": "[", "short_image_ref": "[",
                   "autolink": "<", "automail": "<", "linebreak": "\n", "html": "<", "entity": "&",
                   "em_strong": "*_", "em_strong2": "_", "not_strong": "*_", "strong": "*", "emphasis": "*",
                   "strong2": "_", "emphasis2": "_"}


class QuickInline(markdown.treeprocessors.InlineProcessor):
    """Python-Markdown's inline processor, except that each text is searched only by the patterns
    whose characters it holds: most text nodes of chat prose have no markup at all, and the rest
    have one or two kinds (docs/performance.md says what it saves). Matching only ever
    replaces characters with placeholders, so a pattern that cannot match a text at the start
    cannot match it later. When a pattern kb does not know is registered, every pattern is tried."""

    @functools.cached_property
    def patterns(self) -> tuple[re.Pattern, tuple[tuple[Any, frozenset[str]], ...]] | None:
        """(any trigger character, (pattern, its characters) in priority order), made on the
        first text (every extension has registered its patterns by then), once."""
        registry = self.md.inlinePatterns
        known = {id(registry[name]): frozenset(chars) for name, chars in INLINE_TRIGGERS.items() if name in registry}
        if any(id(pattern) not in known for pattern in registry):  # a pattern kb does not know
            return None
        table = tuple((pattern, known[id(pattern)]) for pattern in registry)  # in priority order
        every = re.compile("[" + re.escape("".join(sorted(set().union(*(chars for _, chars in table))))) + "]")
        return every, table

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        """Overrides the private method every text goes through (the base class calls it by its mangled name)."""
        if self.patterns is None:
            return super()._InlineProcessor__handleInline(data, patternIndex)
        if isinstance(data, markdown.util.AtomicString):
            return data
        every, table = self.patterns
        present = set(every.findall(data))
        if not present:
            return data
        start = 0
        while patternIndex < len(table):
            pattern, chars = table[patternIndex]
            if chars.isdisjoint(present):
                patternIndex += 1
                continue
            data, matched, start = self._InlineProcessor__applyPattern(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data
