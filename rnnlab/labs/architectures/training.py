"""Training inside a job: the models of a section trained side by side by the one trainer, each keeping
its best validated weights, and the plain result every job returns (status, history, weights, metrics)."""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ...status import Status, worst_status
from ...train import TrainConfig, Trainer
from .models import n_params

EVAL_RESERVE = 12.0    # seconds of a job's time limit kept for the final evaluation (a busy CPU is slow)



@dataclass
class Run:
    """One model to train: its loss, its endless batches and its validation (a fixed set)."""

    name: str
    model: nn.Module
    loss_fn: Callable
    batches: Callable[[int], object]
    validate: Callable[[nn.Module], dict]


def _train(ctx, runs: list[Run], steps: int, lr: float, eval_every: int, clip: float | None = 1.0) -> dict:
    """Train the runs side by side (one step each in turn), with the job's stop and time limit. Each keeps
    its best validated weights (``acc``). Returns {name: trainer}."""
    ctx.phase("training")
    budget = max(ctx.remaining() - EVAL_RESERVE, 1.0)
    trainers, loops = {}, {}
    for run in runs:
        def forward(event, name=run.name):
            ctx.emit(event.kind, event.step, event.epoch, model=name, **event.data)
        trainer = Trainer(run.model, run.loss_fn, TrainConfig(lr=lr, clip=clip, max_steps=steps, eval_every=eval_every,
                                                              monitor="acc", mode="max", time_limit=budget,
                                                              device=ctx.device),
                          on_event=forward, should_stop=ctx.should_stop)
        trainers[run.name] = trainer
        loops[run.name] = trainer.run(run.batches, _on_cpu(run.validate))
    active = list(loops)
    while active:
        for name in list(active):
            if next(loops[name], None) is None:
                active.remove(name)
    return trainers


def _on_cpu(validate):
    """Validation runs on the CPU, where its fixed data lives: a model the trainer moved to a GPU is copied
    back for it (these models are tiny)."""
    def run(model):
        if _device_of(model).type == "cpu":
            return validate(model)
        return validate(copy.deepcopy(model).cpu())
    return run


def _status(trainers: dict) -> tuple[Status, str]:
    """One status for the job from its trainers (the worst of them), and a message: each trainer's."""
    hs = [t.history for t in trainers.values()]
    status = worst_status(h.status for h in hs)
    if len(hs) == 1:
        return status, hs[0].message
    msgs = [f"{name}: {t.history.message}" for name, t in trainers.items()]
    return status, " · ".join(msgs)


def _history(trainer: Trainer) -> dict:
    h = trainer.history
    return {"steps": list(h.steps), "loss": [float(v) for v in h.loss],
            "eval_steps": [e["step"] for e in h.evals], "eval_acc": [float(e["acc"]) for e in h.evals],
            "seconds": float(h.seconds), "status": h.status}


def _model_part(model: nn.Module, config: dict, trainer: Trainer) -> dict:
    return {"config": config, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "history": _history(trainer), "params": n_params(model)}


def _result(trainers: dict, total_steps: int, metrics: dict, **extra) -> dict:
    status, message = _status(trainers)
    done = min(len(t.history.steps) for t in trainers.values())
    return {"status": status, "message": message, "steps_done": done, "total_steps": total_steps,
            # "epochs": these tasks draw fresh examples every step; a run that did all its steps is one whole run
            "epochs_completed": int(done >= total_steps), "metrics": {k: float(v) for k, v in metrics.items()},
            **extra}


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _stop_evaluating(ctx) -> bool:
    return ctx.stop_requests >= 2 or ctx.remaining() <= 0
