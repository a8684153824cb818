"""The dev server's parts that need no browser: debouncing, script injection, file lookup, the fast path."""
from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import struct
import threading
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import pipeline
from generator.build import BuildOptions, build
from generator.commands.live_server import SCRIPT_PATH, SiteServer, inject_live_script
from generator.commands.serve import Debouncer, ServedSite, watch
from generator.speed import plan
from tests.conftest import NOW


def counting_debouncer(delay: float) -> tuple[Debouncer, list[float]]:
    calls: list[float] = []
    return Debouncer(delay, lambda: calls.append(time.monotonic())), calls


def test_a_burst_of_pokes_is_one_call_after_the_quiet_period():
    debouncer, calls = counting_debouncer(0.1)
    try:
        started = time.monotonic()
        for _ in range(10):
            debouncer.poke()
            time.sleep(0.01)
        time.sleep(0.4)
        assert len(calls) == 1
        assert calls[0] - started >= 0.1 + 0.09  # waited for quiet after the last poke
    finally:
        debouncer.stop()


def test_pokes_apart_are_separate_calls():
    debouncer, calls = counting_debouncer(0.05)
    try:
        debouncer.poke()
        time.sleep(0.3)
        debouncer.poke()
        time.sleep(0.3)
        assert len(calls) == 2
    finally:
        debouncer.stop()


def test_a_poke_during_the_action_runs_it_once_more():
    running = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow() -> None:
        calls.append(1)
        running.set()
        release.wait(2)

    debouncer = Debouncer(0.02, slow)
    try:
        debouncer.poke()
        assert running.wait(2)
        debouncer.poke()
        debouncer.poke()
        release.set()
        time.sleep(0.3)
        assert len(calls) == 2
    finally:
        release.set()
        debouncer.stop()


def test_no_poke_no_call():
    debouncer, calls = counting_debouncer(0.01)
    time.sleep(0.1)
    debouncer.stop()
    assert calls == []


def test_the_script_goes_before_the_end_of_body():
    html = b"<html><body><p>x</p></body></html>"
    out = inject_live_script(html, 7)
    assert out.startswith(b"<html><body><p>x</p><script ")
    assert out.endswith(b"</script></body></html>")
    assert SCRIPT_PATH.encode() in out and b'data-generation="7"' in out
    assert inject_live_script(b"<p>fragment", 1).startswith(b"<p>fragment<script ")


def test_files_are_found_inside_the_served_folder_only(tmp_path):
    site = ServedSite(BuildOptions(source=tmp_path, output=tmp_path / "out"))
    (tmp_path / "out/qa/x").mkdir(parents=True)
    (tmp_path / "out/qa/x/index.html").write_text("x")
    (tmp_path / "secret.txt").write_text("no")
    root = (tmp_path / "out").resolve()
    assert site.file_for("/qa/x/") == (root / "qa/x/index.html", None)
    assert site.file_for("/qa/x") == (None, "/qa/x/")
    assert site.file_for("/qa/missing/") == (None, None)
    assert site.file_for("/../secret.txt") == (None, None)
    assert site.file_for("/%2e%2e/secret.txt") == (None, None)


# --- the fast path and the builds behind it ----------------------------------------------

ASK = "content/qa/ask.md"
ASK_PAGE = "qa/ask/index.html"


def served_site(site: Path, tmp_path: Path) -> ServedSite:
    served = ServedSite(BuildOptions(source=site, output=tmp_path / "served", now=NOW, base_url="http://127.0.0.1:1/"))
    assert served.rebuild(io.StringIO(), io.StringIO())
    return served


def save(site: Path, old: str, new: str) -> None:
    path = site / ASK
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def clean_build(site: Path, tmp_path: Path) -> dict[str, bytes]:
    build(BuildOptions(source=site, output=tmp_path / "clean", now=NOW, base_url="http://127.0.0.1:1/", cache=False))
    return tree(tmp_path / "clean")


