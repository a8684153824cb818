"""The hostile sample site in Chromium: no planted script runs, whatever the page does with its data."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import copy_site
from tests.e2e.test_safety import build


def dialogs_on(output: Path, pages: list[Path], browser, serve_dir) -> list[str]:
    """alert() calls seen while loading each page, typing in search boxes and hovering."""
    base = serve_dir(output.parent) + "/" + output.name
    dialogs: list[str] = []
    context = browser.new_context()
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(f"{tab.url}: {dialog.message}"), dialog.dismiss()))
    for path in pages:
        tab.goto(base + "/" + quote(path.relative_to(output).as_posix()))
        for box in tab.query_selector_all("input[type=search], input[name=q]"):
            box.fill("XSSMARK")
            box.press("Enter")
        tab.wait_for_timeout(50)
        for element in tab.query_selector_all("[autofocus], img, div, a"):
            try:
                element.hover(timeout=200)
            except Exception:  # hidden or detached elements cannot be hovered; that is fine
                pass
    context.close()
    return dialogs


@pytest.mark.browser
def test_no_dialog_opens_on_any_page(tmp_path, capsys, browser, serve_dir):
    output = build(copy_site("hostile", tmp_path), capsys)
    assert dialogs_on(output, sorted(output.rglob("*.html")), browser, serve_dir) == []


@pytest.mark.browser
def test_trusted_raw_html_does_run_which_proves_the_check_works(tmp_path, capsys, browser, serve_dir):
    site = copy_site("hostile", tmp_path)
    config = site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "trusted_html: true\n", encoding="utf-8")
    output = build(site, capsys)
    dialogs = dialogs_on(output, [output / "highlights/x\"'<b>/index.html"], browser, serve_dir)
    assert any("XSSMARK body" in d for d in dialogs)
