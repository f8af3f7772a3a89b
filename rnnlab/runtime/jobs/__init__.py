"""Training jobs: every live training in the app is a job, queued and run in a worker *process*.

Why processes: a training in the web server's own process would share its cores and its Python
interpreter with 30 students' clicks. Here the server only submits jobs and reads their events; a small,
fixed number of worker processes (``multiprocessing`` with *spawn*) run them one at a time each, with
torch's thread count set so that workers × threads never exceeds the cores.

    from rnnlab.labs.sentiment import sentiment_job

    runner = LocalRunner(workers=1)
    job = runner.submit(sentiment_job, {"recipe": {...}}, seed=0,
                        limits=JobLimits(max_seconds=120), session="abc", meta={"lab": "sentiment"})
    job.events          # JobEvent(kind="step", step=12, data={"loss": 0.61, ...}), ... streamed live
    job.stop()          # asks the job to stop: it ends its current step and keeps what it has
    job.end_state       # a Status: finished / early_stopped / diverged / stopped / time_limit / error
    job.result          # what the job function returned: plain data and tensors (weights only)

A job function is a top-level function ``fn(ctx: JobContext, **kwargs) -> dict``. Only its name crosses to
the worker (``"rnnlab.labs.sentiment:sentiment_job"``; a page may pass that string too), and the worker
imports it. It reports with ``ctx.emit``/``ctx.phase``, and calls ``ctx.check()`` (or reads
``ctx.should_stop()``) between pieces of work, in every phase: loading data, tokenising, each training
step, evaluating. Its result travels back as a ``torch.save`` of plain data and tensors, read with
``weights_only=True``: never a pickle of code.

A job also ends without its own help: past its time limit (plus a grace period) or ``grace`` seconds after
a stop, its worker is terminated and replaced; when the session that submitted it sends no heartbeat for
``heartbeat_timeout`` seconds (the tab was closed) it is stopped; a worker that crashes turns its job into
an ``error`` and is replaced, and the other jobs go on.

The standard library's ``ProcessPoolExecutor`` was not enough: one crashed worker breaks the whole pool
and every job in it, and a single stuck job cannot be terminated. So each worker here is one
``multiprocessing`` process with its own inbox; one thread of the server routes events and hands queued
jobs to idle workers in order (first in, first out).

The package, from what a job sees to what the server runs:

    limits.py    JobLimits, LimitExceeded; how many workers and threads this machine runs (thread_plan)
    context.py   JobContext, JobStopped; pack/unpack (results), resolve/target_name (functions)
    messages.py  the typed messages between server and worker: JobTask in, Ready/Event/Result/Stopped/Error out,
                 and the JobEvent an EventMessage carries
    job.py       Job, the server's view of one job; describe_wait for a page
    worker.py    the worker process (and run_task, which a Ray actor uses too)
    base.py      BaseRunner: queue, fairness, submit/stop/sweep, how a job ends (shared with RayRunner)
    local.py     LocalRunner: the worker processes of this machine

Every name is importable from ``rnnlab.runtime.jobs``; the status vocabulary is :mod:`rnnlab.status`.
"""
from __future__ import annotations

from ...status import ACTIVE, END_LABELS, END_STATES, Status
from ..fairness import FairQueue, Retention, SessionLimit, check_session_cap, queue_waits, release
from .base import MAX_EVENTS, SWEEP_EVERY, BaseRunner
from .context import JobContext, JobStopped, pack, resolve, target_name, unpack
from .job import Job, describe_wait
from .limits import JobLimits, LimitExceeded, cpu_count, default_workers, local_workers, thread_plan
from .local import LocalRunner
from .messages import JobEvent

__all__ = [
    # limits and configuration (limits.py)
    "JobLimits", "LimitExceeded", "cpu_count", "default_workers", "local_workers", "thread_plan",
    # what a job sees (context.py)
    "JobContext", "JobEvent", "JobStopped", "pack", "unpack", "resolve", "target_name",
    # the server's view of a job (job.py)
    "Job", "describe_wait",
    # the status vocabulary, re-exported from rnnlab.status
    "Status", "ACTIVE", "END_STATES", "END_LABELS",
    # the runners (base.py, local.py)
    "BaseRunner", "LocalRunner", "MAX_EVENTS", "SWEEP_EVERY",
    # the class's rules, re-exported from rnnlab.runtime.fairness
    "FairQueue", "Retention", "SessionLimit", "check_session_cap", "queue_waits", "release",
]
