"""What the stages pass between them: records.py (entries, members, the site), pages.py (the pages
derive asks for and the files they render to), urls.py (every URL), and the records the derive
modules share (digest.py, contributions.py)."""
