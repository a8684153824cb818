"""kb serve: build, serve, watch, rebuild, reload every open tab (live_server.py answers the requests).

The site is built into a private folder (`.kb-cache/serve-PORT/`, updated in
place, each file replaced whole, so pages are served while a rebuild goes on)
with base_url pointing at this server. Each HTML response gets a small script that listens to
server-sent events: a new build reloads the tab, a failed build lays the
errors over the page until it is fixed. `kb build` output never contains it.

A save first takes the fast path (preview.py): the saved entries' pages are
rendered from the last build and served from memory, in front of the folder, so the
tabs reload at once; then the normal build runs and makes every page exact. A page
from memory gives way only to a build that read the save it came from, so no build
that started earlier can show an older page. A save stops the build that is running.
"""
from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..build import BuildCancelled, BuildOptions, Serving, build
from ..core.errors import SiteError
from ..site_folder import INPUT_FILES, INPUT_FOLDERS
from ..speed.cache import BuildMemo, cache_folder
from .live_server import LiveState, SiteServer, decoded_path
from .preview import CompiledTemplates, LastBuild, preview

DEBOUNCE_SECONDS = 0.12
BUILD_AFTER_SECONDS = 0.5  # after the fast path: the tabs reload before the build takes the CPU
EXACT_AFTER_SECONDS = 2.0  # quiet time after a save before related entries are computed again


class Debouncer:
    """Calls `action` once after `delay` seconds without a new `poke`: a burst of saves is one rebuild.

    A poke that arrives while the action runs schedules one more run after it.
    """

    def __init__(self, delay: float, action: Callable[[], None]):
        self.delay = delay
        self.action = action
        self._condition = threading.Condition()
        self._due: float | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="kb-debounce", daemon=True)
        self._thread.start()

    def poke(self, delay: float | None = None) -> None:
        """Run after `delay` (default: the debouncer's) without another poke."""
        with self._condition:
            self._due = time.monotonic() + (self.delay if delay is None else delay)
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (self._due is None or time.monotonic() < self._due):
                    timeout = None if self._due is None else self._due - time.monotonic()
                    self._condition.wait(timeout)
                if self._stopped:
                    return
                self._due = None
            self.action()


