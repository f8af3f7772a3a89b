"""What every job runner shares: the fair queue, the jobs, the class's rules, and how a job ends.

:class:`BaseRunner` owns the server's side of jobs; a subclass owns the places they run in. Its workers
(``self._workers``) are objects with ``index``, ``job`` (the job it runs, or None) and ``retire`` (let it go
once its job ends): a worker process (:class:`~.local.LocalRunner`) or a slot for a Ray actor
(:class:`rnnlab.runtime.ray_runner.RayRunner`). A subclass says how to reach them:

    _can_take(worker)       may this idle worker take a job now (started, alive)?
    _send(worker, job)      hand it the job (already marked running)
    _signal_stop(job)       tell the job's worker that Stop was pressed (the job reads ctx.should_stop())
    _retire(worker)         let an idle worker go
    _close_workers()        end every worker (shutdown)
    _pump()                 the runner's thread: route the workers' messages to _handle, call
                            _housekeeping and _dispatch, until the runner is closed
    _watch()                every WATCH_EVERY s: limits, heartbeats, crashed workers (the rules are
                            _stop_queued_if_gone, _stop_if_gone and _forced_end)
    set_workers(n), workers_alive
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable

from ...status import END_STATES, Status
from ..fairness import FairQueue, Retention, check_session_cap, queue_waits, release
from .context import target_name, unpack
from .job import Job
from .limits import JobLimits
from .messages import ErrorMessage, EventMessage, ResultMessage, StoppedMessage, WorkerMessage

MAX_EVENTS = 20_000
#: seconds between two sweeps of ended jobs (see :class:`rnnlab.runtime.fairness.Retention`)
SWEEP_EVERY = 10.0
#: seconds between two looks at running jobs' limits and heartbeats, and at the workers' health
WATCH_EVERY = 0.25
NOT_IN_TIME = "The job did not stop in time and was ended; nothing it trained was kept."


class BaseRunner(ABC):
    """The job runner's interface (submit, stop, jobs, active, forget, sweep, set_workers, shutdown,
    listeners) and everything in it that does not depend on where jobs run."""

    def __init__(self, workers: int, heartbeat_timeout: float = 60.0, grace: float = 10.0,
                 on_end: Callable[[Job], None] | None = None, per_session: int | None = None,
                 retention: Retention | None = None, session_alive: Callable[[str], bool] | None = None):
        self.n_workers = workers
        self.heartbeat_timeout = heartbeat_timeout    # a job whose page sent no heartbeat this long is stopped
        self.grace = grace                            # seconds a job may ignore its limit or a Stop
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
        self._last_watch = 0.0
        self._workers: list = []

    def _start_pump(self, name: str) -> None:
        self._pump_thread = threading.Thread(target=self._pump, name=name, daemon=True)
        self._pump_thread.start()

    # --- public ------------------------------------------------------------------------------------------
    def submit(self, target: str | Callable, kwargs: dict | None = None, *, seed: int = 0,
               limits: JobLimits | None = None, session: str | None = None, meta: dict | None = None,
               per_session: int | None = None, replaces: Job | None = None) -> Job:
        """Queue a job; it starts as soon as a worker is free (and it is its session's turn).

        ``target``: the job function (a top-level function; the worker imports it by its name, the function
        object itself never travels) or that name, ``"module:function"``. Raises :class:`SessionLimit` when
        ``session`` already has ``per_session`` (default: the runner's) jobs queued or running, not counting
        ``replaces``: a job this one takes the place of, stopped here once the new one is accepted."""
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
        """Ask a job to stop: a queued one leaves the queue now; a running one is told, and ended by force if it
        has not stopped ``grace`` seconds later. ``reason``: "stopped" (the user), "time_limit", "gone"."""
        with self._lock:
            if job.state == Status.QUEUED:
                self._queue.remove(job)
                job.stop_reason = reason
                self._finish(job, Status.STOPPED, message="Left the queue before it started.")
                self._update_positions()
                return
            if job.state in (Status.RUNNING, Status.STOPPING):
                job.stop_reason = job.stop_reason or reason
                job.state = Status.STOPPING
                self._signal_stop(job)
                job.meta.setdefault("_stop_asked", time.monotonic())

    def jobs(self, session: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if session is None or j.session == session]

    def active(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.running]

    def shutdown(self) -> None:
        """Stop every job (the running ones end as stopped now) and end the workers."""
        self._closed = True
        with self._lock:
            for job in list(self._queue):
                self.stop(job)
            for w in list(self._workers):
                if w.job is not None:
                    self._finish(w.job, Status.STOPPED, message="The server is shutting down.")
            self._close_workers()
            self._workers = []

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

    @abstractmethod
    def set_workers(self, n: int) -> None:
        """Change how many jobs run at once (busy workers finish their job first)."""

    @property
    @abstractmethod
    def workers_alive(self) -> int:
        """Workers that can take jobs now or soon (not retiring)."""

    # --- what a subclass supplies ---------------------------------------------------------------------
    @abstractmethod
    def _can_take(self, worker) -> bool: ...

    @abstractmethod
    def _send(self, worker, job: Job) -> None: ...

    @abstractmethod
    def _signal_stop(self, job: Job) -> None: ...

    @abstractmethod
    def _retire(self, worker) -> None: ...

    @abstractmethod
    def _close_workers(self) -> None: ...

    @abstractmethod
    def _watch(self) -> None: ...

    @abstractmethod
    def _pump(self) -> None: ...

    def _starting_ages(self, now: float) -> list[float]:
        """Seconds since each idle worker that is still starting began (it cannot take a job yet)."""
        return []

    # --- internals -------------------------------------------------------------------------------------
    def _worker_of(self, job: Job):
        return next((w for w in self._workers if w.job is job), None)

    def _update_positions(self) -> None:
        """Each queued job's place, and its two waits (:func:`rnnlab.runtime.fairness.queue_waits`)."""
        typical = (sum(self._durations) / len(self._durations)) if self._durations else None
        now = time.monotonic()
        busy = [w.job for w in self._workers if w.job is not None and not w.retire]
        queued = list(self._queue)
        waits = queue_waits(busy, self._starting_ages(now), queued, self.n_workers, typical, self.grace, now)
        for k, (job, (bound, guess)) in enumerate(zip(queued, waits)):
            job.position, job.wait_estimate, job.wait_typical = k + 1, bound, guess

    def _dispatch(self) -> None:
        """Hand queued jobs to idle workers, in the queue's order."""
        with self._lock:
            if self._closed:
                return
            for w in self._workers:
                if not self._queue:
                    break
                if w.job is None and not w.retire and self._can_take(w):
                    job = self._queue.popleft()
                    now = time.monotonic()
                    w.job = job
                    job.state, job.worker, job.started, job.position = Status.RUNNING, w.index, now, 0
                    job.last_seen = max(job.last_seen, now - 1.0)
                    self._send(w, job)
            self._update_positions()

    def _finish(self, job: Job, state: Status, result: dict | None = None, message: str | None = None,
                details: str | None = None) -> None:
        """End a job (once): its state, result or error, and the listeners (the class board) told."""
        if job.state in END_STATES:
            return
        job.result = result
        if state == Status.ERROR:
            job.error = message or "the job failed"
            job.details = details
        elif message:
            job.meta["end_message"] = message
        job.state = state
        job.ended = time.monotonic()
        if job.started is not None and state in (Status.FINISHED, Status.EARLY_STOPPED):
            self._durations.append(job.ended - job.started)
        for listener in list(self.listeners):
            try:
                listener(job)
            except Exception:
                traceback.print_exc()

    def _end_state_from(self, job: Job, result: dict) -> Status:
        """A returned job's end state: its result's ``status`` (the trainer's, or the lab's summary of its runs;
        ``finished`` when it says none). A stop the runner asked for because of the time limit ends as
        ``time_limit`` even where the job heard only "stop"."""
        status = result.get("status")
        state = Status(status) if status in END_STATES else Status.FINISHED
        if state == Status.STOPPED and job.stop_reason == "time_limit":
            state = Status.TIME_LIMIT
        return state

    def _handle(self, msg: WorkerMessage) -> None:
        """A message about a job: an event, or how it ended (then its worker is free, or retired)."""
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
                if msg.reason == Status.TIME_LIMIT and job.stop_reason != "gone":
                    self._finish(job, Status.TIME_LIMIT, message="The time limit was reached before training began.")
                else:
                    self._finish(job, Status.STOPPED, message="Stopped before training began.")
            case ErrorMessage():
                self._finish(job, Status.ERROR, message=msg.message, details=msg.details)
        if worker is not None:
            worker.job = None
            if worker.retire:
                self._retire(worker)

    def _housekeeping(self) -> None:
        """From the pump: every :data:`WATCH_EVERY` s watch the jobs and workers, and sweep ended jobs."""
        now = time.monotonic()
        if now - self._last_watch > WATCH_EVERY:
            self._last_watch = now
            self._watch()
            self._maybe_sweep()

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            self.sweep(now)

    def _stop_queued_if_gone(self, now: float) -> None:
        """A queued job whose page sent no heartbeat for ``heartbeat_timeout`` leaves the queue."""
        for job in list(self._queue):
            if now - job.last_seen > self.heartbeat_timeout:
                self.stop(job, "gone")

    def _stop_if_gone(self, job: Job, now: float) -> None:
        """A running job whose page sent no heartbeat for ``heartbeat_timeout`` is asked to stop."""
        if now - job.last_seen > self.heartbeat_timeout and job.stop_reason is None:
            self.stop(job, "gone")

    def _forced_end(self, job: Job, now: float, timed: bool = True) -> Status | None:
        """The state to end a running job with by force (its worker killed) — past its time limit plus
        ``grace``, or ``grace`` seconds after a Stop it ignored — or None while it may go on. ``timed``:
        its start time is known (a Ray job's is once its actor has started)."""
        asked = job.meta.get("_stop_asked")
        overdue = timed and now - job.started > job.limits.max_seconds + self.grace
        if overdue or (asked is not None and now - asked > self.grace):
            return Status.TIME_LIMIT if overdue and job.stop_reason is None else Status.STOPPED
        return None
