"""Character language modelling on tiny-shakespeare with an equal budget of training seconds each:
validation loss against training time, and a sample from each. The recurrent net is the Text generation
page's model and recipe (carried-state streams, Adam with a cosine over the budget)."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.chars import CharCorpus, StreamBatches, random_windows, shakespeare
from ...nn.charlm import evaluate as carried_eval
from ...nn.charlm import generate, sample_next
from ...nn.seqmodels import KINDS, CausalTransformer, RecurrentNet, build, count_params, logits, size_of
from ...status import Status
from ...train import TrainConfig, Trainer
from ..textgen import CarriedLoss, ScheduledAdam
from .lineup import CHAR_LINEUP, Lineup, _job_status, check_lineup, size_problem

#: Adam's rate for each model: the best of 1e-3, 3e-3 and 1e-2 after 80 steps of the 200k-weight line-up
#: (validation loss, seed 0; the LSTM 1.89 at 1e-2 against 2.17 at the Text generation page's 3e-3, a rate
#: chosen there for a 3-minute run). The Transformer's 1e-2 was 0.04 better than 3e-3 at 80 steps: 3e-3 is kept,
#: safer over longer runs and bigger models (bench/textgen.py trains a 4-block one with it).
CHAR_LR = {"RNN": 1e-2, "CNN": 3e-3, "MLP": 1e-2, "Transformer": 3e-3}
CHAR_WARMUP = {"RNN": 0, "CNN": 0, "MLP": 0, "Transformer": 10}
EVAL_CHARS = 10_000        # held-out characters scored on every validation (the same ones for every model)
EVALS = 5                  # validations per model, evenly spaced in training time (plus one before training)
LM_RESERVE = 6.0           # seconds kept per model for its validations and sample
LM_STREAMS = 32            # the recurrent net trains on this many carried-state streams, as Text generation
VAL_STREAMS = 4            # and is validated reading the held-out text as this many long streams


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
        return carried_eval(model, ids, n_streams=VAL_STREAMS)["loss"]
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


def train_lm(kind: str, model: nn.Module, corpus: CharCorpus, seconds: float, seq_len: int = 128,
             batch: int = LM_STREAMS,
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
            return Status.TIME_LIMIT
        return None

    config = TrainConfig(lr=lr, clip=1.0, max_steps=max_steps or 10**9, seed=seed, device=device,
                         diverge_factor=2.0, diverge_after=50, precision=precision)
    trainer = Trainer(model, loss_fn, config, on_event=events, should_stop=stop, optimizer=optimizer)
    h = trainer.fit(batches)
    train_s = train_seconds()
    cpu_s = time.process_time() - clock["cpu0"] - clock["cpu_paused"]
    status = Status.FINISHED if clock["budget"] and h.status == Status.TIME_LIMIT else h.status    # its own budget
    if status in (Status.FINISHED, Status.TIME_LIMIT) or (status == Status.STOPPED and h.steps):
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
        if run["status"] == Status.STOPPED and ctx.stop_requests >= 2:
            break
        sample = lm_sample(model, corpus.vocab, 200, seed=seed) if ctx.stop_requests < 2 else ""
        results[kind] = {"model": kind, "label": name, "settings": settings[kind], "params": count_params(model),
                         "view": model.view if model.view is not None else -1, "budget": budget, **run,
                         "val_loss": run["curve"][-1]["loss"], "sample": sample}
        ctx.emit("lm_done", run["steps"], model=kind, val_loss=results[kind]["val_loss"], sample=sample)
        if run["status"] == Status.STOPPED:
            break
    status = _job_status(results)
    short = [r for r in results.values() if r["budget"] < seconds - 1e-6 or r["status"] == Status.TIME_LIMIT]
    message = f"{len(results)} of {len(KINDS)} models trained, {seconds:g} s each."
    if short:
        given = ", ".join(f"the {r['label']} {r['train_s']:.0f} s" for r in short)
        message += f" The job's time limit left less to some: {given}."
    metrics = {f"val_loss_{k}": r["val_loss"] for k, r in results.items()}
    metrics.update({f"steps_{k}": float(r["steps"]) for k, r in results.items()})
    return {"status": status, "message": message, "epochs_completed": 0, "metrics": metrics, "models": results,
            "lineup": lu.to_dict(), "seconds": seconds, "seq_len": seq_len, "batch": batch,
            "chance": math.log(V), "val_chars": len(val) - 1, "corpus": corpus.name}
