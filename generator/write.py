"""OutputFiles → output/, atomically.

The new site is assembled in a temporary folder beside output/ and swapped in
only when complete, so a failed or interrupted build never leaves a half-written
site. Files whose bytes did not change are hard-linked from the previous output,
keeping their mtime, so rsync and CDNs see only real changes.
"""
from __future__ import annotations

import os
import shutil
import tempfile
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


def colliding_paths(files: list[OutputFile]) -> list[Problem]:
    """Two outputs claiming one path (case-folded, as on macOS and Windows) are an error."""
    seen: dict[str, str] = {}
    problems = []
    for f in files:
        key = f.path.casefold()
        if key in seen:
            problems.append(Problem(SourceLocation(f.path, 1), f'two pages would be written to "{f.path}" (also "{seen[key]}"): change a slug'))
        seen[key] = f.path
    return problems


def clean_leftovers(output: Path) -> None:
    """Remove temporary folders that an interrupted build left beside output/."""
    parent = output.parent
    if parent.is_dir():
        for leftover in parent.glob(f"{TMP_PREFIX}{output.name}-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in parent.glob(f"{OLD_PREFIX}{output.name}-*"):
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
    """Put the new tree in place: rename the old one away, the new one in, then delete the old."""
    os.chmod(tmp, 0o755)
    if output.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{output.name}-", dir=output.parent))
        os.rmdir(old)
        os.rename(output, old)
        os.rename(tmp, output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, output)
