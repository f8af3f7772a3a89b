"""Training jobs: every live training in the app is a job, queued and run in a worker *process*.

Why processes: a training in the web server's own process would share its cores and its Python
interpreter with 30 students' clicks. Here the server only submits jobs and reads their events; a small,
fixed number of worker processes (``multiprocessing`` with *spawn*) run them one at a time each, with
torch's thread count set so that workers × threads never exceeds the cores.

    runner = LocalRunner(workers=1)
    job = runner.submit("rnnlab.labs.sentiment:sentiment_job", {"recipe": {...}}, seed=0,
                        limits=JobLimits(max_seconds=120), session="abc", meta={"lab": "sentiment"})
    job.events          # JobEvent(kind="step", step=12, data={"loss": 0.61, ...}), ... streamed live
    job.stop()          # asks the job to stop: it ends its current step and keeps what it has
    job.end_state       # finished / early_stopped / diverged / stopped / time_limit / error
    job.result          # what the job function returned: plain data and tensors (weights only)

A job function is a top-level function ``fn(ctx: JobContext, **kwargs) -> dict``. It reports with
``ctx.emit``/``ctx.phase``, and calls ``ctx.check()`` (or reads ``ctx.should_stop()``) between pieces of
work, in every phase: loading data, tokenising, each training step, evaluating. Its result travels back
as a ``torch.save`` of plain data and tensors, read with ``weights_only=True``: never a pickle of code.

A job also ends without its own help: past its time limit (plus a grace period) or ``grace`` seconds after
a stop, its worker is terminated and replaced; when the session that submitted it sends no heartbeat for
``heartbeat_timeout`` seconds (the tab was closed) it is stopped; a worker that crashes turns its job into
an ``error`` and is replaced, and the other jobs go on.

The standard library's ``ProcessPoolExecutor`` was not enough: one crashed worker breaks the whole pool
and every job in it, and a single stuck job cannot be terminated. So each worker here is one
``multiprocessing`` process with its own inbox; one thread of the server routes events and hands queued
jobs to idle workers in order (first in, first out).
"""
from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import math
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..fairness import FairQueue, Retention, SessionLimit, check_session_cap, queue_waits, release  # noqa: F401

ACTIVE = ("queued", "running", "stopping")
END_STATES = ("finished", "early_stopped", "diverged", "stopped", "time_limit", "error")
END_LABELS = {"finished": "finished", "early_stopped": "early-stopped", "diverged": "diverged",
              "stopped": "stopped by the user", "time_limit": "stopped at the time limit", "error": "failed"}
# what a trainer's history.status means as a job's end state
TRAINER_STATUS = {"done": "finished", "early_stopped": "early_stopped", "diverged": "diverged",
                  "cancelled": "stopped", "time_limit": "time_limit"}
MAX_EVENTS = 20_000
#: seconds between two sweeps of ended jobs (see :class:`rnnlab.runtime.fairness.Retention`)
SWEEP_EVERY = 10.0


# --- limits and configuration ------------------------------------------------------------------------
@dataclass
class JobLimits:
    """Per-job caps (the teacher may change them): wall time, epochs, model size."""

    max_seconds: float = 300.0
    max_epochs: int = 20
    max_params: int = 3_000_000

    def check_epochs(self, epochs: int) -> None:
        if epochs > self.max_epochs:
            raise LimitExceeded(f"{epochs} epochs is over this class's limit of {self.max_epochs}: choose fewer.")

    def check_params(self, n_params: int) -> None:
        if n_params > self.max_params:
            raise LimitExceeded(f"This model has {n_params:,} weights, over this class's limit of "
                                f"{self.max_params:,}: make it smaller (fewer units, layers or words).")

    def check_seconds(self, seconds: float) -> None:
        if seconds > self.max_seconds:
            raise LimitExceeded(f"A time limit of {seconds:.0f} s is over this class's limit of "
                                f"{self.max_seconds:.0f} s.")


class LimitExceeded(ValueError):
    """A setting is over a per-job limit; the message says which and what to do."""


def cpu_count() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS, Windows
        return max(os.cpu_count() or 1, 1)


