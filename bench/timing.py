"""Shared timing helpers for the benchmark scripts."""
from __future__ import annotations

import asyncio
import statistics
import time


def median_ms(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


async def wait(condition, timeout: float, step: float = 0.1) -> bool:
    """Until ``condition()`` holds (True) or ``timeout`` seconds pass (False), looking every ``step`` s."""
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            return False
        await asyncio.sleep(step)
    return True
