"""The dev server's parts that need no browser: debouncing, script injection, file lookup."""
from __future__ import annotations

import threading
import time

from generator.build import BuildOptions
from generator.serve import SCRIPT_PATH, Debouncer, ServedSite, inject_live_script


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
