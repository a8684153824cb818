"""Big inputs build with bounded memory: a 5 MB entry and a 20,000-entry site (peak RSS reported)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOW, REPO

GEN_CORPUS = Path("/work/shared/bench/gen_corpus.py")
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "stderr": done.stderr[-3000:], "stdout": done.stdout,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def peak_build(site: Path, timeout: int) -> dict:
    """Build in a fresh process and return its exit code, output and peak resident memory in MB."""
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "generator", "build", "--source", str(site), "--now", NOW]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)


@pytest.mark.slow
def test_a_5_mb_entry_builds_with_bounded_memory(tmp_path):
    site = tmp_path / "big"
    (site / "content/lessons").mkdir(parents=True)
    sections = []
    n = 0
    while sum(len(s) for s in sections) < 5 * 1024 * 1024:
        n += 1
        sections.append(f"## 第 {n} 节\n\n" + "社群运营的关键在于留存和活跃度，我们每周复盘一次。" * 20
                        + f"\n\n- 列表 **{n}**\n- [外链](https://example.org/{n})\n\n| a | b |\n| - | - |\n| {n} | x |\n\n")
    text = "---\ntitle: 一篇 5 MB 的长文\ndate: 2026-11-01\ntags: [长文]\n---\n\n" + "".join(sections)
    (site / "content/lessons/big.md").write_text(text, encoding="utf-8")
    assert len(text.encode()) > 5 * 1024 * 1024
    result = peak_build(site, timeout=600)
    assert result["code"] == 0, result["stderr"]
    print(f"5 MB entry: peak RSS {result['peak_mb']:.0f} MB")
    assert result["peak_mb"] < 800  # Python-Markdown holds the whole tree: about 50 bytes per source byte
    assert (site / "output/lessons/big/index.html").stat().st_size > 5 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.skipif(not GEN_CORPUS.exists(), reason="needs the shared benchmark corpus generator")
def test_a_20000_entry_site_builds_with_bounded_memory(tmp_path):
    site = tmp_path / "corpus"
    subprocess.run([sys.executable, str(GEN_CORPUS), "--entries", "20000", "--out", str(site)], check=True,
                   capture_output=True, timeout=600)
    source_mb = sum(p.stat().st_size for p in (site / "content").rglob("*.md")) / 1024 / 1024
    result = peak_build(site, timeout=3600)
    assert result["code"] == 0, result["stderr"]
    print(f"20,000 entries ({source_mb:.0f} MB of Markdown): peak RSS {result['peak_mb']:.0f} MB; {result['stdout'].strip()}")
    assert result["peak_mb"] < 1500