def test_a_save_shows_the_new_page_at_once_then_the_build_makes_the_folder_exact(basic_site, tmp_path):
    served = served_site(basic_site, tmp_path)
    generation = served.live.generation
    save(basic_site, "多用搜索。", "多用站内搜索，先搜再问。")
    served.noticed({ASK})
    assert served.on_save(io.StringIO(), io.StringIO())
    assert served.live.generation == generation + 1
    assert "先搜再问" in served.page_data(served.root / ASK_PAGE).decode()
    assert "先搜再问" not in (served.root / ASK_PAGE).read_text(encoding="utf-8")  # from memory, until the build

    assert served.rebuild(io.StringIO(), io.StringIO())
    assert served.fresh == {}
    assert tree(served.root) == clean_build(basic_site, tmp_path)


def test_a_slug_change_takes_the_normal_build(basic_site, tmp_path):
    served = served_site(basic_site, tmp_path)
    generation = served.live.generation
    save(basic_site, "title: 怎样提一个好问题？\n", "title: 怎样提一个好问题？\nslug: ask-well\n")
    served.noticed({ASK})
    assert not served.on_save(io.StringIO(), io.StringIO())
    assert served.live.generation == generation and served.fresh == {}
    assert served.rebuild(io.StringIO(), io.StringIO())
    assert (served.root / "qa/ask-well/index.html").is_file() and not (served.root / ASK_PAGE).exists()
    assert served.rebuild(io.StringIO(), io.StringIO(), exact=True)  # related entries of the new URL
    assert tree(served.root) == clean_build(basic_site, tmp_path)


def test_a_front_matter_error_is_shown_without_waiting_for_a_build(basic_site, tmp_path):
    served = served_site(basic_site, tmp_path)
    save(basic_site, "title: 怎样提一个好问题？", "title: [怎样提一个好问题")
    served.noticed({ASK})
    served.on_save(io.StringIO(), io.StringIO())
    assert [p.split(": ")[0] for p in served.live.problems] == [f"{ASK}:2"]


