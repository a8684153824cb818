"""Is the last build still the answer? The inputs by their stat stamps, and when time changes the output.

A no-op `kb build` on a large site should cost what it takes to look, not what it
takes to build. The output is a pure function of the inputs (the files under the
site's folders, the config, the theme, kb's code, the options) and of the moment
`now`; so if every input file has the stamp it had, the clock has not passed a
moment at which the output would change (see `next_change`) and output/ still
holds exactly what that build wrote, the build has nothing to do.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from time import time_ns

from .errors import Problem
from .model import Site

INPUT_DIRS = ("content", "templates", "static")
INPUT_FILES = ("site_config.yaml",)
PACKAGE_DIRS = ("theme", "data")
SETTLE_NS = 2_000_000_000


@dataclass(frozen=True)
class BuildRecord:
    """What a finished build leaves for the next one to compare with."""

    inputs: str  # `input_digest` of the site, the theme, the code and the options
    built_at: datetime  # the build's `now`
    valid_until: datetime  # `next_change` of that build
    entries: int
    pages: int
    written: int  # files in output/, as recorded in the output manifest
    warnings: tuple[Problem, ...]

    def holds(self, inputs: str, now: datetime) -> bool:
        return inputs == self.inputs and self.built_at <= now < self.valid_until


def _stamps(folder: str, prefix: str, out: list[str]) -> None:
    try:
        items = sorted(os.scandir(folder), key=lambda item: item.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for item in items:
        if item.is_dir(follow_symlinks=True):
            _stamps(item.path, f"{prefix}{item.name}/", out)
        else:
            try:
                st = item.stat()
            except OSError:  # a dangling symlink: its name is stamp enough
                out.append(f"{prefix}{item.name}\0-")
                continue
            out.append(f"{prefix}{item.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")


@dataclass(frozen=True)
class Inputs:
    digest: str
    settled: bool  # no input changed just before it was stamped (see `input_digest`)


def input_digest(site_root: Path, package: Path, code: str, options: str) -> Inputs:
    """Digest of every input's path and stat stamp (size, mtime, ctime, inode), the code and the options.

    Stamps, not contents: reading ten thousand files is what we are avoiding. File times
    are coarse (a clock tick, or two seconds on some file systems), so a file changed in
    the same tick as it was stamped could change again unseen: such stamps are not
    `settled`, and a build that took them leaves no record to be skipped by.
    """
    lines: list[str] = [code, options]
    root = os.fspath(site_root)
    for name in INPUT_DIRS:
        _stamps(os.path.join(root, name), f"{name}/", lines)
    for name in INPUT_FILES:
        _stamps_of_file(os.path.join(root, name), name, lines)
    for name in PACKAGE_DIRS:  # the theme and the data files; `code` covers the Python files
        _stamps(os.path.join(os.fspath(package), name), f"<kb>/{name}/", lines)
    newest = max((int(t) for line in lines[2:] for t in line.split("\0")[2:4]), default=0)
    settled = newest < time_ns() - SETTLE_NS
    return Inputs(hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest(), settled)


def _stamps_of_file(path: str, name: str, out: list[str]) -> None:
    try:
        st = os.stat(path)
    except OSError:
        out.append(f"{name}\0-")
        return
    out.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")


def next_change(site: Site) -> datetime:
    """The first moment after site.now at which the same inputs could build a different site.

    The output reads the clock at a day's grain (this week, this month, today's date, the
    honor roll), when a scheduled entry comes out, and in each open question's whole days
    of waiting; nothing else. Whoever makes the output read the clock elsewhere adds it here.
    """
    tz = site.config.tz
    local = site.now.astimezone(tz)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    moments = [tomorrow.astimezone(tz), *(d for d in site.scheduled if d > site.now)]
    for entry in site.entries:
        if entry.question and entry.question.is_open:
            waited = max(0, (site.now - entry.date).days)
            moments.append(entry.date + timedelta(days=waited + 1))
    return min(moments)
