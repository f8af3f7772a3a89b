"""The server's view of a job: its state, events and result, and its place in the queue for a page."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ...status import ACTIVE, END_LABELS, END_STATES, Status
from .limits import JobLimits
from .messages import JobEvent, JobTask


@dataclass
class Job:
    id: int
    target: str
    kwargs: dict
    seed: int
    limits: JobLimits
    session: str | None = None
    meta: dict = field(default_factory=dict)
    state: Status = Status.QUEUED          # queued | running | stopping | finished | ... (END_STATES)
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
        return self.state == Status.QUEUED

    @property
    def end_state(self) -> Status | None:
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

    def task(self) -> JobTask:
        """What its worker is sent to run it."""
        return JobTask(self.id, self.target, self.kwargs, self.seed, self.limits)

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
