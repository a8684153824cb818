#!/usr/bin/env python3
"""Search benchmark: kb's index against Pagefind on the same generated corpus and queries.

    python3 bench/search_bench.py --entries 10000 --work /tmp/kb-search-bench [--no-pagefind]

Steps (each result is kept in WORK, so a rerun skips what is there; --fresh starts over):
 1. corpus  `/work/shared/bench/gen_corpus.py --entries N` (or $KB_GEN_CORPUS)
 2. kb      a subprocess loads the site, then times `search_files` alone and reads its peak RSS
            (resource.getrusage: the loaded Site counts too, and is reported apart); writes the
            index, /search/ and the theme assets to WORK/kb/
 3. Pagefind (`pip install 'pagefind[extended]'`): the same entries as minimal HTML pages with
            <html lang="zh-CN"> in WORK/pf/, indexed by its CLI under /usr/bin/time -v
 4. queries  ground truth from the entries' text; kb's full result sets from generator.derive.search's
            reader of the written files; Pagefind's from its own JS in Chromium; bytes per query
            as Chromium fetched them (fresh profile each query) for the first page of results
Prints a Markdown report (also to WORK/report.md).
"""
from __future__ import annotations

import argparse
import functools
import gc
import html
import http.server
import json
import os
import pickle
import re
import resource
import shutil
import socketserver
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
GEN_CORPUS = os.environ.get("KB_GEN_CORPUS", "/work/shared/bench/gen_corpus.py")
CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NOW = "2030-01-01T00:00:00+08:00"

# Typical queries against the generator's vocabulary: common and rarer words, phrases, AND,
# traditional characters, Latin words in any case, one character, and words found nowhere.
QUERIES = [
    "社群", "社群运营", "新人引导", "种子用户", "留存率", "冷启动", "活跃度", "群", "线下活动 复盘",
    '"内容沉淀"', "社羣運營", "hackathon", "Dashboard 复盘", "量子纠缠", "社群 量子纠缠",
]


# --- Step 2: kb's index, in a subprocess ---------------------------------------------------------


def save_site(corpus: Path, path: Path) -> dict:
    """Parse the corpus once (the slow part of a build, not search's) and keep the Site."""
    sys.path.insert(0, str(REPO))
    from generator.build import BuildOptions, load_site
    from generator.core.errors import Problems

    site = load_site(BuildOptions(source=corpus, now=NOW), Problems(), {})
    path.write_bytes(pickle.dumps(site, protocol=pickle.HIGHEST_PROTOCOL))
    return {"entries": len(site.entries)}


def current_rss() -> int:
    """Resident memory now (not the peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss() -> bool:
    """Start a new peak (Linux: "5" to clear_refs resets VmHWM), so that unpickling's is not it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """VmHWM: the peak resident memory since the last reset."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


def load_saved(path: Path):
    sys.path.insert(0, str(REPO))
    return pickle.loads(path.read_bytes())


def measure_kb(saved: Path, out: Path) -> dict:
    """Runs in a fresh interpreter: load the saved Site, then time search_files alone."""
    from generator.derive.search import search_files, search_page
    from generator.render import THEME, Renderer

    site = load_saved(saved)
    corpus = saved.parent / "corpus"
    gc.collect()
    rss_site = current_rss()  # the loaded Site, which every build holds anyway
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # unpickling peaked at this
    reset_peak = reset_peak_rss()
    started, cpu = time.perf_counter(), time.process_time()
    files = search_files(site)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    rss_peak = peak_rss() if reset_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    shutil.rmtree(out, ignore_errors=True)
    for file in [*files, Renderer(site, corpus).render(search_page(site))]:
        (out / file.path).parent.mkdir(parents=True, exist_ok=True)
        (out / file.path).write_bytes(file.data)
    shutil.copytree(THEME / "static", out, dirs_exist_ok=True)
    (out / "index.html").write_text('<!doctype html><html lang="zh-CN"><title>kb</title></html>', encoding="utf-8")
    return {
        "entries": len(site.entries), "seconds": seconds, "cpu_seconds": cpu_seconds,
        "rss_site": rss_site, "rss_before": rss_before, "rss_peak": rss_peak, "files": len(files),
        "bytes": sum(len(f.data) for f in files),
    }


