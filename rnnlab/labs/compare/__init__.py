"""RNN vs CNN vs MLP vs Transformer, measured: four models with the same number of weights (within 10%),
trained by the shared trainer on the same data, and timed on the machine that runs them.

* :class:`Lineup` — the four models' settings; each one's width is matched to a parameter budget
  (:func:`rnnlab.nn.seqmodels.matched_width`).
* :func:`recall_job` — memory over distance (:mod:`rnnlab.data.recall`): the four trained one after
  another on the same batches, then their accuracy at every distance k and how strongly their answer
  depends on the marked token k steps back (:func:`marked_sensitivity`).
* :func:`charlm_job` — character language modelling on tiny-shakespeare with an equal budget of training
  seconds each: validation loss against training time, and a sample from each. The recurrent net is the
  Text generation page's model and recipe (carried-state streams, Adam with a cosine over the budget).
* :func:`speed_job` / :func:`measure_speed` — time of a training step as the sequence grows, time to
  predict one new token after a history of H tokens (a running state against a Transformer without a
  cache), and the memory a training step keeps for its backward pass.
* :func:`course_table` — the course's table of RNN vs CNN vs feed-forward networks with these
  measurements filled in, and where a measurement disagrees with it, said.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.chars import CharCorpus, StreamBatches, random_windows, shakespeare
from ...data.recall import RecallTask, accuracy_by_k, held_out
from ...nn.charlm import evaluate as carried_eval
from ...nn.charlm import generate, sample_next
from ...nn.seqmodels import (
    KINDS,
    CausalTransformer,
    RecurrentNet,
    build,
    count_params,
    last_logits,
    logits,
    matched_settings,
    size_of,
)
from ...train import TrainConfig, Trainer
from ..textgen import CarriedLoss, ScheduledAdam

CELL_LABELS = {"RNN": "RNN (tanh)", "LSTM": "LSTM", "GRU": "GRU"}
SPAN_ACCURACY = 0.9        # a model "holds" distance k when its test accuracy at k is at least this
SIZE_TOLERANCE = 0.10      # every model's weights within 10% of the budget


# --- the four models --------------------------------------------------------------------------------------
@dataclass
class Lineup:
    """Settings of the four models; their widths are chosen to meet ``params`` (weights of each)."""

    params: int = 20_000
    cell: str = "LSTM"            # the recurrent net: RNN (tanh), LSTM or GRU
    rnn_layers: int = 1
    embed: int = 16               # embedding size of the recurrent net and the CNN
    cnn_layers: int = 4           # dilations 1, 2, 4, 8: receptive field 16 with kernel 2
    kernel: int = 2
    window: int = 8               # the MLP's window
    mlp_layers: int = 2
    mlp_embed: int = 16
    context: int = 32             # the Transformer's context
    tf_layers: int = 2
    heads: int = 4

    def fixed(self) -> dict[str, dict]:
        """Each model's settings except its width."""
        return {"RNN": {"cell": self.cell.upper(), "num_layers": self.rnn_layers, "embed_size": self.embed},
                "CNN": {"n_layers": self.cnn_layers, "kernel_size": self.kernel, "embed_size": self.embed},
                "MLP": {"window": self.window, "n_layers": self.mlp_layers, "embed_size": self.mlp_embed},
                "Transformer": {"context": self.context, "n_layers": self.tf_layers, "n_heads": self.heads}}

    def settings(self, vocab_size: int, n_out: int | None = None) -> dict[str, dict]:
        return {k: matched_settings(k, self.params, vocab_size, n_out, **v) for k, v in self.fixed().items()}

    def sizes(self, vocab_size: int, n_out: int | None = None) -> dict[str, int]:
        return {k: size_of(k, vocab_size, n_out, **v) for k, v in self.settings(vocab_size, n_out).items()}

    def views(self) -> dict[str, int | None]:
        """Tokens each model can see from where it predicts (the current one included); None: no limit."""
        return {"RNN": None, "CNN": 1 + (self.kernel - 1) * (2 ** self.cnn_layers - 1), "MLP": self.window,
                "Transformer": self.context}

    def label(self, kind: str) -> str:
        return CELL_LABELS.get(self.cell.upper(), self.cell) if kind == "RNN" else kind

    def labels(self) -> dict[str, str]:
        return {k: self.label(k) for k in KINDS}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Lineup:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


RECALL_LINEUP = Lineup()
CHAR_LINEUP = Lineup(params=200_000, embed=64, cnn_layers=7, window=32, context=128)


def size_problem(sizes: dict[str, int], target: int, labels: dict[str, str] | None = None,
                 tolerance: float = SIZE_TOLERANCE) -> str | None:
    """A message if a model's weights are more than ``tolerance`` away from ``target`` (None if all fit)."""
    labels = labels or {}
    off = {k: n for k, n in sizes.items() if abs(n - target) > tolerance * target}
    if not off:
        return None
    names = ", ".join(f"the {labels.get(k, k)} ({n:,})" for k, n in off.items())
    return (f"Not every model can be built with about {target:,} weights: {names}. A long MLP window needs "
            "a bigger budget (its first layer alone has window × embedding × units weights); choose a larger "
            "size or a shorter window.")


