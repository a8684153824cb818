"""OutputFiles → output/, atomically.

The new site is assembled in a temporary folder beside output/ and swapped in
only when complete, so a failed or interrupted build never leaves a half-written
site. Files whose bytes did not change are hard-linked from the previous output,
keeping their mtime, so rsync and CDNs see only real changes. Before anything is
written, two outputs that claim one path are an error (`colliding_paths`).

Where a build may write is output_folder.py's to say; a large site's spare tree, which
the next build updates instead of making a new one, is speed/spare.py's.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .core.errors import Problem, SourceLocation
from .model.pages import OutputFile

TMP_PREFIX = ".kb-tmp-"  # kb's working trees beside output/: a tree being made,
OLD_PREFIX = ".kb-old-"  # an old tree being swapped out,
SPARE_PREFIX = ".kb-spare-"  # a large site's previous tree (speed/spare.py)
BACKGROUND_CLEANUP_FILES = 500  # old trees larger than this are deleted by a detached process
MARK = ".kb-output"  # in every output folder: kb made it, and may replace what it holds
MARK_TEXT = (b"This folder is written by kb build, which replaces everything in it on every build.\n"
             b"Keep files of your own in the site's static/ folder.\n")


@dataclass(frozen=True)
class WriteResult:
    written: int  # new or changed files
    unchanged: int
    removed: int


def colliding_paths(files: list[OutputFile], origins: Mapping[str, list[str]] | None = None,
                    static: Iterable[str] = ()) -> list[Problem]:
    """Two outputs claiming one path (case-folded, as on macOS and Windows), or a file where
    another output needs a folder, are errors.

    `origins` names what produced each path (in the order of `files`), `static`
    the static files, so the message says which sources to rename.
    """
    origins = origins or {}
    seen: dict[str, tuple[str, str]] = {f.casefold(): (f, f"static/{f}") for f in static}
    static_keys = set(seen)
    used: dict[str, int] = {}
    problems = []
    for f in files:
        index = used.get(f.path, 0)
        used[f.path] = index + 1
        claims = origins.get(f.path, [])
        origin = claims[index] if index < len(claims) else f"a generated file ({f.path})"
        key = f.path.casefold()
        if key in seen:
            other_path, other = seen[key]
            problems.append(_collision(origin, other, f.path, f'would both be written to "{f.path}"'
                                       + (f' (as "{other_path}" on case-insensitive disks)' if other_path != f.path else "")))
            if key in static_keys:
                continue
        seen[key] = (f.path, origin)
    folders: dict[str, tuple[str, str]] = {}
    for key, claim in seen.items():
        parts = key.split("/")
        for n in range(1, len(parts)):
            folders.setdefault("/".join(parts[:n]), claim)
    for key, (path, origin) in seen.items():
        if key in folders:
            inner_path, inner_origin = folders[key]
            problems.append(_collision(origin, inner_origin, path, f'clash: "{path}" would be a file, but "{inner_path}" '
                                                                   "needs it to be a folder"))
    return problems


def _collision(origin: str, other: str, path: str, what: str) -> Problem:
    """The problem, placed at whichever of the two is a source file a curator can change."""
    where = next((o for o in (origin, other) if o.startswith(("content/", "static/"))), path)
    path, _, number = where.partition(":")
    return Problem(SourceLocation(path, int(number) if number.isdigit() else 1),
                   f"{origin} and {other} {what}: change a slug or rename one of them")


def path_collisions(paths: list[str], origins: Mapping[str, list[str]] | None = None,
                    static: Iterable[str] = ()) -> list[Problem]:
    """`colliding_paths` for outputs known by their paths only (before they are rendered)."""
    return colliding_paths([OutputFile(path, b"") for path in paths], origins, static)


def clean_leftovers(output: Path) -> None:
    """Tidy what an interrupted build left beside output/; put back an output it had moved away.

    A tree another build is still at (it holds the tree's lock) is left alone.
    """
    parent = output.parent
    if not parent.is_dir():
        return
    olds = sorted((old for old in parent.glob(f"{OLD_PREFIX}{output.name}-*") if not _in_use(old)),
                  key=lambda p: p.stat().st_mtime)
    if olds and not output.exists():
        os.rename(olds.pop(), output)
    for leftover in [*parent.glob(f"{TMP_PREFIX}{output.name}-*"), *olds]:
        if not _in_use(leftover):
            shutil.rmtree(leftover, ignore_errors=True)


def _in_use(folder: Path) -> bool:
    """True if another build holds the folder's lock: a tree it is still making or swapping in."""
    fd, held = _locked(folder)
    if fd is not None:
        os.close(fd)
    return held


def write_output(files: list[OutputFile], output: Path, static: Mapping[str, Path] | None = None,
                 in_place: bool = False) -> WriteResult:
    """Every file and static file written into output/: a new tree swapped in whole, or (`in_place`,
    `kb serve`'s private folder) the folder updated file by file."""
    tree = InPlaceOutput(output) if in_place else StagedOutput(output)
    try:
        for rel, source in (static or {}).items():
            tree.copy(rel, source)
        for f in files:
            tree.add(f.path, tree.put(f.path, f.data)[1])
        return tree.commit()
    except BaseException:
        tree.abort()
        raise


class OutputTree:
    """The files placed in an output tree, counted by whoever collects them: `put` only touches
    the file system, so files can be placed from forked workers."""

    def __init__(self, output: Path):
        self.output = output.resolve()
        self.paths: set[str] = set()
        self.written = self.unchanged = 0

    def put(self, rel: str, content: bytes | Path) -> tuple[Path, bool]:
        """Place one file; (where it is now, True if its bytes are new)."""
        raise NotImplementedError

    def keep(self, rel: str, ino: int | None = None) -> None:
        """The previous output's file, known unchanged (and its inode, if known), kept as it is."""

    def add(self, rel: str, written: bool) -> None:
        """Count a file placed by `put` or `keep` (possibly in a worker)."""
        self.paths.add(rel)
        if written:
            self.written += 1
        else:
            self.unchanged += 1

    def copy(self, rel: str, source: Path) -> None:
        self.add(rel, self.put(rel, source)[1])

    def commit(self, background_cleanup: bool = False, previous: Iterable[str] | None = None) -> WriteResult:
        raise NotImplementedError

    def abort(self) -> None:
        """The build stopped: nothing it placed is left behind (where that is possible)."""


class StagedOutput(OutputTree):
    """A new output tree assembled beside output/ and swapped in whole by `commit`."""

    def __init__(self, output: Path):
        super().__init__(output)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._folders: set[str] = set()  # known to exist: one mkdir per folder, not per file
        self.root, self.tree_lock = self._tree()

    def _tree(self) -> tuple[Path, int | None]:
        """A new, empty tree, locked while it is made and swapped in: `clean_leftovers` leaves it to this build."""
        clean_leftovers(self.output)
        root = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{self.output.name}-", dir=self.output.parent))
        return root, try_lock(root)

    def _target(self, rel: str) -> Path:
        target = self.root / rel
        folder = rel.rpartition("/")[0]
        if folder not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return target

    def _link(self, previous: Path, target: Path, ino: int | None = None) -> None:
        os.link(previous, target)

    def _partial(self, target: Path) -> Path:
        """Where a file's bytes are written before they become `target`: the target itself, in a new tree."""
        return target

    def put(self, rel: str, content: bytes | Path) -> tuple[Path, bool]:
        target = self._target(rel)
        previous = self.output / rel
        if same_content(previous, content):
            self._link(previous, target)
            return target, False
        partial = self._partial(target)
        if isinstance(content, Path):
            shutil.copyfile(content, partial)
        else:
            partial.write_bytes(content)
        if partial != target:
            os.replace(partial, target)
        return target, True

    def keep(self, rel: str, ino: int | None = None) -> None:
        """The previous output's file, known unchanged: linked without reading it."""
        self._link(self.output / rel, self._target(rel), ino)

    def commit(self, background_cleanup: bool = False, previous: Iterable[str] | None = None) -> WriteResult:
        """Swap the new tree in; with `background_cleanup`, a large old tree is deleted by a detached
        process (the next build removes it if that process did not). `previous`: the files output/
        holds, if known (from the output manifest), to count the removed ones without a walk."""
        self.put(MARK, MARK_TEXT)  # not counted: not the site's
        self.paths.add(MARK)
        self._before_swap()
        previous = list(previous) if previous is not None else existing_files(self.output)
        removed = sum(1 for rel in previous if rel not in self.paths)
        large = len(previous) > BACKGROUND_CLEANUP_FILES
        try:
            _swap(self.root, self.output, background_cleanup and large, self._old_tree_kept_as(len(previous)))
        finally:
            self._unlock_tree()
        return WriteResult(self.written, self.unchanged, removed)

    def _before_swap(self) -> None:
        """The tree is complete: anything to do to it before it becomes output/."""

    def _old_tree_kept_as(self, files: int) -> Path | None:
        """Where the old tree (of that many files) is kept once swapped out, or None: deleted."""
        return None

    def abort(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self._unlock_tree()

    def _unlock_tree(self) -> None:
        if self.tree_lock is not None:
            os.close(self.tree_lock)
            self.tree_lock = None


class InPlaceOutput(OutputTree):
    """Updates a private output folder file by file (for `kb serve`, which holds a lock
    so that no request sees it half-updated): no copy of the tree, only changed files."""

    def __init__(self, output: Path):
        super().__init__(output)
        self.root = self.output
        self.output.mkdir(parents=True, exist_ok=True)

    def put(self, rel: str, content: bytes | Path) -> tuple[Path, bool]:
        target = self.output / rel
        if same_content(target, content):
            return target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{TMP_PREFIX}{target.name}")
        if isinstance(content, Path):
            shutil.copyfile(content, partial)
        else:
            partial.write_bytes(content)
        os.replace(partial, target)
        return target, True

    def commit(self, background_cleanup: bool = False, previous: Iterable[str] | None = None) -> WriteResult:
        self.put(MARK, MARK_TEXT)
        removed = 0
        for rel in existing_files(self.output):
            if rel not in self.paths:
                (self.output / rel).unlink(missing_ok=True)
                removed += 1
        return WriteResult(self.written, self.unchanged, removed)


def same_content(previous: Path, content: bytes | Path) -> bool:
    """True if the file `previous` holds these bytes (or the bytes of that file)."""
    try:
        stat = previous.stat()
    except OSError:
        return False
    if isinstance(content, Path):
        if stat.st_size != content.stat().st_size:
            return False
        return previous.read_bytes() == content.read_bytes()
    return stat.st_size == len(content) and previous.read_bytes() == content


def existing_files(output: Path) -> list[str]:
    """Relative paths (forward slashes) of every file under output/ but kb's mark."""
    found: list[str] = []
    stack = [("", str(output))]
    while stack:
        prefix, folder = stack.pop()
        try:
            with os.scandir(folder) as items:
                for item in items:
                    if item.is_dir(follow_symlinks=False):
                        stack.append((prefix + item.name + "/", item.path))
                    elif prefix or item.name != MARK:
                        found.append(prefix + item.name)
        except OSError:
            continue
    return found


def try_lock(folder: Path) -> int | None:
    """An exclusive lock on a folder, or None if another build holds it (or locks are unavailable)."""
    return _locked(folder)[0]


def _locked(folder: Path) -> tuple[int | None, bool]:
    """(a descriptor holding an exclusive lock on the folder, or None; whether another process holds it).
    Where there are no locks (no fcntl, a file system without them), neither."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        return None, False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        return None, isinstance(exc, BlockingIOError)
    return fd, False


def _swap(tmp: Path, output: Path, background_cleanup: bool = False, keep_as: Path | None = None) -> None:
    """Put the new tree in place in one step, then delete the old one (or keep it as `keep_as`).

    Linux exchanges the two folders atomically (renameat2 RENAME_EXCHANGE); elsewhere
    the old one is renamed away first (locked, so that another build's `clean_leftovers`
    leaves it be), and `clean_leftovers` puts it back if the process dies between the two
    renames. Ctrl-C waits until the swap is done.
    """
    os.chmod(tmp, 0o755)
    if not output.exists():
        os.rename(tmp, output)
        return
    blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        if _exchange(tmp, output):
            old = tmp
        else:
            old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{output.name}-", dir=output.parent))
            os.rmdir(old)
            held = try_lock(output)
            try:
                os.rename(output, old)
                os.rename(tmp, output)
            finally:
                if held is not None:
                    os.close(held)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if keep_as is not None:
        try:
            if old != keep_as:
                os.rename(old, keep_as)
            return
        except OSError:  # another build made one meanwhile: this old tree is not needed
            pass
    if background_cleanup:
        _delete_detached(old)
    else:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _delete_detached(folder: Path) -> None:
    """Delete a folder from a process that outlives this one; fall back to deleting it here."""
    import subprocess
    import sys

    try:
        subprocess.Popen([sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)",
                          str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