def kb_results(saved: Path, out: Path, *queries: str) -> dict:
    """Ground truth from the entries' text and kb's full result sets (its reader of the files)."""
    site = load_saved(saved)
    from generator.core.tokens import tokens_of
    from generator.derive.search import IndexReader, doc_entries, normalized_text, parse_query

    root = out / "search"
    reader = IndexReader({p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.bin")})
    folding = reader.folding
    texts = [(e.url, normalized_text(e.title, folding) + "\n" + normalized_text(e.text, folding),
              set(tokens_of(e.title + "\n" + e.text, folding))) for e in site.entries]
    truth, ours = {}, {}
    for query in queries:
        terms = parse_query(query, folding)

        def holds(text: str, tokens: set[str], term) -> bool:
            if term.check or re.match(r"[^\x00-\u2e7f]", term.text):  # Chinese, or a phrase
                return (term.check or term.text) in text
            if term.prefix:
                return any(t.startswith(term.text) for t in tokens)
            return term.text in tokens

        truth[query] = [url for url, text, tokens in texts
                        if terms and all(holds(text, tokens, term) for term in terms)]
        ours[query] = [doc_entries(site)[doc].url for doc in reader.search(query)]
    return {"truth": truth, "kb": ours, "filter_qa": len(reader.search("", section="qa"))}


# --- Step 3: Pagefind ------------------------------------------------------------------------


def write_pagefind_site(saved: Path, out: Path) -> dict:
    """Each entry as a minimal page: the same title and visible text kb indexes."""
    site = load_saved(saved)
    shutil.rmtree(out, ignore_errors=True)
    for entry in site.entries:
        page = out / entry.url.strip("/") / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"<p>{html.escape(line)}</p>" for line in entry.text.split("\n"))
        page.write_text(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(entry.title)}'
                        f"</title></head><body><main><h1>{html.escape(entry.title)}</h1>{body}</main></body></html>",
                        encoding="utf-8")
    (out / "pftest.html").write_text(PAGEFIND_PAGE, encoding="utf-8")
    return {"entries": len(site.entries)}


PAGEFIND_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>pagefind</title></head>
<body><script type="module">
const pagefind = await import("/pagefind/pagefind.js");
const q = new URLSearchParams(location.search).get("q");
const search = await pagefind.search(q);
const first = await Promise.all(search.results.slice(0, 5).map(r => r.data()));
window.pf = { count: search.results.length, first: first.map(d => d.url), results: search.results };
document.title = "done";
</script></body></html>
"""


def run_pagefind(site: Path) -> dict:
    shutil.rmtree(site / "pagefind", ignore_errors=True)
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "pagefind", "--site", str(site), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) * 1024
    files = [p for p in (site / "pagefind").rglob("*") if p.is_file()]
    return {"seconds": seconds, "rss_peak": peak, "files": len(files), "bytes": sum(p.stat().st_size for p in files)}


# --- Step 4: browsers ------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(root: Path) -> tuple[_Server, str]:
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class Fetched:
    """Bodies the browser fetched in one context (pages, their workers too), by kind."""

    def __init__(self, context, prefix: str, scripts: str):
        self.prefix, self.scripts, self.index, self.script = prefix, scripts, 0, 0
        context.on("response", self.add)

    def add(self, response) -> None:
        name = response.url.split("?")[0]
        try:
            size = len(response.body())
        except Exception:  # a redirect or an aborted request has no body
            return
        if re.search(self.scripts, name):
            self.script += size
        elif self.prefix in name:
            self.index += size


def browse(root: Path, engine: str, queries: list[str]) -> dict:
    """Per query, with an empty cache: bytes fetched; for Pagefind also all its result URLs."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    server, base = serve(root)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for query in (queries if engine == "pagefind" else [*queries, ""]):
            context = browser.new_context()
            page = context.new_page()
            if engine == "kb":
                fetched = Fetched(context, "/search/", r"/search\.js$")
                page.goto(f"{base}/search/?q={quote(query)}" + ("" if query else "&section=qa"))
                page.wait_for_selector("form[data-search-done]", state="attached", timeout=60_000)
                page.wait_for_load_state("networkidle")
                fetched.index -= len((root / "search" / "index.html").read_bytes())  # the page itself
                out[query or "(filter: section=qa)"] = {
                    "bytes": fetched.index, "script_bytes": fetched.script,
                    "status": page.inner_text("[data-search-status]")}
            else:
                fetched = Fetched(context, "/pagefind/", r"\.js$|wasm")
                page.goto(f"{base}/pftest.html?q={quote(query)}")
                page.wait_for_function("document.title === 'done'", timeout=120_000)
                page.wait_for_load_state("networkidle")
                index, script = fetched.index, fetched.script
                urls = page.evaluate("Promise.all(window.pf.results.map(r => r.data())).then(ds => ds.map(d => d.url))")
                out[query] = {"bytes": index, "script_bytes": script,
                              "urls": [re.sub(r"index\.html$", "", u) for u in urls]}
            context.close()
        browser.close()
    server.shutdown()
    return out


