"""How a training stands or ended: one vocabulary for the trainer, the job runner, the labs and the pages.

A job is ``queued``, then ``running`` (``stopping`` once Stop was pressed), then ends in one of
:data:`END_STATES`. A trainer's ``history.status`` and a lab's result say the same words. The members are
strings (``StrEnum``), so ``job.state == "finished"`` and a plain string read back from the database (or
from a job's result, where statuses cross as plain strings) compare equal to them.

    Status.FINISHED == "finished"                      # True
    worst_status(["finished", "diverged"])            # Status.DIVERGED: how a job of several runs ended
    stop_status(ctx.should_stop())                     # None, Status.STOPPED or Status.TIME_LIMIT
    END_LABELS[Status.TIME_LIMIT]                      # "stopped at the time limit", for a page

A leaf module: it imports nothing from rnnlab, so any layer may use it.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"              # Stop was pressed; the job ends its current piece of work
    FINISHED = "finished"
    EARLY_STOPPED = "early_stopped"    # the validation score stopped improving
    DIVERGED = "diverged"              # the loss became NaN or exploded
    STOPPED = "stopped"                # by the user, or because the page was closed
    TIME_LIMIT = "time_limit"
    ERROR = "error"


#: a job in one of these still holds (or waits for) a worker
ACTIVE = (Status.QUEUED, Status.RUNNING, Status.STOPPING)
END_STATES = (Status.FINISHED, Status.EARLY_STOPPED, Status.DIVERGED, Status.STOPPED, Status.TIME_LIMIT,
              Status.ERROR)
END_LABELS = {Status.FINISHED: "finished", Status.EARLY_STOPPED: "early-stopped", Status.DIVERGED: "diverged",
              Status.STOPPED: "stopped by the user", Status.TIME_LIMIT: "stopped at the time limit",
              Status.ERROR: "failed"}
#: end states from worst to best: what one says about a job of several runs. A broken run (an error, a
#: divergence) outweighs an interrupted one (stopped, time limit), which outweighs a complete one: the job's
#: state names what most needs the student's attention, and a page shows every run's own state beside it.
PRECEDENCE = (Status.ERROR, Status.DIVERGED, Status.STOPPED, Status.TIME_LIMIT, Status.EARLY_STOPPED,
              Status.FINISHED)


def stop_status(reason: object) -> Status | None:
    """What an answer of a ``should_stop()`` callback means: ``None`` (falsy: go on), ``Status.TIME_LIMIT``,
    or ``Status.STOPPED`` for any other truthy answer (the user's Stop; ``True``, or the old word
    ``"cancelled"``, still mean that)."""
    if not reason:
        return None
    return Status.TIME_LIMIT if reason == Status.TIME_LIMIT else Status.STOPPED


def worst_status(statuses: Iterable[str]) -> Status:
    """The end state that sums up several runs: the worst by :data:`PRECEDENCE` (``finished`` when there are
    none). ValueError for a state that is not an end (``running``) or not a status at all."""
    rank = {s: k for k, s in enumerate(PRECEDENCE)}
    worst = Status.FINISHED
    for value in statuses:
        status = Status(value)
        if status not in rank:
            raise ValueError(f"{status.value!r} is not an end state")
        if rank[status] < rank[worst]:
            worst = status
    return worst
