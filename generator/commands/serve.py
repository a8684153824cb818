"""kb serve: build, serve, watch, rebuild, reload every open tab.

The site is built into a private folder (`.kb-cache/serve-PORT/`, updated in
place, each file replaced whole, so pages are served while a rebuild goes on)
with base_url pointing at this server. Each HTML response gets a small script that listens to
server-sent events: a new build reloads the tab, a failed build lays the
errors over the page until it is fixed. `kb build` output never contains it.

A save first takes the fast path (generator/preview.py): the saved entries' pages are
rendered from the last build and served from memory, in front of the folder, so the
tabs reload at once; then the normal build runs and makes every page exact. A page
from memory gives way only to a build that read the save it came from, so no build
that started earlier can show an older page. A save stops the build that is running.
"""
from __future__ import annotations

import http.server
import json
import mimetypes
import queue
import signal
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from ..build import BuildCancelled, BuildOptions, Serving, build
from ..core.errors import SiteError
from ..model import urls
from ..model.pages import output_path
from ..site_folder import INPUT_FILES, INPUT_FOLDERS
from ..speed.cache import BuildMemo, cache_folder
from .preview import CompiledTemplates, LastBuild, preview

EVENTS_PATH = "/__kb/events"
SCRIPT_PATH = "/__kb/live.js"
DEBOUNCE_SECONDS = 0.12
BUILD_AFTER_SECONDS = 0.5  # after the fast path: the tabs reload before the build takes the CPU
EXACT_AFTER_SECONDS = 2.0  # quiet time after a save before related entries are computed again
KEEPALIVE_SECONDS = 15.0
MAX_TARGET = 8192  # characters in a request's target, escapes and query included
MAX_PATH_BYTES = 4096  # a decoded path longer than PATH_MAX names no file
OTHER_METHODS = ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")  # 405; unknown ones get 501

LIVE_SCRIPT = """(() => {
  const me = document.currentScript;
  const shown = Number(me.dataset.generation);
  const source = new EventSource(%(events)s);
  const overlayId = "kb-build-errors";
  function hide() { const old = document.getElementById(overlayId); if (old) old.remove(); }
  function show(problems) {
    hide();
    const box = document.createElement("div");
    box.id = overlayId;
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:24px;" +
      "background:#17171c;color:#fff;font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace";
    const zh = (document.documentElement.lang || "").toLowerCase().startsWith("zh");
    const title = document.createElement("h2");
    title.textContent = zh ? "kb：构建失败（" + problems.length + " 处错误）" : "kb: the build failed (" + problems.length + ")";
    title.style.cssText = "margin:0 0 12px;font:600 18px/1.3 system-ui,sans-serif;color:#ff8a80";
    const list = document.createElement("pre");
    list.style.cssText = "white-space:pre-wrap;margin:0";
    list.textContent = problems.join("\\n");
    const note = document.createElement("p");
    note.textContent = zh ? "改好文件并保存，这个页面会自己刷新。" : "Fix the file and save: this page reloads by itself.";
    note.style.cssText = "margin:16px 0 0;color:#bbb;font:14px/1.4 system-ui,sans-serif";
    box.append(title, list, note);
    document.body.append(box);
  }
  source.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (state.problems.length) { show(state.problems); return; }
    if (state.generation !== shown) { source.close(); location.reload(); return; }
    hide();
  });
})();
"""


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


