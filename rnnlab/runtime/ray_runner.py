"""Training jobs on a Ray cluster, for a course that outgrows one server (or wants GPUs).

Chosen by ``RNNLAB_RAY_ADDRESS`` (e.g. ``ray://head.example.org:10001``, ``auto`` on a node of the
cluster, or ``local`` to start Ray on this machine); without it, or without Ray installed
(``pip install -r requirements-cluster.txt``), the app uses :class:`rnnlab.runtime.jobs.LocalRunner` and
nothing here is imported. The interface is the same:

    runner = RayRunner(address="ray://head:10001", heartbeat_timeout=60)
    job = runner.submit(sentiment_job, {...}, seed=0, limits=..., meta={...})
    job.events, job.stop(), job.end_state, job.result       # as with local jobs

Each job is one Ray *actor* (its own worker process on some node of the cluster), created when the job
leaves the queue and killed when it ends, so an idle class holds no CPU or GPU. The actor is threaded:
one thread runs the job function with the same :class:`JobContext` as a local worker; the server asks
the others for new events every 0.1 s (``drain``) and sends Stop (``stop``), which the job reads through
``ctx.should_stop()``. The actor is sent the same :class:`JobTask` as a local worker, runs it with the same
``run_task`` and answers the same messages (``rnnlab.runtime.jobs.messages``); what the job returns travels
back as the same weights-only ``torch.save`` bytes.

The queue is the server's (:class:`BaseRunner`'s fair queue, as locally), with at most ``workers`` jobs on
the cluster at once (default: the cluster's CPUs divided by ``threads``, or one per GPU); Ray places each
actor where its resources are free. A GPU job asks Ray for ``gpus_per_job`` GPUs (``RNNLAB_RAY_GPUS_PER_JOB``; default
1 when the cluster has GPUs, and a fraction such as 0.25 lets four small trainings share one).

The runner ends jobs itself as the local runner does: past the time limit plus ``grace``, ``grace``
seconds after an ignored Stop, or when the page's heartbeat stops, it kills the actor; a crashed actor
(or a lost node) makes its job an ``error`` and the others go on; a job that no node can take within
``start_timeout`` seconds (no free GPU, say) fails with a message instead of waiting for ever.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from pathlib import Path
from typing import NamedTuple

from ..inputs import env_number
from ..status import ACTIVE, END_STATES, Status
from .fairness import Retention
from .jobs import Job, JobContext
from .jobs.base import NOT_IN_TIME, BaseRunner
from .jobs.messages import EventMessage, FinalMessage, JobTask
from .jobs.worker import run_task
from .ray_address import check_ray_address

POLL = 0.1


def _ray():
    try:
        import ray
    except ImportError as err:   # the optional dependency
        raise RuntimeError("Ray is not installed: pip install -r requirements-cluster.txt") from err
    return ray


# --- inside the cluster: one actor per job ---------------------------------------------------------------
class Drained(NamedTuple):
    """What :meth:`JobActor.drain` answers."""

    job_id: int | None           # the job the actor runs now (None before its first)
    elapsed: float | None        # seconds since that job started in the actor
    messages: list[EventMessage]


class _Flag:
    """What ``JobContext`` reads to learn that Stop was pressed (a ``multiprocessing.Value`` locally)."""

    def __init__(self):
        self.value = 0


class JobActor:
    """Runs one job in a Ray worker process (wrapped by ``ray.remote`` in :func:`_actor_class`)."""

    def __init__(self, threads: int, device: str | None):
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import torch

        torch.set_num_threads(threads)
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)
        self.threads, self.device = threads, device
        self._lock = threading.Lock()
        self._messages: list = []
        self._flag = _Flag()
        self._ctx: JobContext | None = None
        self._job_id: int | None = None

    def _send(self, message: EventMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def _take(self) -> list[EventMessage]:
        with self._lock:
            out, self._messages = self._messages, []
        return out

    def run(self, task: JobTask) -> tuple[list[EventMessage], FinalMessage]:
        """The job, start to end; returns (events not yet drained, the final message)."""
        with self._lock:
            if self._job_id != task.job_id:     # a Stop may have arrived before the job did: keep it
                self._flag = _Flag()
            self._job_id = task.job_id
            ctx = JobContext(task.job_id, self._send, self._flag, task.limits.max_seconds, task.limits,
                             self.threads, self.device)
            self._ctx = ctx
        final = run_task(task, ctx)
        return self._take(), final

    def drain(self) -> Drained:
        """The job running now, seconds since it started, and its events since the last call."""
        with self._lock:
            ctx, job_id = self._ctx, self._job_id
        return Drained(job_id, (ctx.elapsed() if ctx is not None else None), self._take())

    def stop(self, job_id: int) -> None:
        """Stop pressed for ``job_id`` (ignored if this actor has moved on to another job)."""
        with self._lock:
            if self._job_id is None or self._job_id < job_id:
                self._job_id, self._flag, self._ctx = job_id, _Flag(), None
            if self._job_id == job_id:
                self._flag.value += 1


_ACTOR = None


def _actor_class():
    """``JobActor`` as a Ray actor: threaded (so drain and stop run while the job does), never restarted."""
    global _ACTOR
    if _ACTOR is None:
        _ACTOR = _ray().remote(max_concurrency=4, max_restarts=0)(JobActor)
    return _ACTOR


_RAY_HOME_STOP = threading.Event()


def _init_ray(address: str | None, kwargs: dict) -> None:
    """``ray.init`` in a thread that lives as long as the server.

    A local Ray (``RNNLAB_RAY_ADDRESS=local``) starts its own processes and asks Linux to kill them when
    their parent *thread* ends (``PR_SET_PDEATHSIG``). Called from a Streamlit page, that thread is the
    script run's, which ends a moment later, and Ray with it. So a thread of our own starts Ray and stays."""
    ray = _ray()
    done, errors = threading.Event(), []

    def home() -> None:
        try:
            ray.init(address=address, **kwargs)
        except BaseException as err:
            errors.append(err)
        finally:
            done.set()
        if not errors:
            _RAY_HOME_STOP.wait()

    threading.Thread(target=home, name="rnnlab-ray-home", daemon=True).start()
    done.wait()
    if errors:
        raise errors[0]


