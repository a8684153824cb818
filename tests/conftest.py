"""Layered fixtures: a scratch copy of a sample site → a built site. Never the repo's own folders."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from generator.build import BuildOptions, build

SITES = Path(__file__).parent / "sites"
REPO = Path(__file__).parent.parent
NOW = "2026-11-21T12:00:00+08:00"


def pytest_configure(config) -> None:
    """A suite started as a background job (`nohup bash .ci/run &`) inherits SIGINT ignored, and
    so would every kb process the tests start: the Ctrl-C tests need the usual handler back."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def copy_site(name: str, dest: Path) -> Path:
    target = dest / name.replace("/", "-")
    shutil.copytree(SITES / name, target)
    return target


def copy_example_site(dest: Path) -> Path:
    """The repository's own example site, copied so tests never write into the repo."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "content", dest / "content")
    shutil.copy(REPO / "site_config.yaml", dest)
    if (REPO / "static").is_dir():
        shutil.copytree(REPO / "static", dest / "static")
    return dest


@pytest.fixture
def basic_site(tmp_path: Path) -> Path:
    return copy_site("basic", tmp_path)


@pytest.fixture
def built_basic(basic_site: Path):
    result = build(BuildOptions(source=basic_site, now=NOW))
    return basic_site / "output", result


def run_kb(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, in a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")
