"""Text generation: train a character language model, watch it learn to write, look for units that mean
something.

* :class:`CharRecipe` and :data:`PRESETS` — ``"live"`` (the 3-minute default of the page: a 1-layer
  LSTM read as carried-state streams, Adam with a cosine decay over the time budget) and ``"shipped"``
  (the 2-layer LSTM in ``assets/textgen/``, trained for hours by ``python -m rnnlab train-charlm``).
* :func:`train_charlm` — the recipe through the shared :class:`rnnlab.train.Trainer`: truncated BPTT
  with a carried state, validation on the held-out 10%, a sample of generated text every few seconds.
* :func:`textgen_job` — the same as a job of the job runner (the page's "Train live").
* :func:`find_units` — Karpathy, Johnson & Fei-Fei (2015) found LSTM cells that track the position in
  the line or whether the text is inside quotes. Here: the correlation of every unit's activation with
  a few such features of a passage (:data:`FEATURES`), and the units that follow each one best.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data.chars import CharCorpus, CharVocab, StreamBatches, shakespeare, split_text, user_corpus
from ..nn.charlm import (CharLM, CharLMConfig, activations, charlm_params, count_params, detach_state,
                         evaluate, generate, load_charlm, tbptt_loss)
from ..nn.init import seeded
from ..train import Event, History, TrainConfig, Trainer

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "textgen" / "shakespeare_lstm"


@dataclass
class CharRecipe:
    """How to train a character model. ``seq_len`` characters per window and per update; the gradient
    flows back ``bptt`` of them (None: the whole window); with ``carry_state`` the next window starts
    from the state the last one ended with, so the model's memory outlives a window."""

    name: str = "live"
    cell: str = "LSTM"
    hidden_size: int = 384
    num_layers: int = 1
    embed_size: int = 64
    dropout: float = 0.0
    batch_size: int = 32
    seq_len: int = 128
    bptt: int | None = None
    carry_state: bool = True
    lr: float = 3e-3
    schedule: str = "cosine"          # cosine: decay to min_lr_frac × lr over the budget; plateau; constant
    min_lr_frac: float = 0.05
    warmup_steps: int = 0
    clip: float | None = 1.0
    weight_decay: float = 0.0
    ema: float | None = None
    seconds: float | None = 170.0     # training time budget (the cosine follows it); None: steps only
    max_steps: int | None = None
    eval_every: int = 100             # steps between validations
    eval_chars: int | None = 20_000   # validation characters scored during training (None: all)
    lr_patience: int | None = None    # plateau schedule: validations without improvement before halving
    keep: str = "last"                # the weights a run ends with: "last", or "best" validated (EMA if any)
    sample_every: float = 5.0         # seconds between generated samples (0: none)
    sample_length: int = 200

    def model_config(self, vocab_size: int) -> CharLMConfig:
        return CharLMConfig(vocab_size, self.cell.upper(), self.hidden_size, self.num_layers, self.embed_size,
                            self.dropout)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "CharRecipe":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


PRESETS = {
    "live": CharRecipe(),
    # 6,000 steps of 4,096 characters (24 passes over the text), or 6 hours if that comes first: about 4.5
    # hours on one quiet CPU thread
    "shipped": CharRecipe(name="shipped", hidden_size=512, num_layers=2, dropout=0.3, batch_size=32, seq_len=128,
                          lr=2e-3, schedule="cosine", min_lr_frac=0.05, ema=0.998, seconds=6 * 3600.0,
                          max_steps=6000,
                          keep="best", eval_every=250, eval_chars=None, sample_every=900.0),
}

SAMPLE_PROMPT = "\n"


def recipe_from(preset: str, **changes) -> CharRecipe:
    return replace(PRESETS[preset], **changes)


# --- training ------------------------------------------------------------------------------------------
class ScheduledAdam(torch.optim.Adam):
    """Adam whose learning rate follows ``schedule(step, seconds) -> factor`` (times the initial rate).

    The factor is read before every update: a cosine over a *time* budget ends at its floor when the
    time is up, however many steps this machine manages in that time."""

    def __init__(self, params, lr: float, schedule: Callable[[int, float], float], **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.base_lr, self.schedule = lr, schedule
        self.updates, self.started = 0, None

    def step(self, closure=None):
        if self.started is None:
            self.started = time.perf_counter()
        factor = self.schedule(self.updates, time.perf_counter() - self.started)
        for g in self.param_groups:
            g["lr"] = self.base_lr * factor
        self.updates += 1
        return super().step(closure)


def lr_schedule(recipe: CharRecipe) -> Callable[[int, float], float] | None:
    """The factor on the learning rate at (step, seconds), or None for a fixed or plateau-driven rate."""
    if recipe.schedule != "cosine":
        return None
    floor, warm = recipe.min_lr_frac, max(recipe.warmup_steps, 0)

    def factor(step: int, seconds: float) -> float:
        if step < warm:
            return (step + 1) / warm
        # progress through whichever budget runs out first: on a busy machine, time
        parts = [seconds / recipe.seconds] if recipe.seconds else []
        parts += [step / recipe.max_steps] if recipe.max_steps else []
        if not parts:
            return 1.0
        frac = min(max(max(parts), 0.0), 1.0)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac))

    return factor


