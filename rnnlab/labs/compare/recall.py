"""Memory over distance (:mod:`rnnlab.data.recall`): the four models trained one after another on the
same batches, then their accuracy at every distance k and how strongly their answer depends on the marked
token k steps back."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...data.recall import RecallTask, accuracy_by_k, held_out
from ...nn.seqmodels import KINDS, build, count_params, last_logits, size_of
from ...status import Status
from ...train import TrainConfig, Trainer
from .lineup import Lineup, _job_status, check_lineup, size_problem

RECALL_T = 64              # the page's default sequence length
RECALL_STEPS = 400         # the page's default training steps (batches of 64)
SPAN_ACCURACY = 0.9        # a model "holds" distance k when its test accuracy at k is at least this
RECALL_LR = 1e-2
RECALL_RESERVE = 8.0       # seconds of the job kept for testing each model


def recall_loss(model: nn.Module, batch):
    x, y = batch
    out = last_logits(model, x)
    return F.cross_entropy(out, y), {"acc": (out.argmax(-1) == y).float().mean()}


@torch.no_grad()
def recall_accuracy(model: nn.Module, task: RecallTask, per_k: int = 64, chunk: int = 1024,
                    should_stop: Callable[[], bool] | None = None) -> list[float] | None:
    """Test accuracy at every k = 0 … T-1 on the fixed test set (None if stopped before the end)."""
    model.eval()
    x, y, k = held_out(task, per_k)
    device = next(model.parameters()).device
    preds = []
    for a in range(0, len(x), chunk):
        if should_stop is not None and should_stop():
            return None
        preds.append(last_logits(model, x[a:a + chunk].to(device)).argmax(-1).cpu())
    return accuracy_by_k(task, torch.cat(preds) == y, k)


def marked_sensitivity(model: nn.Module, task: RecallTask, per_k: int = 8, seed: int = 1) -> list[float]:
    """For each k: the mean norm of the gradient of the correct answer's logit (less the mean logit) with
    respect to the marked token's embedding, on ``per_k`` sequences whose marked token is k steps back: how
    strongly the answer depends on that token, and the path a training gradient takes back to it. Exactly 0
    where a model cannot see it (the token is not in what the model reads)."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    x, y, k = task.batch(task.T * per_k, g, torch.arange(task.T).repeat_interleave(per_k))
    device = next(model.parameters()).device
    captured = {}

    def keep(_module, _inputs, out):
        out.retain_grad()
        captured["e"] = out

    handle = model.embedding.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            out = last_logits(model, x.to(device))
            # the correct answer's logit against the mean logit: unlike log p, it does not flatten out
            # once the model is sure of itself
            (out[torch.arange(len(y)), y.to(device)] - out.mean(-1)).sum().backward()
    finally:
        handle.remove()
        model.zero_grad(set_to_none=True)
    norms = captured["e"].grad.norm(dim=-1).cpu()           # (N, tokens read)
    read = norms.shape[1]
    pos = read - 1 - k                                        # where the marked token is in what was read
    value = torch.where(pos >= 0, norms[torch.arange(len(k)), pos.clamp(min=0)], torch.zeros(()))
    sums = torch.zeros(task.T).index_add_(0, k, value)
    return (sums / per_k).tolist()


def span(acc: list[float], threshold: float = SPAN_ACCURACY) -> int:
    """The longest distance k such that accuracy is at least ``threshold`` at every k' <= k (-1: not even k=0)."""
    for k, a in enumerate(acc):
        if a < threshold:
            return k - 1
    return len(acc) - 1


def within_beyond(acc: list[float], view: int) -> tuple[float, float]:
    """Mean accuracy at the distances a bounded view sees (k < ``view``) and at those beyond it (k >= ``view``);
    ``view`` must cut the accuracies in two (0 < view < len(acc))."""
    beyond = acc[view:]
    return sum(acc[:view]) / view, sum(beyond) / len(beyond)


