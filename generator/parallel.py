"""Run a pure per-item function on every core, in forked worker processes.

Workers are forked, so they inherit the site, the templates and the Markdown
renderer as they are in the parent: only item numbers and small results cross
process boundaries. This process works too, on every n-th chunk, rather than
wait: one worker fewer is one process fewer whose touches copy the site's pages
(each forked worker ends up with a private copy of much of the small-object heap).
Below a few dozen items, or with one core, the work stays in this process.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
MIN_ITEMS = 48  # below this, starting workers costs more than it saves

_task: Callable | None = None  # set in each worker by _install, before any task runs


def worker_count() -> int:
    """KB_WORKERS if set, else the cores this process may use."""
    wanted = os.environ.get("KB_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _install(task: Callable) -> None:
    """In each worker: the task, and default signal handling whatever the parent set up
    (`kb serve` turns SIGTERM into Ctrl-C; the pool stops its workers with SIGTERM)."""
    global _task
    _task = task
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent forked us with SIGTERM blocked: one sent before the line above was held,
    # not handed to the parent's Python handler and lost. Now it takes effect.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _return_free_memory() -> None:
    """glibc keeps freed memory resident for reuse; hand whole free pages back to the kernel."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _run_chunk(items: list) -> list:
    return [_task(item) for item in items]


def parallel_map(task: Callable[[T], R], items: Sequence[T], workers: int | None = None,
                 here: bool = True) -> list[R]:
    """[task(i) for i in items], spread over forked workers; results in order.

    `task` may be a closure: it reaches the workers by fork, not by pickle. Items
    and results are pickled, so keep them small (indices, short tuples). With `here`
    false this process only waits: for tasks that leave much garbage behind (parsing
    Markdown), which is better left in workers that exit than in the process that goes on.
    """
    workers = workers or worker_count()
    if workers <= 1 or len(items) < MIN_ITEMS or "fork" not in multiprocessing.get_all_start_methods():
        return [task(item) for item in items]
    size = max(8, min(256, len(items) // (workers * 8) or 1))
    chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
    mine = set(range(0, len(chunks), workers)) if here else set()  # interleaved: slow and quick stretches shared
    theirs = [i for i in range(len(chunks)) if i not in mine]
    context = multiprocessing.get_context("fork")
    _return_free_memory()  # what the stages before freed, so that it is not resident in every fork
    gc.freeze()  # keep the collector from touching (and so copying) the parent's objects in workers
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        pool = context.Pool(workers - 1 if here else workers, initializer=_install, initargs=(task,))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    try:
        pending = pool.imap(_run_chunk, [chunks[i] for i in theirs])
        done: dict[int, list[R]] = {i: [task(item) for item in chunks[i]] for i in sorted(mine)}
        done.update(zip(theirs, pending, strict=True))
        pool.close()  # done: let the workers finish on their own, no signal needed
        pool.join()
        return [result for i in range(len(chunks)) for result in done[i]]
    except BaseException:
        pool.terminate()  # an error or Ctrl-C: stop the rest now
        raise
    finally:
        gc.unfreeze()
