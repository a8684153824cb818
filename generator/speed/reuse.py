"""What a build reuses of earlier builds: values in the cache, by keys made of what they are a function
of, and files output/ holds as a build made them. Those are known by the key they were made with
(the output manifest records it with the file's size, mtime and inode), and are neither made,
loaded, sent between processes nor compared again.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..model.pages import OutputFile
from .cache import BuildCache, FileRecord

OnDisk = Callable[[str, str], bool]  # (path, key): does output/ hold that file as a build made it with that key?


@dataclass(frozen=True)
class Reuse:
    """What a stage finds earlier builds' work by."""

    cache: BuildCache
    base: str  # kb's code and the options that shape the output (see plan.options_base): every key starts with it
    digests: dict[int, str]  # id of an entry, an answer or a week → the digest of its value (fingerprint.py)
    kept: OnDisk | None = None  # `kb build`: the files output/ holds as made with a key


def on_disk(records: dict[str, FileRecord], output: Path) -> OnDisk:
    """For files whose bytes are a function of a key (feeds): the manifest says output/ has the file
    made with that key, and the file is the very one recorded (size, mtime, inode)."""
    folder = f"{output}{os.sep}"
    looked: dict[tuple[str, str], bool] = {}  # asked twice for most pages: by `rendered_now`, then by the write stage

    def kept(path: str, key: str) -> bool:
        if (path, key) not in looked:
            looked[path, key] = bool(key) and (r := records.get(path)) is not None and r.key == key \
                and r.matches(folder + path)
        return looked[path, key]

    return kept


def as_kept(files: list[OutputFile], kept: OnDisk | None) -> list[OutputFile]:
    """The files, those that output/ holds as made with their key without their bytes: not sent
    between processes, written or even compared."""
    return [OutputFile(f.path, None, f.key) if kept is not None and kept(f.path, f.key) else f for f in files]


def kept_or_stored(reuse: Reuse, kind: str, path: str, key: str) -> OutputFile | None:
    """The file made with `key`: as output/ holds it (no bytes), or from the cache, or None."""
    if not key:
        return None
    if reuse.kept is not None and reuse.kept(path, key):
        return OutputFile(path, None, key)
    data = reuse.cache.artifact(kind + path, key)
    return OutputFile(path, data, key) if data is not None else None
