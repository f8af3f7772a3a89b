"""The local job runner: a fixed number of worker processes on this machine, fed from a fair queue."""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Callable

from ...status import Status
from ..fairness import Retention
from .base import NOT_IN_TIME, BaseRunner
from .job import Job
from .limits import default_workers, local_workers, thread_plan
from .messages import ReadyMessage, WorkerMessage
from .worker import _Worker


class LocalRunner(BaseRunner):
    """Jobs run by a fixed number of local worker processes; the queue is fair between sessions
    (:class:`rnnlab.runtime.fairness.FairQueue`), ended jobs are forgotten by ``retention``.

    Each worker is a ``multiprocessing`` (spawn) process with its own inbox and a shared Stop counter; all
    of them answer on one outbox, read by this runner's thread (:meth:`_pump`)."""

    def __init__(self, workers: int | None = None, threads: int | None = None, heartbeat_timeout: float = 60.0,
                 grace: float = 10.0, devices: list[str] | None = None,
                 on_end: Callable[[Job], None] | None = None, per_session: int | None = None,
                 retention: Retention | None = None, session_alive: Callable[[str], bool] | None = None):
        super().__init__(local_workers(workers or default_workers()), heartbeat_timeout, grace, on_end=on_end,
                         per_session=per_session, retention=retention, session_alive=session_alive)
        self._mp = mp.get_context("spawn")
        self._outbox = self._mp.Queue()
        self._fixed_threads = threads
        self.threads = threads or thread_plan(self.n_workers)[0]
        self.devices = devices
        self._workers: list[_Worker] = [self._spawn(i) for i in range(self.n_workers)]
        self._start_pump("rnnlab-jobs")

    # --- public ------------------------------------------------------------------------------------
    def set_workers(self, n: int) -> None:
        """Change how many jobs run at once (idle workers are retired; busy ones finish their job first).

        Each worker's torch threads follow the new count (workers × threads <= cores): when the share
        changes, every worker is replaced by one with the new share (a busy one once its job ends)."""
        n = local_workers(n)
        with self._lock:
            self.n_workers = n
            threads = self._fixed_threads or thread_plan(n)[0]
            if threads != self.threads:
                self.threads = threads
                for w in [w for w in self._workers if not w.retire]:
                    w.retire = True
                    if w.job is None:
                        self._retire(w)
            live = [w for w in self._workers if not w.retire]
            for _i in range(len(live), n):
                self._workers.append(self._spawn(len(self._workers)))
            for w in live[n:]:
                w.retire = True
                if w.job is None:
                    self._retire(w)
        self._dispatch()

    @property
    def workers_alive(self) -> int:
        return sum(1 for w in self._workers if w.alive() and not w.retire)

    # --- the workers -------------------------------------------------------------------------------
    def _spawn(self, index: int) -> _Worker:
        device = None
        if self.devices:
            device = self.devices[index % len(self.devices)]
        return _Worker(index, self._mp, self._outbox, self.threads, device)

    def _can_take(self, w: _Worker) -> bool:
        return w.ready and w.alive()

    def _send(self, w: _Worker, job: Job) -> None:
        with w.flag.get_lock():
            w.flag.value = 0
        w.inbox.put(job.task())

    def _signal_stop(self, job: Job) -> None:
        worker = self._worker_of(job)
        if worker is not None:
            with worker.flag.get_lock():
                worker.flag.value += 1

    def _retire(self, w: _Worker) -> None:
        with contextlib.suppress(OSError, ValueError):
            w.inbox.put(None)
        self._workers.remove(w)

    def _close_workers(self) -> None:
        for w in self._workers:
            w.retire = True
            with contextlib.suppress(OSError, ValueError):
                w.inbox.put(None)
        for w in self._workers:
            w.process.join(2)
            if w.alive():
                w.kill()

    def _starting_ages(self, now: float) -> list[float]:
        return [now - w.spawned for w in self._workers if w.job is None and not w.retire and not w.ready]

    def _replace(self, w: _Worker) -> None:
        """A worker that crashed or was killed leaves; a new one takes its place (unless it was retiring)."""
        self._workers.remove(w)
        if not w.retire and not self._closed:
            self._workers.append(self._spawn(w.index))

    # --- the runner's thread -----------------------------------------------------------------------
    def _handle(self, msg: WorkerMessage) -> None:
        """A worker has started (it may now take jobs), or a message about a job."""
        if isinstance(msg, ReadyMessage):
            for w in self._workers:
                if w.index == msg.worker:
                    w.ready = True
            return
        super()._handle(msg)

    def _watch(self) -> None:
        """Time limits, heartbeats, hard stops and crashed workers."""
        now = time.monotonic()
        with self._lock:
            self._stop_queued_if_gone(now)
            for w in list(self._workers):
                job = w.job
                if not w.alive():
                    code = w.process.exitcode
                    if job is not None:
                        self._finish(job, Status.ERROR, message=f"The training process crashed (exit code {code}"
                                     + (": out of memory?" if code in (-9, 137) else "") + "). Other jobs go on.")
                    self._replace(w)
                    continue
                if job is None:
                    continue
                self._stop_if_gone(job, now)
                state = self._forced_end(job, now)
                if state is not None:
                    w.kill()
                    self._finish(job, state, message=NOT_IN_TIME)
                    self._replace(w)

    def _pump(self) -> None:
        while not self._closed:
            try:
                msg = self._outbox.get(timeout=0.1)
                with self._lock:
                    self._handle(msg)
                # drain what else is waiting before dispatching again
                for _ in range(1000):
                    try:
                        msg = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    with self._lock:
                        self._handle(msg)
            except queue.Empty:
                pass
            except (EOFError, OSError):
                if self._closed:
                    return
            try:
                self._housekeeping()
            except Exception:
                traceback.print_exc()
            self._dispatch()