def blocked_stage(monkeypatch, module, name: str, when=lambda *args, **kwargs: True
                  ) -> tuple[threading.Event, threading.Event]:
    """Make the build's `name` (in `module`) wait (when `when` says so) until released: a slow stage to save during."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(module, name)

    def slow(*args, **kwargs):
        if when(*args, **kwargs):
            entered.set()
            release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    return entered, release


def test_a_save_during_a_slow_exact_build_is_shown_at_once_and_stops_that_build(basic_site, tmp_path, monkeypatch):
    served = served_site(basic_site, tmp_path)
    entered, release = blocked_stage(monkeypatch, plan, "cached_related", lambda *a, compute=True, **k: compute)
    out = io.StringIO()
    served.start(out, out)
    try:
        exact: list[bool] = []
        slow = threading.Thread(target=lambda: exact.append(served.rebuild(out, out, exact=True)))
        slow.start()
        assert entered.wait(10)
        started = time.monotonic()
        save(basic_site, "多用搜索。", "多用站内搜索，先搜再问。")
        served.noticed({ASK})
        while "先搜再问".encode() not in served.page_data(served.root / ASK_PAGE):
            assert time.monotonic() - started < 1.5, "the save waited for the slow build"
            time.sleep(0.01)
        release.set()
        slow.join(10)
        assert exact == [False]  # stopped between stages: its site was already out of date
        deadline = time.monotonic() + 20
        while served.fresh or "先搜再问" not in (served.root / ASK_PAGE).read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.05)
    finally:
        release.set()
        served.stop()
    assert "build stopped" in out.getvalue()
    assert tree(served.root) == clean_build(basic_site, tmp_path)


def test_a_build_that_read_the_file_before_the_save_never_serves_the_older_page(basic_site, tmp_path, monkeypatch):
    served = served_site(basic_site, tmp_path)
    entered, release = blocked_stage(monkeypatch, pipeline, "static_files")  # in the write stage, before any page is written
    save(basic_site, "多用搜索。", "多用搜索，第一次。")
    out = io.StringIO()
    first: list[bool] = []
    slow = threading.Thread(target=lambda: first.append(served.rebuild(out, out)))
    slow.start()
    try:
        assert entered.wait(10)
        save(basic_site, "多用搜索，第一次。", "多用搜索，第二次。")
        served.noticed({ASK})
        assert served.on_save(out, out)
        release.set()
        slow.join(10)
        assert first == [False]  # stopped once its pages were written, before feeds
        assert "第一次" in (served.root / ASK_PAGE).read_text(encoding="utf-8")  # written by the older build
        assert "第二次" in served.page_data(served.root / ASK_PAGE).decode()  # but the newer page is served
    finally:
        release.set()
    assert served.rebuild(out, out)
    assert served.fresh == {} and "第二次" in (served.root / ASK_PAGE).read_text(encoding="utf-8")
    assert tree(served.root) == clean_build(basic_site, tmp_path)


def test_an_editor_saving_by_rename_takes_the_fast_path(basic_site, tmp_path):
    served = served_site(basic_site, tmp_path)
    out = io.StringIO()
    served.start(out, out)
    observer = watch(basic_site, served.noticed)
    try:
        path = basic_site / ASK
        temporary = path.with_name("4913")  # vim checks it may write in the folder, then saves
        temporary.write_text("", encoding="utf-8")
        temporary.unlink()
        replacement = path.with_name(path.name + "___jb_tmp___")
        replacement.write_text(path.read_text(encoding="utf-8").replace("多用搜索。", "多用搜索，改名保存。"), encoding="utf-8")
        os.replace(replacement, path)
        deadline = time.monotonic() + 5
        while "改名保存".encode() not in served.page_data(served.root / ASK_PAGE):
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.02)
        assert "showing 1 saved page" in out.getvalue()
    finally:
        observer.stop()
        served.stop()


# --- every request gets a status, never a traceback --------------------------------------

STATUS_LINE = re.compile(rb"^HTTP/1\.[01] ([1-5][0-9][0-9])(?: |\r?$)")


@contextlib.contextmanager
def running_server(tmp_path: Path):
    """kb serve's HTTP server on 127.0.0.1 for a small served folder (no build, no watching):
    (port, the server's error stream, the site's folder)."""
    out = tmp_path / "served"
    (out / "qa/x").mkdir(parents=True)
    (out / "index.html").write_text("<html><body>home</body></html>", encoding="utf-8")
    (out / "404.html").write_text("<html><body>missing</body></html>", encoding="utf-8")
    (out / "qa/x/index.html").write_text("<html><body>x</body></html>", encoding="utf-8")
    (out / "big.bin").write_bytes(b"\0" * 4_000_000)  # long enough to leave in the middle of
    (tmp_path / "secret.txt").write_text("not served", encoding="utf-8")
    err = io.StringIO()
    server = SiteServer(("127.0.0.1", 0), ServedSite(BuildOptions(source=tmp_path, output=out)), err)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], err, out
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def exchange(port: int, request: bytes, read: int = 1 << 16) -> bytes:
    """Send a raw request, return what comes back until the server closes or `read` bytes arrived.
    A server that refuses a request before reading all of it may close while it is still being sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
            conn.sendall(request)
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while len(answer) < read and (chunk := conn.recv(65536)):
                answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    match = STATUS_LINE.match(answer)
    assert match, answer[:200]
    return int(match.group(1))


def get(target: bytes, method: bytes = b"GET", headers: bytes = b"") -> bytes:
    return method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"


REQUESTS = [  # (raw request, status): the three, traversal, and what is not a request for a page
    (get(b"/%00"), 400),
    (get(b"/" + b"a" * 300), 404),
    (get(b"/a" * 4000), 414),
    (get(b"/x" * 10_000), 414),
    (get(b"/../secret.txt"), 404),  # each of these would reach the planted secret.txt, one folder up
    (get(b"/%2e%2e/secret.txt"), 404),
    (get(b"/qa/..%2f..%2fsecret.txt"), 404),
    (get(b"http://127.0.0.1/../secret.txt"), 404),
    (get(b"/..\\secret.txt"), 404),
    (get(b"/%ff%fe"), 400),
    (get(b"/%c3%28"), 400),
    (get(b"/a%0d%0aSet-Cookie:x"), 400),
    (get(b"*"), 400),
    (get(b"qa/x/"), 400),
    (get(b"http://[x/"), 400),
    (get(b"/qa/x"), 301),
    (get(b"/qa/x/?a=%00"), 200),
    (get(b"/", b"HEAD"), 200),
    (get(b"/", b"POST", b"Content-Length: 3\r\n") + b"abc", 405),
    (get(b"/", b"DELETE"), 405),
    (get(b"/", b"BREW"), 501),
    (get(b"/", headers=b"X: " + b"a" * 70_000 + b"\r\n"), 431),
    (get(b"/", headers=b"X: a\r\n" * 200), 431),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"\xff\xfe garbage\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET / HTTP/9\r\n\r\n", 400),
    (b"GET / NOT-HTTP\r\n\r\n", 400),
    (b"GET /\r\n", 200),  # HTTP/0.9's form, answered with a status line
    (get(b"/__kb/events", b"HEAD"), 200),  # headers only, not the stream
]


