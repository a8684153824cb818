"""Small helpers for reading built output in tests: parsed, never grepped."""
from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup


def page(output: Path, url: str) -> BeautifulSoup:
    """The parsed HTML of the page at a site URL ("/qa/x/")."""
    path = output / url.lstrip("/")
    if url.endswith("/"):
        path = path / "index.html"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
