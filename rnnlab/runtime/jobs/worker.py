"""A worker process: one job at a time from its inbox (a :class:`JobTask`), its events and its end sent
back to the server as typed messages (:mod:`.messages`)."""
from __future__ import annotations

import contextlib
import os
import time
import traceback

from .context import JobContext, JobStopped, pack, resolve
from .job import Job
from .limits import LimitExceeded
from .messages import ErrorMessage, FinalMessage, JobTask, ReadyMessage, ResultMessage, StoppedMessage


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
    outbox.put(ReadyMessage(index))
    while True:
        task = inbox.get()
        if task is None:
            return
        ctx = JobContext(task.job_id, outbox.put, flag, task.limits.max_seconds, task.limits, threads, device)
        try:
            outbox.put(run_task(task, ctx))
        except BaseException as err:   # the process is ending (KeyboardInterrupt, SystemExit): say why first
            outbox.put(ErrorMessage(task.job_id, _short_error(err), traceback.format_exc()))
            raise


def run_task(task: JobTask, ctx: JobContext) -> FinalMessage:
    """Run one job in this process, start to end, and say how it ended. The job's own failures become an
    :class:`ErrorMessage` (a local worker and a Ray actor both run jobs with this)."""
    from ..device import seed_everything

    try:
        seed_everything(task.seed)  # this process runs this one job now: its global RNG is the job's own
        result = resolve(task.target)(ctx, **task.kwargs)
        return ResultMessage(task.job_id, pack(result or {}))
    except JobStopped as stopped:
        return StoppedMessage(task.job_id, stopped.reason)
    except LimitExceeded as err:
        return ErrorMessage(task.job_id, str(err), "")
    except Exception as err:
        return ErrorMessage(task.job_id, _short_error(err), traceback.format_exc())


def _short_error(err: BaseException) -> str:
    """One line for students: the error's message without server paths."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    text = _strip_paths(text)
    return text if isinstance(err, (ValueError, MemoryError)) else f"{type(err).__name__}: {text}"


def _strip_paths(text: str) -> str:
    import re

    return re.sub(r"(?:/[\w.\-]+){2,}", "<path>", text)


class _Worker:
    """The server's handle on one worker process: its inbox, its Stop counter (``flag``, read by the job's
    context) and the job it runs now."""

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


