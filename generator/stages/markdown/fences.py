"""The one piece of Markdown kb reads line by line, before Python-Markdown: fenced code blocks.

Answer headings and the cost limits both skip what is fenced.
"""
from __future__ import annotations

import re

FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")  # a line that opens or closes a fenced code block
