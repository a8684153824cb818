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
from typing import TYPE_CHECKING

from ..config import load_config
from ..core.dates import current_time
from ..core.errors import Problem, SiteError
from ..model.records import Site
from ..site_folder import INPUT_FILES, INPUT_FOLDERS
from ..write import MARK, WriteResult, existing_files
from .cache import BuildCache, FileRecord
from .fingerprint import PACKAGE, code_version

if TYPE_CHECKING:
    from ..pipeline import BuildOptions

PACKAGE_DIRS = ("theme", "data")
SETTLE_NS = 2_000_000_000
MAX_RACY = 20_000  # files changed within SETTLE_NS of a look, digested by content: past this, a build is cheaper than the look


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
    racy: tuple[tuple[str, str], ...] = ()  # `Inputs.racy` of that build

    def holds(self, inputs: Inputs, now: datetime) -> bool:
        return inputs.digest == self.inputs and self.built_at <= now < self.valid_until \
            and all(content_digest(path) == digest for path, digest in self.racy)


def _stamps(folder: str, prefix: str, out: list[tuple[str, str, int]], chain: tuple[str, ...] = ()) -> None:
    """(line, path, newest of mtime and ctime) of every file under folder (`chain`: the real paths of
    the folders it is in, so that a symlink back to one of them, or above, is stamped, not followed for ever)."""
    try:
        items = sorted(os.scandir(folder), key=lambda item: item.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    chain = (*chain, os.path.realpath(folder))
    for item in items:
        target = os.path.realpath(item.path).rstrip("/") + "/" if item.is_symlink() else None
        if target is not None and any(f"{above}/".startswith(target) for above in chain):
            out.append((f"{prefix}{item.name}\0loop", item.path, 0))
        elif item.is_dir(follow_symlinks=True):
            _stamps(item.path, f"{prefix}{item.name}/", out, chain)
        else:
            try:
                st = item.stat()
            except OSError:  # a dangling symlink: its name is stamp enough
                out.append((f"{prefix}{item.name}\0-", item.path, 0))
                continue
            out.append((f"{prefix}{item.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}",
                        item.path, max(st.st_mtime_ns, st.st_ctime_ns)))


@dataclass(frozen=True)
class Inputs:
    digest: str
    racy: tuple[tuple[str, str], ...]  # (path, content digest) of the files changed just before they were stamped
    settled: bool  # a build that took these stamps may be skipped by a later one (see `input_digest`)


def content_digest(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return "-"


def input_digest(site_root: Path, package: Path, code: str, options: str) -> Inputs:
    """Digest of every input's path and stat stamp (size, mtime, ctime, inode), the code and the options.

    Stamps, not contents: reading ten thousand files is what we are avoiding. But file
    times are coarse (a clock tick, or two seconds on some file systems), so a file changed
    in the same tick as it was stamped could change again unseen. Like git's "racy" files,
    the files changed just before they were stamped are digested by content too, and a later
    look compares their contents; with more than MAX_RACY of them, the stamps are not
    `settled` and a build that took them leaves no record to be skipped by.
    """
    stamps: list[tuple[str, str, int]] = []
    root = os.fspath(site_root)
    for name in INPUT_FOLDERS:
        _stamps(os.path.join(root, name), f"{name}/", stamps)
    for name in INPUT_FILES:
        _stamps_of_file(os.path.join(root, name), name, stamps)
    for name in PACKAGE_DIRS:  # the theme and the data files; `code` covers the Python files
        _stamps(os.path.join(os.fspath(package), name), f"<kb>/{name}/", stamps)
    lines = [code, options, *(line for line, _, _ in stamps)]
    settle = time_ns() - SETTLE_NS
    recent = [path for _, path, newest in stamps if newest >= settle]
    settled = len(recent) <= MAX_RACY
    racy = tuple((path, content_digest(path)) for path in recent) if settled else ()
    return Inputs(hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest(), racy, settled)


def _stamps_of_file(path: str, name: str, out: list[tuple[str, str, int]]) -> None:
    try:
        st = os.stat(path)
    except OSError:
        out.append((f"{name}\0-", path, 0))
        return
    out.append((f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}", path,
                max(st.st_mtime_ns, st.st_ctime_ns)))


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


LAST_BUILD = "last_build:"  # + the output folder: its BuildRecord, keyed by the inputs' digest


def last_build(cache: BuildCache, options: BuildOptions, records: dict[str, FileRecord]
               ) -> tuple[BuildRecord | None, Inputs] | None:
    """The last build into the options' output folder if it is still the answer, and the inputs' digest
    (`records`: the folder's output manifest).

    None when the build cannot be skipped by looking (no cache, an unreadable config).
    """
    if cache.db is None:
        return None
    try:
        config = load_config(options.source, options.base_url)
    except SiteError:
        return None
    now = current_time(options.now, config.tz, dict(os.environ))
    output = options.output_dir.resolve()
    shape = repr((options.drafts, options.base_url, options.strict, options.links_are_errors, str(output)))
    inputs = input_digest(options.source, PACKAGE, code_version(), shape)
    last = cache.artifact(LAST_BUILD + str(output), inputs.digest)
    if last is None or not last.holds(inputs, now):
        return None, inputs
    if len(records) != last.written or not all(r.matches(output / path) for path, r in records.items()):
        return None, inputs
    if len(existing_files(output)) != last.written or not (output / MARK).is_file():
        return None, inputs
    return last, inputs


def save_build(cache: BuildCache, output: Path, inputs: Inputs, site: Site, pages: int, result: WriteResult,
               warnings: tuple[Problem, ...]) -> None:
    """What the next build compares with, if the inputs' stamps were settled (see `input_digest`)."""
    if inputs.settled:
        cache.save_artifact(LAST_BUILD + str(output), inputs.digest, BuildRecord(
            inputs.digest, site.now, next_change(site), len(site.entries), pages,
            result.written + result.unchanged, warnings, inputs.racy))
