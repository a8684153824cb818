"""content/ → `SourceFile`s: the only stage that reads the content folder."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .config import SECTION_IDS
from .yamltext import without_invalid_chars

CONTENT_DIR = "content"
MEMBERS_FILE = "content/members.yaml"
DIGEST_NOTES_DIR = "content/digest"


@dataclass(frozen=True)
class SourceFile:
    rel_path: str  # "content/qa/sub/x.md", forward slashes, relative to the site root
    section: str  # "qa", or "digest" for a week's note
    text: str
    digest: str  # sha256 of the bytes: the parse cache key

    @property
    def stem(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def read_source(site_root: Path, path: Path, section: str) -> SourceFile:
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    text = without_invalid_chars(text)
    rel = path.relative_to(site_root).as_posix()
    return SourceFile(rel, section, text, hashlib.sha256(data).hexdigest())


def markdown_paths(site_root: Path) -> list[tuple[str, Path]]:
    """(section, path) of every entry and digest note, in a stable order."""
    found: list[tuple[str, Path]] = []
    content = site_root / CONTENT_DIR
    for section in (*SECTION_IDS, "digest"):
        folder = content / section
        if folder.is_dir():
            found.extend((section, p) for p in sorted(folder.rglob("*.md"))
                         if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return found


def read_sources(site_root: Path) -> list[SourceFile]:
    return [read_source(site_root, path, section) for section, path in markdown_paths(site_root)]
