"""An interrupted build leaves the previous output byte for byte; a finished one drops deleted entries."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from tests.conftest import NOW, REPO
from tests.helpers import tree

ENTRIES = 600


def make_site(root: Path, entries: int = ENTRIES, title: str = "原来的站点") -> Path:
    for section in ("highlights", "qa", "lessons"):
        (root / "content" / section).mkdir(parents=True, exist_ok=True)
    (root / "site_config.yaml").write_text(f"title: {title}\nbase_url: https://t.example.org/\n", encoding="utf-8")
    for n in range(entries):
        section = ("highlights", "qa", "lessons")[n % 3]
        (root / "content" / section / f"e{n:05d}.md").write_text(
            f"---\ntitle: 第 {n} 篇\ndate: 2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}\ntags: [t{n % 40}]\n---\n\n正文 {n}。\n",
            encoding="utf-8")
    return root


def start_build(site: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "generator", "build", "--source", str(site), "--now", NOW],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def replaced_in_spare(site: Path) -> int:
    """Files of the spare tree (made of links to output/'s files as a build begins) that the build replaced."""
    spare, output = site / ".kb-spare-output", site / "output"
    count = 0
    for folder, _, files in os.walk(spare):
        for name in files:
            path = Path(folder) / name
            try:
                count += path.stat().st_ino != (output / path.relative_to(spare)).stat().st_ino
            except OSError:
                count += 1
    return count


def interrupt_while_writing(site: Path, sig: int, files_first: int = 50) -> subprocess.Popen:
    """Send `sig` once the build has written `files_first` files of its new tree (a tree beside output/,
    or the spare it updates); fail if the build ends first."""
    process = start_build(site)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        tmp = next(site.glob(".kb-tmp-output-*"), None)
        if (tmp is not None and sum(len(files) for _, _, files in os.walk(tmp)) >= files_first) or \
                replaced_in_spare(site) >= files_first:
            process.send_signal(sig)
            process.wait(timeout=60)
            return process
        if process.poll() is not None:
            pytest.fail(f"the build ended before it could be interrupted: {process.stderr.read()}")
        time.sleep(0.002)
    process.kill()
    pytest.fail("the build never started writing")


@pytest.fixture
def built_site(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    site = make_site(tmp_path / "site")
    build(BuildOptions(source=site, now=NOW))
    (site / "site_config.yaml").write_text("title: 新的站点\nbase_url: https://t.example.org/\n", encoding="utf-8")
    (site / "content/highlights/e00000.md").unlink()
    return site, tree(site / "output")


def test_sigkill_half_way_leaves_the_previous_output_byte_identical(built_site):
    site, before = built_site
    process = interrupt_while_writing(site, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert replaced_in_spare(site) or list(site.glob(".kb-tmp-output-*")), "the kill came after the write: nothing was tested"
    assert tree(site / "output") == before

    done = start_build(site)
    assert done.wait(timeout=300) == 0, done.stderr.read()
    after = tree(site / "output")
    assert "highlights/e00000/index.html" in before and "highlights/e00000/index.html" not in after
    assert "新的站点" in after["index.html"].decode("utf-8")
    assert sorted(p.name for p in site.iterdir() if p.name not in (".kb-cache", ".kb-spare-output")) == ["content", "output", "site_config.yaml"]


def test_ctrl_c_half_way_ends_cleanly_and_keeps_the_previous_output(built_site):
    site, before = built_site
    process = interrupt_while_writing(site, signal.SIGINT)
    stderr = process.stderr.read()
    assert process.returncode == 130, stderr
    assert stderr.strip() == "kb: interrupted; the previous output was left as it was"
    assert tree(site / "output") == before
    assert sorted(p.name for p in site.iterdir() if p.name not in (".kb-cache", ".kb-spare-output")) == ["content", "output", "site_config.yaml"]


def test_trees_a_killed_build_left_are_cleaned_by_the_next_build_even_when_nothing_changed(basic_site):
    from generator.commands.cli import main

    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 0
    for name in (".kb-tmp-output-killed", ".kb-old-output-killed"):  # as a build killed mid-way leaves them
        (basic_site / name / "qa").mkdir(parents=True)
        (basic_site / name / "qa/index.html").write_bytes(b"half")
    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 0  # nothing to build: it only looks
    assert sorted(p.name for p in basic_site.iterdir() if p.name.startswith(".kb-")) == [".kb-cache"]
