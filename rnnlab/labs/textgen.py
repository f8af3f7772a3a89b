"""Text generation: train a character language model, watch it learn to write, look for units that mean
something.

* :class:`CharRecipe` and :data:`PRESETS` — ``"live"`` (the 3-minute default of the page: a 1-layer
  LSTM read as carried-state streams, Adam with a cosine decay over the time budget) and ``"shipped"``
  (the 2-layer LSTM in ``assets/textgen/``, trained for 33 minutes on a CPU by ``python -m rnnlab train-charlm``).
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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..data.chars import CharCorpus, CharVocab, StreamBatches, shakespeare, user_corpus
from ..nn.charlm import (
    CharLM,
    CharLMConfig,
    activations,
    detach_state,
    evaluate,
    generate,
    load_charlm,
    tbptt_loss,
)
from ..nn.init import seeded
from ..runtime.device import PRECISIONS
from ..status import Status
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
    weight_drop: float = 0.0          # DropConnect on W_hh while training (see rnnlab.nn.charlm)
    embed_dropout: float = 0.0        # locked dropout on the character vectors while training
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
    precision: str = "fp32"           # "auto": bfloat16 mixed precision where the CPU has it natively (AMX)

    def model_config(self, vocab_size: int) -> CharLMConfig:
        return CharLMConfig(vocab_size, self.cell.upper(), self.hidden_size, self.num_layers, self.embed_size,
                            self.dropout, self.weight_drop, self.embed_dropout)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CharRecipe:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


PRESETS = {
    # bf16 where the CPU multiplies it natively: more steps in the same 3 minutes (see docs/experiments/charlm.md)
    "live": CharRecipe(precision="auto"),
    # The shipped model: a 2-layer LSTM-800 with two regularisers of AWD-LSTM (Merity et al. 2018), DropConnect on
    # the recurrent weights and locked dropout on the character vectors, besides dropout; the best validated
    # weights are kept because tiny-shakespeare is small enough for a model this size to overfit it. The recipes
    # tried and their losses: see docs/experiments/charlm.md.
    "shipped": CharRecipe(name="shipped", hidden_size=800, num_layers=2, dropout=0.3, weight_drop=0.25,
                          embed_dropout=0.1, batch_size=64, seq_len=256, lr=2e-3, schedule="cosine",
                          min_lr_frac=0.05, ema=0.998, seconds=None, max_steps=3000, keep="best", eval_every=125,
                          eval_chars=None, sample_every=900.0, precision="auto"),
}

SAMPLE_PROMPT = "\n"
SAMPLE_TEMPERATURE = 0.8      # the samples printed while a model trains
#: the Generate tab's defaults (the page's widgets and its lessons read them here)
DEFAULT_PROMPT = "ROMEO:\n"
DEFAULT_TEMPERATURE = 0.8
DEFAULT_LENGTH = 300


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
                temperature: float = SAMPLE_TEMPERATURE) -> str:
    """A continuation of ``prompt`` (the model left in the mode it was in)."""
    was = model.training
    try:
        return "".join(s.char for s in generate(model, vocab, prompt, length, temperature=temperature, seed=seed))
    finally:
        model.train(was)


def mean_surprise(steps: list[dict]) -> float:
    """The mean surprise of generated text under the model, in nats per character: the mean of
    ``-log p`` over ``steps`` (each with the model's probability ``"p"`` of the character written; p is
    floored at 1e-12), 0 for no step."""
    surprise = [-math.log(max(s["p"], 1e-12)) for s in steps]
    return sum(surprise) / max(len(surprise), 1)


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
                         diverge_factor=2.0, diverge_after=50, precision=recipe.precision)
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


# --- the job --------------------------------------------------------------------------------------------
#: what a student may ask of a live training (the page's sliders stay inside; the job checks again)
LIVE_BOUNDS = {"hidden_size": (8, 1024), "num_layers": (1, 3), "seq_len": (8, 512), "bptt": (1, 512),
               "batch_size": (1, 256), "embed_size": (4, 256)}
EVAL_RESERVE = 15.0        # seconds of a job's time limit kept for the final validation
EVAL_MAX_CHARS = 200_000   # the final validation scores at most this many characters


def check_recipe(recipe: CharRecipe) -> None:
    """Raise ValueError with a clear message for a setting out of bounds."""
    for name, (lo, hi) in LIVE_BOUNDS.items():
        value = getattr(recipe, name)
        if value is not None and not lo <= value <= hi:
            raise ValueError(f"{name.replace('_', ' ')} must be between {lo} and {hi} (got {value})")
    if recipe.cell.upper() not in ("RNN", "LSTM", "GRU"):
        raise ValueError("the cell must be RNN, LSTM or GRU")
    if not (math.isfinite(recipe.lr) and 0 < recipe.lr <= 1):
        raise ValueError("the learning rate must be a positive number up to 1")
    if recipe.seconds is not None and not recipe.seconds > 0:
        raise ValueError("the training time must be positive")
    if not 0 <= recipe.dropout < 1:
        raise ValueError("dropout must be in [0, 1)")
    if recipe.precision not in PRECISIONS:
        raise ValueError("precision must be fp32, bf16 or auto")


def fit_to_text(recipe: CharRecipe, train_chars: int) -> tuple[CharRecipe, str | None]:
    """``recipe`` read as a text of ``train_chars`` training characters allows: each of the ``batch_size``
    streams of :class:`StreamBatches` needs a window of ``seq_len`` characters and two more, so a short text
    (the page's 2,000-character minimum leaves 1,800) is read as fewer streams, and only if one stream is
    still too short, in shorter windows. Returns the recipe (the same one when it fits) and a sentence
    saying what changed (None when nothing did)."""
    batch, seq_len = recipe.batch_size, recipe.seq_len
    if train_chars // batch >= seq_len + 2:
        return recipe, None
    batch = max(1, min(batch, train_chars // (seq_len + 2)))
    if train_chars // batch < seq_len + 2:
        seq_len = max(train_chars // batch - 2, 1)
    fitted = replace(recipe, batch_size=batch, seq_len=seq_len,
                     bptt=None if recipe.bptt is None else min(recipe.bptt, seq_len))
    note = (f"Your text has {train_chars:,} characters to train on: too few for {recipe.batch_size} streams of "
            f"{recipe.seq_len + 2} characters (a window of {recipe.seq_len} and the characters after it), so the "
            f"model reads {batch} stream{'s' if batch > 1 else ''} side by side"
            + (f", in windows of {seq_len} characters" if seq_len != recipe.seq_len else "")
            + ". A longer text keeps the settings.")
    return fitted, note


def textgen_job(ctx, recipe: dict, text: str | None = None, seed: int = 0) -> dict:
    """Train a character model live (the page's "Train live"): tiny-shakespeare, or ``text`` (a student's
    own, checked by :func:`rnnlab.data.chars.read_user_text`). Streams the trainer's events and a
    ``sample`` event with generated text every ``recipe["sample_every"]`` seconds; validates on the held-out
    10% (its first ``eval_chars`` characters) while training and on all of it (up to 200,000) at the end."""
    ctx.phase("loading data")
    r = CharRecipe.from_dict(recipe)
    check_recipe(r)
    corpus = shakespeare() if text is None else user_corpus(text)
    r, _ = fit_to_text(r, len(corpus.train))          # the page says so when it adapts a recipe
    ctx.check()
    budget = max(ctx.remaining() - EVAL_RESERVE, 1.0)
    r = replace(r, seconds=min(r.seconds or budget, budget))
    ctx.phase("training")
    run = train_charlm(r, corpus, seed=seed, on_event=ctx.on_trainer_event, should_stop=ctx.should_stop,
                       final_eval=False)
    h = run.history
    ctx.phase("evaluating")
    val = None
    if h.status != Status.DIVERGED and ctx.stop_requests < 2:
        val = evaluate(run.model, corpus.val[:EVAL_MAX_CHARS + 1],
                       should_stop=lambda: ctx.stop_requests >= 2 or ctx.remaining() <= 0)
    chars_seen = h.examples_seen * r.seq_len
    passes = chars_seen / max(len(corpus.train), 1)
    metrics = {"train_loss": float(np.mean(h.loss[-20:])) if h.loss else float("nan"),
               "passes": round(passes, 3), "steps": len(h.steps), "seconds": round(h.seconds, 1),
               "precision": h.precision}
    message = h.message
    if val is not None and val["chars"]:
        metrics.update(val_loss=val["loss"], val_bpc=val["bpc"], val_chars=val["chars"])
        message += (f" Validation loss {val['loss']:.3f} nats/char on {val['chars']:,} held-out characters "
                    f"(chance: ln {len(corpus.vocab)} = {math.log(len(corpus.vocab)):.2f}).")
    return {"status": h.status, "message": message, "epochs_completed": int(passes), "metrics": metrics,
            "state_dict": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
            "config": run.model.config.to_dict(), "vocab": corpus.vocab.to_json(), "recipe": r.to_dict(),
            "corpus": corpus.name, "samples": run.samples,
            "history": {"steps": h.steps, "loss": h.loss, "evals": h.evals, "lr": h.lr}}


def model_from_result(result: dict) -> tuple[CharLM, CharVocab]:
    """The model a job returned (eval mode, CPU)."""
    with torch.device("meta"):
        model = CharLM(CharLMConfig.from_dict(result["config"]))
    model = model.to_empty(device="cpu")
    model.load_state_dict({k: v.float() for k, v in result["state_dict"].items()})
    return model.eval(), CharVocab(result["vocab"])


def trained_how(meta: dict) -> str:
    """How long and where a saved char model trained, from its config: e.g. ``"2.4 minutes on CUDA: NVIDIA
    H200"``, and for one that went on from another model, both parts."""
    def part(m: dict) -> str:
        where = f"on {m['device']}" if m.get("device") else "(device not recorded)"
        return f"{m.get('minutes', 0):.1f} minutes {where}"

    init = meta.get("init")
    return f"{part(init)}, then {part(meta)}" if init else part(meta)


def shipped_model():
    """The pretrained tiny-shakespeare model: (model, vocab, meta), or None if it is not in assets/."""
    if not (SHIPPED / "model.pt").exists():
        return None
    return load_charlm(SHIPPED)


# --- interpretable units --------------------------------------------------------------------------------
FEATURE_HELP = {
    "position in the line": "characters since the last newline (Karpathy et al.'s line-length cell)",
    "inside a word": "1 on letters (and apostrophes inside words), 0 on spaces and punctuation",
    "start of a word": "1 on the first letter of a word",
    "upper case": "1 on capital letters",
    "speaker name": "1 on a line that ends with a colon: in a play, the name of who speaks next",
    "inside quotes or brackets": "1 between \" \" or inside ( ), [ ], { } (Karpathy et al.'s quote cell)",
}
FEATURES = tuple(FEATURE_HELP)


def feature_values(text: str) -> dict[str, np.ndarray]:
    """Each feature of :data:`FEATURES` at every character of ``text`` (float arrays of len(text))."""
    n = len(text)
    out = {name: np.zeros(n) for name in FEATURES}
    col = 0
    depth, quoted = 0, False
    for t, ch in enumerate(text):
        col = 0 if ch == "\n" else col + 1
        out["position in the line"][t] = col
        letter = ch.isalpha() or (ch == "'" and 0 < t < n - 1 and text[t - 1].isalpha() and text[t + 1].isalpha())
        out["inside a word"][t] = letter
        out["start of a word"][t] = ch.isalpha() and (t == 0 or not text[t - 1].isalpha())
        out["upper case"][t] = ch.isupper()
        if ch in "([{":
            depth += 1
        if ch == '"':
            quoted = not quoted
        out["inside quotes or brackets"][t] = depth > 0 or quoted or ch == '"'
        if ch in ")]}":
            depth = max(depth - 1, 0)
    start = 0
    for line in text.split("\n"):
        if line.rstrip().endswith(":") and line.strip():
            out["speaker name"][start:start + len(line)] = 1.0
        start += len(line) + 1
    return out


def correlations(signal: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``signal`` (T, N) with ``feature`` (T,); 0 where either is
    constant (a unit that never moves, or a feature absent from the text, tells nothing)."""
    s = signal - signal.mean(0)
    f = feature - feature.mean()
    denom = np.sqrt((s ** 2).sum(0) * (f ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (s * f[:, None]).sum(0) / denom
    return np.where(denom > 1e-12, r, 0.0)


def signal_label(key: str) -> str:
    """``"c1"`` -> "layer 2 cell state c" (keys of :func:`rnnlab.nn.charlm.activations`)."""
    kind = {"h": "hidden state h", "c": "cell state c"}[key[0]]
    return f"layer {int(key[1:]) + 1} {kind}"


def find_units(signals: dict[str, np.ndarray], text: str, top: int = 3,
               skip: np.ndarray | None = None) -> list[dict]:
    """For each feature of ``text``, the ``top`` units whose activation correlates best with it (by |r|).

    ``signals``: {"h0": (T, H), "c0": ...} for the T characters of ``text``; ``skip``: a boolean mask of
    positions left out (the first characters of a stream, read without context). Rows:
    ``{"feature", "signal", "unit", "r"}``; a feature constant over the text gives no row."""
    keep = np.ones(len(text), bool) if skip is None else ~np.asarray(skip, bool)
    feats = feature_values(text)
    rows = []
    for name in FEATURES:
        f = feats[name][keep]
        if f.std() < 1e-12:
            continue
        found = []
        for key, sig in signals.items():
            r = correlations(np.asarray(sig, dtype=np.float64)[keep], f)
            for unit in np.argsort(-np.abs(r))[:top]:
                found.append({"feature": name, "signal": key, "unit": int(unit), "r": float(r[unit])})
        rows.extend(sorted(found, key=lambda d: -abs(d["r"]))[:top])
    return rows


def unit_report(model: CharLM, vocab: CharVocab, text: str, streams: int = 16, warmup: int = 50,
                control: bool = True) -> dict:
    """The unit finder on ``text`` read as ``streams`` side-by-side pieces (the first ``warmup`` characters
    of each are left out of the correlations: the model reads them without context). Returns
    ``{"rows": find_units(...), "chars": characters used, "signals": keys, "digest": the model's,
    "control": the same for an untrained model of the same shape}``: a recurrent state integrates its
    input, so even random weights give units that correlate a little with, say, the position in the line;
    what training adds is the difference."""
    from .memory import model_digest

    report = _unit_rows(model, vocab, text, streams, warmup)
    report["digest"] = model_digest(model)
    if control:
        untrained = seeded(lambda: CharLM(model.config), 0)
        report["control"] = _unit_rows(untrained, vocab, text, streams, warmup)["rows"]
    return report


def _unit_rows(model: CharLM, vocab: CharVocab, text: str, streams: int, warmup: int) -> dict:
    ids = vocab.encode(text, unknown="map" if vocab.unknown_id is not None else "drop")
    text = vocab.decode(ids)
    streams = max(1, min(streams, len(ids) // (2 * warmup + 1)))
    length = len(ids) // streams
    ids = ids[: streams * length].view(streams, length)
    acts = activations(model, ids)
    pieces = [text[b * length:(b + 1) * length] for b in range(streams)]
    joined = "".join(pieces)
    signals = {k: v.reshape(streams * length, -1).numpy() for k, v in acts.items()}
    skip = np.zeros(len(joined), bool)
    for b in range(streams):
        skip[b * length: b * length + warmup] = True
    rows = find_units(signals, joined, skip=skip)
    return {"rows": rows, "chars": int((~skip).sum()), "signals": list(signals)}


def passages(text: str, n: int = 5, length: int = 600) -> list[tuple[int, str]]:
    """``n`` pieces of ``text`` about ``length`` characters long, spread over it, each starting at the
    beginning of a line: (start, passage)."""
    if len(text) <= length:
        return [(0, text)]
    out = []
    for k in range(n):
        start = int(k * (len(text) - length) / max(n - 1, 1))
        nl = text.find("\n", start, start + length // 2)   # begin at the next line, if one begins soon
        start = start if nl < 0 else nl + 1
        out.append((start, text[start:start + length]))
    return out


UNIT_CHARS = 8000     # held-out characters the unit finder reads (16 streams of 500)


def shipped_units() -> dict | None:
    """The unit finder's result for the shipped model, saved beside it by ``train-charlm`` (None if absent)."""
    import json

    path = SHIPPED / "units.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
