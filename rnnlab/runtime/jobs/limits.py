"""Per-job caps and how many workers and threads this machine runs jobs with."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ...inputs import env_number


@dataclass
class JobLimits:
    """Per-job caps (the teacher may change them): wall time, epochs, model size."""

    max_seconds: float = 300.0
    max_epochs: int = 20
    max_params: int = 3_000_000

    def check_epochs(self, epochs: int) -> None:
        if epochs > self.max_epochs:
            raise LimitExceeded(f"{epochs} epochs is over this class's limit of {self.max_epochs}: choose fewer.")

    def check_params(self, n_params: int) -> None:
        if n_params > self.max_params:
            raise LimitExceeded(f"This model has {n_params:,} weights, over this class's limit of "
                                f"{self.max_params:,}: make it smaller (fewer units, layers or words).")

    def check_seconds(self, seconds: float) -> None:
        if seconds > self.max_seconds:
            raise LimitExceeded(f"A time limit of {seconds:.0f} s is over this class's limit of "
                                f"{self.max_seconds:.0f} s.")


class LimitExceeded(ValueError):
    """A setting is over a per-job limit; the message says which and what to do."""


def cpu_count() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS, Windows
        return max(os.cpu_count() or 1, 1)


def default_workers() -> int:
    """``RNNLAB_JOB_WORKERS`` if set; else one per GPU, or one per 2 CPU cores (at least 1)."""
    env = env_number("RNNLAB_JOB_WORKERS", 1, None)
    if env is not None:
        return env
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.device_count()
    except Exception:
        pass
    return max(cpu_count() // 2, 1)


def local_workers(n: int) -> int:
    """Jobs at once on this machine: at least 1, at most one per core (each worker has at least one torch
    thread, so more workers than cores would oversubscribe them; a Ray cluster has no such cap)."""
    return min(max(int(n), 1), cpu_count())


def thread_plan(workers: int, cores: int | None = None) -> tuple[int, int]:
    """(torch threads per worker, torch threads for the web server) with workers × threads <= cores.

    One share of the cores is kept for the server, so that predictions stay fast while jobs train:
    on 2 cores, 1 worker × 1 thread and 1 thread for the server."""
    cores = cores or cpu_count()
    env = env_number("RNNLAB_JOB_THREADS", 1, None)
    per_worker = env if env is not None else max(cores // (workers + 1), 1)
    per_worker = min(per_worker, max(cores // max(workers, 1), 1))
    server = max(cores - workers * per_worker, 1)
    return per_worker, server