def default_workers() -> int:
    """``RNNLAB_JOB_WORKERS`` if set; else one per GPU, or one per 2 CPU cores (at least 1)."""
    env = os.environ.get("RNNLAB_JOB_WORKERS")
    if env:
        return max(int(env), 1)
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.device_count()
    except Exception:
        pass
    return max(cpu_count() // 2, 1)


def thread_plan(workers: int, cores: int | None = None) -> tuple[int, int]:
    """(torch threads per worker, torch threads for the web server) with workers × threads <= cores.

    One share of the cores is kept for the server, so that predictions stay fast while jobs train:
    on 2 cores, 1 worker × 1 thread and 1 thread for the server."""
    cores = cores or cpu_count()
    env = os.environ.get("RNNLAB_JOB_THREADS")
    per_worker = max(int(env), 1) if env else max(cores // (workers + 1), 1)
    per_worker = min(per_worker, max(cores // max(workers, 1), 1))
    server = max(cores - workers * per_worker, 1)
    return per_worker, server


# --- what a job sees ----------------------------------------------------------------------------------
@dataclass
class JobEvent:
    kind: str            # phase | step | eval | epoch | lr | early_stop | diverged | progress | sample | message | ...
    step: int = 0
    epoch: int = 0
    data: dict = field(default_factory=dict)
    t: float = 0.0       # seconds since the job started running


class JobStopped(Exception):
    """Raised by ``JobContext.check()`` when the job must end now (``reason``: "stopped" or "time_limit")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class JobContext:
    """Handed to a job function in its worker: report progress, and learn when to stop.

    ``should_stop()`` is ``None`` while the job may go on, else ``"cancelled"`` (the user pressed Stop,
    or the tab is gone) or ``"time_limit"``; it is what the trainer's ``should_stop`` takes.
    ``stop_requests`` counts presses of Stop: a job that stopped training can keep evaluating after the
    first and give up at the second."""

    def __init__(self, job_id: int, send: Callable[[tuple], None], stop_flag, max_seconds: float,
                 limits: JobLimits | None = None, threads: int = 1, device: str | None = None):
        self.job_id = job_id
        self._send = send
        self._flag = stop_flag
        self.started = time.monotonic()
        self.max_seconds = max_seconds
        self.limits = limits or JobLimits(max_seconds=max_seconds)
        self.threads = threads
        self.device = device

    # time
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.max_seconds - self.elapsed()

    # stopping
    @property
    def stop_requests(self) -> int:
        return int(self._flag.value) if self._flag is not None else 0

    def should_stop(self) -> str | None:
        if self.stop_requests:
            return "cancelled"
        if self.remaining() <= 0:
            return "time_limit"
        return None

    def check(self) -> None:
        """Raise :class:`JobStopped` if the job must end now (between two pieces of work)."""
        reason = self.should_stop()
        if reason:
            raise JobStopped("stopped" if reason == "cancelled" else reason)

    # reporting
    def emit(self, kind: str, step: int = 0, epoch: int = 0, **data) -> None:
        self._send((self.job_id, "event", JobEvent(kind, int(step), int(epoch), _plain(data), self.elapsed())))

    def phase(self, name: str, **data) -> None:
        """A new phase ("loading data", "tokenising", "training", "evaluating"), shown on the page."""
        self.emit("phase", name=name, **data)

    def progress(self, done: float, total: float, text: str = "") -> None:
        self.emit("progress", done=float(done), total=float(total), text=text)

    def on_trainer_event(self, event) -> None:
        """Forward an :class:`rnnlab.train.Event` (pass this as the trainer's ``on_event``)."""
        self.emit(event.kind, event.step, event.epoch, **event.data)


# --- results: plain data and tensors, loaded with weights_only ----------------------------------------
def _plain(obj):
    """Numbers, strings, lists, dicts (and tensors): what may cross from a worker to the server."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def pack(result: dict) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(_plain(result), buf)
    return buf.getvalue()


def unpack(blob: bytes) -> dict:
    import torch

    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


def resolve(target: str | Callable) -> Callable:
    """``"package.module:function"`` -> the function (workers import it by name)."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def target_name(fn: str | Callable) -> str:
    if isinstance(fn, str):
        return fn
    return f"{fn.__module__}:{fn.__qualname__}"


# --- the server's view of a job ----------------------------------------------------------------------
@dataclass
class Job:
    id: int
    target: str
    kwargs: dict
    seed: int
    limits: JobLimits
    session: str | None = None
    meta: dict = field(default_factory=dict)
    state: str = "queued"                  # queued | running | stopping | finished | ... (END_STATES)
    events: list = field(default_factory=list)
    result: dict | None = None
    error: str | None = None
    details: str | None = None             # the traceback, for the server log only
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None
    last_seen: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None         # why a stop was asked: "stopped" (user), "time_limit", "gone" (no heartbeat)
    position: int = 0                      # 1-based place in the queue while queued
    wait_estimate: float | None = None     # seconds until a worker is free, at most (while queued)
    wait_typical: float | None = None      # the same, judged from recent jobs' durations (a guess)
    worker: int | None = None
    round: int = 0                         # the session's jobs queued or running before this one (fair queue)
    _runner: Any = field(default=None, repr=False, compare=False)

    # reading
    @property
    def running(self) -> bool:
        return self.state in ACTIVE

    @property
    def queued(self) -> bool:
        return self.state == "queued"

    @property
    def end_state(self) -> str | None:
        return self.state if self.state in END_STATES else None

    @property
    def end_label(self) -> str:
        return END_LABELS.get(self.state, self.state)

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def of_kind(self, *kinds: str) -> list[JobEvent]:
        return [e for e in list(self.events) if e.kind in kinds]

    def last(self, kind: str) -> JobEvent | None:
        for e in reversed(list(self.events)):
            if e.kind == kind:
                return e
        return None

    # acting
    def stop(self) -> None:
        """Ask the job to stop (a queued job just leaves the queue). A second call asks again."""
        if self._runner is not None:
            self._runner.stop(self)

    def heartbeat(self) -> None:
        """The page that owns this job is still open (call it from a live fragment)."""
        self.last_seen = time.monotonic()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (tests and scripts); True if it did."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.running:
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.02)
            if self._runner is not None:
                self.heartbeat()
        return True


# --- workers ------------------------------------------------------------------------------------------
def _worker_main(index: int, inbox, outbox, flag, threads: int, device: str | None) -> None:
    """A worker process: set its threads (and its GPU), then run one job at a time from its inbox.

    A worker given ``cuda:K`` sees only GPU K, as ``cuda``: every job, whatever device it picks by itself,
    then trains on that worker's GPU (CUDA reads the variable when it starts, which no import does)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if device and device.startswith("cuda:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = device.split(":", 1)[1]
        device = "cuda"
    import torch

    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    from ..device import seed_everything

    outbox.put((None, "ready", index))
    while True:
        msg = inbox.get()
        if msg is None:
            return
        job_id, target, kwargs, seed, limits = msg
        ctx = JobContext(job_id, outbox.put, flag, limits.max_seconds, limits, threads, device)
        try:
            seed_everything(seed)  # this process runs this one job now: its global RNG is the job's own
            result = resolve(target)(ctx, **kwargs)
            outbox.put((job_id, "result", pack(result or {})))
        except JobStopped as stopped:
            outbox.put((job_id, "stopped", stopped.reason))
        except LimitExceeded as err:
            outbox.put((job_id, "error", str(err), ""))
        except Exception as err:
            outbox.put((job_id, "error", _short_error(err), traceback.format_exc()))
        except BaseException as err:
            outbox.put((job_id, "error", _short_error(err), traceback.format_exc()))
            raise


def _short_error(err: BaseException) -> str:
    """One line for students: the error's message without server paths."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    text = _strip_paths(text)
    return text if isinstance(err, (ValueError, MemoryError)) else f"{type(err).__name__}: {text}"


def _strip_paths(text: str) -> str:
    import re

    return re.sub(r"(?:/[\w.\-]+){2,}", "<path>", text)


class _Worker:
    def __init__(self, index: int, mpctx, outbox, threads: int, device: str | None):
        self.index = index
        self.threads = threads
        self.inbox = mpctx.Queue()
        self.flag = mpctx.Value("i", 0)
        self.process = mpctx.Process(target=_worker_main, name=f"rnnlab-worker-{index}",
                                     args=(index, self.inbox, outbox, self.flag, threads, device), daemon=True)
        self.process.start()
        self.job: Job | None = None
        self.retire = False
        self.ready = False      # set when the process has imported torch and waits for work
        self.spawned = time.monotonic()

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


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
        self.n_workers = self._local_count(workers or default_workers())
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
        n = self._local_count(n)
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
    @staticmethod
    def _local_count(n: int) -> int:
        """Jobs at once on this machine: at least 1, at most one per core (each worker has at least one torch
        thread, so more workers than cores would oversubscribe them; a Ray cluster has no such cap)."""
        return min(max(int(n), 1), cpu_count())

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
                    w.inbox.put((job.id, job.target, job.kwargs, job.seed, job.limits))
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

    def _handle(self, msg: tuple) -> None:
        job_id, kind = msg[0], msg[1]
        if kind == "ready":
            for w in self._workers:
                if w.index == msg[2]:
                    w.ready = True
            return
        job = self._jobs.get(job_id)
        if job is None:
            return
        if kind == "event":
            if len(job.events) < MAX_EVENTS or msg[2].kind != "step":
                job.events.append(msg[2])
            return
        worker = self._worker_of(job)
        if kind == "result":
            result = unpack(msg[2])
            self._finish(job, self._end_state_from(job, result), result=result)
        elif kind == "stopped":
            reason = msg[2]
            if job.stop_reason == "gone":
                reason = "stopped"
            self._finish(job, "time_limit" if reason == "time_limit" else "stopped",
                         message="Stopped before training began." if reason != "time_limit" else
                         "The time limit was reached before training began.")
        elif kind == "error":
            self._finish(job, "error", message=msg[2], details=msg[3])
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


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds / 60)} min" if seconds >= 60 else f"{max(math.ceil(seconds), 1)} s"


def describe_wait(job: Job) -> str:
    """'2nd in the queue, about 1 min (at most 6 min)' for a page."""
    if not job.queued:
        return ""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(job.position if job.position < 20 else job.position % 10, "th")
    text = f"{job.position}{suffix} in the queue"
    if job.wait_estimate is not None:
        w = job.wait_estimate
        if w < 1:
            return text + ", starting now"
        if job.wait_typical is not None:
            text += f", about {_duration(job.wait_typical)}"
        text += f" (at most {_duration(w)})" if job.wait_typical is not None else f", at most {_duration(w)}"
        if job.round > 0:   # a classmate's first training may still go ahead of it: the bound is not firm
            text += " if no classmate queues a first training before it starts"
    return text
