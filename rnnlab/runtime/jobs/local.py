"""The local job runner: a fixed number of worker processes on this machine, fed from a fair queue."""
from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable

from ..fairness import FairQueue, Retention, check_session_cap, queue_waits, release
from .context import target_name, unpack
from .job import END_STATES, TRAINER_STATUS, Job
from .limits import JobLimits, default_workers, local_workers, thread_plan
from .messages import ErrorMessage, EventMessage, ReadyMessage, ResultMessage, StoppedMessage, WorkerMessage
from .worker import _Worker

MAX_EVENTS = 20_000
#: seconds between two sweeps of ended jobs (see :class:`rnnlab.runtime.fairness.Retention`)
SWEEP_EVERY = 10.0


class LocalRunner:
    """Jobs run by a fixed number of local worker processes; the queue is fair between sessions
    (:class:`rnnlab.runtime.fairness.FairQueue`), ended jobs are forgotten by ``retention``."""

    def __init__(self, workers: int | None = None, threads: int | None = None, heartbeat_timeout: float = 60.0,
                 grace: float = 10.0, devices: list[str] | None = None,
                 on_end: Callable[[Job], None] | None = None, per_session: int | None = None,
                 retention: Retention | None = None, session_alive: Callable[[str], bool] | None = None):
        self._mp = mp.get_context("spawn")
        self._outbox = self._mp.Queue()
        self._fixed_threads = threads
        self.n_workers = local_workers(workers or default_workers())
        self.threads = threads or thread_plan(self.n_workers)[0]
        self.heartbeat_timeout = heartbeat_timeout
        self.grace = grace
        self.devices = devices
        self._init_state(on_end, per_session, retention, session_alive)
        self._workers: list[_Worker] = []
        for i in range(self.n_workers):
            self._workers.append(self._spawn(i))
        self._pump_thread = threading.Thread(target=self._pump, name="rnnlab-jobs", daemon=True)
        self._pump_thread.start()

    def _init_state(self, on_end, per_session, retention, session_alive) -> None:
        """The queue, the jobs and the class's rules (shared with the Ray runner)."""
        self.listeners: list[Callable[[Job], None]] = [on_end] if on_end else []
        self.per_session = per_session          # jobs queued or running per session (None: no cap)
        self.retention = retention or Retention()
        self.session_alive = session_alive      # is a session still connected (None: unknown)
        self._lock = threading.RLock()
        self._queue = FairQueue()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._durations: deque[float] = deque(maxlen=20)
        self._last_sweep = time.monotonic()

    # --- public ------------------------------------------------------------------------------------
    def submit(self, target: str | Callable, kwargs: dict | None = None, *, seed: int = 0,
               limits: JobLimits | None = None, session: str | None = None, meta: dict | None = None,
               per_session: int | None = None, replaces: Job | None = None) -> Job:
        """Queue a job; it starts as soon as a worker is free (and it is its session's turn).
        ``target``: "module:function". Raises :class:`SessionLimit` when ``session`` already has
        ``per_session`` (default: the runner's) jobs queued or running, not counting ``replaces``: a job
        this one takes the place of, stopped here once the new one is accepted."""
        if self._closed:
            raise RuntimeError("the job runner is shut down")
        job = Job(next(self._ids), target_name(target), dict(kwargs or {}), int(seed), limits or JobLimits(),
                  session, dict(meta or {}))
        job._runner = self
        with self._lock:
            mine = [j for j in self._jobs.values() if session is not None and j.session == session and j.running
                    and j is not replaces]
            if session is not None:
                check_session_cap(len(mine), per_session if per_session is not None else self.per_session)
            if replaces is not None and replaces.running:
                replaces.stop()
            self._jobs[job.id] = job
            job.round = len(mine)
            self._queue.append(job, round_=job.round)
            self._update_positions()
        self._dispatch()
        return job

    def stop(self, job: Job, reason: str = "stopped") -> None:
        with self._lock:
            if job.state == "queued":
                self._queue.remove(job)
                job.stop_reason = reason
                self._finish(job, "stopped", message="Left the queue before it started.")
                self._update_positions()
                return
            if job.state in ("running", "stopping"):
                job.stop_reason = job.stop_reason or reason
                job.state = "stopping"
                worker = self._worker_of(job)
                if worker is not None:
                    with worker.flag.get_lock():
                        worker.flag.value += 1
                job.meta.setdefault("_stop_asked", time.monotonic())

    def jobs(self, session: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if session is None or j.session == session]

    def active(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.running]

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

    def shutdown(self) -> None:
        self._closed = True
        with self._lock:
            for job in list(self._queue):
                self.stop(job)
            for w in self._workers:
                if w.job is not None:
                    self._finish(w.job, "stopped", message="The server is shutting down.")
                w.retire = True
                with contextlib.suppress(OSError, ValueError):
                    w.inbox.put(None)
            for w in self._workers:
                w.process.join(2)
                if w.alive():
                    w.kill()
            self._workers = []

    def forget(self, before: float) -> int:
        """Drop ended jobs that ended more than ``before`` seconds ago, and free what they hold."""
        now = time.monotonic()
        with self._lock:
            old = [j for j in self._jobs.values() if j.ended is not None and now - j.ended > before]
            for job in old:
                del self._jobs[job.id]
                release(job)
        return len(old)

    def sweep(self, now: float | None = None) -> int:
        """Apply the retention policy now (the pump calls it every :data:`SWEEP_EVERY` seconds): forget a
        session's ended jobs beyond its newest few, and all of them (results freed) once the session is
        gone for ``retention.linger`` seconds. Returns how many were forgotten."""
        alive = self.session_alive
        with self._lock:
            drop = self.retention.sweep(list(self._jobs.values()), alive, now)
            for job in drop:
                self._jobs.pop(job.id, None)
                if alive is not None and job.session and not alive(job.session):
                    release(job)       # nobody can look at it any more
        return len(drop)

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            self.sweep(now)

    @property
    def workers_alive(self) -> int:
        return sum(1 for w in self._workers if w.alive() and not w.retire)

    # --- internals -----------------------------------------------------------------------------------
    def _spawn(self, index: int) -> _Worker:
        device = None
        if self.devices:
            device = self.devices[index % len(self.devices)]
        return _Worker(index, self._mp, self._outbox, self.threads, device)

    def _retire(self, w: _Worker) -> None:
        with contextlib.suppress(OSError, ValueError):
            w.inbox.put(None)
        self._workers.remove(w)

    def _worker_of(self, job: Job) -> _Worker | None:
        return next((w for w in self._workers if w.job is job), None)

    def _update_positions(self) -> None:
        """Each queued job's place, and its two waits (:func:`rnnlab.runtime.fairness.queue_waits`)."""
        typical = (sum(self._durations) / len(self._durations)) if self._durations else None
        now = time.monotonic()
        busy = [w.job for w in self._workers if w.job is not None and not w.retire]
        spawning = [now - w.spawned for w in self._workers
                    if w.job is None and not w.retire and not getattr(w, "ready", True)]
        queued = list(self._queue)
        waits = queue_waits(busy, spawning, queued, self.n_workers, typical, self.grace, now)
        for k, (job, (bound, guess)) in enumerate(zip(queued, waits)):
            job.position, job.wait_estimate, job.wait_typical = k + 1, bound, guess

    def _dispatch(self) -> None:
        with self._lock:
            for w in self._workers:
                if not self._queue:
                    break
                if w.job is None and not w.retire and w.ready and w.alive():
                    job = self._queue.popleft()
                    w.job = job
                    with w.flag.get_lock():
                        w.flag.value = 0
                    job.state, job.worker, job.started, job.position = "running", w.index, time.monotonic(), 0
                    job.last_seen = max(job.last_seen, time.monotonic() - 1.0)
                    w.inbox.put(job.task())
            self._update_positions()

    def _finish(self, job: Job, state: str, result: dict | None = None, message: str | None = None,
                details: str | None = None) -> None:
        if job.state in END_STATES:
            return
        job.result = result
        if state == "error":
            job.error = message or "the job failed"
            job.details = details
        elif message:
            job.meta["end_message"] = message
        job.state = state
        job.ended = time.monotonic()
        if job.started is not None and state in ("finished", "early_stopped"):
            self._durations.append(job.ended - job.started)
        for listener in list(self.listeners):
            try:
                listener(job)
            except Exception:
                traceback.print_exc()

    def _end_state_from(self, job: Job, result: dict) -> str:
        status = result.get("status")
        state = TRAINER_STATUS.get(status, "finished")
        if state == "stopped" and job.stop_reason in ("time_limit",):
            state = "time_limit"
        return state

    def _handle(self, msg: WorkerMessage) -> None:
        """One message from a worker: a worker is ready, a job's event, or how a job ended."""
        if isinstance(msg, ReadyMessage):
            for w in self._workers:
                if w.index == msg.worker:
                    w.ready = True
            return
        job = self._jobs.get(msg.job_id)
        if job is None:
            return
        if isinstance(msg, EventMessage):
            if len(job.events) < MAX_EVENTS or msg.event.kind != "step":
                job.events.append(msg.event)
            return
        worker = self._worker_of(job)
        match msg:
            case ResultMessage():
                result = unpack(msg.result)
                self._finish(job, self._end_state_from(job, result), result=result)
            case StoppedMessage():
                reason = "stopped" if job.stop_reason == "gone" else msg.reason
                self._finish(job, "time_limit" if reason == "time_limit" else "stopped",
                             message="Stopped before training began." if reason != "time_limit" else
                             "The time limit was reached before training began.")
            case ErrorMessage():
                self._finish(job, "error", message=msg.message, details=msg.details)
        if worker is not None:
            worker.job = None
            if worker.retire:
                self._retire(worker)

    def _watch(self) -> None:
        """Time limits, heartbeats, hard stops and crashed workers."""
        now = time.monotonic()
        with self._lock:
            for job in list(self._queue):
                if now - job.last_seen > self.heartbeat_timeout:
                    self.stop(job, "gone")
            for w in list(self._workers):
                job = w.job
                if not w.alive():
                    code = w.process.exitcode
                    if job is not None:
                        self._finish(job, "error", message=f"The training process crashed (exit code {code}"
                                     + (": out of memory?" if code in (-9, 137) else "") + "). Other jobs go on.")
                    self._workers.remove(w)
                    if not w.retire and not self._closed:
                        self._workers.append(self._spawn(w.index))
                    continue
                if job is None:
                    continue
                elapsed = now - job.started
                if now - job.last_seen > self.heartbeat_timeout and job.stop_reason is None:
                    self.stop(job, "gone")
                asked = job.meta.get("_stop_asked")
                overdue = elapsed > job.limits.max_seconds + self.grace
                if overdue or (asked is not None and now - asked > self.grace):
                    w.kill()
                    self._workers.remove(w)
                    state = "time_limit" if overdue and job.stop_reason is None else "stopped"
                    self._finish(job, state, message="The job did not stop in time and was ended; "
                                                     "nothing it trained was kept.")
                    if not w.retire and not self._closed:
                        self._workers.append(self._spawn(w.index))

    def _pump(self) -> None:
        last_watch = 0.0
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
            now = time.monotonic()
            if now - last_watch > 0.25:
                last_watch = now
                try:
                    self._watch()
                    self._maybe_sweep()
                except Exception:
                    traceback.print_exc()
            self._dispatch()


