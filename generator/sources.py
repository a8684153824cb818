"""content/ → `SourceFile`s: the only stage that reads the content folder."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
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
    text: str | None  # None: not read yet (see `read_sources`)
    digest: str  # sha256 of the bytes: the parse cache key ("": not read yet, not known by its stamp)
    stamp: tuple[int, ...] = ()  # (size, mtime, inode, ctime) when it was looked at, if it was

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

    With `stamps` (rel path → (stamp, digest), kept in the cache by `kb build`: see
    `recorded_stamps`), no file is read here: one whose stamp is as recorded has its digest,
    the others not even that. `with_text` reads them where they are needed: a cold build
    reads each file in the worker that parses it.
    """
    root = os.fspath(site_root)
    sources = []
    seen: dict = {}
    for section, parts in _markdown_parts(site_root):
        rel = "/".join((CONTENT_DIR, section, *parts))
        path = os.path.join(root, rel)
        try:
            if memo is not None or stamps is not None:
                st = os.stat(path)
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
            if stamps is not None:
                known = stamps.get(rel)
                sources.append(SourceFile(rel, section, None, known[1] if known and known[0] == stamp else "", stamp))
                continue
            if memo is not None and (known := memo.get(rel)) and known[0] == stamp:
                seen[rel] = known
                sources.append(known[1])
                continue
            with open(path, "rb") as f:  # plain strings: ten thousand Paths cost a second
                data = f.read()
        except FileNotFoundError:  # a dangling symlink, or deleted while we looked
            continue
        source = SourceFile(rel, section, _text_of(data), hashlib.sha256(data).hexdigest())
        sources.append(source)
        if memo is not None:
            seen[rel] = (stamp, source)
    if memo is not None:
        memo.clear()
        memo.update(seen)
    return sources


def with_text(site_root: Path, source: SourceFile) -> SourceFile:
    """The source with its text, read now (and its digest: it may have changed since it was stamped)."""
    if source.text is not None:
        return source
    return replace(read_source(site_root, site_root / source.rel_path, source.section, source.rel_path),
                   stamp=source.stamp)


def recorded_stamps(sources: list[SourceFile], settled_ns: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """rel path → (stamp, digest) of the sources to know by their stamp next time: those whose
    mtime and ctime were older than `settled_ns` when they were looked at. Like the look
    (unchanged.py), a change after that gives the file a newer stamp."""
    return {s.rel_path: (s.stamp, s.digest) for s in sources
            if s.digest and s.stamp and max(s.stamp[1], s.stamp[3]) < settled_ns}
