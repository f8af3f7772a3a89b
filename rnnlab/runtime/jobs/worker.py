"""A worker process: one job at a time from its inbox, its events and its end sent back to the server."""
from __future__ import annotations

import contextlib
import os
import time
import traceback

from .context import JobContext, JobStopped, pack, resolve
from .job import Job
from .limits import LimitExceeded


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
    from ..device import seed_everything

    outbox.put((None, "ready", index))
    while True:
        msg = inbox.get()
        if msg is None:
            return
        job_id, target, kwargs, seed, limits = msg
        ctx = JobContext(job_id, outbox.put, flag, limits.max_seconds, limits, threads, device)
        try:
            seed_everything(seed)  # this process runs this one job now: its global RNG is the job's own
            result = resolve(target)(ctx, **kwargs)
            outbox.put((job_id, "result", pack(result or {})))
        except JobStopped as stopped:
            outbox.put((job_id, "stopped", stopped.reason))
        except LimitExceeded as err:
            outbox.put((job_id, "error", str(err), ""))
        except Exception as err:
            outbox.put((job_id, "error", _short_error(err), traceback.format_exc()))
        except BaseException as err:
            outbox.put((job_id, "error", _short_error(err), traceback.format_exc()))
            raise


def _short_error(err: BaseException) -> str:
    """One line for students: the error's message without server paths."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    text = _strip_paths(text)
    return text if isinstance(err, (ValueError, MemoryError)) else f"{type(err).__name__}: {text}"


def _strip_paths(text: str) -> str:
    import re

    return re.sub(r"(?:/[\w.\-]+){2,}", "<path>", text)


class _Worker:
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


