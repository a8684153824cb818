"""OutputFiles → output/, atomically.

The new site is assembled in a temporary folder beside output/ and swapped in
only when complete, so a failed or interrupted build never leaves a half-written
site. Files whose bytes did not change are hard-linked from the previous output,
keeping their mtime, so rsync and CDNs see only real changes.

A build replaces everything in its output folder, so it writes only into a folder that is
kb's (`output_refusal`, once per build, before anything is touched): a new or empty one, or
one holding kb's mark (`.kb-output`, written into every output, as Sphinx keeps `.buildinfo`).
Two kinds of folders built by earlier versions, which left no mark, are kb's too: the
default SOURCE/output, if it is a folder of its own (not a symlink), and a folder that
still holds a file as the site's cache says a build wrote it. Never an output: the site's folder or one that holds it,
content/, static/, templates/, the cache or anything inside them, kb's theme, a file.

Static files are read only where they resolve inside the site (the theme's inside the
theme): a symlink out of it, or back into a folder it is in, is skipped with a warning.
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
from .render import THEME, is_inside
from .speed.cache import FileRecord, cache_folder
from .speed.parallel import Background

TMP_PREFIX = ".kb-tmp-"
OLD_PREFIX = ".kb-old-"
SPARE_PREFIX = ".kb-spare-"
BACKGROUND_CLEANUP_FILES = 500  # old trees larger than this are deleted by a detached process
MARK = ".kb-output"  # in every output folder: kb made it, and may replace what it holds
MARK_TEXT = (b"This folder is written by kb build, which replaces everything in it on every build.\n"
             b"Keep files of your own in the site's static/ folder.\n")
SITE_FOLDERS = ("content", "static", "templates")  # read by a build: never written into


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


class UnsafeOutput(Exception):
    """An output folder a build must not write into; the message says why and what to do instead."""


def output_refusal(site_root: Path, output: Path, records: Mapping[str, FileRecord] | None = None) -> str | None:
    """Why a build must not write into `output` (one line, with what to do), or None if it may.

    `records`: the site's output manifest of that folder; a folder that still holds one of those
    files as a build wrote it is kb's. Paths are compared as they resolve (`./content/`, `../site`
    from inside it, a symlink to content/ are all content/).
    """
    real = os.path.realpath(output)
    root = os.path.realpath(site_root)
    shown = f"the output folder {output}" + (f" (→ {real})" if real != os.path.abspath(output) else "")
    instead = "pass a new or empty folder with --output DIR"
    guarded = [(root, "the site's folder", False), (os.path.realpath(cache_folder(site_root)), "kb's cache folder", True),
               (os.path.realpath(THEME), "kb's theme folder", True)]
    guarded += [(os.path.realpath(os.path.join(root, name)), f"the site's {name}/ folder", True) for name in SITE_FOLDERS]
    for folder, what, inside_too in guarded:
        if real == folder:
            return f"{shown} is {what}, which a build would replace: {instead}"
        if is_inside(folder, real):
            return f"{shown} holds {what}, which a build would replace: {instead}"
        if inside_too and is_inside(real, folder):
            return f"{shown} is inside {what}, where kb writes nothing: {instead}"
    if os.path.basename(real).startswith((TMP_PREFIX, OLD_PREFIX, SPARE_PREFIX)):
        return f"{shown} is a folder kb keeps for itself while it builds: {instead}"
    if os.path.lexists(real) and not os.path.isdir(real):
        return f"{shown} is a file, not a folder: {instead} (kb makes it if it is missing)"
    if not os.path.isdir(real) or os.path.lexists(os.path.join(real, MARK)) or real == os.path.join(root, "output") \
            or any(record.matches(os.path.join(real, rel)) for rel, record in (records or {}).items()):
        return None
    with os.scandir(real) as items:
        if next(items, None) is None:
            return None
    return (f"{shown} holds files kb did not write (it has no {MARK} file) and a build replaces everything "
            f"in it: {instead}, or empty this one yourself")


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
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # no locks on this file system: nothing to tell
        return False
    finally:
        os.close(fd)
    return False


def write_output(files: list[OutputFile], output: Path, static: Mapping[str, Path] | None = None) -> WriteResult:
    staged = StagedOutput(output)
    try:
        for rel, source in (static or {}).items():
            staged.copy(rel, source)
        for f in files:
            staged.add(f.path, staged.put(f.path, f.data)[1])
        return staged.commit()
    except BaseException:
        staged.abort()
        raise


def static_files(site_root: Path, theme: Path = THEME) -> dict[str, Path]:
    """rel path → file to publish, the site's static/ overriding the theme's."""
    return static_sources(site_root, theme)[0]


def static_sources(site_root: Path, theme: Path = THEME) -> tuple[dict[str, Path], list[Problem]]:
    """`static_files`, and a warning for each file skipped (see `files_inside`)."""
    found, skipped = files_inside(theme / "static", theme, "generator/theme/static/", "kb's theme folder")
    own, more = files_inside(site_root / "static", site_root, "static/")
    if own.pop(MARK, None) is not None:
        more.append(_skipped(f"static/{MARK}", f"{MARK} is the name of kb's mark in its output folder; skipped: "
                                               "rename the file"))
    return {**found, **own}, skipped + more


def files_inside(folder: Path, bound: Path, shown: str, within: str = "the site") -> tuple[dict[str, Path], list[Problem]]:
    """rel path → file under `folder` (symlinks followed), and a warning for each symlink skipped:
    one that resolves outside `bound` (nothing outside the site is read or published), or to a
    folder it is in or one holding it (a loop, which would never end). `shown` names `folder` in warnings.

    Only a symlink costs more than a directory entry: its real path is looked up.
    """
    found: dict[str, Path] = {}
    skipped: list[Problem] = []
    top, limit = os.path.realpath(folder), os.path.realpath(bound)
    if not os.path.isdir(top):
        return found, skipped
    if not is_inside(top, limit):
        return found, [_skipped(shown.rstrip("/"), f"points outside {within} ({top}); skipped")]
    stack = [("", os.fspath(folder), (top,))]  # the real paths of the folders it is in: a loop leads back to one
    while stack:
        prefix, path, chain = stack.pop()
        try:
            with os.scandir(path) as scanned:
                items = list(scanned)
        except OSError:
            continue
        for item in items:
            rel = prefix + item.name
            if item.is_symlink():
                real = os.path.realpath(item.path)
                if not is_inside(real, limit):
                    skipped.append(_skipped(shown + rel, f"points outside {within} ({real}); skipped: "
                                                         "copy what it points at into the folder instead"))
                elif _unpublished(real, limit):
                    skipped.append(_skipped(shown + rel, f"points into {os.path.relpath(real, limit)}, which is never "
                                                         "published (kb's cache and working folders, output/, .git); "
                                                         "skipped: copy what it points at into the folder instead"))
                elif os.path.isdir(real) and any(is_inside(folder, real) for folder in chain):
                    skipped.append(_skipped(shown + rel, "a symlink back to a folder it is in (a loop); skipped: remove it"))
                elif os.path.isdir(real):
                    stack.append((rel + "/", item.path, (*chain, real)))
                elif os.path.isfile(real):
                    found[rel] = Path(item.path)
            elif item.is_dir(follow_symlinks=False):
                stack.append((rel + "/", item.path, (*chain, os.path.join(chain[-1], item.name))))
            elif item.is_file(follow_symlinks=False):
                found[rel] = Path(item.path)
    return dict(sorted(found.items())), sorted(skipped)


def _unpublished(real: str, site: str) -> bool:
    """True for a path in the site's own folders that hold what must not be published: the
    cache (drafts and all), kb's working trees, the default output/, git's history."""
    first = os.path.relpath(real, site).split(os.sep)[0]
    return first in (".git", "output") or first.startswith(".kb-")


def _skipped(path: str, message: str) -> Problem:
    return Problem(SourceLocation(path), message, "warning")


class StagedOutput:
    """A new output tree assembled beside output/ and swapped in whole by `commit`.

    Files can be added from forked workers (`put` only touches the file system);
    the counts are kept by whoever collects the results.

    With `spare`, a large site keeps its previous tree beside output/ (`.kb-spare-output`)
    and the next build brings that tree up to date instead of making a new one: only
    changed files are touched, rather than every folder made and deleted again. Files
    are never written into, only replaced, because the two trees share unchanged files.
    """

    def __init__(self, output: Path, spare: bool = False, claimed: SpareClaim | None = None):
        """`claimed`: the spare, claimed (and being walked) since the build began; taken over here."""
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if claimed is None and spare:
            claimed = SpareClaim(self.output, walk_here=True)
        elif claimed is None:
            clean_leftovers(self.output)
        self.spare = spare_of(self.output)
        self.keeps_spare = spare
        self.lock = None
        if claimed is not None:
            self.lock, claimed.lock = claimed.lock, None
        self.reusing = self.lock is not None
        self.paths: set[str] = set()
        self.written = self.unchanged = 0
        self._folders: set[str] = set()  # known to exist: one mkdir per folder, not per file
        self._found = FoundTree({}, set(), [])  # what the spare held when this build took it
        if self.reusing:
            self.root = self.spare
            self._found = claimed.found()
            self._folders = set(self._found.folders)
        else:
            self.root = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{self.output.name}-", dir=self.output.parent))
        # a new tree is locked while it is made and swapped in: `clean_leftovers` leaves it to this build
        self.tree_lock = None if self.reusing else _try_lock(self.root)

    def _target(self, rel: str) -> Path:
        target = self.root / rel
        folder = rel.rpartition("/")[0]
        if folder not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return target

    def _link(self, previous: Path, target: Path, ino: int | None = None) -> None:
        if self.reusing:
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
        else:
            os.link(previous, target)

    def put(self, rel: str, content: bytes | Path) -> tuple[Path, bool]:
        """Place one file; (where it is now, True if its bytes are new)."""
        target = self._target(rel)
        previous = self.output / rel
        if _same_content(previous, content):
            self._link(previous, target)
            return target, False
        partial = target.with_name(f"{TMP_PREFIX}{target.name}") if self.reusing else target
        if isinstance(content, Path):
            shutil.copyfile(content, partial)
        else:
            partial.write_bytes(content)
        if partial != target:
            os.replace(partial, target)
        return target, True

    def keep(self, rel: str, ino: int | None = None) -> None:
        """The previous output's file, known unchanged (and its inode, if known): linked without reading it,
        and not even looked at when the spare already held that very file."""
        if ino is not None and self._found.files.get(rel) == ino:
            return
        self._link(self.output / rel, self._target(rel), ino)

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
        """Swap the new tree in. The old one becomes the spare of a large site (with `spare`);
        otherwise, with `background_cleanup`, a large old tree is deleted by a detached process
        (the next build removes it if that process did not). `previous`: the files output/
        holds, if known (from the output manifest), to count the removed ones without a walk."""
        self.put(MARK, MARK_TEXT)  # not counted: not the site's
        self.paths.add(MARK)
        if self.reusing:
            _prune(self.root, self.paths, self._found)
        previous = list(previous) if previous is not None else existing_files(self.output)
        removed = sum(1 for rel in previous if rel not in self.paths)
        large = len(previous) > BACKGROUND_CLEANUP_FILES
        keep_as = self.spare if self.keeps_spare and large else None
        self._unlock()
        try:
            _swap(self.root, self.output, background_cleanup and large, keep_as)
        finally:
            self._unlock_tree()
        return WriteResult(self.written, self.unchanged, removed)

    def abort(self) -> None:
        if not self.reusing:  # a half-updated spare is fine: the next build checks every file in it
            shutil.rmtree(self.root, ignore_errors=True)
        self._unlock()
        self._unlock_tree()

    def _unlock(self) -> None:
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    def _unlock_tree(self) -> None:
        if self.tree_lock is not None:
            os.close(self.tree_lock)
            self.tree_lock = None


def spare_of(output: Path) -> Path:
    return output.parent / f"{SPARE_PREFIX}{output.name}"


class SpareClaim:
    """The spare tree of `kb build`, locked as the build begins and walked in a child process
    while the build loads the site, instead of once the pages are ready to be written.

    With `make` (output/ holds a large site), a missing spare is made by that child, of hard links
    to output/'s files: the build after a cold one then updates it like any spare, rather than
    make a new tree of every folder and link once its pages are ready (0.4 s at 10,000 entries).
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
        self.lock = _try_lock(spare) if spare.is_dir() else None
        self.walk = Background(lambda: found_tree(spare, linked_from), here=walk_here) if self.lock is not None else None

    def found(self) -> FoundTree:
        """The tree the walk found (asked once, by the StagedOutput that took the lock over)."""
        walk, self.walk = self.walk, None
        return walk.result()

    def release(self) -> None:
        """Unless a StagedOutput took it over: stop the walk, unlock the spare."""
        if self.walk is not None:
            self.walk.cancel()
            self.walk = None
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def _try_lock(folder: Path) -> int | None:
    """An exclusive lock on a folder, or None if another build holds it (or locks are unavailable)."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


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


def _prune(root: Path, wanted: set[str], found: FoundTree | None = None) -> None:
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


class InPlaceOutput:
    """Updates a private output folder file by file (for `kb serve`, which holds a lock
    so that no request sees it half-updated): no copy of the tree, only changed files."""

    def __init__(self, output: Path):
        self.output = self.root = output.resolve()
        self.output.mkdir(parents=True, exist_ok=True)
        self.paths: set[str] = set()
        self.written = self.unchanged = 0

    def put(self, rel: str, content: bytes | Path) -> tuple[Path, bool]:
        target = self.output / rel
        if _same_content(target, content):
            return target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{TMP_PREFIX}{target.name}")
        if isinstance(content, Path):
            shutil.copyfile(content, partial)
        else:
            partial.write_bytes(content)
        os.replace(partial, target)
        return target, True

    def keep(self, rel: str, ino: int | None = None) -> None:
        pass

    add = StagedOutput.add

    def copy(self, rel: str, source: Path) -> None:
        self.add(rel, self.put(rel, source)[1])

    def commit(self, background_cleanup: bool = False, previous: Iterable[str] | None = None) -> WriteResult:
        self.put(MARK, MARK_TEXT)
        removed = 0
        for rel in existing_files(self.output):
            if rel not in self.paths:
                (self.output / rel).unlink(missing_ok=True)
                removed += 1
        return WriteResult(self.written, self.unchanged, removed)

    def abort(self) -> None:
        pass


def _same_content(previous: Path, content: bytes | Path) -> bool:
    try:
        stat = previous.stat()
    except OSError:
        return False
    if isinstance(content, Path):
        if stat.st_size != content.stat().st_size:
            return False
        return previous.read_bytes() == content.read_bytes()
    return stat.st_size == len(content) and previous.read_bytes() == content


def _count_removed(output: Path, wanted) -> int:
    return sum(1 for rel in existing_files(output) if rel not in wanted)


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
            held = _try_lock(output)
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