def check_lineup(lu: Lineup) -> None:
    if lu.cell.upper() not in CELL_LABELS:
        raise ValueError("the recurrent cell must be RNN, LSTM or GRU")
    bounds = {"params": (1_000, 3_000_000), "rnn_layers": (1, 3), "embed": (4, 128), "cnn_layers": (1, 10),
              "kernel": (2, 5), "window": (1, 256), "mlp_layers": (1, 4), "mlp_embed": (2, 64), "context": (1, 1024),
              "tf_layers": (1, 6), "heads": (1, 8)}
    for name, (lo, hi) in bounds.items():
        value = getattr(lu, name)
        if not lo <= value <= hi:
            raise ValueError(f"{name.replace('_', ' ')} must be between {lo:,} and {hi:,} (got {value})")


def _status(statuses: list[str]) -> str:
    for s in ("cancelled", "time_limit", "diverged"):
        if s in statuses:
            return s
    return "done"


# --- memory over distance ---------------------------------------------------------------------------------
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


def recall_job(ctx, lineup: dict | None = None, T: int = 64, symbols: int = 8, steps: int = 400, batch: int = 64,
               lr: float = RECALL_LR, seed: int = 0, per_k: int = 64) -> dict:
    """Train the four models one after another on the recall task (the same batches for each), then test each
    at every distance k. Streams ``train`` events (model, loss), progress, and a ``model_done`` event with each
    model's accuracy at every k as soon as it is tested. Each model gets an equal share of the job's time."""
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
    held_out(task, per_k)
    results: dict[str, dict] = {}
    for i, kind in enumerate(KINDS):
        if ctx.should_stop():
            break
        name = lu.label(kind)
        ctx.phase(f"training the {name} ({i + 1}/{len(KINDS)})")
        model = build(kind, task.vocab_size, task.symbols, seed=seed, **settings[kind])
        gen = torch.Generator().manual_seed(seed)                  # the same training batches for every model
        share = max((ctx.remaining() - RECALL_RESERVE * (len(KINDS) - i)) / (len(KINDS) - i), 1.0)

        def on_event(e, i=i, name=name, kind=kind):
            if e.kind == "step" and (e.step % 10 == 0 or e.step == steps):
                ctx.emit("train", e.step, model=kind, loss=float(e.data["loss"]), acc=float(e.data.get("acc", 0.0)))
                ctx.progress(i * steps + e.step, len(KINDS) * steps,
                             f"{name} ({i + 1}/{len(KINDS)}): step {e.step:,}/{steps:,}")

        config = TrainConfig(lr=lr, clip=1.0, max_steps=steps, time_limit=share, seed=seed, device=ctx.device)
        trainer = Trainer(model, recall_loss, config, on_event=on_event, should_stop=ctx.should_stop)
        h = trainer.fit(lambda step, gen=gen: task.batch(batch, gen)[:2])
        if h.status == "cancelled" and ctx.stop_requests >= 2:
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
        if h.status == "cancelled":
            break
    status = _status([r["status"] for r in results.values()] + ([] if len(results) == len(KINDS) else ["cancelled"]))
    short = [r["label"] for r in results.values() if r["status"] == "time_limit"]
    message = f"{len(results)} of {len(KINDS)} models trained and tested."
    if short:
        message += (f" {', '.join(short)} stopped at {'its' if len(short) == 1 else 'their'} share of the job's time "
                    "before the last step.")
    metrics = {f"mean_acc_{k}": r["mean_acc"] for k, r in results.items()}
    metrics.update({f"span_{k}": float(r["span"]) for k, r in results.items()})
    return {"status": status, "message": message, "epochs_completed": 0, "metrics": metrics,
            "models": results, "task": task.to_dict(), "lineup": lu.to_dict(), "chance": task.chance,
            "steps": steps, "batch": batch, "lr": lr, "per_k": per_k}


# --- character language modelling -------------------------------------------------------------------------
#: Adam's rate for each model: the best of 1e-3, 3e-3 and 1e-2 after 80 steps of the 200k-weight line-up
#: (validation loss, seed 0; the LSTM 1.89 at 1e-2 against 2.17 at the Text generation page's 3e-3, a rate
#: chosen there for a 3-minute run). The Transformer's 1e-2 was 0.04 better than 3e-3 at 80 steps: 3e-3 is kept,
#: safer over longer runs and bigger models (bench/textgen.py trains a 4-block one with it).
CHAR_LR = {"RNN": 1e-2, "CNN": 3e-3, "MLP": 1e-2, "Transformer": 3e-3}
CHAR_WARMUP = {"RNN": 0, "CNN": 0, "MLP": 0, "Transformer": 10}
EVAL_CHARS = 10_000        # held-out characters scored on every validation (the same ones for every model)
EVALS = 5                  # validations per model, evenly spaced in training time (plus one before training)
LM_RESERVE = 6.0           # seconds kept per model for its validations and sample