def test_every_request_gets_a_status_and_no_traceback(tmp_path, capsys):
    with running_server(tmp_path) as (port, err, _):
        answers = [exchange(port, request) for request, _ in REQUESTS]
        assert [(request[:60], status_of(answer)) for (request, _), answer in zip(REQUESTS, answers, strict=True)] == [
            (request[:60], status) for request, status in REQUESTS]
        assert not [request[:60] for (request, _), answer in zip(REQUESTS, answers, strict=True) if b"not served" in answer]

        def answer(request: bytes) -> bytes:
            return answers[[r for r, _ in REQUESTS].index(request)]

        assert b"\r\nAllow: GET, HEAD\r\n" in answer(get(b"/", b"DELETE"))
        assert b"<body>missing" in answer(get(b"/" + b"a" * 300))  # the site's 404 page
        assert answer(get(b"/qa/x")).split(b"\r\n\r\n")[0].endswith(b"Location: /qa/x/\r\nContent-Length: 0")
        assert answer(get(b"/", b"HEAD")).endswith(b"\r\n\r\n")  # no body
    assert err.getvalue() == "" and "Traceback" not in capsys.readouterr().err


def test_random_requests_all_get_a_status_and_no_traceback(tmp_path, capsys):
    """Hypothesis throws paths, escapes, methods, versions and headers at a real server; each answer
    starts with a status line (never 500), and a client that leaves mid-response costs nothing."""
    segment = st.one_of(
        st.sampled_from(["..", ".", "%2e%2e", "%2E.", "qa", "x", "index.html", "big.bin", "%00", "%ff", "%c3%28", "%e4%b8%ad",
                         "中文", "\\", "%5c", "a" * 300, "%", "%zz", "?", "#", ";", "", "__kb", "events", "live.js", "~"]),
        st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=20),
    )
    target = st.builds(lambda lead, parts: lead + "/".join(parts), st.sampled_from(["/", "", "//", "http://h/", "*"]),
                       st.lists(segment, max_size=30))
    method = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "get", "BREW",
                              "G\xe9T", "\x01"])
    version = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra", "", "HTTP/x", "http/1.1"])
    header = st.tuples(st.sampled_from(["Host", "Accept", "X-Long", "Range", "Expect", "Content-Length", "Connection"]),
                       st.one_of(st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=30),
                                 st.sampled_from(["100-continue", "-1", "bytes=5-1", "close"])),
                       st.sampled_from([0, 0, 0, 70_000]))  # that many more characters: a line too long

    with running_server(tmp_path) as (port, err, _):
        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(method, target, version, st.lists(header, max_size=4), st.booleans())
        def one(method, target, version, headers, leave):
            line = f"{method} {target} {version}".rstrip(" ")
            request = (line + "\r\n").encode("utf-8", "surrogateescape") + (  # the target's raw bytes, as curl sends them
                "".join(f"{k}: {v}{'a' * more}\r\n" for k, v, more in headers) + "\r\n").encode("latin-1")
            if leave:  # a client that reads a little and goes
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    conn.sendall(get(b"/big.bin"))
                    conn.recv(100)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not close
            answer = exchange(port, request, read=200)
            if not answer and any(more for _, _, more in headers):
                return  # refused at the long line and closed before the rest arrived: TCP reset the answer
            assert status_of(answer) != 500

        one()
        assert status_of(exchange(port, get(b"/"))) == 200  # still serving
    assert err.getvalue() == "" and "Traceback" not in capsys.readouterr().err
