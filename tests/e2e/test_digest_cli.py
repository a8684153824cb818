"""`kb digest` end to end, as a user runs it."""
from __future__ import annotations

from tests.conftest import NOW, copy_site, run_kb


def test_default_is_the_last_completed_week(tmp_path):
    site = copy_site("weeks", tmp_path)
    result = run_kb("digest", "--source", str(site), "--now", NOW, "--format", "txt")
    assert result.returncode == 0, result.stderr
    assert "2026 年第 46 周" in result.stdout  # 2026-11-21 is in W47, so W46 is the last complete one
    assert "进行中" not in result.stdout


def test_explicit_week_and_in_progress_mark(tmp_path):
    site = copy_site("weeks", tmp_path)
    result = run_kb("digest", "--source", str(site), "--now", NOW, "--week", "2026-W47")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# ") and "2026 年第 47 周" in result.stdout and "进行中" in result.stdout
    assert "周一凌晨的经验" in result.stdout and "周日深夜的讨论" not in result.stdout


def test_html_format(tmp_path):
    site = copy_site("weeks", tmp_path)
    result = run_kb("digest", "--source", str(site), "--now", NOW, "--format", "html")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().lower().startswith("<!doctype html>")
    assert "<script" not in result.stdout


def test_bad_week_is_a_clear_error(tmp_path):
    site = copy_site("weeks", tmp_path)
    result = run_kb("digest", "--source", str(site), "--now", NOW, "--week", "2026-47")
    assert result.returncode == 2
    assert "2026-W47" in result.stderr and "Traceback" not in result.stderr
    future = run_kb("digest", "--source", str(site), "--now", NOW, "--week", "2026-W50")
    assert future.returncode == 2 and "has not started" in future.stderr


def test_content_errors_are_reported_like_build(tmp_path):
    site = copy_site("weeks", tmp_path)
    (site / "content" / "qa" / "broken.md").write_text("---\ntitle: x\n---\nno date\n", encoding="utf-8")
    result = run_kb("digest", "--source", str(site), "--now", NOW)
    assert result.returncode == 1
    assert "content/qa/broken.md:" in result.stderr and "Traceback" not in result.stderr
