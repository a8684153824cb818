"""kb serve in a real browser: a saved file shows up in the open tab; a broken one shows its error."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import NOW, REPO

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(basic_site: Path):
    """`kb serve` on a free port for a scratch copy of the basic site → (base URL, site, process)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--source", str(basic_site),
                                "--port", str(port), "--now", NOW],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("kb serve did not start:\n" + (process.stdout.read() if process.poll() is not None else ""))
                time.sleep(0.1)
    except BaseException:
        process.kill()
        process.wait()
        raise
    yield base, basic_site, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_saving_an_entry_updates_the_open_tab_and_errors_show_until_fixed(browser, served):
    base, site, _ = served
    entry = site / "content/qa/ask.md"
    original = entry.read_text(encoding="utf-8")
    tab = browser.new_page()
    tab.goto(base + "/qa/ask/")
    assert "多用搜索" in tab.inner_text("main")
    tab.evaluate("window.__kbSameTab = true")  # gone if the page is reloaded

    started = time.monotonic()
    entry.write_text(original.replace("多用搜索。", "多用站内搜索，先搜再问。"), encoding="utf-8")
    tab.wait_for_function("document.querySelector('main').innerText.includes('先搜再问')", timeout=2000)
    assert time.monotonic() - started < 2
    assert tab.evaluate("window.__kbSameTab") is None  # reloaded by kb, not by this test

    entry.write_text(original.replace("title: 怎样提一个好问题？", "title: [怎样提一个好问题"), encoding="utf-8")
    overlay = tab.wait_for_selector("#kb-build-errors", timeout=3000)
    assert "content/qa/ask.md:2:" in overlay.inner_text()

    entry.write_text(original, encoding="utf-8")
    tab.wait_for_function("!document.getElementById('kb-build-errors') && "
                          "document.querySelector('main').innerText.includes('多用搜索。')", timeout=3000)
    assert "先搜再问" not in tab.inner_text("main")


def test_missing_pages_get_the_404_page_and_feeds_are_served(served):
    base, _, _ = served
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base + "/no/such/page/", timeout=5)
    assert caught.value.code == 404
    body = caught.value.read().decode("utf-8")
    assert "<h1>" in body and "/__kb/live.js" in body
    with urllib.request.urlopen(base + "/sitemap.xml", timeout=5) as response:
        text = response.read().decode("utf-8")
    assert response.headers["Content-Type"].startswith("application/xml")
    assert "/__kb/" not in text and f"{base}/qa/ask/" in text


def test_kb_build_output_has_no_reload_script(served):
    _, site, _ = served
    from generator.build import BuildOptions, build

    build(BuildOptions(source=site, now=NOW))
    html = (site / "output/qa/ask/index.html").read_text(encoding="utf-8")
    assert "/__kb/" not in html


def test_ctrl_c_stops_the_server_cleanly(served):
    base, _, process = served
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert "Traceback" not in process.stdout.read()
