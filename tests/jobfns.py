"""Job functions for the job-runner tests (imported by name in the worker processes)."""
import os
import time

import torch

from rnnlab.status import Status


def count(ctx, n=5, pause=0.01):
    for k in range(n):
        ctx.check()
        ctx.emit("step", k + 1, loss=1.0 / (k + 1))
        time.sleep(pause)
    return {"status": Status.FINISHED, "n": n, "weights": torch.arange(3.0), "threads": torch.get_num_threads()}


def where(ctx):
    """Which GPU the worker may see, and the device its jobs are told to use."""
    return {"visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "device": ctx.device, "threads": torch.get_num_threads()}


def phases(ctx, seconds=30.0):
    """Loads 'data' for a long time, checking for a stop between pieces, then trains until stopped."""
    ctx.phase("loading data")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ctx.check()
        time.sleep(0.02)
    ctx.phase("training")
    step = 0
    while True:
        reason = ctx.should_stop()
        if reason:
            return {"status": reason, "steps": step}      # a Status: it crosses back as its plain string
        step += 1
        ctx.emit("step", step)
        time.sleep(0.02)


def evaluating(ctx):
    """Trains until stopped, then evaluates until stopped a second time."""
    step = 0
    while not ctx.should_stop():
        step += 1
        time.sleep(0.01)
    ctx.phase("evaluating")
    scored = 0
    while ctx.stop_requests < 2 and ctx.remaining() > 0:
        scored += 1
        time.sleep(0.01)
    return {"status": Status.STOPPED, "scored": scored, "steps": step}


def stubborn(ctx, seconds=60):
    """Never checks for a stop."""
    time.sleep(seconds)
    return {"status": Status.FINISHED}


def crash(ctx):
    os._exit(3)


def fail(ctx):
    raise ValueError("the learning rate must be positive (got -1 in /srv/secret/path/file.py)")


def seeded_draw(ctx):
    return {"status": Status.FINISHED, "x": torch.rand(3), "dropout": torch.nn.functional.dropout(torch.ones(8), 0.5)}


def limits(ctx):
    """The limits the job was given (the teacher's settings at submission)."""
    return {"status": Status.FINISHED, "max_epochs": ctx.limits.max_epochs, "max_params": ctx.limits.max_params,
            "max_seconds": ctx.limits.max_seconds}


def scored(ctx, acc=0.75, steps=3):
    """A tiny 'training' that reports final metrics, as a lab's job does (the class board reads them)."""
    for k in range(steps):
        ctx.check()
        ctx.emit("step", k + 1, loss=1.0 / (k + 1))
    return {"status": Status.FINISHED, "epochs_completed": 1, "metrics": {"acc": float(acc), "loss": 1.0 - float(acc)}}


def named(ctx):
    """The process it ran in, and the name its worker found it by (the server sends only that name)."""
    return {"status": Status.FINISHED, "pid": os.getpid(), "name": f"{named.__module__}:{named.__qualname__}"}
