"""What travels between the server and a worker (a local process, or a Ray actor): typed messages.

The server puts a :class:`JobTask` into a worker's inbox (``None`` tells a local worker to leave). The
worker says :class:`ReadyMessage` once it has imported torch, then, for each job, any number of
:class:`EventMessage` and one final message: :class:`ResultMessage`, :class:`StoppedMessage` or
:class:`ErrorMessage`. The runner dispatches on the message's type and reads its fields by name:

    match msg:
        case EventMessage(): job.events.append(msg.event)
        case ResultMessage(): job.result = unpack(msg.result)

Every message is a frozen dataclass of plain data (numbers, strings, a :class:`JobEvent`, bytes), defined
at module level: it pickles through a ``multiprocessing`` spawn queue and through Ray alike. The job's
function never travels, only its name (``JobTask.target``), which the worker imports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .limits import JobLimits


@dataclass
class JobEvent:
    """What a job reports while it runs (``ctx.emit``), as the page reads it from ``job.events``."""

    kind: str            # phase | step | eval | epoch | lr | early_stop | diverged | progress | sample | message | ...
    step: int = 0
    epoch: int = 0
    data: dict = field(default_factory=dict)
    t: float = 0.0       # seconds since the job started running


@dataclass(frozen=True)
class JobTask:
    """Into a worker's inbox: run this job. ``target`` is ``"module:qualname"``, imported by the worker."""

    job_id: int
    target: str
    kwargs: dict
    seed: int
    limits: JobLimits


class _WorkerMessage:
    """What every message from a worker has: its tag (fields are read by name, never by position)."""

    tag: ClassVar[str]


@dataclass(frozen=True)
class ReadyMessage(_WorkerMessage):
    """A local worker process has started (torch imported) and waits for its first job."""

    worker: int
    tag = "ready"


@dataclass(frozen=True)
class EventMessage(_WorkerMessage):
    """Progress of a running job: a phase, a step, an evaluation... (see :class:`JobEvent`)."""

    job_id: int
    event: JobEvent
    tag = "event"


@dataclass(frozen=True)
class ResultMessage(_WorkerMessage):
    """The job function returned: its result as weights-only ``torch.save`` bytes (read with ``unpack``)."""

    job_id: int
    result: bytes
    tag = "result"


@dataclass(frozen=True)
class StoppedMessage(_WorkerMessage):
    """The job raised :class:`JobStopped` before it had a result: ``reason`` is "stopped" or "time_limit"."""

    job_id: int
    reason: str
    tag = "stopped"


@dataclass(frozen=True)
class ErrorMessage(_WorkerMessage):
    """The job failed: a one-line ``message`` for the student, the traceback (``details``) for the log."""

    job_id: int
    message: str
    details: str = ""
    tag = "error"


#: how a job ends, as its worker tells it
FinalMessage = ResultMessage | StoppedMessage | ErrorMessage
WorkerMessage = ReadyMessage | EventMessage | FinalMessage
