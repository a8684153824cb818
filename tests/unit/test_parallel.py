import os
import time

import pytest

from generator.speed.parallel import MIN_ITEMS, parallel_map, worker_count


def test_results_come_back_in_order_from_forked_workers(monkeypatch):
    monkeypatch.setenv("KB_WORKERS", "2")
    table = {i: i * i for i in range(500)}  # reaches the workers by fork, not by pickle
    parent = os.getpid()

    def task(i: int) -> tuple[int, int]:
        time.sleep(0.002)  # long enough for the worker to start before this process has taken every chunk
        return table[i], os.getpid()

    results = parallel_map(task, list(range(500)))
    assert [square for square, _ in results] == [i * i for i in range(500)]
    assert {pid for _, pid in results} - {parent}, "no work ran in a worker process"


def test_the_process_with_the_slower_chunks_takes_fewer_of_them(monkeypatch):
    """This process starts from the end, where the items are slow here: the worker, which finds
    quick ones, takes the rest rather than half (each item still worked on once, in order)."""
    monkeypatch.setenv("KB_WORKERS", "2")

    def task(i: int) -> tuple[int, int]:
        time.sleep(0.02 if i >= 150 else 0.001)
        return i, os.getpid()

    results = parallel_map(task, list(range(200)))
    assert [i for i, _ in results] == list(range(200))
    assert sum(pid == os.getpid() for _, pid in results) < 100


def test_few_items_or_one_worker_stay_in_this_process(monkeypatch):
    parent = os.getpid()
    assert parallel_map(lambda i: os.getpid(), range(MIN_ITEMS - 1), workers=4) == [parent] * (MIN_ITEMS - 1)
    monkeypatch.setenv("KB_WORKERS", "1")
    assert worker_count() == 1
    assert set(parallel_map(lambda i: os.getpid(), range(200))) == {parent}


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("KB_WORKERS", "2")

    def task(i: int) -> int:
        if i == 123:
            raise ValueError("boom")
        return i

    try:
        parallel_map(task, list(range(300)))
    except ValueError as exc:
        assert "boom" in str(exc)
    else:
        raise AssertionError("the worker's error was lost")


def test_workers_do_not_inherit_the_parents_signal_handlers(monkeypatch):
    import signal

    monkeypatch.setenv("KB_WORKERS", "2")

    def parent_handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, parent_handler)
    try:
        def task(i: int) -> tuple:
            time.sleep(0.005)  # so that the worker takes part
            return signal.getsignal(signal.SIGTERM), os.getpid()

        seen = parallel_map(task, list(range(100)))
    finally:
        signal.signal(signal.SIGTERM, previous)
    in_workers = {handler for handler, pid in seen if pid != os.getpid()}
    assert in_workers == {signal.SIG_DFL}


def test_background_work_runs_in_a_child_and_its_result_or_error_comes_back(monkeypatch):
    import gc
    import time

    import pytest

    from generator.speed.parallel import Background

    monkeypatch.setenv("KB_WORKERS", "2")
    table = {i: i * i for i in range(100)}  # reaches the child by fork
    started = time.monotonic()
    work = Background(lambda: (sum(table.values()), os.getpid(), time.sleep(0.5)))
    here = time.monotonic() - started  # this process went on at once
    total, pid, _ = work.result()
    assert total == sum(i * i for i in range(100))
    assert here < 0.4 and pid != os.getpid()
    assert gc.get_freeze_count() == 0  # the collector goes on once the result is in

    def fails() -> int:
        raise ValueError("boom in the background")

    with pytest.raises(ValueError, match="boom in the background"):
        Background(fails).result()
    monkeypatch.setenv("KB_WORKERS", "1")
    assert Background(os.getpid).result() == os.getpid()  # one core: the work is done here


def test_cancelled_background_work_stops_its_child(monkeypatch):
    import time

    from generator.speed.parallel import Background

    monkeypatch.setenv("KB_WORKERS", "2")
    work = Background(lambda: time.sleep(30))
    child = work.process
    work.cancel()
    assert not child.is_alive() and work.process is None