# --- Report ----------------------------------------------------------------------------------


def recall_precision(found: list[str], truth: list[str]) -> tuple[str, str]:
    hits = len(set(found) & set(truth))
    recall = "—" if not truth else f"{hits / len(truth):.1%}"
    precision = ("✓ none" if not found else "✗") if not truth else f"{hits / len(found):.1%}" if found else "—"
    return recall, precision


def runs(measured: dict) -> str:
    return f"; median of {', '.join(map(str, measured['runs']))}" if "runs" in measured else ""


def report(kb: dict, pf: dict | None, results: dict, browsed: dict) -> str:
    mb = 1024 * 1024  # MiB, and KiB below: the units du and browsers use
    lines = [f"Corpus: {kb['entries']} entries (gen_corpus.py). Machine: {os.cpu_count()} cores.", "",
             "| | kb (bigrams + words, sharded) | Pagefind 1.5.2 (extended) |", "|---|---|---|"]
    kb_bytes = [browsed["kb"][q]["bytes"] for q in results["truth"]]
    pf_bytes = [browsed["pagefind"][q]["bytes"] for q in results["truth"] if q in browsed["pagefind"]]
    rows = [
        ("index build time", f"{kb['seconds']:.1f} s (CPU {kb['cpu_seconds']:.1f} s){runs(kb)}",
         f"{pf['seconds']:.1f} s{runs(pf)}" if pf else "—"),
        ("peak memory (whole process)", f"{kb['rss_peak'] / mb:.0f} MB, of which the loaded site {kb['rss_site'] / mb:.0f} MB",
         f"{pf['rss_peak'] / mb:.0f} MB" if pf else "—"),
        ("index size", f"{kb['bytes'] / mb:.1f} MB in {kb['files']} files", f"{pf['bytes'] / mb:.1f} MB in {pf['files']} files" if pf else "—"),
        ("bytes per query: index files, median / max",
         f"{statistics.median(kb_bytes) / 1024:.0f} KB / {max(kb_bytes) / 1024:.0f} KB",
         f"{statistics.median(pf_bytes) / 1024:.0f} KB / {max(pf_bytes) / 1024:.0f} KB" if pf_bytes else "—"),
        ("plus scripts (JS, WebAssembly), once", f"{max(v['script_bytes'] for v in browsed['kb'].values()) / 1024:.0f} KB",
         f"{max(v['script_bytes'] for v in browsed['pagefind'].values()) / 1024:.0f} KB" if pf_bytes else "—"),
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", "| query | entries containing it | kb: results · recall · precision · KB fetched | "
              "Pagefind: results · recall · precision · KB fetched |", "|---|---|---|---|"]
    for query in results["truth"]:
        truth = results["truth"][query]
        ours = results["kb"][query]
        r, p = recall_precision(ours, truth)
        cell_kb = f"{len(ours)} · {r} · {p} · {browsed['kb'][query]['bytes'] / 1024:.0f}"
        cell_pf = "—"
        if pf and query in browsed["pagefind"]:
            theirs = browsed["pagefind"][query]["urls"]
            r2, p2 = recall_precision(theirs, truth)
            cell_pf = f"{len(theirs)} · {r2} · {p2} · {browsed['pagefind'][query]['bytes'] / 1024:.0f}"
        lines.append(f"| `{query}` | {len(truth)} | {cell_kb} | {cell_pf} |")
    qa = browsed["kb"]["(filter: section=qa)"]
    lines += ["", f"Filter-only search (section = qa, {results['filter_qa']} entries): kb fetched "
              f"{qa['bytes'] / 1024:.0f} KB for its first page."]
    return "\n".join(lines) + "\n"


