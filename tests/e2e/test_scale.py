"""Big inputs build with bounded memory: the longest entry kb takes (a longer one is refused at once) and a 20,000-entry site (peak RSS reported)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator.stages.markdown.limits import MAX_FILE_BYTES
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


def long_entry(size: int) -> str:
    """An entry of about `size` bytes of UTF-8: Chinese prose, headings, lists, links and tables."""
    sections = []
    n = total = 0
    while total < size:
        n += 1
        sections.append(f"## 第 {n} 节\n\n" + "社群运营的关键在于留存和活跃度，我们每周复盘一次。" * 20
                        + f"\n\n- 列表 **{n}**\n- [外链](https://example.org/{n})\n\n| a | b |\n| - | - |\n| {n} | x |\n\n")
        total += len(sections[-1].encode())
    return "---\ntitle: 一篇长文\ndate: 2026-11-01\ntags: [长文]\n---\n\n" + "".join(sections)


@pytest.mark.slow
def test_the_longest_entry_kb_takes_builds_with_bounded_memory_and_a_longer_one_is_refused(tmp_path):
    site = tmp_path / "big"
    (site / "content/lessons").mkdir(parents=True)
    longest = long_entry(MAX_FILE_BYTES - 2000)
    assert MAX_FILE_BYTES - 2000 < len(longest.encode()) <= MAX_FILE_BYTES
    (site / "content/lessons/big.md").write_text(longest, encoding="utf-8")
    result = peak_build(site, timeout=600)
    assert result["code"] == 0, result["stderr"]
    print(f"{len(longest.encode()) / 1000:.0f} kB entry: peak RSS {result['peak_mb']:.0f} MB")
    assert result["peak_mb"] < 300
    assert (site / "output/lessons/big/index.html").stat().st_size > MAX_FILE_BYTES / 2

    (site / "content/lessons/big.md").write_text(long_entry(5_000_000), encoding="utf-8")
    result = peak_build(site, timeout=60)
    assert result["code"] == 1
    assert result["stderr"].startswith("content/lessons/big.md:1: the file is 5,0")
    assert "split it into several entries" in result["stderr"]
    assert result["peak_mb"] < 300


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