class CarriedLoss:
    """The trainer's ``loss_fn`` for stream batches ``(x, y, reset)``: keeps the final state of one window
    to start the next (unless ``carry`` is off or the batch starts a new pass over the text)."""

    def __init__(self, bptt: int | None, carry: bool = True):
        self.bptt, self.carry, self.state = bptt, carry, None

    def __call__(self, model: CharLM, batch):
        x, y, reset = batch
        start = None if (reset or not self.carry) else self.state
        loss, state = tbptt_loss(model, x, y, start, self.bptt)
        self.state = detach_state(state)
        return loss, {}


@dataclass
class CharRun:
    model: CharLM
    vocab: CharVocab
    history: History
    val: dict                       # {"loss", "bpc", "chars"} on the whole validation part
    samples: list[dict] = field(default_factory=list)   # {"step", "seconds", "text"}
    recipe: CharRecipe | None = None


def build_model(recipe: CharRecipe, vocab_size: int, seed: int = 0) -> CharLM:
    config = recipe.model_config(vocab_size)
    return seeded(lambda: CharLM(config), seed)


def sample_text(model: CharLM, vocab: CharVocab, length: int = 200, prompt: str = SAMPLE_PROMPT, seed: int = 0,
                temperature: float = 0.8) -> str:
    """A continuation of ``prompt`` (the model left in the mode it was in)."""
    was = model.training
    try:
        return "".join(s.char for s in generate(model, vocab, prompt, length, temperature=temperature, seed=seed))
    finally:
        model.train(was)


def train_charlm(recipe: CharRecipe, corpus: CharCorpus, seed: int = 0, device: str | None = None,
                 on_event: Callable | None = None, should_stop: Callable | None = None,
                 on_validate: Callable[[CharLM, dict, int], None] | None = None,
                 init_state: dict | None = None, final_eval: bool = True) -> CharRun:
    """Train ``recipe`` on ``corpus.train``; validate on (the start of) ``corpus.val`` every
    ``recipe.eval_every`` steps and on all of it at the end. Events go to ``on_event`` (the trainer's,
    plus ``sample`` events with generated text); ``on_validate(model, metrics, step)`` is called after
    each validation with the weights validated (a checkpoint hook)."""
    model = build_model(recipe, len(corpus.vocab), seed)
    if init_state is not None:
        model.load_state_dict({k: v.float() for k, v in init_state.items()})
    batches = StreamBatches(corpus.train, recipe.batch_size, recipe.seq_len, seed)
    schedule = lr_schedule(recipe)
    optimizer = (ScheduledAdam(model.parameters(), recipe.lr, schedule, weight_decay=recipe.weight_decay)
                 if schedule else torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay))
    max_steps = recipe.max_steps or 10**9
    config = TrainConfig(lr=recipe.lr, clip=recipe.clip, max_steps=max_steps,
                         eval_every=recipe.eval_every if recipe.keep == "best" else None,
                         lr_patience=recipe.lr_patience if recipe.schedule == "plateau" else None,
                         ema=recipe.ema, time_limit=recipe.seconds, seed=seed, device=device,
                         diverge_factor=2.0, diverge_after=50)
    samples: list[dict] = []
    clock = {"start": None, "last_sample": 0.0, "step": 0}

    def validate(m: CharLM) -> dict:
        metrics = evaluate(m, corpus.val, max_chars=recipe.eval_chars)
        if on_validate is not None:
            on_validate(m, metrics, clock["step"])
        return {"loss": metrics["loss"]}

    def events(e) -> None:
        if on_event is not None:
            on_event(e)
        if e.kind != "step":
            return
        clock["step"] = e.step
        now = time.perf_counter()
        if clock["start"] is None:
            clock["start"] = now
        if not select_best and recipe.eval_every and e.step % recipe.eval_every == 0:
            # validated here rather than by the trainer, which would end on the best validated weights:
            # with a decaying learning rate the last weights are the ones to keep
            metrics = validate(model)
            trainer.history.evals.append({"step": e.step, "epoch": e.epoch, **metrics})
            if on_event is not None:
                on_event(Event("eval", e.step, e.epoch, dict(metrics)))
        if recipe.sample_every and (e.step == 1 or now - clock["last_sample"] >= recipe.sample_every):
            clock["last_sample"] = now
            text = sample_text(model, corpus.vocab, recipe.sample_length, seed=seed + e.step)
            samples.append({"step": e.step, "seconds": round(now - clock["start"], 1), "text": text})
            if on_event is not None:
                on_event(Event("sample", e.step, e.epoch, {"text": text, "loss": e.data.get("loss")}))

    select_best = recipe.keep == "best"
    trainer = Trainer(model, CarriedLoss(recipe.bptt, recipe.carry_state), config, on_event=events,
                      should_stop=should_stop, optimizer=optimizer)
    history = trainer.fit(batches, validate if select_best else None)
    val = evaluate(model, corpus.val) if final_eval else {}
    return CharRun(model.eval(), corpus.vocab, history, val, samples, recipe)
