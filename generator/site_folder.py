"""What a build reads of the site's folder as it is: the inputs kb serve watches and the
up-to-date check stamps, and the files of static/ and templates/ it publishes or loads.

Static files are read only where they resolve inside the site (the theme's inside the
theme): a symlink out of it, or back into a folder it is in, is skipped with a warning.
"""
from __future__ import annotations

import os
from pathlib import Path

from .config import CONFIG_FILE
from .core.errors import Problem, SourceLocation
from .core.paths import is_inside
from .render import THEME
from .write import MARK

INPUT_FOLDERS = ("content", "templates", "static")  # with INPUT_FILES, every input of a build in the site's folder
INPUT_FILES = (CONFIG_FILE,)


def static_files(site_root: Path, theme: Path = THEME) -> dict[str, Path]:
    """rel path → file to publish, the site's static/ overriding the theme's."""
    return static_sources(site_root, theme)[0]


def static_sources(site_root: Path, theme: Path = THEME) -> tuple[dict[str, Path], list[Problem]]:
    """`static_files`, and a warning for each file skipped (see `files_inside`)."""
    found, skipped = files_inside(theme / "static", theme, "generator/theme/static/", "kb's theme folder")
    own, more = files_inside(site_root / "static", site_root, "static/")
    if own.pop(MARK, None) is not None:
        more.append(_skip_warning(f"static/{MARK}", f"{MARK} is the name of kb's mark in its output folder; skipped: "
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
        return found, [_skip_warning(shown.rstrip("/"), f"points outside {within} ({top}); skipped")]
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
                    skipped.append(_skip_warning(shown + rel, f"points outside {within} ({real}); skipped: "
                                                              "copy what it points at into the folder instead"))
                elif _unpublished(real, limit):
                    skipped.append(_skip_warning(shown + rel, f"points into {os.path.relpath(real, limit)}, which is never "
                                                              "published (kb's cache and working folders, output/, .git); "
                                                              "skipped: copy what it points at into the folder instead"))
                elif os.path.isdir(real) and any(is_inside(folder, real) for folder in chain):
                    skipped.append(_skip_warning(shown + rel, "a symlink back to a folder it is in (a loop); skipped: remove it"))
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


def _skip_warning(path: str, message: str) -> Problem:
    return Problem(SourceLocation(path), message, "warning")
