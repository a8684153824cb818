"""Markdown as kb reads it: Python-Markdown with kb's extensions (renderer.py, tree.py, inline.py,
raw_html.py), the Q&A syntax (answers.py) and what one file may cost (limits.py)."""
