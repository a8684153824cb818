"""OutputFiles → output/, atomically.

The new site is assembled in a temporary folder beside output/ and swapped in
only when complete, so a failed or interrupted build never leaves a half-written
site. Files whose bytes did not change are hard-linked from the previous output,
keeping their mtime, so rsync and CDNs see only real changes.
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

from .errors import Problem, SourceLocation
from .render import OutputFile

TMP_PREFIX = ".kb-tmp-"
OLD_PREFIX = ".kb-old-"


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


def clean_leftovers(output: Path) -> None:
    """Tidy what an interrupted build left beside output/; put back an output it had moved away."""
    parent = output.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f"{OLD_PREFIX}{output.name}-*"), key=lambda p: p.stat().st_mtime)
    if olds and not output.exists():
        os.rename(olds.pop(), output)
    for leftover in [*parent.glob(f"{TMP_PREFIX}{output.name}-*"), *olds]:
        shutil.rmtree(leftover, ignore_errors=True)


def write_output(files: list[OutputFile], output: Path, static_dirs: list[Path]) -> WriteResult:
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(output)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{output.name}-", dir=output.parent))
    written = unchanged = 0
    try:
        wanted: dict[str, bytes | Path] = {}
        for folder in static_dirs:
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        wanted[path.relative_to(folder).as_posix()] = path
        for f in files:
            wanted[f.path] = f.data
        made_dirs: set[Path] = set()
        for rel, content in wanted.items():
            target = tmp / rel
            if target.parent not in made_dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(target.parent)
            previous = output / rel
            if _same_content(previous, content):
                os.link(previous, target)
                unchanged += 1
                continue
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_bytes(content)
            written += 1
        removed = _count_removed(output, wanted)
        _swap(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return WriteResult(written, unchanged, removed)


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


def _count_removed(output: Path, wanted: dict) -> int:
    if not output.is_dir():
        return 0
    return sum(1 for p in output.rglob("*") if p.is_file() and p.relative_to(output).as_posix() not in wanted)


def _swap(tmp: Path, output: Path) -> None:
    """Put the new tree in place in one step, then delete the old one.

    Linux exchanges the two folders atomically (renameat2 RENAME_EXCHANGE); elsewhere
    the old one is renamed away first, and `clean_leftovers` puts it back if the
    process dies between the two renames. Ctrl-C waits until the swap is done.
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
            os.rename(output, old)
            os.rename(tmp, output)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
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