@torch.no_grad()
def windowed_loss(model: nn.Module, ids: Tensor, window: int, stride: int, batch: int = 64) -> float:
    """Mean loss (nats/char) of a model with a bounded view on ``ids``: windows of ``window`` characters,
    ``stride`` apart, each scored on its last ``stride`` characters (the first window on all of them), so
    every scored character has at least ``window - stride`` characters before it (where the text has them)."""
    model.eval()
    device = next(model.parameters()).device
    n = len(ids) - 1
    window = min(window, n)
    stride = max(1, min(stride, window))
    starts = list(range(0, n - window + 1, stride))
    if starts[-1] + window < n:
        starts.append(n - window)
    total, count, scored_to = 0.0, 0, 0
    for b in range(0, len(starts), batch):
        chunk = starts[b:b + batch]
        x = torch.stack([ids[s:s + window] for s in chunk]).to(device)
        y = torch.stack([ids[s + 1:s + window + 1] for s in chunk]).to(device)
        nll = F.cross_entropy(logits(model, x).reshape(-1, model.n_out), y.reshape(-1), reduction="none")
        nll = nll.view(len(chunk), window).cpu()
        for row, s in zip(nll, chunk):
            first = max(scored_to - s, 0)                  # never score a character twice
            total += float(row[first:].sum())
            count += window - first
            scored_to = s + window
    return total / max(count, 1)


def lm_val_loss(model: nn.Module, ids: Tensor) -> float:
    """Validation loss with the context each model can use: a recurrent net reads 4 long streams with its
    state carried along; a CNN or an MLP scores every character with its whole view before it; a
    Transformer reads windows of its context, half a context apart (each character has at least half a
    context before it)."""
    if isinstance(model, RecurrentNet):
        return carried_eval(model, ids, n_streams=4)["loss"]
    if isinstance(model, CausalTransformer):
        return windowed_loss(model, ids, model.context, max(model.context // 2, 1))
    return windowed_loss(model, ids, model.view - 1 + 256, 256)


@torch.no_grad()
def lm_sample(model: nn.Module, vocab, length: int = 200, seed: int = 0, temperature: float = 0.8) -> str:
    """A text from "\\n": a recurrent net with its running state; the others reread their last view each time."""
    model.eval()
    if isinstance(model, RecurrentNet):
        return "".join(s.char for s in generate(model, vocab, "\n", length, temperature=temperature, seed=seed))
    g = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    ids = vocab.encode("\n", unknown="drop").tolist() or [0]
    for _ in range(length):
        x = torch.tensor([ids[-model.view:]], device=device)
        nxt, _ = sample_next(logits(model, x)[0, -1].float().cpu(), temperature, None, g)
        ids.append(int(nxt))
    return vocab.decode(ids[1:])


def window_batches(ids: Tensor, batch: int, window: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return lambda step: random_windows(ids, batch, window, gen)


def window_loss(model: nn.Module, batch):
    x, y = batch
    out = logits(model, x)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)), {}


def cosine(frac: float, floor: float = 0.05) -> float:
    frac = min(max(frac, 0.0), 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac))


