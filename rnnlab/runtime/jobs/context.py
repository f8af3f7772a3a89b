"""What a job function sees in its worker: its context (report, learn when to stop), its events, and how
its result and its target cross between processes (weights-only bytes; a function by its name)."""
from __future__ import annotations

import importlib
import io
import time
from collections.abc import Callable

from ...status import Status
from .limits import JobLimits
from .messages import EventMessage, JobEvent


class JobStopped(Exception):
    """Raised by ``JobContext.check()`` when the job must end now (``reason``: Status.STOPPED or
    Status.TIME_LIMIT; a job function may raise it itself with "stopped" or "time_limit")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class JobContext:
    """Handed to a job function in its worker: report progress, and learn when to stop.

    ``should_stop()`` is ``None`` while the job may go on, else ``Status.STOPPED`` (the user pressed Stop,
    or the tab is gone) or ``Status.TIME_LIMIT``; it is what the trainer's ``should_stop`` takes.
    ``stop_requests`` counts presses of Stop: a job that stopped training can keep evaluating after the
    first and give up at the second."""

    def __init__(self, job_id: int, send: Callable[[EventMessage], None], stop_flag, max_seconds: float,
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

    def should_stop(self) -> Status | None:
        if self.stop_requests:
            return Status.STOPPED
        if self.remaining() <= 0:
            return Status.TIME_LIMIT
        return None

    def check(self) -> None:
        """Raise :class:`JobStopped` if the job must end now (between two pieces of work)."""
        reason = self.should_stop()
        if reason:
            raise JobStopped(reason)

    # reporting
    def emit(self, kind: str, step: int = 0, epoch: int = 0, **data) -> None:
        self._send(EventMessage(self.job_id, JobEvent(kind, int(step), int(epoch), _plain(data), self.elapsed())))

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
    """Numbers, strings, lists, dicts (and tensors): what may cross from a worker to the server. A
    :class:`Status` crosses as its plain string (``weights_only`` loading refuses an enum's class)."""
    import numpy as np

    if isinstance(obj, str):
        return str(obj)
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
    """``"package.module:function"`` (or ``"module:Class.function"``) -> the function: a worker imports the
    job's function by its name."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def target_name(fn: str | Callable) -> str:
    """The name a worker imports a job's function by: ``"module:qualname"`` (a string is taken as one).

    Only a function that this name leads back to can be sent; a lambda, a function defined inside another
    or a bound method cannot (ValueError), since a worker in another process could not find it."""
    if isinstance(fn, str):
        return fn
    name = f"{getattr(fn, '__module__', None)}:{getattr(fn, '__qualname__', None)}"
    try:
        found = resolve(name) is fn
    except (ImportError, AttributeError):
        found = False
    if not found:
        raise ValueError(f"A job's function must be a top-level function of a module, found by its name; "
                         f"{fn!r} is not.")
    return name
