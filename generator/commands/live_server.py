"""kb serve's HTTP side: every request answered with a status line, never a traceback; the
reload script each page gets, and the event stream that tells open tabs of a new build or of
a failed one (serve.py builds, watches and decides what to publish)."""
from __future__ import annotations

import http.server
import json
import mimetypes
import queue
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes, urlsplit

from ..model import urls
from ..model.pages import output_path

if TYPE_CHECKING:
    from .serve import ServedSite

EVENTS_PATH = "/__kb/events"
SCRIPT_PATH = "/__kb/live.js"
KEEPALIVE_SECONDS = 15.0
MAX_TARGET = 8192  # characters in a request's target, escapes and query included
MAX_PATH_BYTES = 4096  # a decoded path longer than PATH_MAX names no file

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


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """Every request gets a status line: a page, 301, 404, or 400/405/414/431/501 for what is not a
    request for one; a bug answers 500 and one line on stderr, never a traceback."""

    server: SiteServer
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


class SiteServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: ServedSite | None = None, err=sys.stderr):
        super().__init__(address, RequestHandler)
        self.site = site
        self.err = err
        self.stopping = threading.Event()

    def handle_error(self, request, client_address) -> None:
        """One line, not a traceback, for what the handler did not answer; nothing for a client that left."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):  # a tab that reloaded mid-response
            print(f"kb serve: a request from {client_address[0]} failed: {type(exc).__name__}: {exc}", file=self.err, flush=True)