class ServedSite:
    """The served site: its folder, the build lock, the live state and the pages of the fast path."""

    def __init__(self, options: BuildOptions):
        self.options = options
        self.root = options.output_dir.resolve()
        self.build_lock = threading.RLock()
        self.live = LiveState()
        self.memo = BuildMemo()
        self.last: LastBuild | None = None  # of the last good build, for the fast path
        self.failing: frozenset[str] = frozenset()  # files with errors in the last build
        self.compiled = CompiledTemplates()  # used by the fast path only
        self.lock = threading.Lock()  # for the fields below
        self.pending: set[str] = set()  # files changed since the last save was handled
        self.saves = 0  # saves handled so far; each page from memory carries the number of its save
        self.fresh: dict[str, tuple[int, bytes]] = {}  # output path → (save number, page)
        self.cancel = threading.Event()  # set by a save: stops the build that is running
        self.saved: Debouncer | None = None
        self.builder: Debouncer | None = None
        self.exact_later: Debouncer | None = None

    def start(self, out=sys.stdout, err=sys.stderr) -> None:
        """The debounced steps after a change: fast path, normal build, exact build when quiet."""
        self.saved = Debouncer(DEBOUNCE_SECONDS, lambda: self.on_save(out, err))
        self.builder = Debouncer(0.0, lambda: self.rebuild(out, err))
        self.exact_later = Debouncer(EXACT_AFTER_SECONDS, lambda: self.rebuild(out, err, exact=True))

    def stop(self) -> None:
        for debouncer in (self.saved, self.builder, self.exact_later):
            if debouncer is not None:
                debouncer.stop()

    def noticed(self, rel_paths: set[str]) -> None:
        """Files changed (relative to the site, "content/qa/x.md"): handle them once the burst ends."""
        with self.lock:
            self.pending |= rel_paths
        if self.saved is not None:
            self.saved.poke()

    def on_save(self, out=sys.stdout, err=sys.stderr) -> bool:
        """Stop the running build, show the saved entries' pages at once if the fast path
        applies (True), then have the normal build run."""
        with self.lock:
            paths, self.pending = self.pending, set()
            self.saves += 1
            number = self.saves
        self.cancel.set()
        shown = False
        last = self.last
        if paths and last is not None and (not self.live.problems or self.failing <= paths):
            started = time.perf_counter()
            try:
                outcome = preview(last, self.options.source, paths, self.options.drafts, self.compiled)
            except Exception:  # a bug in the fast path: the normal build still runs
                traceback.print_exc(file=err)
                outcome = None
            if outcome is not None and outcome.problems:
                self.failing = frozenset(p.location.path for p in outcome.problems)
                self.live.publish(self.live.generation, [str(p) for p in outcome.problems])
            elif outcome is not None and outcome.files:
                with self.lock:
                    self.fresh.update((f.path, (number, f.data)) for f in outcome.files)
                self.live.advance()
                shown = True
                print(f"showing {len(outcome.files)} saved page{'s' if len(outcome.files) != 1 else ''} "
                      f"({time.perf_counter() - started:.2f}s); the rest follows", file=out, flush=True)
        if self.builder is not None:
            self.builder.poke(BUILD_AFTER_SECONDS if shown else None)
        return shown

    def forget_fresh(self, saves: int) -> bool:
        """Drop the pages from memory of saves up to `saves`, now on disk; True if there were any."""
        with self.lock:
            old = [path for path, (number, _) in self.fresh.items() if number <= saves]
            for path in old:
                del self.fresh[path]
        return bool(old)

    def page_data(self, file: Path) -> bytes:
        """The file's bytes, or its newer page from the fast path."""
        try:
            fresh = self.fresh.get(file.relative_to(self.root).as_posix())
        except ValueError:
            fresh = None
        return fresh[1] if fresh is not None else file.read_bytes()

    def rebuild(self, out=sys.stdout, err=sys.stderr, exact: bool = False) -> bool:
        """Build; tell the tabs as soon as changed pages are written (feeds follow), or show the errors.

        After a save, related entries come from the last build (`preview`); the exact build
        that refreshes them waits for a quiet moment (`exact_later`), so that it does not hold
        up the next save on a big site. A save during the build stops it (False).
        """
        started = time.perf_counter()
        shown: list[int] = []

        with self.build_lock:
            cancel = self.cancel = threading.Event()
            with self.lock:
                seen = self.saves  # the build reads every file saved before this

            def pages_written() -> None:
                self.forget_fresh(seen)
                shown.append(self.live.advance())

            try:
                result = build(self.options, serving=Serving(self.memo, pages_written, preview=not exact,
                                                             cancelled=cancel.is_set))
            except BuildCancelled:
                print(f"build stopped after {time.perf_counter() - started:.2f}s: a newer save came in",
                      file=out, flush=True)
                return False
            except SiteError as exc:
                problems = [str(p) for p in exc.problems]
                for line in problems:
                    print(line, file=err)
                print(f"build failed: {len(problems)} error{'s' if len(problems) != 1 else ''}; "
                      "still serving the last good build", file=err, flush=True)
                self.failing = frozenset(p.location.path for p in exc.problems if p.severity == "error")
                self.live.publish(self.live.generation, problems)
                return False
            except Exception as exc:  # a bug in kb must not stop the server
                traceback.print_exc(file=err)
                self.failing = frozenset({"?"})
                self.live.publish(self.live.generation, [f"kb crashed while building: {type(exc).__name__}: {exc}"])
                return False
            self.last = LastBuild(result.site, dict(self.memo.related), frozenset(self.memo.sources))
            self.failing = frozenset()
        dropped = self.forget_fresh(seen)
        for warning in result.warnings:
            print(warning, file=err)
        note = "; related entries as in the last build, exact ones follow" if result.preview else ""
        print(f"{result.summary()} (rebuilt in {time.perf_counter() - started:.2f}s{note})", file=out, flush=True)
        if result.preview and self.exact_later is not None:
            self.exact_later.poke()
        changed = result.write is not None and (result.write.written or result.write.removed)
        if not shown and (changed or dropped or self.live.problems or self.live.generation == 0):
            self.live.advance()  # no page changed, but other files or an error did
        return True

    def file_for(self, url_path: str) -> tuple[Path | None, str | None]:
        """(file to send, or None) and a redirect target for folders without their slash; (None, None)
        for a path that names nothing inside the served folder (outside it, too long, not a path)."""
        try:
            candidate = (self.root / decoded_path(url_path).lstrip("/")).resolve()
            if candidate != self.root and self.root not in candidate.parents:
                return None, None
            if candidate.is_dir():
                if not url_path.endswith("/"):
                    return None, url_path + "/"
                candidate = candidate / "index.html"
            return (candidate if candidate.is_file() else None), None
        except (OSError, ValueError):  # a name too long, a loop of links, an escape that is not UTF-8
            return None, None