# --- the server's side -----------------------------------------------------------------------------------
class _Slot:
    """One of the ``workers`` places for a job on the cluster (the local runner's worker process)."""

    def __init__(self, index: int):
        self.index = index
        self.job: Job | None = None
        self.retire = False
        self.actor = None
        self.run_ref = None
        self.drain_ref = None
        self.confirmed = False
        self.dispatched = 0.0
        self.idle_since = 0.0


def _crashed(err: BaseException) -> bool:
    """Did the job's process (or its node) die, rather than Ray failing to run it?"""
    names = ("RayActorError", "ActorDiedError", "WorkerCrashedError", "ObjectLostError", "NodeDiedError",
             "OutOfMemoryError")
    kinds = tuple(k for k in (getattr(_ray().exceptions, n, None) for n in names) if isinstance(k, type))
    return isinstance(err, kinds)


class RayRunner(BaseRunner):
    """The job runner's interface (submit, stop, jobs, active, set_workers, forget, shutdown, listeners),
    with each job an actor on a Ray cluster. Queue, end states and listeners are :class:`BaseRunner`'s,
    as for the local runner."""

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int | None = None,
                 heartbeat_timeout: float = 60.0, grace: float = 10.0, gpus_per_job: float | None = None,
                 start_timeout: float = 300.0, keep_warm: float = 60.0, on_end=None, init_kwargs: dict | None = None,
                 per_session: int | None = None, retention: Retention | None = None, session_alive=None):
        ray = _ray()
        owns_ray = False
        if not ray.is_initialized():
            address = address or os.environ.get("RNNLAB_RAY_ADDRESS") or None
            check_ray_address(address or "")     # no jobs (code) to a cluster that anyone could reach
            kwargs = {"log_to_driver": False, "namespace": "rnnlab", **(init_kwargs or {})}
            # Ray's workers import rnnlab from here, on every node (Ray uploads the package once per version)
            kwargs.setdefault("runtime_env", {"py_modules": [str(Path(__file__).resolve().parents[1])]})
            _init_ray(None if address == "local" else address, kwargs)
            owns_ray = True
        resources = ray.cluster_resources()
        env_gpus = env_number("RNNLAB_RAY_GPUS_PER_JOB", 0, None, integer=False)
        if gpus_per_job is None:
            gpus_per_job = env_gpus if env_gpus is not None else (1.0 if resources.get("GPU", 0) >= 1 else 0.0)
        threads = int(threads or env_number("RNNLAB_JOB_THREADS", 1, None) or 1)
        if workers is None:
            if gpus_per_job > 0:
                workers = int(resources.get("GPU", 0) // gpus_per_job)
            else:
                workers = int(resources.get("CPU", 1) // threads)
        super().__init__(max(int(workers), 1), heartbeat_timeout, grace, on_end=on_end, per_session=per_session,
                         retention=retention, session_alive=session_alive)
        self._owns_ray = owns_ray
        self.gpus_per_job = float(gpus_per_job)
        self.threads = threads
        self.device = "cuda" if self.gpus_per_job > 0 else "cpu"
        self.device_label = f"Ray: {'GPU' if self.gpus_per_job > 0 else 'CPU'}"
        self.start_timeout = start_timeout
        self.keep_warm = keep_warm
        self._workers: list[_Slot] = [_Slot(i) for i in range(self.n_workers)]
        self._start_pump("rnnlab-ray-jobs")

    # --- public (what differs from the local runner) -----------------------------------------------------
    def set_workers(self, n: int) -> None:
        """How many jobs may be on the cluster at once (busy slots finish their job first)."""
        n = max(int(n), 1)
        with self._lock:
            self.n_workers = n
            live = [s for s in self._workers if not s.retire]
            for _ in range(len(live), n):
                self._workers.append(_Slot(max((s.index for s in self._workers), default=-1) + 1))
            for s in live[n:]:
                s.retire = True
                if s.job is None:
                    self._kill(s)
                    self._retire(s)
        self._dispatch()

    def shutdown(self) -> None:
        super().shutdown()
        self._pump_thread.join(5)
        if self._owns_ray:
            _ray().shutdown()

    @property
    def workers_alive(self) -> int:
        return sum(1 for s in self._workers if not s.retire)

    # --- the slots and their actors ----------------------------------------------------------------------
    def _can_take(self, slot: _Slot) -> bool:
        return True       # Ray finds the job a place (or the start timeout ends it)

    def _send(self, slot: _Slot, job: Job) -> None:
        slot.confirmed, slot.dispatched = False, job.started      # the start timeout counts from here
        job.meta.setdefault("device", self.device_label)
        options = {"num_cpus": self.threads}
        if self.gpus_per_job > 0:
            options["num_gpus"] = self.gpus_per_job
        if slot.actor is None:
            slot.actor = _actor_class().options(**options).remote(self.threads, self.device)
        slot.run_ref = slot.actor.run.remote(job.task())

    def _signal_stop(self, job: Job) -> None:
        slot = self._worker_of(job)
        if slot is not None and slot.actor is not None:
            slot.actor.stop.remote(job.id)

    def _retire(self, slot: _Slot) -> None:
        if slot in self._workers:
            self._workers.remove(slot)

    def _close_workers(self) -> None:
        for s in self._workers:
            self._kill(s)

    def _kill(self, slot: _Slot) -> None:
        if slot.actor is not None:
            with contextlib.suppress(Exception):
                _ray().kill(slot.actor, no_restart=True)
        slot.actor = slot.run_ref = slot.drain_ref = None

    def _free(self, slot: _Slot, keep: bool = False) -> None:
        """The slot's job is over. ``keep``: the actor ended cleanly and stays warm for the next job
        (a new actor imports torch again: seconds), for ``keep_warm`` seconds."""
        if keep and not slot.retire and self.keep_warm > 0:
            slot.run_ref = slot.drain_ref = None
            slot.idle_since = time.monotonic()
        else:
            self._kill(slot)
        slot.job = None
        slot.confirmed = False
        if slot.retire:
            self._kill(slot)
            self._retire(slot)

    def _take_drain(self, slot: _Slot, timeout: float | None = None) -> None:
        ref, slot.drain_ref = slot.drain_ref, None
        if ref is None or slot.job is None:
            return
        try:
            drained: Drained = _ray().get(ref, timeout=timeout)
        except Exception:
            return
        if drained.job_id == slot.job.id and drained.elapsed is not None and not slot.confirmed:
            slot.confirmed = True
            slot.job.started = time.monotonic() - drained.elapsed   # the limit counts from the job's own start
        for message in drained.messages:
            self._handle(message)

    def _take_result(self, slot: _Slot) -> None:
        job = slot.job
        if slot.drain_ref is not None:
            self._take_drain(slot, timeout=5)
        try:
            leftovers, final = _ray().get(slot.run_ref)
        except Exception as err:
            reason = "The training process crashed" if _crashed(err) else "The training failed on the cluster"
            self._finish(job, Status.ERROR, message=f"{reason} ({type(err).__name__}). Other jobs go on.",
                         details="".join(traceback.format_exception(err)))
            self._free(slot)
            return
        for message in leftovers:
            self._handle(message)
        self._handle(final)       # finishes the job (and frees the slot via _worker_of/_retire)
        self._free(slot, keep=True)

    def _watch(self) -> None:
        """Time limits, heartbeats, hard stops, actors that never started, and idle actors."""
        now = time.monotonic()
        with self._lock:
            self._stop_queued_if_gone(now)
            for slot in list(self._workers):
                job = slot.job
                if job is None and slot.actor is not None and now - slot.idle_since > self.keep_warm:
                    self._kill(slot)          # idle: give its CPU (or GPU) back to the cluster
                if job is None or job.state not in ACTIVE:
                    continue
                self._stop_if_gone(job, now)
                if not slot.confirmed and now - slot.dispatched > self.start_timeout:
                    self._finish(job, Status.ERROR, message=f"No machine of the cluster could take this training "
                                 f"within {self.start_timeout:.0f} s (no free CPU or GPU). Try again later.")
                    self._free(slot)
                    continue
                state = self._forced_end(job, now, timed=slot.confirmed)
                if state is not None:
                    self._finish(job, state, message=NOT_IN_TIME)
                    self._free(slot)

    def _pump(self) -> None:
        ray = _ray()
        while not self._closed:
            try:
                with self._lock:
                    busy = [s for s in self._workers if s.job is not None and s.run_ref is not None]
                    for s in busy:
                        if s.drain_ref is None:
                            s.drain_ref = s.actor.drain.remote()
                    refs = [s.run_ref for s in busy] + [s.drain_ref for s in busy if s.drain_ref is not None]
                if refs:
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=POLL)
                else:
                    time.sleep(POLL)
                    ready = []
                ready = set(ready)
                with self._lock:
                    for s in busy:
                        if s.job is None or s.job.state in END_STATES:
                            continue
                        if s.run_ref in ready:
                            self._take_result(s)
                        elif s.drain_ref in ready:
                            self._take_drain(s)
                self._housekeeping()
                self._dispatch()
            except Exception:
                if self._closed:
                    return
                traceback.print_exc()
                time.sleep(POLL)
