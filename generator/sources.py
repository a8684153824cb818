"""content/ → `SourceFile`s: the only stage that reads the content folder."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .config import SECTION_IDS
from .unchanged import SETTLE_NS
from .yamltext import without_invalid_chars

CONTENT_DIR = "content"
MEMBERS_FILE = "content/members.yaml"
DIGEST_NOTES_DIR = "content/digest"


@dataclass(frozen=True)
class SourceFile:
    rel_path: str  # "content/qa/sub/x.md", forward slashes, relative to the site root
    section: str  # "qa", or "digest" for a week's note
    text: str | None  # None: not read, its stamp was as recorded (see `read_sources`)
    digest: str  # sha256 of the bytes: the parse cache key

    @property
    def stem(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def read_source(site_root: Path, path: Path, section: str, rel: str | None = None) -> SourceFile:
    data = path.read_bytes()
    rel = rel or path.relative_to(site_root).as_posix()
    return SourceFile(rel, section, _text_of(data), hashlib.sha256(data).hexdigest())


def _text_of(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    return without_invalid_chars(text)


def _markdown_files(folder: Path) -> list[tuple[str, ...]]:
    """Path parts, relative to `folder`, of its .md files outside hidden folders, sorted like Paths."""
    found: list[tuple[str, ...]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        prefix = Path(dirpath).relative_to(folder).parts
        found.extend(prefix + (name,) for name in filenames if name.endswith(".md") and not name.startswith("."))
    found.sort()
    return found


def markdown_paths(site_root: Path) -> list[tuple[str, Path]]:
    """(section, path) of every entry and digest note, in a stable order."""
    return [(section, site_root / CONTENT_DIR / section / "/".join(parts))
            for section, parts in _markdown_parts(site_root)]


def _markdown_parts(site_root: Path) -> list[tuple[str, tuple[str, ...]]]:
    content = site_root / CONTENT_DIR
    return [(section, parts) for section in (*SECTION_IDS, "digest") if (content / section).is_dir()
            for parts in _markdown_files(content / section)]


def read_sources(site_root: Path, memo: dict | None = None, stamps: dict | None = None) -> list[SourceFile]:
    """Every entry and digest note. With `memo` (kept by `kb serve`), a file whose size,
    mtime and inode are unchanged since the last call is not read again.

    With `stamps` (rel path → (stamp, digest), kept in the cache by `kb build`), a file whose
    stamp is as recorded is not read at all: its text is None (`with_text` reads it if its
    document must be parsed). Like the look (unchanged.py), only files that had not changed
    for SETTLE_NS when they were read are recorded: a later change then shows in the stamp.
    """
    root = os.fspath(site_root)
    sources = []
    seen: dict = {}
    settled = time.time_ns() - SETTLE_NS
    for section, parts in _markdown_parts(site_root):
        rel = "/".join((CONTENT_DIR, section, *parts))
        path = os.path.join(root, rel)
        try:
            if memo is not None or stamps is not None:
                st = os.stat(path)
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
                known = (memo if memo is not None else stamps).get(rel)
                if known and known[0] == stamp:
                    seen[rel] = known
                    sources.append(known[1] if memo is not None else SourceFile(rel, section, None, known[1]))
                    continue
            with open(path, "rb") as f:  # plain strings: ten thousand Paths cost a second
                data = f.read()
        except FileNotFoundError:  # a dangling symlink, or deleted while we looked
            continue
        source = SourceFile(rel, section, _text_of(data), hashlib.sha256(data).hexdigest())
        sources.append(source)
        if memo is not None:
            seen[rel] = (stamp, source)
        elif stamps is not None and max(st.st_mtime_ns, st.st_ctime_ns) < settled:
            seen[rel] = (stamp, source.digest)
    for kept in (memo, stamps):
        if kept is not None:
            kept.clear()
            kept.update(seen)
    return sources


def with_text(site_root: Path, source: SourceFile) -> SourceFile:
    """The source as it is now, read (its digest too: it may have changed since it was stamped)."""
    return source if source.text is not None else \
        read_source(site_root, site_root / source.rel_path, source.section, source.rel_path)
