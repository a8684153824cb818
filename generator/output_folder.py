"""Where a build may write: the output folder guard, asked once per build before anything is touched.

A build replaces everything in its output folder, so it writes only into a folder that is
kb's: a new or empty one, or one holding kb's mark (`.kb-output`, written into every output,
as Sphinx keeps `.buildinfo`). Two kinds of folders built by earlier versions, which left no
mark, are kb's too: the default SOURCE/output, if it is a folder of its own (not a symlink),
and a folder that still holds a file as the site's cache says a build wrote it. Never an
output: the site's folder or one that holds it, content/, static/, templates/, the cache or
anything inside them, kb's theme, a file.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .core.paths import is_inside
from .render import THEME
from .site_folder import INPUT_FOLDERS
from .speed.cache import FileRecord, cache_folder
from .write import MARK, OLD_PREFIX, SPARE_PREFIX, TMP_PREFIX


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
    guarded += [(os.path.realpath(os.path.join(root, name)), f"the site's {name}/ folder", True) for name in INPUT_FOLDERS]
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
