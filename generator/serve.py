"""kb serve: build, serve, watch, rebuild, reload every open tab.

The site is built into a private folder (`.kb-cache/serve-PORT/`, updated in
place, each file replaced whole, so pages are served while a rebuild goes on)
with base_url pointing at this server. Each HTML response gets a small script that listens to
server-sent events: a new build reloads the tab, a failed build lays the
errors over the page until it is fixed. `kb build` output never contains it.
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
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .build import BuildOptions, build
from .cache import BuildMemo, cache_folder
from .errors import SiteError

EVENTS_PATH = "/__kb/events"
SCRIPT_PATH = "/__kb/live.js"
DEBOUNCE_SECONDS = 0.12
EXACT_AFTER_SECONDS = 2.0  # quiet time after a save before related entries are computed again
WATCHED_DIRS = ("content", "templates", "static")
WATCHED_FILES = ("site_config.yaml",)
KEEPALIVE_SECONDS = 15.0

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

    def poke(self) -> None:
        with self._condition:
            self._due = time.monotonic() + self.delay
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

    def publish(self, generation: int, problems: list[str]) -> None:
        with self.lock:
            self.generation, self.problems = generation, problems
            listeners = list(self.listeners)
        message = self.snapshot()
        for listener in listeners:
            listener.put(message)

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
    """The served site: its folder, the build lock and the live state."""

    def __init__(self, options: BuildOptions):
        self.options = options
        self.root = options.output_dir.resolve()
        self.build_lock = threading.RLock()
        self.live = LiveState()
        self.memo = BuildMemo()
        self.exact_later: Debouncer | None = None

    def rebuild(self, out=sys.stdout, err=sys.stderr, exact: bool = False) -> bool:
        """Build; tell the tabs as soon as changed pages are written (feeds follow), or show the errors.

        After a save, related entries come from the last build (`preview`); the exact build
        that refreshes them waits for a quiet moment (`exact_later`), so that it does not hold
        up the next save on a big site.
        """
        started = time.perf_counter()
        shown: list[int] = []

        def pages_written() -> None:
            generation = self.live.generation + 1
            shown.append(generation)
            self.live.publish(generation, [])

        with self.build_lock:
            try:
                result = build(self.options, in_place=True, memo=self.memo, pages_written=pages_written,
                               preview=not exact)
            except SiteError as exc:
                problems = [str(p) for p in exc.problems]
                for line in problems:
                    print(line, file=err)
                print(f"build failed: {len(problems)} error{'s' if len(problems) != 1 else ''}; "
                      "still serving the last good build", file=err, flush=True)
                self.live.publish(self.live.generation, problems)
                return False
            except Exception as exc:  # a bug in kb must not stop the server
                traceback.print_exc(file=err)
                self.live.publish(self.live.generation, [f"kb crashed while building: {type(exc).__name__}: {exc}"])
                return False
        for warning in result.warnings:
            print(warning, file=err)
        note = "; related entries as in the last build, exact ones follow" if result.preview else ""
        print(f"{result.summary()} (rebuilt in {time.perf_counter() - started:.2f}s{note})", file=out, flush=True)
        if result.preview and self.exact_later is not None:
            self.exact_later.poke()
        changed = result.write is not None and (result.write.written or result.write.removed)
        if not shown and (changed or self.live.problems or self.live.generation == 0):
            self.live.publish(self.live.generation + 1, [])  # no page changed, but other files or an error did
        return True

    def file_for(self, url_path: str) -> tuple[Path | None, str | None]:
        """(file to send, or None) and a redirect target for folders without their slash."""
        relative = unquote(url_path).lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None, None
        if candidate.is_dir():
            if not url_path.endswith("/"):
                return None, url_path + "/"
            candidate = candidate / "index.html"
        return (candidate if candidate.is_file() else None), None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        if path == EVENTS_PATH:
            self._events()
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
            status, file = 404, site.root / "404.html"
        try:
            data = file.read_bytes()
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

    def _events(self) -> None:
        live = self.server.site.live
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
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

    def __init__(self, address: tuple[str, int], site: ServedSite | None = None):
        super().__init__(address, _Handler)
        self.site = site
        self.stopping = threading.Event()


def watch(source: Path, on_change: Callable[[], None]):
    """A watchdog observer that calls `on_change` for content, templates, static files and the config."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    root = source.resolve()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            for raw in (event.src_path, getattr(event, "dest_path", "")):
                if raw and relevant(Path(raw if isinstance(raw, str) else raw.decode())):
                    on_change()
                    return

    def relevant(path: Path) -> bool:
        try:
            parts = path.resolve().relative_to(root).parts
        except ValueError:
            return False
        if not parts or parts[-1].startswith((".#", "#")) or parts[-1].endswith(("~", ".swp", ".swx", ".tmp")):
            return False
        if len(parts) == 1:
            return parts[0] in WATCHED_FILES or parts[0] in WATCHED_DIRS
        return parts[0] in WATCHED_DIRS and not any(p.startswith(".") for p in parts[1:])

    observer = Observer()
    handler = Handler()
    observer.schedule(handler, str(root), recursive=False)
    for name in WATCHED_DIRS:
        if (root / name).is_dir():
            observer.schedule(handler, str(root / name), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(options: BuildOptions, host: str = "127.0.0.1", port: int = 8000, out=sys.stdout, err=sys.stderr) -> int:
    try:
        server = _Server((host, port))
    except OSError as exc:
        print(f"kb serve: cannot listen on {host}:{port}: {exc.strerror or exc}; try --port", file=err)
        return 1
    port = server.server_address[1]
    shown_host = "localhost" if host in ("0.0.0.0", "::", "") else host
    base_url = f"http://{shown_host}:{port}/"
    options = replace(options, base_url=base_url, output=cache_folder(options.source) / f"serve-{port}")
    site = ServedSite(options)
    server.site = site
    site.rebuild(out, err)
    observers = []
    debouncer = Debouncer(DEBOUNCE_SECONDS, lambda: site.rebuild(out, err))
    site.exact_later = Debouncer(EXACT_AFTER_SECONDS, lambda: site.rebuild(out, err, exact=True))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly on `kill` as on Ctrl-C
    try:
        observers.append(watch(options.source, debouncer.poke))
        print(f"serving {base_url} (Ctrl-C to stop); watching {options.source.resolve()}", file=out, flush=True)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopped", file=out, flush=True)
    finally:
        server.stopping.set()
        for observer in observers:
            observer.stop()
        debouncer.stop()
        site.exact_later.stop()
        server.server_close()
        site.live.publish(site.live.generation, site.live.problems)  # wake the event streams so they end
    return 0
