"""The stages before derive, in the order a build runs them, each a function of plain values:
sources.py (content/ → SourceFile), parse.py (→ Document: front matter with frontmatter.py and
dates.py, Markdown with markdown/), assemble.py with members.py (→ Site), check.py (→ problems)."""
