"""content/ → `SourceFile`s: the only stage that reads the content folder.

Nothing outside the site is read: a link under content/ that leads outside the site
folder (or to a folder that holds it, which would never end) is skipped with a
warning; links that stay inside are followed, folders too. Markdown that would not
be built (outside a section folder, or named x.MD or x.markdown) is reported.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import SECTION_IDS
from ..core.errors import Problem, Problems, SourceLocation, did_you_mean
from ..core.paths import is_within, site_roots
from ..core.yamltext import INVALID_CHARS, file_text, utf8_text

CONTENT_DIR = "content"
MEMBERS_FILE = "content/members.yaml"
FOLDERS = (*SECTION_IDS, "digest")  # the folders of content/ whose Markdown is built, in this order
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkdn", ".mkd", ".mdwn")  # as lower case; only ".md" is built


@dataclass(frozen=True)
class SourceFile:
    rel_path: str  # "content/qa/sub/x.md", forward slashes, relative to the site root
    section: str  # "qa", or "digest" for a week's note
    text: str | None  # None: not read yet (see `read_sources`)
    digest: str  # sha256 of the bytes: the parse cache key ("": not read yet, not known by its stamp)
    stamp: tuple[int, ...] = ()  # (size, mtime, inode, ctime) when it was looked at, if it was
    problems: tuple[Problem, ...] = ()  # reading it: not UTF-8 (an error), control characters left out

    @property
    def stem(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def read_source(site_root: Path, path: Path, section: str, rel: str | None = None) -> SourceFile:
    data = path.read_bytes()
    rel = rel or path.relative_to(site_root).as_posix()
    return _source_of(rel, section, data)


def _source_of(rel: str, section: str, data: bytes, stamp: tuple[int, ...] = ()) -> SourceFile:
    try:
        text = _text_of(data)
    except UnicodeDecodeError:
        text = None
    problems: list[Problem] = []
    if text is None or INVALID_CHARS.search(text):  # rare: worth a second look
        text, problems = file_text(data, rel)
    return SourceFile(rel, section, text, hashlib.sha256(data).hexdigest(), stamp, tuple(problems))


def _text_of(data: bytes) -> str:
    """The text of a valid UTF-8 file (see `yamltext.file_text` for the others)."""
    return utf8_text(data)


class _ContentWalk:
    """One look through content/, and what it has to say about what it did not take."""

    def __init__(self, site_root: Path):
        self.root = os.fspath(site_root)
        self.inside = site_roots(self.root)
        self.problems: list[Problem] = []

    def warn(self, rel: str, message: str) -> None:
        self.problems.append(Problem(SourceLocation(rel, 1), message, "warning"))

    def entries(self, folder: str, rel: str) -> list[os.DirEntry]:
        """The folder's entries that are not hidden, and whose names can be written in a page."""
        try:
            with os.scandir(folder) as listing:
                entries = [e for e in listing if not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.warn(rel, f"cannot be read ({exc.strerror or exc}), so its files are not built")
            return []
        named = []
        for entry in entries:
            if entry.name.isascii() or _is_text(entry.name):
                named.append(entry)
            elif entry.is_dir(follow_symlinks=False) or entry.name.lower().endswith(MARKDOWN_SUFFIXES):
                shown = entry.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self.warn(f"{rel}/{shown}", "its name is not UTF-8, so it is not built: rename it")
        return named

    def kind(self, entry: os.DirEntry, rel: str, above: frozenset[str], real: str) -> tuple[str, str]:
        """("dir" | "file" | "", its real path) of an entry of the folder whose real path is `real`:
        "" for a link not to follow, with a warning. `above`: the real paths of the folders walked to get here."""
        if not entry.is_symlink():
            return ("dir", real + os.sep + entry.name) if entry.is_dir(follow_symlinks=False) else ("file", "")
        target = os.path.realpath(entry.path)
        is_dir = os.path.isdir(target)
        if not is_dir and not entry.name.lower().endswith(MARKDOWN_SUFFIXES):
            return "file", target  # nothing kb reads: an image beside an entry, say
        if not os.path.exists(target):
            self.warn(rel, "a link to nothing (or to a link that never ends): skipped")
            return "", target
        if not is_within(target, self.inside):
            self.warn(rel, "points outside the site, so it is not read")
            return "", target
        if is_dir and (target in above or real.startswith(target.rstrip(os.sep) + os.sep)):
            holder = os.path.relpath(target, self.inside[0]).replace(os.sep, "/")
            self.warn(rel, f"a link back to {holder}/, a folder that holds it: skipped, it would never end")
            return "", target
        return ("dir" if is_dir else "file"), target

    def markdown(self, folder: str, rel: str, real: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """Path parts, relative to `folder`, of its .md files, sorted like Paths; and of its other Markdown files."""
        built: list[tuple[str, ...]] = []
        other: list[tuple[str, ...]] = []
        stack = [(folder, rel, real, (), frozenset((real,)))]
        while stack:
            path, rel_here, real_here, parts, above = stack.pop()
            for entry in self.entries(path, rel_here):
                name = entry.name
                if entry.is_symlink() or entry.is_dir(follow_symlinks=False):
                    kind, target = self.kind(entry, f"{rel_here}/{name}", above, real_here)
                else:
                    kind = "file"
                if kind == "dir":
                    stack.append((entry.path, f"{rel_here}/{name}", target, parts + (name,), above | {target}))
                elif kind == "file" and name.endswith(".md"):
                    built.append(parts + (name,))
                elif kind == "file" and name.lower().endswith(MARKDOWN_SUFFIXES):
                    other.append(parts + (name,))
        built.sort()
        other.sort()
        return built, other

    def content(self) -> list[tuple[str, tuple[str, ...]]]:
        """(section, path parts) of every entry and digest note, in a stable order."""
        content = os.path.join(self.root, CONTENT_DIR)
        found: dict[str, list[tuple[str, ...]]] = {}
        loose: list[tuple[str, ...]] = []  # Markdown directly in content/
        for entry in sorted(self.entries(content, CONTENT_DIR), key=lambda e: e.name):
            rel = f"{CONTENT_DIR}/{entry.name}"
            kind, target = self.kind(entry, rel, frozenset((self.inside[1],)), self.inside[1])
            if kind == "dir":
                built, other = self.markdown(entry.path, rel, target)
                if entry.name in FOLDERS:
                    found[entry.name] = built
                    for parts in other:
                        self.warn("/".join((rel, *parts)), f'Markdown that is not built: rename it to {_md_name(parts[-1])}')
                elif built or other:
                    self.stray(f"{rel}/", sorted(built + other), entry.name)
            elif kind == "file" and entry.name.lower().endswith(MARKDOWN_SUFFIXES):
                loose.append((entry.name,))
        if loose:
            self.stray(f"{CONTENT_DIR}/", loose, "")
        return [(section, parts) for section in FOLDERS for parts in found.get(section, ())]

    def stray(self, folder: str, files: list[tuple[str, ...]], name: str) -> None:
        """One warning for Markdown in a folder that is not a section, at its first file."""
        count = f"its {len(files)} Markdown files are" if len(files) > 1 else "its Markdown file is"
        what = f"{folder} is not a section{did_you_mean(name.casefold(), FOLDERS)}" if name else f"{folder} itself is not a section"
        self.warn(folder + "/".join(files[0]), f"{what}, so {count} not built; sections are {', '.join(SECTION_IDS)}")


def _is_text(name: str) -> bool:
    """A file name that is valid UTF-8 (Python decodes the others with lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _md_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    return f"{stem}.md"


def markdown_paths(site_root: Path) -> list[tuple[str, Path]]:
    """(section, path) of every entry and digest note, in a stable order."""
    return [(section, site_root / CONTENT_DIR / section / "/".join(parts))
            for section, parts in _ContentWalk(site_root).content()]


def read_sources(site_root: Path, memo: dict | None = None, stamps: dict | None = None,
                 problems: Problems | None = None) -> list[SourceFile]:
    """Every entry and digest note; what the look through content/ has to say goes to `problems`.
    With `memo` (kept by `kb serve`), a file whose size, mtime and inode are unchanged since
    the last call is not read again.

    With `stamps` (rel path → (stamp, digest), kept in the cache by `kb build`: see
    `recorded_stamps`), no file is read here: one whose stamp is as recorded has its digest,
    the others not even that. `with_text` reads them where they are needed: a cold build
    reads each file in the worker that parses it.
    """
    root = os.fspath(site_root)
    sources = []
    seen: dict = {}
    walk = _ContentWalk(site_root)
    found = walk.content()
    if problems is not None:
        problems.extend(walk.problems)
    for section, parts in found:
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
            with open(path, "rb") as f:  # plain strings: a Path per file is a visible cost on a large site
                data = f.read()
        except FileNotFoundError:  # a dangling symlink, or deleted while we looked
            continue
        source = _source_of(rel, section, data)
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
