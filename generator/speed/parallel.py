"""Run a pure per-item function on every core, in forked worker processes.

Workers are forked, so they inherit the site, the templates and the Markdown
renderer as they are in the parent: only item numbers and small results cross
process boundaries. This process works too (on the chunks nearest the end) rather
than wait: one worker fewer is one process fewer whose touches copy the site's pages
(each forked worker ends up with a private copy of much of the small-object heap).
Below a few dozen items, or with one core, the work stays in this process.

Every child dies with the process that forked it (`_die_with`): a build killed with SIGKILL
leaves no worker behind, blocked on a pipe nobody reads and holding the files and the
spare tree's lock it inherited.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
MIN_ITEMS = 48  # below this, starting workers costs more than it saves
PR_SET_PDEATHSIG = 1  # Linux's prctl option: the signal a process gets when its parent dies

_task: Callable | None = None  # set in each worker by _install, before any task runs
_claims = None  # in parallel_map's workers: which chunks are taken (shared with the parent)


def worker_count() -> int:
    """KB_WORKERS if set, else the cores this process may use."""
    wanted = os.environ.get("KB_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _die_with(parent: int) -> None:
    """In a child just forked from `parent`: be killed when it ends, however it ends (SIGKILL too).

    Linux sends the child a signal of its choice (prctl's parent-death signal); elsewhere a thread
    watches the parent's id. A parent that died before that was set up is seen by its id. A write
    to a pipe whose reader is gone ends the child quietly (SIGPIPE) rather than with a traceback.
    """
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if not _parent_death_signal(signal.SIGKILL):
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _parent_death_signal(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent ends; False where it cannot.

    Linux sends it when the thread that forked ends: kb's children are waited for by that thread.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _install(task: Callable, claims=None, parent: int | None = None) -> None:
    """In each worker: die with `parent`; the task, and default signal handling whatever the parent
    set up (`kb serve` turns SIGTERM into Ctrl-C; the pool stops its workers with SIGTERM)."""
    global _task, _claims
    if parent is not None:
        _die_with(parent)
    _task, _claims = task, claims
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent forked us with SIGTERM blocked: one sent before the line above was held,
    # not handed to the parent's Python handler and lost. Now it takes effect.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    gc.enable()  # if the parent paused it (collector_paused): the parent's objects are frozen, it walks ours alone


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off in this process while a build runs (its workers keep theirs).

    A build holds millions of small objects (the documents, the model) and makes few cycles;
    each full collection walks them all, and loading a large site's documents sets off several
    (docs/performance.md). The few cycles a build leaves are collected after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _return_free_memory() -> None:
    """glibc keeps freed memory resident for reuse; hand whole free pages back to the kernel."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


@contextlib.contextmanager
def _forking() -> Iterator[None]:
    """Around a fork: the child starts with SIGTERM blocked (see `_install`), and a Ctrl-C (or the
    SIGTERM that `kb serve` turns into one) that comes meanwhile is raised once the fork is done:
    raised in Python's fork hooks, it would be printed as ignored, and lost."""
    held: list[int] = []
    handlers = {}
    if threading.current_thread() is threading.main_thread():  # where Python runs signal handlers
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                handlers[signum] = signal.signal(signum, lambda caught, frame: held.append(caught))
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        for signum in held:
            signal.raise_signal(signum)


def _claimed(claims, index: int) -> bool:
    """Take chunk `index` unless another process has: each chunk is worked on once."""
    with claims.get_lock():
        if claims[index]:
            return False
        claims[index] = 1
        return True


def _run_chunk(chunk: tuple[int, list]) -> list | None:
    """In a worker: the chunk's results, or None when the parent took it."""
    index, items = chunk
    return [_task(item) for item in items] if _claimed(_claims, index) else None


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
    # Small chunks (a 32nd of a worker's share): the last one taken bounds how long one process
    # works alone at the end, while the other cores idle.
    size = max(8, min(256, len(items) // (workers * 32) or 1))
    chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    # Workers take chunks from the front, this process from the back, until they meet: neither
    # waits for the other at the end, however uneven the chunks.
    claims = context.Array("b", len(chunks))
    _return_free_memory()  # what the stages before freed, so that it is not resident in every fork
    frozen = gc.get_freeze_count() > 0  # by a Background still at work: it unfreezes
    gc.freeze()  # keep the collector from touching (and so copying) the parent's objects in workers
    pool = None
    try:
        with _forking():
            pool = context.Pool(workers - 1 if here else workers, initializer=_install,
                                initargs=(task, claims, os.getpid()))
        pending = pool.imap(_run_chunk, enumerate(chunks))
        mine: dict[int, list[R]] = {}
        for index in reversed(range(len(chunks)) if here else range(0)):
            if not _claimed(claims, index):
                break
            mine[index] = [task(item) for item in chunks[index]]
        done = [mine[i] if result is None else result for i, result in enumerate(pending)]
        pool.close()  # done: let the workers finish on their own, no signal needed
        pool.join()
        return [result for results in done for result in results]
    except BaseException:
        if pool is not None:
            pool.terminate()  # an error or Ctrl-C: stop the rest now
        raise
    finally:
        if not frozen:
            gc.unfreeze()


def _send_result(task: Callable[[], R], sender, receiver, parent: int) -> None:
    """In a Background's child: task's result, or the exception it raised, to the parent.

    The child closes its copy of the pipe's reading end, so that the pipe breaks when the parent goes.
    """
    receiver.close()
    _install(task, parent=parent)
    try:
        outcome: tuple[bool, object] = (True, task())
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        outcome = (False, exc)
    try:
        sender.send(outcome)
    except Exception as exc:  # an unpicklable result or exception
        sender.send((False, RuntimeError(f"{exc!r} (in a background stage)")))
    sender.close()


class Background(Generic[R]):
    """task() worked out in a forked child while this process goes on with other stages, so that
    two serial stages share the cores; `result()` waits for it. With one core, without fork or
    with `here`, the task runs in this process when its result is first asked for.

    Like parallel_map's workers, the child gets the task by fork; its result is pickled, so keep
    it small (arrays rather than objects). The collector stays frozen until the result is in,
    so that this process does not copy the pages the child shares with it.
    """

    def __init__(self, task: Callable[[], R], here: bool = False):
        self.task = task
        self.process = None
        self.value: R | None = None
        self.owed = False  # the task is to run here, and has not yet
        if here or worker_count() <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            self.owed = True
            return
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        _return_free_memory()
        gc.freeze()
        process = context.Process(target=_send_result, args=(task, sender, self.receiver, os.getpid()))
        try:
            with _forking():
                process.start()
            self.process = process
            # Taken as soon as it is sent, so that the child can exit: a child that lives on holds
            # private copies of every page this process writes to meanwhile (it doubled the peak).
            self.outcome: tuple[bool, object] | None = None
            self.receiving = threading.Thread(target=self._receive, daemon=True)
            self.receiving.start()
        except BaseException:
            if process.pid is not None:  # Ctrl-C as it was forked: the child is not wanted
                process.terminate()
                process.join()
            gc.unfreeze()
            raise
        finally:
            sender.close()

    @property
    def forked(self) -> bool:
        """True from the fork until its result is taken (the child itself exits once it has sent it)."""
        return self.process is not None

    def _receive(self) -> None:
        try:
            self.outcome = self.receiver.recv()
        except (EOFError, OSError):  # the child died without a word (killed, or cancelled)
            self.outcome = None

    def result(self) -> R:
        if self.owed:
            self.value, self.owed = self.task(), False
        if self.process is None:
            return self.value
        self.receiving.join()
        outcome = self.outcome
        self.cancel(answered=True)
        ok, value = outcome if outcome is not None else (True, self.task())  # no word: do the work here
        if not ok:
            raise value
        self.value = value  # asked again: the same
        return value

    def cancel(self, answered: bool = False) -> None:
        """Stop the child unless it has `answered` (the build stopped), and let the collector go on."""
        if self.process is None:
            return
        if not answered:
            self.process.terminate()
        self.process.join()
        self.receiving.join()
        self.receiver.close()
        self.process = None
        gc.unfreeze()
