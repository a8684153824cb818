"""The dev server's parts that need no browser: debouncing, script injection, file lookup, the fast path."""
from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

from generator.build import BuildOptions, build
from generator.serve import SCRIPT_PATH, Debouncer, ServedSite, inject_live_script, watch
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


def blocked_stage(monkeypatch, name: str, when=lambda *args, **kwargs: True) -> tuple[threading.Event, threading.Event]:
    """Make build's `name` wait (when `when` says so) until released: a slow stage to save during."""
    import generator.build as build_module

    entered, release = threading.Event(), threading.Event()
    original = getattr(build_module, name)

    def slow(*args, **kwargs):
        if when(*args, **kwargs):
            entered.set()
            release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(build_module, name, slow)
    return entered, release


def test_a_save_during_a_slow_exact_build_is_shown_at_once_and_stops_that_build(basic_site, tmp_path, monkeypatch):
    served = served_site(basic_site, tmp_path)
    entered, release = blocked_stage(monkeypatch, "cached_related", lambda *a, compute=True, **k: compute)
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
    entered, release = blocked_stage(monkeypatch, "static_files")  # in the write stage, before any page is written
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
