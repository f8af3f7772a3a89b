"""Live trainings from a page: submit a job to the server's one job runner, show its place in the queue,
its phase and progress, a Stop button, and how it ended. The training itself runs in a worker process
(``rnnlab.runtime.jobs``); this module only talks to it.

    from rnnlab.labs.sentiment import sentiment_job

    training.train_live(
        "sent_job", training.Button("▶ Start training", "sent_start"),
        lambda: training.Submission(sentiment_job, {...}, meta={"lab": "sentiment", ...}),
        draw=curves,              # the live figure, from job.events, redrawn while it runs
        when_done=results)        # under the end banner, once it has returned a result

``train_live`` is the whole round trip: the button, the submit, a live fragment (queue place or progress bar
and Stop, then ``draw(job)``), one rerun of the page when the job ends, its end banner and ``when_done(job)``.
Its parts (``submit``, ``panel``, ``rerun_once_finished``, ``end_banner``) stay public for the odd page.

A job belongs to the session that submitted it (``session_state``); while that page is open its live
fragment sends heartbeats, and a job whose tab was closed is stopped by the runner. A session may hold
the teacher's number of jobs queued or running (``Settings.jobs_per_session``); the queue serves sessions
in turn, and ended jobs are forgotten once their session is gone (``rnnlab.runtime.fairness``).

The runner is a process-level singleton (``rnnlab.runtime.singletons``), not an ``st.cache_resource``:
any client can clear that cache, and a second runner would start a second pool of workers.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from rnnlab.runtime.board import board_listener, clean_nickname
from rnnlab.runtime.fairness import Retention, SessionLimit
from rnnlab.runtime.jobs import END_LABELS, Job, JobLimits, LimitExceeded, LocalRunner, describe_wait
from rnnlab.runtime.settings import explicit_workers, load_settings
from rnnlab.runtime.singletons import drop_singleton, peek_singleton, process_singleton

HEARTBEAT_TIMEOUT = float(os.environ.get("RNNLAB_HEARTBEAT_TIMEOUT", 60))
#: Seconds between two redraws of a running job's live panel. Each redraw rebuilds and sends its curves:
#: at 1 s, two sessions watching trainings kept the app server busy 39% of one core (bench/classroom.py).
LIVE_EVERY = float(os.environ.get("RNNLAB_LIVE_EVERY", 2.0))
#: Ended jobs kept per session, and minutes a gone session's jobs (results, weights) are kept for a reconnect.
KEEP_ENDED = int(os.environ.get("RNNLAB_KEEP_ENDED_JOBS", 5))
KEEP_MINUTES = float(os.environ.get("RNNLAB_KEEP_ENDED_MINUTES", 15))


RUNNER_NOTE: dict[str, str] = {}   # why the Ray cluster was not used, for the Teacher page


RUNNER = "job-runner"


def runner() -> LocalRunner:
    """The server's one job runner (worker processes start with the first training): a Ray cluster when
    ``RNNLAB_RAY_ADDRESS`` names one, else worker processes on this machine. Every job that ends leaves a
    row on the class board. Made once per process, whatever clients send."""
    return process_singleton(RUNNER, _make_runner, valid=lambda r: not r._closed)


def _make_runner() -> LocalRunner:
    address = os.environ.get("RNNLAB_RAY_ADDRESS", "").strip()
    rules = {"per_session": load_settings().jobs_per_session, "session_alive": session_alive,
             "retention": Retention(per_session=KEEP_ENDED, linger=KEEP_MINUTES * 60)}
    r = None
    if address:
        try:
            from rnnlab.runtime.ray_runner import RayRunner

            r = RayRunner(address=address, workers=explicit_workers(), heartbeat_timeout=HEARTBEAT_TIMEOUT, **rules)
        except Exception as err:
            RUNNER_NOTE["ray"] = f"{type(err).__name__}: {err}"
            print(f"rnnlab: the Ray cluster at {address!r} could not be used ({err}); training on this server.")
    if r is None:
        r = LocalRunner(workers=load_settings().workers, heartbeat_timeout=HEARTBEAT_TIMEOUT, devices=gpu_devices(),
                        **rules)
    r.listeners.append(board_listener(device=_device_name()))
    return r


def started_runner():
    """The job runner if a page has started it, else None (does not start one)."""
    return peek_singleton(RUNNER)


def reset_runner() -> None:
    """Tests: shut the runner down and forget it (the next ``runner()`` makes a new one)."""
    r = drop_singleton(RUNNER)
    if r is not None:
        r.shutdown()


def session_alive(session: str) -> bool | None:
    """Is this Streamlit session still connected? (True where no Streamlit server runs: tests, scripts.)"""
    try:
        from streamlit.runtime import Runtime

        if not _real_runtime(Runtime):
            return True
        return bool(Runtime.instance().is_active_session(session))
    except Exception:
        return True


def _real_runtime(runtime_class) -> bool:
    """A Streamlit server runs this process (AppTest puts a mock in its place)."""
    return runtime_class.exists() and type(runtime_class.instance()) is runtime_class


def apply_workers() -> int | None:
    """Make the running job runner use the teacher's number of trainings at once (None: not started yet)."""
    r = started_runner()
    if r is None:
        return None
    workers = explicit_workers()
    if workers is not None and workers != r.n_workers:
        r.set_workers(workers)
    return r.n_workers


