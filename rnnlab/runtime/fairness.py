"""The class's rules for sharing the training workers: a fair queue, a cap per student, and how long an
ended job is kept.

A first-come-first-served queue lets one student with three tabs push the whole class back: six jobs in,
and the next student waits seventh. Here the queue serves sessions in rounds (everyone's first training,
then everyone's second), each session may hold at most ``per_session`` jobs queued or running, and ended
jobs are dropped once nobody can still look at them.

    q = FairQueue()
    q.append(job, round_=1)            # the session already had one job queued or running
    q.popleft()                        # the next job to run: lowest round first, then first come
    list(q)                            # the order jobs will start in (positions on the pages)

    keep = Retention(per_session=5, linger=900)
    keep.sweep(jobs, alive=lambda s: ..., now=time.monotonic())   # the ended jobs to forget now
"""
from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

NO_SESSION = ""
#: seconds from a job's forced end to the next job's start (replacing a killed worker), for wait bounds
END_MARGIN = 10.0
#: seconds a new worker process may take to start (import torch), at most and typically, for wait bounds
WORKER_START_BOUND, WORKER_START_GUESS = 30.0, 5.0


def _owner(job) -> str:
    return job.session or NO_SESSION


class FairQueue:
    """Waiting jobs in rounds: a job's *round* is how many jobs its session already had queued or running
    when it was submitted (0 for a student's first). Jobs start by round, then in the order they came.

    So every student's first training starts before anyone's second, and a first training is never
    overtaken (its estimated wait is an upper bound); a second one may be, by a classmate's first. It keeps
    the ``deque`` methods the runners use (append, popleft, remove, iteration, len)."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, object]] = []     # (round, arrival, job), kept sorted
        self._arrivals = itertools.count()

    def append(self, job, round_: int = 0) -> None:
        bisect.insort(self._items, (int(round_), next(self._arrivals), job), key=lambda t: (t[0], t[1]))

    def popleft(self):
        """The job to start next (IndexError when empty)."""
        if not self._items:
            raise IndexError("pop from an empty queue")
        return self._items.pop(0)[2]

    def remove(self, job) -> None:
        for k, item in enumerate(self._items):
            if item[2] is job:
                del self._items[k]
                return
        raise ValueError("job is not queued")

    def round_of(self, job) -> int | None:
        return next((r for r, _, j in self._items if j is job), None)

    def count(self, session: str | None) -> int:
        return sum(1 for _, _, j in self._items if _owner(j) == (session or NO_SESSION))

    def __iter__(self) -> Iterator:
        return iter([j for _, _, j in self._items])

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, job) -> bool:
        return any(j is job for _, _, j in self._items)


class SessionLimit(ValueError):
    """A session already holds its share of the training workers; the message says what to do."""


def check_session_cap(active: int, cap: int | None) -> None:
    """Raise :class:`SessionLimit` when a session with ``active`` jobs may not queue another."""
    if cap is not None and active >= cap:
        raise SessionLimit(
            f"You already have {active} training{'s' if active != 1 else ''} running or waiting, this class's "
            f"limit per student (the teacher sets it). Wait for one to end, or stop one, then start this one.")


@dataclass
class Retention:
    """How long the server keeps an ended job (its result and weights, its events, its upload).

    A job is kept while its session is alive and for ``linger`` seconds after the session was last seen
    (the student may reconnect); a session keeps at most ``per_session`` ended jobs, the newest. The class
    board keeps every job's row in the database regardless: only the server's memory is freed."""

    per_session: int = 5
    linger: float = 900.0
    _last_alive: dict[str, float] = field(default_factory=dict)

    def sweep(self, jobs: Iterable, alive: Callable[[str], bool] | None, now: float | None = None) -> list:
        """The ended jobs to forget now. ``alive(session)``: is that session still connected (None: unknown,
        every session counts as alive and only the per-session cap applies)."""
        now = time.monotonic() if now is None else now
        ended: dict[str, list] = {}
        for job in jobs:
            if job.ended is not None:
                ended.setdefault(_owner(job), []).append(job)
        drop = []
        for owner, items in ended.items():
            items.sort(key=lambda j: j.ended, reverse=True)
            drop.extend(items[self.per_session:])
            if alive is None or not owner or alive(owner):
                self._last_alive[owner] = now
                continue
            last = self._last_alive.setdefault(owner, max(j.ended for j in items))
            if now - last > self.linger:
                drop.extend(items[:self.per_session])
                self._last_alive.pop(owner, None)
        return drop


def release(job) -> None:
    """Free what an ended job holds (result and weights, events, the upload in its arguments)."""
    job.result = None
    job.events = []
    job.kwargs = {}
    job.details = None


def queue_waits(busy: list, spawning: list[float], queued: list, n_workers: int, typical: float | None,
                grace: float, now: float) -> list[tuple[float, float | None]]:
    """(at most, about) seconds until each queued job starts, in queue order.

    At most: every job ahead runs to its time limit (the runner ends it there, ``grace`` later) and a
    worker still starting (``spawning``: seconds since each began) takes :data:`WORKER_START_BOUND`. About:
    jobs take the ``typical`` duration of recent ones (None when there is none yet: no guess)."""
    def bound(j) -> float:
        return j.limits.max_seconds + grace + END_MARGIN

    def guess(j) -> float:
        return bound(j) if typical is None else min(typical, bound(j))

    def left(j, length) -> float:
        elapsed = now - (j.started or now)
        # a job past its typical length is guessed to need one more typical length (never past its limit)
        return min(length(j) - elapsed if length(j) > elapsed else length(j), max(bound(j) - elapsed, 0.0))

    schedules = []
    for length, start in ((bound, WORKER_START_BOUND), (guess, WORKER_START_GUESS)):
        free_at = sorted([left(j, length) for j in busy] + [max(start - age, 1.0) for age in spawning])
        free_at += [0.0] * max(n_workers - len(free_at), 0)
        waits = []
        for job in queued:
            slot = min(range(len(free_at)), key=free_at.__getitem__)
            waits.append(free_at[slot])
            free_at[slot] += length(job)
        schedules.append(waits)
    return [(b, g if typical is not None else None) for b, g in zip(*schedules)]