def alternate(saved: Path, work: Path, repeat: int, pagefind: bool) -> dict:
    """kb and Pagefind built in turn, so that both meet the same load on a shared machine."""
    runs: dict = {"kb": [], "pagefind": []}
    for _ in range(repeat):
        runs["kb"].append(in_subprocess("measure_kb", str(saved), str(work / "kb")))
        if pagefind:
            runs["pagefind"].append(run_pagefind(work / "pf"))
    return runs


def step(work: Path, name: str, run) -> dict:
    """Run a step once; its JSON result is kept in WORK for reruns."""
    path = work / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    result = run()
    path.write_text(json.dumps(result, ensure_ascii=False))
    return result


def in_subprocess(function: str, *args: str) -> dict:
    """A fresh interpreter, so that peak memory is this step's alone."""
    code = f"import json, sys; sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'bench')!r}]; import search_bench as b; " \
           f"from pathlib import Path; print(json.dumps(b.{function}(*[Path(a) for a in sys.argv[1:3]], *sys.argv[3:])))"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kb-search-bench"))
    parser.add_argument("--no-pagefind", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results in WORK")
    parser.add_argument("--repeat", type=int, default=3, help="alternating timing runs (median reported)")
    options = parser.parse_args()
    work = options.work
    if options.fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    if not (corpus / "content").is_dir():
        subprocess.run([sys.executable, GEN_CORPUS, "--entries", str(options.entries), "--out", str(corpus)], check=True)
    saved = work / "site.pickle"
    print("parsing the corpus …", file=sys.stderr)
    step(work, "site", lambda: in_subprocess("save_site", str(corpus), str(saved)))
    print("kb index …", file=sys.stderr)
    kb = step(work, "kb", lambda: in_subprocess("measure_kb", str(saved), str(work / "kb")))
    results = step(work, "results", lambda: in_subprocess("kb_results", str(saved), str(work / "kb"), *QUERIES))
    pf = None
    if not options.no_pagefind:
        print("Pagefind …", file=sys.stderr)
        if not (work / "pf" / "pftest.html").exists():
            in_subprocess("write_pagefind_site", str(saved), str(work / "pf"))
        pf = step(work, "pagefind", lambda: run_pagefind(work / "pf"))
    if options.repeat > 1:
        print(f"timing, {options.repeat} alternating runs …", file=sys.stderr)
        runs = step(work, f"runs-{options.repeat}", lambda: alternate(saved, work, options.repeat, not options.no_pagefind))
        kb = {**kb, **{k: statistics.median(r[k] for r in runs["kb"]) for k in ("seconds", "cpu_seconds", "rss_peak")}}
        kb["runs"] = [round(r["seconds"], 1) for r in runs["kb"]]
        if pf:
            pf = {**pf, **{k: statistics.median(r[k] for r in runs["pagefind"]) for k in ("seconds", "rss_peak")}}
            pf["runs"] = [round(r["seconds"], 1) for r in runs["pagefind"]]
    print("browsing …", file=sys.stderr)
    browsed = {"kb": step(work, "browsed-kb", lambda: browse(work / "kb", "kb", QUERIES)),
               "pagefind": {} if options.no_pagefind else step(work, "browsed-pf", lambda: browse(work / "pf", "pagefind", QUERIES))}
    text = report(kb, pf, results, browsed)
    (work / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