def train_lm(kind: str, model: nn.Module, corpus: CharCorpus, seconds: float, seq_len: int = 128, batch: int = 32,
             seed: int = 0, device: str | None = None, val: Tensor | None = None,
             on_eval: Callable[[dict], None] | None = None, on_step: Callable[[int, float], None] | None = None,
             should_stop: Callable[[], object] | None = None, evals: int = EVALS,
             max_steps: int | None = None, precision: str = "fp32") -> dict:
    """Train one model for ``seconds`` of training time (validations not counted) and validate it ``evals``
    times on the way: Adam at :data:`CHAR_LR` with a cosine over the seconds, clipping at 1. The recurrent net
    reads the text as the Text generation page's recipe does (32 carried-state streams, truncated every
    window); the others random windows (the Transformer's: its context).
    ``max_steps`` ends it earlier if reached first; ``precision`` as :class:`rnnlab.train.TrainConfig`'s.
    Returns {"curve": [{"seconds", "step", "loss"}], "steps", "train_s", "cpu_s", "status", ...}."""
    val = corpus.val[:EVAL_CHARS + 1] if val is None else val
    lr = CHAR_LR[kind]
    if kind == "RNN":
        batches, loss_fn = StreamBatches(corpus.train, batch, seq_len, seed), CarriedLoss(None, True)
    else:
        window = model.context if kind == "Transformer" else seq_len
        batches, loss_fn = window_batches(corpus.train, batch, window, seed), window_loss
    clock = {"start": None, "paused": 0.0, "cpu0": time.process_time(), "cpu_paused": 0.0, "budget": False}

    def train_seconds() -> float:
        return 0.0 if clock["start"] is None else time.perf_counter() - clock["start"] - clock["paused"]

    warm = CHAR_WARMUP[kind]
    optimizer = ScheduledAdam(model.parameters(), lr,
                              lambda step, _s: (step + 1) / warm if step < warm else cosine(train_seconds() / seconds))
    curve: list[dict] = []

    def validate(step: int) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        at = train_seconds()
        point = {"seconds": round(at, 3), "step": step, "loss": lm_val_loss(model, val)}
        model.train()
        curve.append(point)
        if on_eval is not None:
            on_eval(point)
        if clock["start"] is not None:
            clock["paused"] += time.perf_counter() - t0
        clock["cpu_paused"] += time.process_time() - c0

    validate(0)
    clock["start"] = time.perf_counter()
    marks = [seconds * (j + 1) / evals for j in range(evals - 1)]

    def events(e) -> None:
        if e.kind != "step":
            return
        if on_step is not None:
            on_step(e.step, train_seconds())
        if marks and train_seconds() >= marks[0]:
            marks.pop(0)
            validate(e.step)

    def stop():
        reason = should_stop() if should_stop is not None else None
        if reason:
            return reason
        if train_seconds() >= seconds:
            clock["budget"] = True
            return "time_limit"
        return None

    config = TrainConfig(lr=lr, clip=1.0, max_steps=max_steps or 10**9, seed=seed, device=device,
                         diverge_factor=2.0, diverge_after=50, precision=precision)
    trainer = Trainer(model, loss_fn, config, on_event=events, should_stop=stop, optimizer=optimizer)
    h = trainer.fit(batches)
    train_s = train_seconds()
    cpu_s = time.process_time() - clock["cpu0"] - clock["cpu_paused"]
    status = "done" if clock["budget"] and h.status == "time_limit" else h.status
    if status in ("done", "time_limit") or (status == "cancelled" and h.steps):
        validate(len(h.steps))
    return {"curve": curve, "steps": len(h.steps), "train_s": train_s, "cpu_s": cpu_s, "status": status,
            "message": h.message, "precision": h.precision,
            "chars": h.examples_seen * (seq_len if kind != "Transformer" else model.context)}


def charlm_job(ctx, lineup: dict | None = None, seconds: float = 30.0, seq_len: int = 128, batch: int = 32,
               seed: int = 0) -> dict:
    """Train the four models on tiny-shakespeare one after another, ``seconds`` of training time each, and
    validate each on the same held-out characters along the way. Streams ``lm_eval`` events (model, seconds,
    loss) and progress; ends with each model's curve, final validation loss and a sample."""
    ctx.phase("loading tiny-shakespeare")
    lu = Lineup.from_dict(lineup or asdict(CHAR_LINEUP))
    check_lineup(lu)
    if not (math.isfinite(seconds) and 1 <= seconds <= 600) or not 8 <= seq_len <= 512 or not 1 <= batch <= 256:
        raise ValueError("seconds must be 1-600, the sequence length 8-512 and the batch 1-256")
    corpus = shakespeare()
    V = len(corpus.vocab)
    settings = lu.settings(V)
    sizes = {k: size_of(k, V, None, **s) for k, s in settings.items()}
    problem = size_problem(sizes, lu.params, lu.labels())
    if problem:
        raise ValueError(problem)
    ctx.check()
    val = corpus.val[:EVAL_CHARS + 1]
    results: dict[str, dict] = {}
    for i, kind in enumerate(KINDS):
        if ctx.should_stop():
            break
        name = lu.label(kind)
        left = len(KINDS) - i
        budget = min(seconds, max((ctx.remaining() - LM_RESERVE * left) / left, 1.0))
        ctx.phase(f"training the {name} ({i + 1}/{len(KINDS)})")
        model = build(kind, V, None, seed=seed, **settings[kind])

        def on_eval(point, kind=kind):
            ctx.emit("lm_eval", point["step"], model=kind, seconds=point["seconds"], loss=point["loss"])

        def on_step(step, t, i=i, name=name, budget=budget):
            if step % 5 == 0:
                ctx.progress(i * seconds + min(t, budget), len(KINDS) * seconds,
                             f"{name} ({i + 1}/{len(KINDS)}): {t:.0f}/{budget:.0f} s, step {step:,}")

        run = train_lm(kind, model, corpus, budget, seq_len, batch, seed, ctx.device, val, on_eval, on_step,
                       ctx.should_stop)
        if run["status"] == "cancelled" and ctx.stop_requests >= 2:
            break
        sample = lm_sample(model, corpus.vocab, 200, seed=seed) if ctx.stop_requests < 2 else ""
        results[kind] = {"model": kind, "label": name, "settings": settings[kind], "params": count_params(model),
                         "view": model.view if model.view is not None else -1, "budget": budget, **run,
                         "val_loss": run["curve"][-1]["loss"], "sample": sample}
        ctx.emit("lm_done", run["steps"], model=kind, val_loss=results[kind]["val_loss"], sample=sample)
        if run["status"] == "cancelled":
            break
    status = _status([r["status"] for r in results.values()] + ([] if len(results) == len(KINDS) else ["cancelled"]))
    short = [r for r in results.values() if r["budget"] < seconds - 1e-6 or r["status"] == "time_limit"]
    message = f"{len(results)} of {len(KINDS)} models trained, {seconds:g} s each."
    if short:
        given = ", ".join(f"the {r['label']} {r['train_s']:.0f} s" for r in short)
        message += f" The job's time limit left less to some: {given}."
    metrics = {f"val_loss_{k}": r["val_loss"] for k, r in results.items()}
    metrics.update({f"steps_{k}": float(r["steps"]) for k, r in results.items()})
    return {"status": status, "message": message, "epochs_completed": 0, "metrics": metrics, "models": results,
            "lineup": lu.to_dict(), "seconds": seconds, "seq_len": seq_len, "batch": batch,
            "chance": math.log(V), "val_chars": len(val) - 1, "corpus": corpus.name}


