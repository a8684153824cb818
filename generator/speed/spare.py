"""A large site's spare tree: its previous output, which the next build brings up to date.

A new tree for every build means every folder made and every unchanged file linked again
(ten thousand of each at 10,000 entries). Instead, a large site keeps its previous tree beside
output/ (`.kb-spare-output`, sharing the unchanged files with it) and the next build updates
that tree: only changed files are touched, and the tree is swapped in as a new one would be.
Files are never written into, only replaced, because the two trees share unchanged files.
The bytes are the same either way (see write.StagedOutput).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..write import SPARE_PREFIX, TMP_PREFIX, StagedOutput, clean_leftovers, try_lock
from .parallel import Background

SPARE_FILES = 500  # from this many files in output/, its tree is kept as the spare once swapped out


class SpareOutput(StagedOutput):
    """A new output tree made by updating the spare tree, if this build could claim it (else a new
    tree as StagedOutput makes); the tree swapped out becomes the next spare if it is large."""

    def __init__(self, output: Path, claimed: SpareClaim | None = None):
        """`claimed`: the spare, claimed (and being walked) since the build began; taken over here."""
        claimed = claimed if claimed is not None else SpareClaim(output, walk_here=True)
        self.spare = spare_of(output.resolve())
        self.lock, claimed.lock = claimed.lock, None
        self.reusing = self.lock is not None
        self._found = claimed.found() if self.reusing else FoundTree({}, set(), [])  # what the spare held when taken
        super().__init__(output)

    def _tree(self) -> tuple[Path, int | None]:
        if not self.reusing:
            return super()._tree()
        self._folders = set(self._found.folders)
        return self.spare, None

    def _link(self, previous: Path, target: Path, ino: int | None = None) -> None:
        if not self.reusing:
            return super()._link(previous, target, ino)
        try:  # the spare often has the very file already (unchanged for two builds)
            if ino is not None:
                if os.lstat(target).st_ino == ino:
                    return
            elif os.path.samefile(previous, target):
                return
        except OSError:
            pass
        partial = target.with_name(f"{TMP_PREFIX}{target.name}")
        partial.unlink(missing_ok=True)
        os.link(previous, partial)
        os.replace(partial, target)

    def _partial(self, target: Path) -> Path:
        """A file of the spare may be shared with output/: replaced, never written into."""
        return target.with_name(f"{TMP_PREFIX}{target.name}") if self.reusing else target

    def keep(self, rel: str, ino: int | None = None) -> None:
        """Not even looked at when the spare already holds that very file."""
        if ino is not None and self._found.files.get(rel) == ino:
            return
        super().keep(rel, ino)

    def _before_swap(self) -> None:
        if self.reusing:
            prune(self.root, self.paths, self._found)
        self._unlock()

    def _old_tree_kept_as(self, files: int) -> Path | None:
        return self.spare if files > SPARE_FILES else None

    def abort(self) -> None:
        if not self.reusing:  # a half-updated spare is fine: the next build checks every file in it
            super().abort()
        self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def spare_of(output: Path) -> Path:
    return output.parent / f"{SPARE_PREFIX}{output.name}"


class SpareClaim:
    """The spare tree of `kb build`, locked as the build begins and walked in a child process
    while the build loads the site, instead of once the pages are ready to be written.

    With `make` (output/ holds a large site), a missing spare is made by that child, of hard links
    to output/'s files: the build after a cold one then updates it like any spare, rather than
    make a new tree of every folder and link once its pages are ready.
    """

    def __init__(self, output: Path, walk_here: bool = False, make: bool = False):
        self.output = output.resolve()
        clean_leftovers(self.output)  # before the walk: it may put a moved-away output back
        spare = spare_of(self.output)
        linked_from = None
        if make and not spare.exists() and self.output.is_dir():
            try:
                spare.mkdir()
                linked_from = self.output
            except OSError:  # made meanwhile by another build, or not allowed: no spare made here
                pass
        self.lock = try_lock(spare) if spare.is_dir() else None
        self.walk = Background(lambda: found_tree(spare, linked_from), here=walk_here) if self.lock is not None else None

    def found(self) -> FoundTree:
        """The tree the walk found (asked once, by the SpareOutput that took the lock over)."""
        walk, self.walk = self.walk, None
        return walk.result()

    def release(self) -> None:
        """Unless a SpareOutput took it over: stop the walk, unlock the spare."""
        if self.walk is not None:
            self.walk.cancel()
            self.walk = None
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


@dataclass(frozen=True)
class FoundTree:
    """A folder's tree as one walk found it."""

    files: dict[str, int]  # relative path → inode (from the directory entry: no stat)
    folders: set[str]  # relative paths, "" for the root
    empty: list[str]  # folders that held nothing


def found_tree(root: Path, linked_from: Path | None = None) -> FoundTree:
    """Walk root once: a spare tree is then updated and pruned without a second walk or a stat per file.

    With `linked_from`, root (empty) is first made a tree of hard links to that folder's files, as
    that folder is walked; a file that cannot be linked is left out (the build places it).
    """
    files: dict[str, int] = {}
    folders: set[str] = set()
    empty: list[str] = []
    stack = [("", str(linked_from if linked_from is not None else root))]
    while stack:
        rel, folder = stack.pop()
        prefix = rel + "/" if rel else ""
        try:
            if linked_from is not None:
                os.makedirs(os.path.join(root, rel), exist_ok=True)
            folders.add(rel)
            with os.scandir(folder) as items:
                held = False
                for item in items:
                    held = True
                    if item.is_dir(follow_symlinks=False):
                        stack.append((prefix + item.name, item.path))
                    elif linked_from is None or _linked(item.path, os.path.join(root, prefix + item.name)):
                        files[prefix + item.name] = item.inode()
        except OSError:
            continue
        if not held:
            empty.append(rel)
    return FoundTree(files, folders, empty)


def _linked(source: str, target: str) -> bool:
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def prune(root: Path, wanted: set[str], found: FoundTree | None = None) -> None:
    """Delete the files under root that are not wanted, and the folders left empty
    (`found`: root's tree as walked before anything was added to it, if known)."""
    found = found if found is not None else found_tree(root)
    emptied = set(found.empty)
    for rel in found.files:
        if rel not in wanted:
            (root / rel).unlink(missing_ok=True)
            emptied.add(rel.rpartition("/")[0])
    by_depth: dict[int, set[str]] = {}
    for folder in emptied:
        by_depth.setdefault(folder.count("/") + 1 if folder else 0, set()).add(folder)
    for depth in range(max(by_depth, default=0), 0, -1):
        for folder in by_depth.get(depth, ()):
            try:
                os.rmdir(root / folder)
            except OSError:  # not empty: it holds wanted files
                continue
            by_depth.setdefault(depth - 1, set()).add(folder.rpartition("/")[0])