def gpu_devices() -> list[str] | None:
    """One GPU per worker on a machine with several (``cuda:0``, ``cuda:1``, ...); None with one or none."""
    import torch

    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [f"cuda:{i}" for i in range(n)] if n > 1 else None


def _device_name() -> str:
    from rnnlab.runtime.device import device_label, pick_device

    label = device_label(pick_device())
    return "CPU" if label.startswith("CPU") else label


def limits() -> JobLimits:
    """The per-job limits of this class (the teacher's settings; defaults fit a 2-core laptop)."""
    return load_settings().limits()


def session_id() -> str:
    """This browser tab's Streamlit session id: what the per-student cap, the fair queue and the retention
    of ended jobs count by. Without a Streamlit server (AppTest, bare scripts) every session has the same
    id, so each gets one of its own, kept in its session state."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is not None and _real_runtime(Runtime):
            return ctx.session_id
        if ctx is not None:
            import uuid

            return st.session_state.setdefault("_rnnlab_session", f"bare-{uuid.uuid4().hex}")
    except Exception:
        pass
    return "local"


def current(key: str) -> Job | None:
    return st.session_state.get(key)


def active(key: str) -> bool:
    job = current(key)
    return job is not None and job.running


def submit(key: str, target: Callable, kwargs: dict, *, seed: int = 0, meta: dict | None = None,
           job_limits: JobLimits | None = None) -> Job | None:
    """Queue a training for this session under ``key`` (one live job per key: a running one is stopped).

    ``target``: the job function itself, a top-level function of a lab (the runner sends its qualified name and
    the worker imports it). ``job_limits``: this job's limits (default: the class's, ``limits()``).

    None, with a message on the page, when this session already has the class's number of trainings running
    or waiting (the one under ``key`` does not count: the new one replaces it)."""
    old = current(key)
    settings = load_settings()
    r = runner()
    if r.n_workers != settings.workers and explicit_workers() is not None:
        r.set_workers(settings.workers)        # the teacher changed it (maybe on another app server)
    # the class board records the class code in force now and the nickname the student chose (if any)
    meta = {**(meta or {}), "class_code": settings.class_code,
            "nickname": clean_nickname(st.session_state.get("nickname", ""))}
    try:
        job = r.submit(target, kwargs, seed=seed, limits=job_limits or limits(), session=session_id(), meta=meta,
                       per_session=settings.jobs_per_session, replaces=old if old is not None and old.running else None)
    except SessionLimit as err:
        st.warning(str(err), icon=":material/back_hand:")
        return None
    st.session_state[key] = job
    st.session_state.pop(f"{key}_seen", None)
    return job


def check_limits(*, epochs: int | None = None, params: int | None = None, seconds: float | None = None) -> str | None:
    """The first setting over this class's per-job limits, as a message (None if all fit)."""
    lim = limits()
    try:
        if epochs is not None:
            lim.check_epochs(epochs)
        if params is not None:
            lim.check_params(params)
        if seconds is not None:
            lim.check_seconds(seconds)
    except LimitExceeded as err:
        return str(err)
    return None


def progress_of(job: Job) -> tuple[float, str]:
    """(fraction done, text) from the job's latest phase, progress and step events."""
    phase = job.last("phase")
    name = phase.data.get("name", "") if phase is not None else ""
    prog = job.last("progress")
    total = job.meta.get("total_steps")
    step = job.last("step")
    if name and name != "training" and prog is not None and (phase is None or prog.t >= phase.t):
        d = prog.data
        frac = d["done"] / d["total"] if d.get("total") else 0.0
        return min(frac, 1.0), d.get("text") or f"{name.capitalize()}…"
    if step is not None and total:
        return min(step.step / total, 1.0), f"Training… step {step.step:,}/{total:,} · {job.elapsed():.0f} s"
    if step is not None:
        return 0.0, f"Training… step {step.step:,} · {job.elapsed():.0f} s"
    return 0.0, (name.capitalize() + "…") if name else "Starting…"


def panel(key: str, stop_label: str = "■ Stop") -> Job | None:
    """Inside a live fragment: heartbeat, then the queue position or the progress bar, and Stop."""
    job = current(key)
    if job is None:
        return None
    job.heartbeat()
    if job.queued:
        c1, c2 = st.columns([3, 1])
        c1.info(f"Waiting for a free training slot: {describe_wait(job)}. The page can stay open; "
                "the training starts by itself.")
        c2.button("Leave the queue", key=f"{key}_leave", on_click=job.stop, width="stretch")
    elif job.running:
        frac, text = progress_of(job)
        c1, c2 = st.columns([3, 1])
        c1.progress(frac, text=("Stopping… " if job.state == "stopping" else "") + text)
        stopping = job.state == "stopping"
        c2.button("■ Stop evaluating too" if stopping else stop_label, key=f"{key}_stop", on_click=job.stop,
                  width="stretch", help="Training stops after the current step and keeps the best weights so far."
                  if not stopping else "Skip the rest of the test evaluation.")
    return job


