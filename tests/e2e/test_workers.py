"""The work spread over forked workers (parse, cards, digest items, pages) and background children
(spare tree, related entries, checks) gives the same bytes and problems as one process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from generator.speed.parallel import MIN_ITEMS
from tests.conftest import NOW, REPO
from tests.e2e.test_atomic import make_site
from tests.helpers import tree

TAGS = [f"话题{n}" for n in range(MIN_ITEMS + 12)]  # many tag feeds and tag pages


def many_entries(root: Path, count: int = 3 * MIN_ITEMS) -> Path:
    (root / "content/highlights").mkdir(parents=True)
    (root / "content/qa").mkdir(parents=True)
    (root / "site_config.yaml").write_text("title: 并行测试\nbase_url: https://example.org/\n", encoding="utf-8")
    for n in range(count):
        tags = ", ".join(TAGS[(n + k) % len(TAGS)] for k in range(3))
        if n % 3:
            body = f"第 {n} 条精华：**复盘**很重要，见 [上一条](e{n - 1}.md)。\n\n## 要点\n\n- 一\n- 二\n"
            (root / f"content/highlights/e{n}.md").write_text(
                f"---\ntitle: 精华 {n}\ndate: {2025 + n % 2}-{n % 11 + 1:02d}-{n % 27 + 1:02d} 10:00\ntags: [{tags}]\n---\n\n{body}",
                encoding="utf-8")
        else:
            (root / f"content/qa/q{n}.md").write_text(
                f"---\ntitle: 问题 {n}\ndate: {2025 + n % 2}-{n % 11 + 1:02d}-{n % 27 + 1:02d} 09:00\ntags: [{tags}]\nasker: m{n % 5}\n---\n\n"
                f"怎么办？\n\n## 回答 @m{(n + 1) % 5} 已采纳\n\n这样做。\n", encoding="utf-8")
    return root


def forked_tasks(monkeypatch) -> list[str]:
    """The names of the tasks that Background hands to a child process from now on, as they are forked."""
    from generator.speed.parallel import Background

    forked: list[str] = []
    real = Background.__init__

    def background(self, task, here=False):
        real(self, task, here)
        if self.forked:
            forked.append(task.__qualname__)

    monkeypatch.setattr(Background, "__init__", background)
    return forked


def test_workers_build_the_same_bytes_as_one_process(tmp_path, monkeypatch):
    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "1")
    build(BuildOptions(source=site, output=tmp_path / "one", now=NOW, cache=False))
    monkeypatch.setenv("KB_WORKERS", "2")
    build(BuildOptions(source=site, output=tmp_path / "two", now=NOW, cache=False))
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert sum(p.endswith("feed.xml") for p in one) > MIN_ITEMS
    assert one.keys() == two.keys()
    assert [p for p in one if one[p] != two[p]] == []


def test_background_children_build_the_same_bytes_as_one_process(tmp_path, monkeypatch):
    """A large site's cold build has the checks, the start page's index, the entry digests, the related
    entries and the entries' cards made, and its feeds and search files written, by child processes
    beside other stages."""
    from generator.speed import output, plan

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "1")
    build(BuildOptions(source=site, output=tmp_path / "one", now=NOW, cache=False))
    monkeypatch.setenv("KB_WORKERS", "2")
    monkeypatch.setattr(plan, "BACKGROUND_ENTRIES", 10)
    monkeypatch.setattr(output, "MANY_BYTES", 1000)
    forked = forked_tasks(monkeypatch)
    build(BuildOptions(source=site, output=tmp_path / "two", now=NOW))  # cold: no output recorded
    assert sorted(forked) == ["FastStages._besides.<locals>.<lambda>", "FastStages._reuse.<locals>.start_index",
                             "FastStages.check.<locals>.checks", "KeyedOutput.placing.<locals>.placed_files",
                             "cached_related.<locals>.related", "entry_digests.<locals>.<lambda>"]
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert one.keys() == two.keys()
    assert [p for p in one if one[p] != two[p]] == []


def test_parse_workers_store_what_they_parse(tmp_path, monkeypatch):
    from generator.speed import documents
    from generator.speed.cache import BuildCache, cache_folder

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "2")
    build(BuildOptions(source=site, now=NOW))
    cache = BuildCache(cache_folder(site), readonly=True)
    assert len(cache.documents()) == len(list((site / "content").rglob("*.md")))
    cache.close()

    def parse_document(*args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(documents, "parse_document", parse_document)
    (site / "output/index.html").unlink()  # not a no-op build: the site is loaded again
    build(BuildOptions(source=site, now=NOW))
    assert (site / "output/index.html").is_file()


def test_a_template_error_in_a_worker_names_the_template(tmp_path, monkeypatch):
    import pytest

    from generator.core.errors import SiteError

    site = many_entries(tmp_path / "site")
    (site / "templates").mkdir()
    (site / "templates/digest_feed_item.html").write_text("{{ digest.no_such_field.x }}\n", encoding="utf-8")
    monkeypatch.setenv("KB_WORKERS", "2")
    with pytest.raises(SiteError) as caught:
        build(BuildOptions(source=site, now=NOW, cache=False))
    assert any("templates/digest_feed_item.html:1" in str(p) for p in caught.value.problems), caught.value.problems


def test_files_read_by_parse_workers_are_known_by_their_stamps_next_time(tmp_path, monkeypatch):
    import hashlib

    from generator.speed import documents
    from generator.speed.cache import BuildCache, cache_folder

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "2")
    monkeypatch.setattr(documents, "SETTLE_NS", 0)
    build(BuildOptions(source=site, now=NOW))  # a cold build: the workers read the files they parse
    cache = BuildCache(cache_folder(site), readonly=True)
    stamps = cache.artifact(documents.SOURCE_STAMPS, "")
    cache.close()
    files = sorted((site / "content").rglob("*.md"))
    assert len(stamps) == len(files)
    assert all(stamps[p.relative_to(site).as_posix()][1] == hashlib.sha256(p.read_bytes()).hexdigest() for p in files)


def test_a_cold_build_beside_a_spare_tree_still_parses_on_every_core(tmp_path, monkeypatch):
    import os
    import shutil
    import time

    from generator.speed import documents, spare
    from generator.speed.cache import CACHE_DIR

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "2")
    monkeypatch.setattr(spare, "SPARE_FILES", 0)
    for _ in range(2):  # the second build keeps the first one's tree as the spare
        build(BuildOptions(source=site, now=NOW), background_cleanup=True)
        (site / "output/index.html").unlink()
    assert (tmp_path / "site/.kb-spare-output").is_dir()
    shutil.rmtree(site / CACHE_DIR)
    pids = tmp_path / "pids"
    real = documents.parse_document

    def parse_document(*args):
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args)

    def slow_walk(*args):  # a big spare takes a while: the parse must not wait for it, nor give up a core
        time.sleep(1)
        return walk(*args)

    monkeypatch.setattr(documents, "parse_document", parse_document)
    walk = spare.found_tree
    monkeypatch.setattr(spare, "found_tree", slow_walk)
    build(BuildOptions(source=site, now=NOW), background_cleanup=True)  # claims and walks the spare as it begins
    assert len(set(pids.read_text().split())) == 2  # both workers parsed


def test_checks_made_beside_the_build_are_reported_and_still_stop_it(tmp_path, monkeypatch):
    import pytest

    from generator.core.errors import SiteError
    from generator.speed import plan

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "2")
    monkeypatch.setattr(plan, "BACKGROUND_ENTRIES", 10)
    forked = forked_tasks(monkeypatch)
    build(BuildOptions(source=site, now=NOW))
    assert "FastStages.check.<locals>.checks" in forked  # a cold build's checks too
    entry = site / "content/highlights/e1.md"
    entry.write_text(entry.read_text(encoding="utf-8") + "\n见 [不存在](missing.md)。\n", encoding="utf-8")
    forked.clear()
    result = build(BuildOptions(source=site, now=NOW))
    assert "FastStages.check.<locals>.checks" in forked  # the checks ran in a child
    assert any("missing.md" in p.message for p in result.warnings)
    before = (site / "output/index.html").read_bytes()
    entry.write_text(entry.read_text(encoding="utf-8") + "\n又一句。\n", encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        build(BuildOptions(source=site, now=NOW, strict=True))  # the checks' warning fails a strict build
    assert any("missing.md" in p.message for p in caught.value.problems)
    assert (site / "output/index.html").read_bytes() == before
    broken = site / "content/highlights/e2.md"
    broken.write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        build(BuildOptions(source=site, now=NOW))  # a content error: one report, with the checks' problems
    assert any("missing.md" in p.message for p in caught.value.problems)
    assert any(str(p.location).startswith("content/highlights/e2.md") for p in caught.value.problems)


def test_a_build_runs_with_the_collector_paused_and_gives_it_back(tmp_path, monkeypatch):
    import gc

    from generator.speed import plan

    site = many_entries(tmp_path / "site", MIN_ITEMS)
    seen = []
    real = plan.pages_besides_entries
    monkeypatch.setattr(plan, "pages_besides_entries", lambda *args: seen.append(gc.isenabled()) or real(*args))
    build(BuildOptions(source=site, now=NOW))
    assert seen and not any(seen) and gc.isenabled()


def test_after_an_edit_a_child_makes_the_search_files_and_related_entries_as_one_process_would(tmp_path, monkeypatch):
    from generator.speed import plan

    site = many_entries(tmp_path / "site")
    monkeypatch.setenv("KB_WORKERS", "2")
    monkeypatch.setattr(plan, "BACKGROUND_ENTRIES", 10)
    build(BuildOptions(source=site, now=NOW))
    entry = site / "content/highlights/e1.md"
    entry.write_text(entry.read_text(encoding="utf-8") + "\n复盘之后，换一个新词：蜂鸟计划。\n", encoding="utf-8")
    forked = forked_tasks(monkeypatch)
    build(BuildOptions(source=site, now=NOW))
    assert "cached_related.<locals>.search_and_related" in forked
    assert "FastStages._reuse.<locals>.start_index" not in forked  # made in this process: one more child cost more than it saved
    monkeypatch.setenv("KB_WORKERS", "1")
    build(BuildOptions(source=site, output=tmp_path / "clean", now=NOW, cache=False))
    edited, clean = tree(site / "output"), tree(tmp_path / "clean")
    assert edited.keys() == clean.keys() and any(p.startswith("search/") for p in clean)
    assert [p for p in clean if clean[p] != edited[p]] == []


# --- a killed build, a closed stdout -----------------------------------------------------------

def processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process, from /proc."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            found[int(name)] = (int(fields[1]), fields[0])
    return found


def descendants(pid: int) -> set[int]:
    """The processes `pid` started, and theirs (zombies aside)."""
    table = processes()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, (ppid, state) in table.items() if ppid == parent and state != "Z"}
        todo.extend(children - found)
        found |= children
    return found


def killed_with_children(site: Path, children: int, stderr) -> set[int]:
    """Start `kb build`, SIGKILL it once it has `children` processes below it; their pids."""
    build_process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--source", str(site), "--now", NOW],
                                     stdout=subprocess.DEVNULL, stderr=stderr,
                                     env={**os.environ, "PYTHONPATH": str(REPO), "KB_WORKERS": "2"})
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while len(descendants(build_process.pid)) < children:
        assert build_process.poll() is None, "the build ended before it could be killed"
        assert time.monotonic() < deadline, "the build never started its children"
        seen |= descendants(build_process.pid)
        time.sleep(0.002)
    seen |= descendants(build_process.pid)
    build_process.send_signal(signal.SIGKILL)
    build_process.wait()
    return seen


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows the children through /proc")
def test_a_killed_build_leaves_no_child_no_traceback_and_no_temporary_tree(tmp_path):
    """SIGKILL of `kb build` as it begins (one child: the spare tree's) and as it parses a site whose
    cache is gone (the workers): every process below it ends within seconds, output/ is as it was,
    nothing is printed, and the next build finds and leaves no temporary tree."""
    import shutil

    from generator.speed.cache import CACHE_DIR

    site = make_site(tmp_path / "site", 3000)
    build(BuildOptions(source=site, now=NOW), background_cleanup=True)
    before = tree(site / "output")
    for n, children in enumerate((1, 2)):
        entry = site / "content/qa/e00001.md"
        entry.write_text(entry.read_text(encoding="utf-8") + f"\n又一句 {n}。\n", encoding="utf-8")
        if children == 2:
            shutil.rmtree(site / CACHE_DIR)
        errors = tmp_path / f"stderr-{n}"
        with open(errors, "w") as stderr:
            seen = killed_with_children(site, children, stderr)
        deadline = time.monotonic() + 5
        while (left := seen & set(pid for pid, (_, state) in processes().items() if state != "Z")) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == set(), f"children of the killed build still running (kill {n + 1})"
        assert errors.read_text() == ""
        assert tree(site / "output") == before
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--source", str(site), "--now", NOW],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (site / "output/qa/e00001/index.html").read_bytes() != before["qa/e00001/index.html"]
    left = [p.name for p in site.iterdir() if p.name.startswith(".kb-") and p.name not in (".kb-cache", ".kb-spare-output")]
    assert left == []


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_build_whose_stdout_is_closed_prints_no_traceback(basic_site, unbuffered):
    """`kb build | head -0`: the reader has gone when the summary is printed."""
    reader, writer = os.pipe()
    os.close(reader)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": unbuffered}
    try:
        done = subprocess.run([sys.executable, "-m", "generator", "build", "--source", str(basic_site), "--now", NOW],
                              stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (1, "")
    assert (basic_site / "output/index.html").is_file()