# --- speed and memory -------------------------------------------------------------------------------------
SPEED_TS = (16, 32, 64, 128, 256, 512)
INFER_HISTORY = (16, 64, 256, 1024)
SPEED_LINEUP = Lineup(params=100_000, embed=64, cnn_layers=7, window=32, context=max(INFER_HISTORY))


def _timed(fn: Callable[[], None], reps: int, budget: float) -> list[float]:
    """Seconds of ``reps`` calls of ``fn`` (after one warm-up call), fewer if ``budget`` seconds run out."""
    fn()
    times, start = [], time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget and len(times) >= 2:
            break
    return times


def saved_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes of the tensors a forward pass keeps for its backward pass (the activation memory of a training
    step: each storage counted once, the weights not counted), measured with autograd's saved-tensor hooks."""
    seen: dict[tuple, int] = {}
    weights = {(p.untyped_storage().data_ptr(), p.device.type) for p in model.parameters()}

    def pack(t: Tensor):
        try:
            key = (t.untyped_storage().data_ptr(), t.device.type)
            if key not in weights:                    # the weights are kept anyway, not for this step
                seen[key] = max(seen.get(key, 0), t.untyped_storage().nbytes())
        except (RuntimeError, NotImplementedError):   # a tensor without ordinary storage
            seen[(id(t), "other")] = t.numel() * t.element_size()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = logits(model, x)
    del out
    return sum(seen.values())


def state_floats(model: nn.Module, history: int) -> int:
    """Numbers a model must keep between two tokens to predict the next one after ``history`` tokens: a
    recurrent net its state; the others the embeddings of the tokens they will read again (a
    Transformer's key-value cache would keep 2 × layers × d_model numbers per token instead)."""
    if isinstance(model, RecurrentNet):
        c = model.config
        return c.num_layers * c.hidden_size * (2 if c.cell.upper() == "LSTM" else 1)
    keep = min(history, model.view - 1)
    return keep * model.embedding.embedding_dim


