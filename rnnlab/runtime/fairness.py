"""The class's rules for sharing the training workers: a fair queue, a cap per student, and how long an
ended job is kept.

A first-come-first-served queue lets one student with three tabs push the whole class back: six jobs in,
and the next student waits seventh. Here the queue hands out jobs round-robin between sessions (and a
session that already has a job running waits behind one that has none), each session may hold at most
``per_session`` jobs queued or running, and ended jobs are dropped once nobody can still look at them.

    q = FairQueue()
    q.append(job)                      # job.session names its owner
    q.popleft(running={"abc": 1})      # the next job to run: the session with fewest running, in turn
    list(q)                            # the order jobs would start in (positions on the pages)

    keep = Retention(per_session=5, linger=900)
    keep.sweep(jobs, alive=lambda s: ..., now=time.monotonic())   # the ended jobs to forget now
"""
from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

NO_SESSION = ""


def _owner(job) -> str:
    return job.session or NO_SESSION


class FairQueue:
    """Waiting jobs, one line per session, served in turn.

    ``popleft`` serves, among the sessions waiting, the one with the fewest jobs running now, then the one
    served longest ago (never: first), then the one that queued first. So a second job of a session starts
    only when no session with nothing running is waiting, and a student who just had a turn goes to the
    back. It keeps the ``deque`` methods the runners use (append, popleft, remove, iteration, len)."""

    MEMORY = 4096   # sessions whose last turn is remembered (older ones count as never served)

    def __init__(self) -> None:
        self._lines: OrderedDict[str, deque] = OrderedDict()   # in the order sessions started waiting
        self._served: OrderedDict[str, int] = OrderedDict()    # session -> the tick of its last turn
        self._tick = 0

    def append(self, job) -> None:
        self._lines.setdefault(_owner(job), deque()).append(job)

    def remove(self, job) -> None:
        owner = _owner(job)
        line = self._lines.get(owner)
        if line is None or job not in line:
            raise ValueError("job is not queued")
        line.remove(job)
        if not line:
            del self._lines[owner]

    def popleft(self, running: dict[str, int] | None = None):
        """The job to start next (IndexError when empty); ``running``: jobs running now per session."""
        if not self._lines:
            raise IndexError("pop from an empty queue")
        owner = self._choose(running or {})
        line = self._lines[owner]
        job = line.popleft()
        if not line:
            del self._lines[owner]
        self._tick += 1
        self._served[owner] = self._tick
        self._served.move_to_end(owner)
        while len(self._served) > self.MEMORY:
            self._served.popitem(last=False)
        return job

    def order(self, running: dict[str, int] | None = None) -> list:
        """Every waiting job in the order it would start if workers freed up one at a time now."""
        copy = FairQueue()
        copy._lines = OrderedDict((k, deque(v)) for k, v in self._lines.items())
        copy._served, copy._tick = OrderedDict(self._served), self._tick
        counts = Counter(running or {})
        out = []
        while copy:
            job = copy.popleft(counts)
            counts[_owner(job)] += 1
            out.append(job)
        return out

    def _choose(self, running: dict[str, int]) -> str:
        return min(self._lines, key=lambda k: (running.get(k, 0), self._served.get(k, 0)))   # min is stable

    def count(self, session: str | None) -> int:
        line = self._lines.get(session or NO_SESSION)
        return len(line) if line else 0

    def __iter__(self) -> Iterator:
        return iter(self.order())

    def __len__(self) -> int:
        return sum(len(line) for line in self._lines.values())

    def __bool__(self) -> bool:
        return bool(self._lines)

    def __contains__(self, job) -> bool:
        line = self._lines.get(_owner(job))
        return line is not None and job in line


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