def recall_job(ctx, lineup: dict | None = None, T: int = RECALL_T, symbols: int = 8, steps: int = RECALL_STEPS,
               batch: int = 64, lr: float = RECALL_LR, seed: int = 0, per_k: int = 64,
               kinds: tuple[str, ...] = KINDS) -> dict:
    """Train the four models one after another on the recall task (the same batches for each), then test each
    at every distance k. Streams ``train`` events (model, loss), progress, and a ``model_done`` event with each
    model's accuracy at every k as soon as it is tested. Each model gets an equal share of the job's time.
    ``kinds``: only these models (a lesson's check trains the ones it needs; the page trains all four)."""
    ctx.phase("preparing the task")
    lu = Lineup.from_dict(lineup or {})
    check_lineup(lu)
    task = RecallTask(T, symbols)
    if not 1 <= steps <= 20_000 or not 1 <= batch <= 1024 or not (math.isfinite(lr) and 0 < lr <= 1) \
            or not 1 <= per_k <= 512:
        raise ValueError("steps must be 1-20,000, the batch 1-1,024, the learning rate in (0, 1] and the test "
                         "sequences per k 1-512")
    settings = lu.settings(task.vocab_size, task.symbols)
    sizes = {k: size_of(k, task.vocab_size, task.symbols, **s) for k, s in settings.items()}
    problem = size_problem(sizes, lu.params, lu.labels())
    if problem:
        raise ValueError(problem)
    kinds = tuple(k for k in KINDS if k in kinds)
    held_out(task, per_k)
    results: dict[str, dict] = {}
    for i, kind in enumerate(kinds):
        if ctx.should_stop():
            break
        name = lu.label(kind)
        ctx.phase(f"training the {name} ({i + 1}/{len(kinds)})")
        model = build(kind, task.vocab_size, task.symbols, seed=seed, **settings[kind])
        gen = torch.Generator().manual_seed(seed)                  # the same training batches for every model
        share = max((ctx.remaining() - RECALL_RESERVE * (len(kinds) - i)) / (len(kinds) - i), 1.0)

        def on_event(e, i=i, name=name, kind=kind):
            if e.kind == "step" and (e.step % 10 == 0 or e.step == steps):
                ctx.emit("train", e.step, model=kind, loss=float(e.data["loss"]), acc=float(e.data.get("acc", 0.0)))
                ctx.progress(i * steps + e.step, len(kinds) * steps,
                             f"{name} ({i + 1}/{len(kinds)}): step {e.step:,}/{steps:,}")

        config = TrainConfig(lr=lr, clip=1.0, max_steps=steps, time_limit=share, seed=seed, device=ctx.device)
        trainer = Trainer(model, recall_loss, config, on_event=on_event, should_stop=ctx.should_stop)
        h = trainer.fit(lambda step, gen=gen: task.batch(batch, gen)[:2])
        if h.status == Status.STOPPED and ctx.stop_requests >= 2:
            break
        ctx.phase(f"testing the {name}")
        acc = recall_accuracy(model, task, per_k, should_stop=lambda: ctx.stop_requests >= 2)
        if acc is None:
            break
        sens = marked_sensitivity(model, task)
        row = {"model": kind, "label": name, "settings": settings[kind], "params": count_params(model),
               "view": model.view if model.view is not None else -1, "acc": acc, "sensitivity": sens,
               "span": span(acc), "mean_acc": float(sum(acc) / len(acc)), "steps": len(h.steps),
               "seconds": round(h.seconds, 2), "status": h.status, "message": h.message,
               "loss": h.loss[-1] if h.loss else float("nan")}
        results[kind] = row
        ctx.emit("model_done", len(h.steps), **{k: v for k, v in row.items() if k != "settings"})
        if h.status == Status.STOPPED:
            break
    status = _job_status(results, len(kinds))
    short = [r["label"] for r in results.values() if r["status"] == Status.TIME_LIMIT]
    message = f"{len(results)} of {len(kinds)} models trained and tested."
    if short:
        message += (f" {', '.join(short)} stopped at {'its' if len(short) == 1 else 'their'} share of the job's time "
                    "before the last step.")
    metrics = {f"mean_acc_{k}": r["mean_acc"] for k, r in results.items()}
    metrics.update({f"span_{k}": float(r["span"]) for k, r in results.items()})
    return {"status": status, "message": message, "epochs_completed": 0, "metrics": metrics,
            "models": results, "task": task.to_dict(), "lineup": lu.to_dict(), "chance": task.chance,
            "steps": steps, "batch": batch, "lr": lr, "per_k": per_k}
