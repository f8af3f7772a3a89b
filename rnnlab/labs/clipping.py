"""Exploding gradients and gradient clipping: the same model trained with and without ``clip_grad_norm_``.

Plain SGD is used on purpose: Adam divides each step by a running gradient scale, which hides an
explosion; SGD's step is proportional to the gradient, so one huge gradient throws the weights away.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch

from .gradients import build_layer
from .longrange import TaskModel, task_loss
from ..data.tasks import adding_problem
from ..train import TrainConfig, Trainer


def clipping_experiment(cell: str = "RNN_RELU", T: int = 50, radius: float = 1.5, lr: float = 0.03,
                        threshold: float = 1.0, steps: int = 200, hidden: int = 32, batch: int = 32, seed: int = 0,
                        on_progress: Callable[[float, str], None] | None = None) -> dict[str, dict]:
    """Train twice from identical weights on identical batches; returns per run its step curves and status."""
    torch.manual_seed(seed)
    model = TaskModel("adding", "RNN", hidden, seed)
    model.rnn = build_layer(cell, 2, hidden, "default", radius, seed)
    runs = {}
    for k, (name, clip) in enumerate([("without clipping", None), ("with clipping", threshold)]):
        m = copy.deepcopy(model)
        data = torch.Generator().manual_seed(1000 + seed)
        trainer = Trainer(m, task_loss, TrainConfig(clip=clip, max_steps=steps, seed=seed, device="cpu"),
                          optimizer=torch.optim.SGD(m.parameters(), lr=lr))
        for step in trainer.run(lambda _s: adding_problem(batch, T, data)):
            if on_progress is not None and step % 10 == 0:
                on_progress((k + step / steps) / 2, f"{name}: step {step}/{steps}")
        h = trainer.history
        runs[name] = {"steps": h.steps, "loss": h.loss, "grad_norm": h.grad_norm, "clipped": h.clipped,
                      "status": h.status, "message": h.message}
    return runs
