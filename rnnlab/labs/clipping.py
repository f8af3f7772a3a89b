"""Exploding gradients and gradient clipping: the same model trained with and without ``clip_grad_norm_``.

Plain SGD is used on purpose: Adam divides each step by a running gradient scale, which hides an
explosion; SGD's step is proportional to the gradient, so one huge gradient throws the weights away.
Both runs start from the same weights (drawn from the seed's own generator) and see the same batches.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from ..data.tasks import adding_problem
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
        runs[name] = {"steps": h.steps, "loss": h.loss, "grad_norm": h.grad_norm, "clipped": h.clipped,
                      "status": h.status, "message": h.message}
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


def clipped_steps(run: dict) -> int:
    """How many of a run's steps had their gradient clipped (``run["clipped"]``: one flag per step)."""
    return sum(bool(c) for c in run["clipped"])
