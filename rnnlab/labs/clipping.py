"""Exploding gradients and gradient clipping: the same model trained with and without ``clip_grad_norm_``.

Plain SGD is used on purpose: Adam divides each step by a running gradient scale, which hides an
explosion; SGD's step is proportional to the gradient, so one huge gradient throws the weights away.
Both runs start from the same weights (drawn from the seed's own generator) and see the same batches.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch

from ..data.tasks import adding_problem
from ..nn.init import spectral_radius
from ..status import Status, worst_status
from ..train import TrainConfig, Trainer
from .longrange import build_task_model, task_loss

RUNS = ("without clipping", "with clipping")


def clipping_experiment(cell: str = "RNN_RELU", T: int = 50, radius: float = 1.5, lr: float = 0.03,
                        threshold: float = 1.0, steps: int = 200, hidden: int = 32, batch: int = 32, seed: int = 0,
                        scale_by: str = "radius", on_event: Callable[[str, object], None] | None = None,
                        should_stop: Callable[[], object] | None = None) -> dict[str, dict]:
    """Train twice from identical weights on identical batches; returns per run its step curves and status.

    ``radius`` rescales W_hh (its spectral radius, or with ``scale_by="sigma"`` its largest singular
    value). ``on_event(run_name, trainer_event)`` sees every trainer event of both runs."""
    model = build_task_model("adding", cell, hidden, seed, radius=radius, scale_by=scale_by)
    runs = {}
    for name, clip in zip(RUNS, (None, threshold)):
        m = copy.deepcopy(model)
        data = torch.Generator().manual_seed(1000 + seed)
        trainer = Trainer(m, task_loss, TrainConfig(clip=clip, max_steps=steps, seed=seed, device="cpu"),
                          optimizer=torch.optim.SGD(m.parameters(), lr=lr), should_stop=should_stop,
                          on_event=None if on_event is None else (lambda e, name=name: on_event(name, e)))
        h = trainer.fit(lambda _s, data=data: adding_problem(batch, T, data))
        message = h.message
        if h.status == Status.DIVERGED and not h.steps:     # before any update: the weights, not the step size
            message = overflow_reason(model, *adding_problem(batch, T, torch.Generator().manual_seed(1000 + seed))) \
                or message
        runs[name] = {"steps": h.steps, "loss": h.loss, "grad_norm": h.grad_norm, "clipped": h.clipped,
                      "status": h.status, "message": message}
        if h.status in (Status.STOPPED, Status.TIME_LIMIT):
            break
    return runs


def clipping_job(ctx, cell: str = "RNN_TANH", T: int = 50, radius: float = 1.5, lr: float = 0.3,
                 threshold: float = 1.0, steps: int = 200, hidden: int = 32, batch: int = 32, seed: int = 0,
                 scale_by: str = "radius") -> dict:
    """The clipping experiment as a job: streams ``step`` events tagged with ``run`` (loss, gradient norm
    before clipping, clipped) and a ``diverged`` event when a run blows up."""
    ctx.phase("training with and without clipping")

    def on_event(name, e):
        if e.kind == "step":
            ctx.emit("step", e.step, run=name, loss=e.data["loss"], grad_norm=e.data["grad_norm"],
                     clipped=bool(e.data["clipped"]))
            if e.step % 10 == 0:
                k = RUNS.index(name)
                ctx.progress(k * steps + e.step, 2 * steps, f"{name}: step {e.step:,}/{steps:,}")
        elif e.kind == "diverged":
            ctx.emit("diverged", e.step, run=name)

    runs = clipping_experiment(cell, T, radius, lr, threshold, steps, hidden, batch, seed, scale_by,
                               on_event=on_event, should_stop=ctx.should_stop)
    # A run that diverges is the lesson here, not a failure: the job ends by how it was interrupted, if it was
    stops = [r["status"] for r in runs.values() if r["status"] in (Status.STOPPED, Status.TIME_LIMIT)]
    status = worst_status(stops)
    metrics = {}
    for name, r in runs.items():
        key = name.replace(" ", "_")
        metrics[f"final_loss_{key}"] = float(r["loss"][-1]) if r["loss"] else float("nan")
        metrics[f"diverged_{key}"] = float(r["status"] == Status.DIVERGED)
    return {"status": status, "message": "" if not stops else runs[list(runs)[-1]]["message"],
            "metrics": metrics, "runs": runs, "threshold": threshold, "epochs_completed": 0}


def _first_past(log10_sizes: np.ndarray, limit: float) -> int | None:
    """The first index whose log10 size is beyond ``limit`` (or not finite), else None."""
    over = ~np.isfinite(log10_sizes) | (log10_sizes > limit)
    return int(np.argmax(over)) if over.any() else None


@torch.no_grad()
def overflow_reason(model, x: torch.Tensor, y: torch.Tensor) -> str | None:
    """Why the untrained model's very first step is already infinite or NaN, in words: the hidden state
    overflowed float32 in the forward pass (what grew, by how much a step, at which step). None otherwise
    (then the trainer's own message says what it measured)."""
    rnn = model.rnn
    limit = math.log10(torch.finfo(torch.float32).max)                 # 3.4e38
    sizes = rnn(model.inputs(x))[0].abs().amax(dim=(0, 2)).double().log10().numpy()    # per step
    T, radius = len(sizes), spectral_radius(rnn.weight_hh_l0.detach().double())
    relu = rnn.mode == "RNN_RELU"
    why = (f"ρ(W_hh) = {radius:.2f} times the relu's slope of 1: nothing bounds h (tanh would keep it within ±1)"
           if relu else f"ρ(W_hh) = {radius:.2f}")
    t = _first_past(sizes, limit)
    if t is not None:
        growth = 10 ** ((sizes[t - 1] - sizes[t // 2]) / max(t - 1 - t // 2, 1)) if t > 2 else float("nan")
        return (f"The forward pass overflowed before any update. With {why}, h grew about {growth:.2g}× a step and "
                f"at step {t + 1:,} of T = {T:,} it passed float32's largest number, 3.4e38, and became infinite "
                "(then NaN). No learning rate or clipping threshold can change that: lower ρ, shorten T or "
                "choose tanh.")
    return None             # the trainer measures a gradient's size in float64 where float32 overflows (issue 29)


def clipped_steps(run: dict) -> int:
    """How many of a run's steps had their gradient clipped (``run["clipped"]``: one flag per step)."""
    return sum(bool(c) for c in run["clipped"])
