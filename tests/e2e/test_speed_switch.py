"""The speed layer changes how long a build takes, never what it writes: with it off (the plain stages,
in order, in one process, nothing read from or kept for another build) the output is the same."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.build import BuildOptions, Serving, build
from generator.commands.cli import main
from generator.core.errors import SiteError
from generator.speed import parallel
from generator.speed.cache import CACHE_DIR
from tests.conftest import NOW, SITES, copy_example_site
from tests.helpers import tree


def site_copy(name: str, dest: Path) -> Path:
    if name == "example":
        return copy_example_site(dest)
    shutil.copytree(SITES / name, dest)
    return dest


def first_entry(site: Path) -> Path:
    return min(p for p in (site / "content").rglob("*.md") if p.parent.name in ("highlights", "qa", "lessons"))


def append_line(site: Path) -> None:
    entry = first_entry(site)
    entry.write_text(entry.read_text(encoding="utf-8") + "\n又补充了一句。\n", encoding="utf-8")


def delete_entry(site: Path) -> None:
    first_entry(site).unlink()


@pytest.fixture
def no_forks(monkeypatch):
    """With the speed layer off, a build that forks a child or a worker fails."""
    def refused(*args, **kwargs):
        raise AssertionError("the speed layer is off: nothing may fork")

    monkeypatch.setattr(parallel.Background, "__init__", refused)
    monkeypatch.setattr(os, "fork", refused)
    monkeypatch.setenv("KB_WORKERS", "2")


@pytest.mark.parametrize("name", ["basic", "community", "example"])
def test_the_speed_layer_off_builds_the_same_bytes_cold_and_after_edits(tmp_path, monkeypatch, name):
    fast, plain = site_copy(name, tmp_path / "fast"), site_copy(name, tmp_path / "plain")
    monkeypatch.setenv("KB_WORKERS", "2")
    for edit in (None, append_line, delete_entry):
        if edit:
            edit(fast)
            edit(plain)
        build(BuildOptions(source=fast, now=NOW), background_cleanup=True)  # the cache of the builds before
        build(BuildOptions(source=plain, now=NOW, speed=False))  # over the output of the builds before
        assert tree(plain / "output") == tree(fast / "output"), f"after {edit.__name__ if edit else 'a cold build'}"
    assert (fast / CACHE_DIR).is_dir() and not (plain / CACHE_DIR).exists()  # nothing read or kept


@pytest.mark.parametrize("template", ["digest_feed_item.html", "entry.html"])
def test_the_speed_layer_off_reports_the_same_problems(basic_site, template):
    """A template that fails (one the feeds render, one every entry's page does), a broken link: the
    same report, and output/ left alone, either way."""
    (basic_site / "templates").mkdir()
    (basic_site / "templates" / template).write_text("{{ no_such_thing.x }}\n", encoding="utf-8")
    append_line(basic_site)
    entry = first_entry(basic_site)
    entry.write_text(entry.read_text(encoding="utf-8") + "\n见 [不存在](missing.md)。\n", encoding="utf-8")
    reports = []
    for speed in (True, False):
        with pytest.raises(SiteError) as caught:
            build(BuildOptions(source=basic_site, now=NOW, speed=speed))
        reports.append(sorted(str(p) for p in caught.value.problems))
    assert reports[0] == reports[1] and any(f"templates/{template}:1" in p for p in reports[0])
    assert not (basic_site / "output").exists()


def test_the_speed_layer_off_forks_nothing_and_keeps_nothing(basic_site, tmp_path, no_forks):
    build(BuildOptions(source=basic_site, now=NOW, speed=False), background_cleanup=True)
    append_line(basic_site)
    result = build(BuildOptions(source=basic_site, now=NOW, speed=False), background_cleanup=True)
    assert result.site is not None  # no look at the last build: it is built again
    assert sorted(p.name for p in basic_site.iterdir()) == ["content", "output", "site_config.yaml"]


def test_kb_speed_0_turns_it_off_for_the_command_line(basic_site, tmp_path, monkeypatch, capsys):
    fast = site_copy("basic", tmp_path / "fast")
    assert main(["build", "--source", str(fast), "--now", NOW]) == 0
    monkeypatch.setenv("KB_SPEED", "0")
    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 0
    assert tree(basic_site / "output") == tree(fast / "output")
    assert not (basic_site / CACHE_DIR).exists()
    monkeypatch.setenv("KB_SPEED", "off")
    capsys.readouterr()
    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 2
    assert capsys.readouterr().err == ("kb build: KB_SPEED=\"off\" is not a switch kb takes: set it to 0 to build "
                                       "without the speed layer (slower, the same output), or unset it\n")


def test_kb_serve_builds_the_same_folder_with_the_speed_layer_off(basic_site, tmp_path):
    """`kb serve`'s build, in place into its own folder: the exact build (not the preview) is the same."""
    for speed in (True, False):
        output = tmp_path / f"served-{speed}"
        options = BuildOptions(source=basic_site, output=output, now=NOW, base_url="http://localhost:8000/", speed=speed)
        build(options, serving=Serving(pages_written=lambda: None))
        append_line(basic_site)
        build(options, serving=Serving(pages_written=lambda: None))
        delete_entry(basic_site)
        build(options, serving=Serving(pages_written=lambda: None))
        shutil.rmtree(basic_site)
        site_copy("basic", basic_site)
    assert tree(tmp_path / "served-True") == tree(tmp_path / "served-False")