def watch(source: Path, on_change: Callable[[set[str]], None]):
    """A watchdog observer that calls `on_change` with the changed content, templates, static files
    or config (paths relative to `source`, forward slashes)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    root = source.resolve()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            if event.is_directory and event.event_type == "modified":
                return  # a file in it changed: that file has its own event
            changed = {rel for raw in (event.src_path, getattr(event, "dest_path", ""))
                       if raw and (rel := relevant(Path(raw if isinstance(raw, str) else raw.decode())))}
            if changed:
                on_change(changed)

    def relevant(path: Path) -> str | None:
        try:
            parts = path.resolve().relative_to(root).parts
        except ValueError:
            return None
        if not parts or parts[-1].startswith((".#", "#")) or parts[-1].endswith(("~", ".swp", ".swx", ".tmp")):
            return None
        if len(parts) == 1:
            return parts[0] if parts[0] in INPUT_FILES or parts[0] in INPUT_FOLDERS else None
        if parts[0] in INPUT_FOLDERS and not any(p.startswith(".") for p in parts[1:]):
            return "/".join(parts)
        return None

    observer = Observer()
    handler = Handler()
    observer.schedule(handler, str(root), recursive=False)
    for name in INPUT_FOLDERS:
        if (root / name).is_dir():
            observer.schedule(handler, str(root / name), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(options: BuildOptions, host: str = "127.0.0.1", port: int = 8000, out=sys.stdout, err=sys.stderr) -> int:
    try:
        server = SiteServer((host, port), err=err)
    except (OSError, OverflowError, UnicodeError) as exc:  # taken, not an address, a name IDNA cannot encode
        print(f"kb serve: cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}; "
              f"check --host, or try another --port", file=err)
        return 1
    port = server.server_address[1]
    shown_host = "localhost" if host in ("0.0.0.0", "::", "") else host
    base_url = f"http://{shown_host}:{port}/"
    options = replace(options, base_url=base_url, output=cache_folder(options.source) / f"serve-{port}")
    site = ServedSite(options)
    server.site = site
    site.rebuild(out, err)
    observers = []
    site.start(out, err)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly on `kill` as on Ctrl-C
    try:
        observers.append(watch(options.source, site.noticed))
        print(f"serving {base_url} (Ctrl-C to stop); watching {options.source.resolve()}", file=out, flush=True)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopped", file=out, flush=True)
    finally:
        server.stopping.set()
        for observer in observers:
            observer.stop()
        site.stop()
        server.server_close()
        site.live.publish(site.live.generation, site.live.problems)  # wake the event streams so they end
    return 0