def rerun_once_finished(key: str) -> None:
    """From a live fragment: when the job has just ended, rerun the whole page (once) to show the results."""
    job = current(key)
    if job is not None and not job.running and st.session_state.get(f"{key}_seen") is not job:
        st.session_state[f"{key}_seen"] = job
        st.rerun()


def end_banner(job: Job) -> None:
    """How the job ended, in one coloured line: finished, early-stopped, diverged, stopped, time limit, error."""
    state = job.end_state
    if state is None:
        return
    result = job.result or {}
    message = result.get("message") or job.meta.get("end_message") or ""
    label = END_LABELS[state].capitalize()
    if state == "error":
        st.error(f"**Training failed.** {job.error}")
    elif state == "diverged":
        st.error(f"**Diverged.** {message}")
    elif state in ("stopped", "time_limit"):
        st.warning(f"**{label}.** {message}")
    elif state == "early_stopped":
        st.info(f"**Early-stopped.** {message}")
    else:
        st.success(f"**Finished.** {message}")


def trained_enough(job: Job) -> bool:
    """A model worth using or downloading: it trained at least one whole epoch and did not diverge."""
    if job.end_state in (None, "error", "diverged") or not job.result:
        return False
    return int(job.result.get("epochs_completed", 0)) >= 1


def wait_for(job: Job, timeout: float = 120.0) -> None:
    """Tests and scripts: block until the job ends (at most ``timeout`` s), sending its heartbeats."""
    job.wait(timeout)


@dataclass(frozen=True)
class Submission:
    """What a Train button sends: the job function (a top-level function of a lab, imported at the top of the
    page), its keyword arguments, and the job's seed, ``meta`` (what the class board and the page read back:
    lab, task, cell, params, total_steps, ...) and limits (None: the class's)."""

    target: Callable
    kwargs: dict
    meta: dict
    seed: int = 0
    job_limits: JobLimits | None = None


@dataclass(frozen=True)
class Button:
    """The button that starts a job: its label, widget key and look; ``where``: the column or container it
    goes in (None: the page, at the point of the call)."""

    label: str
    key: str
    primary: bool = True
    disabled: bool = False
    help: str | None = None
    stretch: bool = False
    where: Any = None

    def pressed(self) -> bool:
        where = st if self.where is None else self.where
        return where.button(self.label, key=self.key, type="primary" if self.primary else "secondary",
                            disabled=self.disabled, help=self.help, width="stretch" if self.stretch else "content")


def train_live(key: str, button: Button | None = None, start: Callable[[], Submission | None] | None = None,
               draw: Callable[[Job], None] | None = None, when_done: Callable[[Job], None] | None = None, *,
               idle: str | Callable[[], None] | None = None, draw_ended: bool = False, rerun: bool = False,
               shows: Callable[[Job], bool] | None = None) -> Job | None:
    """A page's training from its button to its result, the job living under ``key``:

    1. ``button`` pressed: ``start()`` returns what to submit (or None, having shown why not), and the job is
       queued (``rerun``: the page is then redrawn at once, e.g. to disable the button while it runs);
    2. a live fragment, redrawn every ``LIVE_EVERY`` s while the job is queued or running: heartbeat, queue
       place or progress bar and Stop (``panel``), then ``draw(job)``, the page's live figure (``draw_ended``:
       also once the job has ended, above its banner). With no job yet: ``idle``, a caption or a function;
    3. when the job ends, the page reruns once; then the end banner, and ``when_done(job)`` if it returned
       a result.

    ``shows(job)``: whether the job under ``key`` belongs to what the page shows now (default: it does); one
    that does not is treated as no job. Returns the job shown, or None."""
    if button is not None and button.pressed() and start is not None:
        sent = start()
        if sent is not None:
            job = submit(key, sent.target, sent.kwargs, seed=sent.seed, meta=sent.meta, job_limits=sent.job_limits)
            if job is not None and rerun:
                st.rerun()

    def shown() -> Job | None:
        job = current(key)
        return job if job is not None and (shows is None or shows(job)) else None

    before = shown()

    @st.fragment(run_every=LIVE_EVERY if before is not None and before.running else None)
    def _live():
        job = shown()
        if job is None:
            if callable(idle):
                idle()
            elif idle:
                st.caption(idle)
            return
        panel(key)
        if draw is not None and (job.running or draw_ended):
            draw(job)
        rerun_once_finished(key)

    _live()
    job = shown()
    if job is not None and not job.running:
        end_banner(job)
        if when_done is not None and job.result:
            when_done(job)
    return job