def time_step(model: nn.Module, x: Tensor, y: Tensor, reps: int = 3, budget: float = 2.0) -> list[float]:
    """Seconds of one training step (forward, backward, Adam) on the batch ``x`` → ``y``."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        out = logits(model, x)
        F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)).backward()
        opt.step()

    return _timed(step, reps, budget)


@torch.no_grad()
def time_next_token(model: nn.Module, history: Tensor, tokens: int = 8, reps: int = 3,
                    budget: float = 2.0) -> list[float]:
    """Seconds per new token after ``history`` (1, H): a recurrent net steps its running state (read once,
    not timed); the others reread the last tokens they can see, without a cache."""
    model.eval()
    device = history.device
    nxt = torch.zeros(1, 1, dtype=torch.long, device=device)
    if isinstance(model, RecurrentNet):
        _, state = model(history)

        def gen():
            s = state
            for _ in range(tokens):
                _, s = model(nxt, s)
    else:
        v = model.view
        ctx_ids = torch.cat([history, nxt], 1)[:, -v:]

        def gen():
            for _ in range(tokens):
                logits(model, ctx_ids)[:, -1]

    return [t / tokens for t in _timed(gen, reps, budget)]


def measure_speed(lineup: Lineup = SPEED_LINEUP, vocab_size: int = 65, Ts=SPEED_TS, history=INFER_HISTORY,
                  batch: int = 16, reps: int = 3, budget: float = 2.0, seed: int = 0, device=None,
                  on_result: Callable[[str, dict], None] | None = None,
                  should_stop: Callable[[], object] | None = None) -> dict:
    """Step time and activation memory against T, and time per new token against the history length, for
    the four models of ``lineup`` (the Transformer's context is raised to cover the longest T and history:
    its weights do not change). Each time is the fastest of ``reps`` runs (the least disturbed by other work
    on the machine), after a warm-up run. ``on_result(what, row)`` is called after each measurement."""
    Ts, history = list(Ts), list(history)
    lineup = replace(lineup, context=max(lineup.context, max(Ts), max(history)))
    device = torch.device(device or "cpu")
    settings = lineup.settings(vocab_size)
    models = {k: build(k, vocab_size, None, seed=seed, **settings[k]).to(device) for k in KINDS}
    g = torch.Generator().manual_seed(seed)
    out = {"labels": lineup.labels(), "params": {k: count_params(m) for k, m in models.items()},
           "views": {k: (m.view if m.view is not None else -1) for k, m in models.items()}, "Ts": Ts,
           "history": history, "batch": batch, "step": {k: [] for k in KINDS}, "memory": {k: [] for k in KINDS},
           "token": {k: [] for k in KINDS}, "state": {k: [] for k in KINDS}, "lineup": lineup.to_dict(),
           "threads": torch.get_num_threads(), "complete": False}

    def stopped() -> bool:
        return bool(should_stop is not None and should_stop())

    for T in Ts:
        x = torch.randint(0, vocab_size, (batch, T), generator=g).to(device)
        y = torch.randint(0, vocab_size, (batch, T), generator=g).to(device)
        for k, m in models.items():
            if stopped():
                return out
            times = time_step(m, x, y, reps, budget)
            out["step"][k].append(min(times))
            out["memory"][k].append(saved_bytes(m, x))
            if on_result is not None:
                on_result("step", {"model": k, "T": T, "seconds": min(times), "bytes": out["memory"][k][-1]})
    for H in history:
        hist = torch.randint(0, vocab_size, (1, H), generator=g).to(device)
        for k, m in models.items():
            if stopped():
                return out
            times = time_next_token(m, hist, reps=reps, budget=budget)
            out["token"][k].append(min(times))
            out["state"][k].append(state_floats(m, H))
            if on_result is not None:
                on_result("token", {"model": k, "history": H, "seconds": min(times)})
    out["complete"] = True
    return out


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def speed_job(ctx, lineup: dict | None = None, Ts=SPEED_TS, history=INFER_HISTORY, batch: int = 16, reps: int = 3,
              seed: int = 0) -> dict:
    """:func:`measure_speed` in a worker (on its share of the machine), with progress and a stop between
    measurements; the load average before and after says how busy the machine was."""
    ctx.phase("building the models")
    lu = Lineup.from_dict(lineup or asdict(SPEED_LINEUP))
    check_lineup(lu)
    Ts = sorted({int(t) for t in Ts})
    history = sorted({int(h) for h in history})
    if (not Ts or not history or Ts[0] < 2 or Ts[-1] > 1024 or history[0] < 1 or history[-1] > 4096
            or not 1 <= batch <= 64):
        raise ValueError("sequence lengths must be 2-1,024, histories 1-4,096 and the batch 1-64")
    total = len(Ts) * len(KINDS) + len(history) * len(KINDS)
    load_before = load_average()
    done = [0]
    labels = lu.labels()

    def on_result(what, row):
        done[0] += 1
        ctx.emit("speed", what=what, **row)
        where = f"T = {row['T']}" if what == "step" else f"after {row['history']} tokens"
        ctx.progress(done[0], total, f"{'training step' if what == 'step' else 'next token'}: "
                                     f"{labels[row['model']]}, {where}")

    ctx.phase("timing")
    budget = max(min(2.0, (ctx.remaining() - 5) / max(total, 1)), 0.2)
    res = measure_speed(lu, 65, Ts, history, batch, reps, budget, seed, ctx.device, on_result, ctx.should_stop)
    res.update(load_before=load_before or [], load_after=load_average() or [], measured_at=time.time(),
               cores=os.cpu_count() or 0)
    status = "done" if res["complete"] else ("time_limit" if ctx.should_stop() == "time_limit" else "cancelled")
    at = Ts[-1]
    metrics = {f"step_ms_T{at}_{k}": 1000 * v[-1] for k, v in res["step"].items() if len(v) == len(Ts)}
    took = f"{ctx.elapsed():.0f} s"
    message = (f"{total} measurements in {took}." if res["complete"] else
               f"{done[0]} of {total} measurements done in {took}; the figures need them all: measure again.")
    return {"status": status, "message": message,
            "epochs_completed": 0, "metrics": metrics, **res}


# --- the course's table -----------------------------------------------------------------------------------
#: what the course's table says, per row and network (the Transformer is not in it: the usual claims)
COURSE = {
    "Input type": {"MLP": "a fixed-size vector", "CNN": "a grid of fixed size (an image)",
                   "RNN": "a sequence of any length", "Transformer": "a sequence up to its context length"},
    "Memory": {"MLP": "none", "CNN": "none beyond its receptive field", "RNN": "yes: the hidden state",
               "Transformer": "everything in its context, through attention"},
    "Parameter sharing": {"MLP": "none", "CNN": "across positions (one kernel)", "RNN": "across time steps",
                          "Transformer": "across positions"},
    "Training speed": {"MLP": "fast", "CNN": "fast (parallel)", "RNN": "slow (sequential steps)",
                       "Transformer": "fast (parallel)"},
    "Best use": {"MLP": "tabular data", "CNN": "images, local patterns", "RNN": "sequences: text, speech, time series",
                 "Transformer": "long texts"},
}


def _fmt_time(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def _fmt_bytes(b: float) -> str:
    return f"{b / 1e6:.1f} MB" if b >= 1e5 else f"{b / 1e3:.1f} kB"


def weights_per_extra_token(lu: Lineup, vocab_size: int, n_out: int | None = None) -> dict[str, int]:
    """Weights a model adds to see one more token back (the CNN: per token gained by one more layer),
    its width kept: what parameter sharing saves."""
    s = lu.settings(vocab_size, n_out)
    out = {"RNN": 0, "Transformer": 0}
    mlp = dict(s["MLP"])
    out["MLP"] = (size_of("MLP", vocab_size, n_out, **{**mlp, "window": mlp["window"] + 1})
                  - size_of("MLP", vocab_size, n_out, **mlp))
    cnn = dict(s["CNN"])
    gained = (lu.kernel - 1) * 2 ** lu.cnn_layers
    extra = (size_of("CNN", vocab_size, n_out, **{**cnn, "n_layers": cnn["n_layers"] + 1})
             - size_of("CNN", vocab_size, n_out, **cnn))
    out["CNN"] = round(extra / gained)
    return out


def course_table(recall: dict | None = None, charlm: dict | None = None, speed: dict | None = None,
                 lineup: Lineup | None = None) -> list[dict]:
    """The course's table with the numbers filled in: rows ``{"aspect", "course": {kind: claim},
    "measured": {kind: text}, "notes": [sentences where a measurement contradicts or qualifies the claim]}``.
    Each of ``recall``/``charlm``/``speed`` is a job's result (or None: that row says it was not measured)."""
    lu = lineup or (Lineup.from_dict(recall["lineup"]) if recall else RECALL_LINEUP)
    labels = lu.labels()
    rows = []

    # input type: what each one reads, from its settings (the views are tested)
    views = lu.views()
    reads = {"RNN": "any number of tokens, one at a time", "CNN": f"the last {views['CNN']} tokens",
             "MLP": f"the last {views['MLP']} tokens, as one vector",
             "Transformer": f"up to {views['Transformer']} tokens at once"}
    rows.append({"aspect": "Input type", "course": COURSE["Input type"], "measured": reads,
                 "notes": ["Here all four read the same sequences: the MLP and the CNN handle a sequence of any "
                           "length by sliding a window along it, but see only that window at a time."]})

    # memory: the recall task
    measured, notes = {}, []
    if recall and recall.get("models"):
        T = recall["task"]["T"]
        for k, r in recall["models"].items():
            s = r["span"]
            far = [a for kk, a in enumerate(r["acc"]) if r["view"] > 0 and kk >= r["view"]]
            text = (f"recalls up to k = {s}" if s >= 0 else "recalls nothing reliably") + f" (of {T - 1})"
            if far:
                text += f"; beyond its view {sum(far) / len(far):.0%} (chance {recall['chance']:.0%})"
            measured[k] = text
        rnn = recall["models"].get("RNN")
        if rnn is not None:
            if rnn["span"] >= T - 1:
                notes.append(f"The {rnn['label']} held the marked symbol over every distance up to {T - 1}: its "
                             "state is a memory with no fixed horizon, as the table says.")
            else:
                notes.append(f"The table says an RNN has memory; this {rnn['label']} recalled reliably only up to "
                             f"k = {rnn['span']} of {T - 1} after {rnn['steps']:,} steps — a memory in principle, "
                             "limited in practice by the gradient that must teach it (see how its dependence on the "
                             "marked token fades with k).")
        for k in ("MLP", "CNN", "Transformer"):
            r = recall["models"].get(k)
            if r is not None and r["view"] > 0 and r["span"] >= r["view"]:
                notes.append(f"The {labels[k]} recalled beyond its view — impossible; report this.")
    else:
        measured = {k: "not measured yet: train in the Memory tab" for k in KINDS}
    rows.append({"aspect": "Memory", "course": COURSE["Memory"], "measured": measured, "notes": notes})

    # parameter sharing
    vocab, n_out = (2 * recall["task"]["symbols"], recall["task"]["symbols"]) if recall else (16, 8)
    sizes = lu.sizes(vocab, n_out)
    extra = weights_per_extra_token(lu, vocab, n_out)
    measured = {k: f"{sizes[k]:,} weights; +{extra[k]:,} to see one token further back" for k in KINDS}
    measured["RNN"] = f"{sizes['RNN']:,} weights; the same at any length"
    measured["Transformer"] = f"{sizes['Transformer']:,} weights; the same up to its context"
    rows.append({"aspect": "Parameter sharing", "course": COURSE["Parameter sharing"], "measured": measured,
                 "notes": [f"The MLP has a separate weight for every token of its window: {extra['MLP']:,} more per "
                           f"extra token. The CNN shares one kernel along the sequence: {extra['CNN']:,} per token "
                           "its next layer adds to its view (dilations double it)."]})

    # training speed
    measured, notes = {}, []
    if speed and any(speed["step"].values()):
        Ts = speed["Ts"]
        n = min(len(v) for v in speed["step"].values())
        if n:
            T0, T1 = Ts[0], Ts[n - 1]
            for k in KINDS:
                v = speed["step"][k]
                measured[k] = f"{_fmt_time(v[n - 1])} per step at T = {T1} ({v[n - 1] / v[0]:.1f}× T = {T0})"
            slowest = max(KINDS, key=lambda k: speed["step"][k][n - 1])
            rnn = speed["step"]["RNN"][n - 1]
            if slowest == "RNN":
                others = min(speed["step"][k][n - 1] for k in KINDS if k != "RNN")
                notes.append(f"At T = {T1} the {speed['labels']['RNN']} was the slowest to train, {rnn / others:.1f}× "
                             "the fastest parallel model: the table's \"slow (sequential)\" holds here.")
            else:
                notes.append(f"The table says RNNs train slowly; here, at T = {T1}, the {speed['labels'][slowest]} was "
                             f"slower ({_fmt_time(speed['step'][slowest][n - 1])} against {_fmt_time(rnn)}). On "
                             f"{speed.get('threads', 1)} CPU thread(s) the parallel models cannot run their "
                             "positions side by side, and attention's work grows with T²: the sequential steps "
                             "cost most where many cores (a GPU) would otherwise work at once.")
    else:
        measured = {k: "not measured yet: measure in the Speed tab" for k in KINDS}
    rows.append({"aspect": "Training speed", "course": COURSE["Training speed"], "measured": measured, "notes": notes})

    # inference and memory (not in the course's table)
    if speed and all(len(v) == len(speed["history"]) for v in speed["token"].values()):
        H0, H1 = speed["history"][0], speed["history"][-1]
        measured = {k: f"{_fmt_time(v[-1])} per token after {H1:,} tokens ({v[-1] / v[0]:.1f}× after {H0})"
                    for k, v in speed["token"].items()}
        rows.append({"aspect": "Cost of one new token", "course": {k: "—" for k in KINDS}, "measured": measured,
                     "notes": ["Not in the course's table. A running state makes each new token cost the same "
                               "however long the text; a Transformer without a cache rereads its whole context "
                               "for every token."]})
        Tm = speed["Ts"][-1]
        measured = {k: (f"{_fmt_bytes(speed['memory'][k][-1])} kept for backward at T = {Tm} (batch "
                        f"{speed['batch']}); {speed['state'][k][-1]:,} numbers kept between tokens")
                    for k in KINDS if len(speed["memory"][k]) == len(speed["Ts"])}
        rows.append({"aspect": "Memory use", "course": {k: "—" for k in KINDS}, "measured": measured,
                     "notes": ["Not in the course's table. Training keeps every step's activations for the "
                               "backward pass (all models grow with T; attention's scores with T²); generating, a "
                               "recurrent net keeps only its state."]})

    # best use: the tasks
    measured, notes = {}, []
    if recall and recall.get("models"):
        for k, r in recall["models"].items():
            measured[k] = f"recall: {r['mean_acc']:.0%} over every k"
    if charlm and charlm.get("models"):
        for k, r in charlm["models"].items():
            text = f"tiny-shakespeare: {r['val_loss']:.2f} nats/char after {r['train_s']:.0f} s"
            measured[k] = f"{measured[k]}; {text}" if k in measured else text
        best = min(charlm["models"].values(), key=lambda r: r["val_loss"])
        if best["model"] == "RNN":
            notes.append(f"With the same training time the {best['label']} wrote the best Shakespeare: the table's "
                         "\"best for text\" holds here.")
        else:
            notes.append(f"The table names RNNs for text; with the same training time here the {best['label']} "
                         f"reached the lowest validation loss ({best['val_loss']:.2f} nats/char).")
    for k in KINDS:
        measured.setdefault(k, "not measured yet: train in the Memory and Shakespeare tabs")
    rows.append({"aspect": "Best use", "course": COURSE["Best use"], "measured": measured, "notes": notes})
    return rows