def test_a_background_child_exits_once_its_result_is_sent_before_it_is_asked_for(monkeypatch):
    """A child that lived on until asked would hold private copies of every page this process
    writes meanwhile. Its result here is larger than a pipe holds, so it is received at once."""
    from generator.speed.parallel import Background

    monkeypatch.setenv("KB_WORKERS", "2")
    work = Background(lambda: b"x" * (4 << 20))
    child = work.process
    deadline = time.monotonic() + 20
    while child.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not child.is_alive()
    assert work.result() == b"x" * (4 << 20)


def test_background_work_to_be_done_here_waits_until_asked_for(monkeypatch):
    from generator.speed.parallel import Background

    done: list[int] = []
    work = Background(lambda: done.append(1) or len(done), here=True)
    assert done == [] and not work.forked
    assert work.result() == 1 and work.result() == 1 and done == [1]


def test_the_collector_is_paused_here_while_workers_keep_theirs(monkeypatch):
    """A build's millions of objects are walked by no full collection in the parent; a worker,
    whose inherited objects are frozen, collects its own, and the parent's state comes back after."""
    import gc

    from generator.speed.parallel import Background, collector_paused

    def enabled(_: int) -> tuple[int, bool]:
        time.sleep(0.002)  # long enough for a worker to start before this process has taken every chunk
        return os.getpid(), gc.isenabled()

    monkeypatch.setenv("KB_WORKERS", "2")
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        seen = parallel_map(enabled, range(MIN_ITEMS * 4))
        child = Background(gc.isenabled)
        assert child.forked and child.result()
    assert gc.isenabled()
    assert {on for pid, on in seen if pid != os.getpid()} == {True}
    assert {on for pid, on in seen if pid == os.getpid()} <= {False}
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # not turned on if it was off
    finally:
        gc.enable()


ORPHAN_SCRIPT = """
import os, sys, time
os.environ["KB_WORKERS"] = "2"
from generator.speed import parallel
if sys.argv[1] == "no-prctl":
    parallel._parent_death_signal = lambda signum: False  # as where Linux's prctl is missing
work = parallel.Background(lambda: time.sleep(60))
print(work.process.pid, flush=True)

def task(i):
    print(os.getpid(), flush=True)
    time.sleep(60)

parallel.parallel_map(task, range(parallel.MIN_ITEMS))
"""


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to follow the children")
@pytest.mark.parametrize("how", ["prctl", "no-prctl"])
def test_children_die_with_a_parent_killed_with_sigkill(tmp_path, how):
    """A Background child and a pool worker, both busy for a minute, end within a second or two of
    their parent's SIGKILL (with Linux's parent-death signal, or by watching the parent), quietly."""
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    errors = tmp_path / "stderr"
    with open(errors, "w") as stderr:
        parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT, how], stdout=subprocess.PIPE,
                                  stderr=stderr, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    children: set[int] = set()
    while len(children) < 2:  # the Background child and the pool's worker (the parent works too)
        line = parent.stdout.readline()
        assert line, errors.read_text()
        if int(line) != parent.pid:
            children.add(int(line))
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 3
    while any(map(running, children)) and time.monotonic() < deadline:
        time.sleep(0.02)
    survivors = [pid for pid in children if running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
    assert errors.read_text() == ""


INTERRUPTED_SCRIPT = """
import os, signal, sys
os.environ["KB_WORKERS"] = "2"
from generator.speed import parallel

def interrupted_as_it_forks():
    signal.raise_signal(signal.SIGINT)
    for _ in range(1000):  # Python runs the handler here, inside its fork hooks
        pass

os.register_at_fork(after_in_parent=interrupted_as_it_forks)
for start in (lambda: parallel.parallel_map(abs, range(parallel.MIN_ITEMS)), lambda: parallel.Background(abs)):
    try:
        start()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


def test_ctrl_c_as_a_child_is_forked_is_not_lost():
    """Ctrl-C raised inside Python's fork hooks would be printed as ignored, and the build would go on."""
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run([sys.executable, "-c", INTERRUPTED_SCRIPT], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (done.stdout, done.stderr) == ("interrupted\ninterrupted\n", "")