@dataclass
class LiveState:
    """What the open tabs need to know: the build they should show, or why there is none."""

    generation: int = 0
    problems: list[str] = field(default_factory=list)
    listeners: list[queue.Queue] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> str:
        with self.lock:
            return json.dumps({"generation": self.generation, "problems": self.problems}, ensure_ascii=False)

    def publish(self, generation: int | None, problems: list[str]) -> int:
        """Tell every tab; `generation` None: the next one. Returns the generation."""
        with self.lock:
            self.generation = self.generation + 1 if generation is None else generation
            self.problems = problems
            generation = self.generation
            listeners = list(self.listeners)
        message = self.snapshot()
        for listener in listeners:
            listener.put(message)
        return generation

    def advance(self) -> int:
        """A new generation without problems: the tabs reload."""
        return self.publish(None, [])

    def listen(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.listeners.append(q)
        return q

    def forget(self, q: queue.Queue) -> None:
        with self.lock:
            if q in self.listeners:
                self.listeners.remove(q)


def inject_live_script(html: bytes, generation: int) -> bytes:
    """The reload script, just before </body> (or at the end)."""
    tag = f'<script src="{SCRIPT_PATH}" data-generation="{generation}"></script>'.encode()
    index = html.rfind(b"</body>")
    return html[:index] + tag + html[index:] if index != -1 else html + tag


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


def decoded_path(url_path: str) -> str:
    """A request's path with its escapes decoded as UTF-8; ValueError for one that names no file:
    bytes that are not UTF-8, a NUL or another control character."""
    try:
        raw = url_path.encode("latin-1")  # http.server read the request line as Latin-1: these are its bytes
    except UnicodeEncodeError:
        raw = url_path.encode("utf-8", "surrogatepass")
    text = unquote_to_bytes(raw).decode("utf-8")
    if any(char < " " or char == "\x7f" for char in text):
        raise ValueError("a control character")
    return text


def request_path(target: str) -> tuple[HTTPStatus | None, str]:
    """(None, the path) of a request's target, or (the status that refuses it, "")."""
    if len(target) > MAX_TARGET:
        return HTTPStatus.REQUEST_URI_TOO_LONG, ""
    try:
        path = urlsplit(target).path  # an absolute URL ("http://host/x") is also a target
        decoded = decoded_path(path)
    except ValueError:
        return HTTPStatus.BAD_REQUEST, ""
    if not path.startswith("/"):
        return HTTPStatus.BAD_REQUEST, ""
    if len(decoded.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return HTTPStatus.REQUEST_URI_TOO_LONG, ""
    return None, path


class _Handler(http.server.BaseHTTPRequestHandler):
    """Every request gets a status line: a page, 301, 404, or 400/405/414/431/501 for what is not a
    request for one; a bug answers 500 and one line on stderr, never a traceback."""

    server: _Server
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a request line too broken to name a version is still answered with a status line
    responded = False

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def send_response(self, code, message=None) -> None:
        self.responded = True
        super().send_response(code, message)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        self.responded = False
        try:
            self._answer(head)
        except (ConnectionError, TimeoutError):  # the client left mid-response
            self.close_connection = True
        except Exception as exc:  # a bug in kb: this request fails, the server goes on
            self.close_connection = True
            print(f"kb serve: {self.command} {self.path[:200]}: {type(exc).__name__}: {exc}", file=self.server.err, flush=True)
            if not self.responded:
                self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, head)

    def _not_allowed(self) -> None:
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, False, ("Allow", "GET, HEAD"))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _answer(self, head: bool) -> None:
        site = self.server.site
        refusal, path = request_path(self.path)
        if refusal:
            self._refuse(refusal, head)
            return
        if path == EVENTS_PATH:
            self._events(head)
            return
        if path == SCRIPT_PATH:
            self._send(200, (LIVE_SCRIPT % {"events": json.dumps(EVENTS_PATH)}).encode(), "text/javascript", head)
            return
        file, redirect = site.file_for(path)
        if redirect:
            self.send_response(301)
            self.send_header("Location", redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 200
        if file is None:
            status, file = 404, site.root / output_path(urls.NOT_FOUND)
        try:
            data = site.page_data(file)
        except OSError:  # no build yet, or the file went away a moment ago
            data = b"<!doctype html><title>404</title><body><h1>404</h1></body>"
        generation = site.live.generation
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind == "text/html":
            data = inject_live_script(data, generation)
        if kind.startswith("text/") or kind in ("application/xml", "application/json", "application/javascript"):
            kind += "; charset=utf-8"
        self._send(status, data, kind, head)

    def _send(self, status: int, data: bytes, kind: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _refuse(self, status: HTTPStatus, head: bool, *headers: tuple[str, str]) -> None:
        """A short plain-text answer, and the connection closed: what follows such a request may not be one."""
        data = f"{status.value} {status.phrase}\n".encode()
        self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _events(self, head: bool = False) -> None:
        live = self.server.site.live
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if head:
            return
        listener = live.listen()
        try:
            message: str | None = live.snapshot()
            while not self.server.stopping.is_set():
                if message is None:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    self.wfile.write(f"event: state\ndata: {message}\n\n".encode())
                self.wfile.flush()
                try:
                    message = listener.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    message = None
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            live.forget(listener)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: ServedSite | None = None, err=sys.stderr):
        super().__init__(address, _Handler)
        self.site = site
        self.err = err
        self.stopping = threading.Event()

    def handle_error(self, request, client_address) -> None:
        """One line, not a traceback, for what the handler did not answer; nothing for a client that left."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):  # a tab that reloaded mid-response
            print(f"kb serve: a request from {client_address[0]} failed: {type(exc).__name__}: {exc}", file=self.err, flush=True)


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
        server = _Server((host, port), err=err)
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
