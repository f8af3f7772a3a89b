"""Sentiment classification end to end: recipes (presets), encoding, training (live, as a job of the job
runner: :func:`sentiment_job`), calibration, evaluation, and how a model read a review: its calibrated
prediction, the probability after each word, and word importance by occlusion in log-odds.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
import torch.nn.functional as F

from ...data.text import TextDataset, find_imdb, load_compact_imdb, load_imdb
from ...data.tokenizer import OOV, Vocabulary, pad, tokenize
from ...nn.init import seeded
from ...nn.models import ClassifierConfig, SentimentClassifier, TextModel
from ...train import History, TrainConfig, Trainer
from .. import calibration


@dataclass
class Recipe:
    """Everything that defines a sentiment model and how it is trained."""

    name: str = "fast"
    num_words: int = 20_000
    maxlen: int = 200
    truncating: str = "pre"          # Keras' default: keep the end of a long review
    cell: str = "GRU"
    embed_dim: int = 64
    hidden_sizes: tuple[int, ...] = (64,)
    bidirectional: bool = False
    dropout: float = 0.0             # between recurrent layers
    embed_dropout: float = 0.0
    head_hidden: int = 0
    head_dropout: float = 0.0
    pooling: str = "maxmean"
    lr: float = 3e-3
    clip: float | None = 1.0
    batch_size: int = 128
    epochs: int = 1
    val_fraction: float = 0.1
    early_stopping: int | None = 2   # validations without improvement
    lr_patience: int | None = 1
    evals_per_epoch: int = 4
    ema: float | None = None         # average the weights over the last ~1/(1-ema) steps (see TrainConfig.ema)
    equal_length: bool = False       # train on equal-length batches (a bidirectional model then needs no packing)
    lr_schedule: str | None = None   # "cosine": the learning rate decays to 0 over the epochs (or the time budget)
    cycles: int = 1                  # with "cosine": warm restarts from the best weights (TrainConfig.cycles)
    precision: str = "fp32"          # "auto": bfloat16 mixed precision where the CPU has it natively (AMX)

    def classifier_config(self, vocab_size: int) -> ClassifierConfig:
        return ClassifierConfig(vocab_size=vocab_size, embed_dim=self.embed_dim, hidden_sizes=tuple(self.hidden_sizes),
                                cell=self.cell, bidirectional=self.bidirectional, dropout=self.dropout,
                                embed_dropout=self.embed_dropout, head_hidden=self.head_hidden,
                                head_dropout=self.head_dropout, pooling=self.pooling)


PRESETS: dict[str, Recipe] = {
    # Fast enough to train live in class on a laptop CPU: one LSTM layer (oneDNN's fused CPU kernel)
    # whose outputs are max- and mean-pooled over time, so every word gets a direct gradient instead of
    # waiting for it to travel back from the last step; a high learning rate with LR drops on plateaus.
    "fast": Recipe(cell="LSTM", lr=6e-3, epochs=3),
    # An LSTM-128 given three minutes: whole reviews (up to 1,000 tokens, 30k words), dropout 0.5 on the
    # word vectors and before the head, batches of 64 in bfloat16 where the CPU has it natively (AMX: 1.5x
    # the reviews per second of float32 here), and the learning rate in three cosine cycles over the time
    # budget, each cycle starting again from the best validated weights (warm restarts, SGDR), the weights
    # averaged (EMA). On all 25,000 IMDB test reviews after 180 s of training on a 2-core AMX CPU: 89.20% /
    # 89.36% (seeds 0 / 1); the LSTM-64 in float32, batches of 128: 88.66% / 88.30% (README, Measured figures).
    "fast_3min": Recipe(name="fast_3min", cell="LSTM", num_words=30_000, maxlen=1000, embed_dim=64,
                        hidden_sizes=(128,), embed_dropout=0.5, head_dropout=0.5, lr=6e-3, batch_size=64, epochs=10,
                        val_fraction=0.05, early_stopping=None, lr_patience=None, ema=0.99, lr_schedule="cosine",
                        cycles=3, precision="auto"),
    # The guide's section 6 PyTorch classifier: BiLSTM, 2 layers, 256 units, dropout 0.3, Adam 1e-3, clip 1.0.
    "guide_pytorch": Recipe(name="guide_pytorch", num_words=20_000, maxlen=400, cell="LSTM", embed_dim=128,
                            hidden_sizes=(256, 256), bidirectional=True, dropout=0.3, head_dropout=0.3,
                            pooling="last", lr=1e-3, clip=1.0, batch_size=64, epochs=5, equal_length=True),
    # The guide's section 8 Keras IMDB model: 10k words, 200 tokens, Embedding 64, BiLSTM 64 -> BiLSTM 32
    # -> Dense 64 relu -> Dropout 0.5 -> sigmoid.
    "guide_keras": Recipe(name="guide_keras", num_words=10_000, maxlen=200, cell="LSTM", embed_dim=64,
                          hidden_sizes=(64, 32), bidirectional=True, head_hidden=64, head_dropout=0.5,
                          pooling="last", lr=1e-3, clip=None, batch_size=64, epochs=5, equal_length=True),
    # The shipped model (`python -m rnnlab train-sentiment --preset shipped`, on the training split only, 10%
    # of it held out for validation and the calibration temperature): a bidirectional LSTM-256 reading whole
    # reviews (up to 1,000 tokens: 99% of IMDB reviews are shorter) in equal-length batches, its outputs max-
    # and mean-pooled over time; strong dropout on the word vectors (0.5) and before the head, 10 epochs of
    # Adam on a cosine schedule, the weights averaged over the last ~500 steps (EMA), and the best validated
    # weights kept. 90.23% test accuracy, ECE 5.3% -> 0.4% after calibration; 2 minutes on an H200 GPU.
    "shipped": Recipe(name="shipped", num_words=30_000, maxlen=1000, cell="LSTM", embed_dim=128, hidden_sizes=(256,),
                      bidirectional=True, embed_dropout=0.5, head_dropout=0.5, pooling="maxmean", lr=2e-3,
                      batch_size=64, epochs=10, early_stopping=None, lr_patience=None, evals_per_epoch=4,
                      ema=0.998, equal_length=True, lr_schedule="cosine"),
}


def encode(texts: list[str], vocab: Vocabulary, maxlen: int,
           truncating: str = "pre") -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids padded *at the end* to the longest text (at most ``maxlen``), and the lengths.

    Post-padding with lengths lets the RNN skip padding entirely (packed sequences)."""
    seqs = []
    for text in texts:
        ids = vocab.ids(tokenize(text))
        if len(ids) > maxlen:
            ids = ids[-maxlen:] if truncating == "pre" else ids[:maxlen]
        seqs.append(ids or [1])  # an empty text reads one <oov>
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    width = int(lengths.max()) if len(seqs) else 1
    ids = torch.tensor([pad(s, width, padding="post") for s in seqs], dtype=torch.long)
    return ids, lengths


def batches(ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool = True,
            seed: int = 0, bucket: int = 50, equal_length: bool = False,
            truncating: str = "pre") -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of similar lengths (less padding to step over), each cut to its longest sequence.

    ``equal_length``: cut every review of a batch to the batch's shortest one instead (dropping its first
    words with ``truncating="pre"``, its last with ``"post"``), so that a bidirectional model needs no
    packing (see ``SentimentClassifier.features``). Reviews are sorted by length within blocks of
    ``batch_size * bucket``, so neighbours differ by a few words at most (``dropped_share`` measures it)."""
    n = len(lengths)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    out = []
    chunk = batch_size * bucket
    for start in range(0, n, chunk):
        block = order[start:start + chunk]
        block = block[np.argsort(-lengths[block].numpy(), kind="stable")]
        for b in range(0, len(block), batch_size):
            idx = torch.from_numpy(block[b:b + batch_size])
            if equal_length:
                m = int(lengths[idx].min())
                first = ((lengths[idx] - m)[:, None] if truncating == "pre"
                         else torch.zeros(len(idx), 1, dtype=torch.long))
                cols = first + torch.arange(m)[None, :]
                out.append((ids[idx].gather(1, cols), torch.full((len(idx),), m, dtype=torch.long), labels[idx]))
            else:
                L = int(lengths[idx].max())
                out.append((ids[idx, :L], lengths[idx], labels[idx]))
    if shuffle:
        perm = np.random.default_rng(seed + 1).permutation(len(out))
        out = [out[i] for i in perm]
    return out


def dropped_share(lengths: torch.Tensor, batch_size: int, bucket: int = 50, seed: int = 0) -> float:
    """Share of all tokens that equal-length batches drop (for a given set of review lengths)."""
    kept = sum(int(b[1].sum()) for b in batches(torch.zeros(len(lengths), int(lengths.max()), dtype=torch.long),
                                               lengths, torch.zeros(len(lengths), dtype=torch.long), batch_size,
                                               seed=seed, bucket=bucket, equal_length=True))
    return 1.0 - kept / max(int(lengths.sum()), 1)


class EpochBatches:
    """Re-shuffled bucketed batches every epoch (an iterable the trainer reads once per epoch)."""

    def __init__(self, ids, lengths, labels, batch_size: int, seed: int = 0, equal_length: bool = False,
                 truncating: str = "pre"):
        self.args = (ids, lengths, labels, batch_size)
        self.seed = seed
        self.epoch = 0
        self.options = {"equal_length": equal_length, "truncating": truncating}

    def __iter__(self):
        self.epoch += 1
        return iter(batches(*self.args, shuffle=True, seed=self.seed + 1000 * self.epoch, **self.options))

    def __len__(self) -> int:
        return math.ceil(len(self.args[1]) / self.args[3])


def loss_fn(model: SentimentClassifier, batch):
    ids, lengths, y = batch
    logits = model(ids, lengths)
    loss = F.binary_cross_entropy_with_logits(logits, y.float())
    acc = ((logits > 0).long() == y).float().mean()
    return loss, {"acc": acc}


@torch.no_grad()
def evaluate(model: SentimentClassifier, ids, lengths, labels, batch_size: int = 256) -> dict:
    """Loss, accuracy and the confusion matrix [[TN, FP], [FN, TP]]."""
    model.eval()
    device = next(model.parameters()).device
    total, loss_sum, preds = 0, 0.0, []
    for b_ids, b_len, b_y in batches(ids, lengths, labels, batch_size, shuffle=False):
        logits = model(b_ids.to(device), b_len)
        loss_sum += float(F.binary_cross_entropy_with_logits(logits, b_y.to(device).float(), reduction="sum"))
        total += len(b_y)
        preds.append(torch.stack([b_y, (logits > 0).long().cpu()], dim=1))
    pairs = torch.cat(preds)
    cm = np.zeros((2, 2), dtype=np.int64)
    for t, p in pairs.tolist():
        cm[t, p] += 1
    return {"loss": loss_sum / max(total, 1), "acc": float(np.trace(cm) / max(total, 1)), "confusion": cm}


@dataclass
class SentimentRun:
    text_model: TextModel
    history: History
    test: dict | None


def build_vocab(texts: list[str], num_words: int) -> Vocabulary:
    return Vocabulary(num_words=num_words).fit(texts)


def count_params(recipe: Recipe, vocab_size: int | None = None) -> int:
    """Weights of the model a recipe builds (counted from the layer sizes: nothing is built)."""
    c = recipe.classifier_config(vocab_size or recipe.num_words)
    gates = {"LSTM": 4, "GRU": 3}.get(c.cell.upper(), 1)
    D = 2 if c.bidirectional else 1
    n, size_in = c.vocab_size * c.embed_dim, c.embed_dim
    for h in c.hidden_sizes:
        n += D * gates * h * (size_in + h + 2)
        size_in = h * D
    size_in *= 2 if c.pooling == "maxmean" else 1
    n += (size_in * c.head_hidden + c.head_hidden + c.head_hidden + 1) if c.head_hidden else size_in + 1
    return n


@torch.no_grad()
def logits_of(model: SentimentClassifier, ids: torch.Tensor, lengths: torch.Tensor, chunk: int = 256,
              give_up: Callable[[], bool] | None = None) -> np.ndarray:
    """The model's logits for encoded texts, in their order, ``chunk`` texts at a time (each chunk sorted by
    length so that little padding is read). If ``give_up()`` turns true between chunks, the logits of the
    texts scored so far (a prefix of the order) are returned."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(lengths), chunk):
        if give_up is not None and out and give_up():
            break
        idx = torch.arange(start, min(start + chunk, len(lengths)))
        order = idx[torch.argsort(-lengths[idx], stable=True)]
        L = int(lengths[order].max())
        z = model(ids[order, :L].to(device), lengths[order]).float().cpu()
        back = torch.empty_like(z)
        back[order - start] = z          # back in the texts' own order
        out.append(back)
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


def test_metrics(logits: np.ndarray, labels: np.ndarray, temperature_: float = 1.0) -> dict:
    """Accuracy, loss (calibrated), confusion matrix [[TN, FP], [FN, TP]] and the calibration report."""
    labels = np.asarray(labels).astype(np.int64)
    pred = (logits > 0).astype(np.int64)
    cm = np.zeros((2, 2), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    return {"acc": float((pred == labels).mean()) if len(labels) else float("nan"),
            "loss": calibration.nll(logits, labels, temperature_) if len(labels) else float("nan"),
            "confusion": cm, "n": int(len(labels)),
            "calibration": calibration.calibration_report(logits, labels, temperature_)}


def train_sentiment(recipe: Recipe, train: TextDataset, test: TextDataset | None = None, seed: int = 0,
                    device: str | None = None, on_event: Callable | None = None,
                    should_stop: Callable[[], bool] | None = None, max_steps: int | None = None,
                    time_budget: float | None = None, init: TextModel | None = None) -> SentimentRun:
    """Fit a vocabulary on the training texts, train with validation, early stopping and LR drops, fit the
    temperature on the validation split (calibration), and (if ``test`` is given) measure test accuracy,
    the confusion matrix and the calibration (ECE before/after, reliability bins) on the test split.

    The command line and the benchmarks use this; the app's live training is :func:`sentiment_job`."""
    if len(train) < 10:
        raise ValueError("need at least 10 training examples")
    fit_part, val_part = train.split(recipe.val_fraction, seed) if recipe.val_fraction > 0 else (train, None)
    # ``init``: go on training a saved model (its vocabulary and weights; the same split if the same seed)
    vocab = init.vocab if init is not None else build_vocab(fit_part.texts, recipe.num_words)
    ids, lengths = encode(fit_part.texts, vocab, recipe.maxlen, recipe.truncating)
    labels = torch.from_numpy(fit_part.labels)
    config_ = recipe.classifier_config(len(vocab))
    model = seeded(lambda: SentimentClassifier(config_), seed)
    if init is not None:
        model.load_state_dict(init.model.state_dict())
    per_epoch = math.ceil(len(fit_part) / recipe.batch_size)
    eval_every = max(per_epoch // max(recipe.evals_per_epoch, 1), 1)
    val = None
    if val_part is not None and len(val_part):
        v_ids, v_len = encode(val_part.texts, vocab, recipe.maxlen, recipe.truncating)
        val = (v_ids, v_len, torch.from_numpy(val_part.labels))
    start = [None]

    def stop() -> bool:
        if start[0] is None:
            start[0] = time.perf_counter()
        if time_budget is not None and time.perf_counter() - start[0] > time_budget:
            return True
        return bool(should_stop and should_stop())

    config = TrainConfig(lr=recipe.lr, clip=recipe.clip, epochs=recipe.epochs, max_steps=max_steps,
                         eval_every=eval_every if val else None, early_stopping=recipe.early_stopping,
                         lr_patience=recipe.lr_patience, monitor="acc", mode="max", seed=seed, device=device,
                         ema=recipe.ema, lr_schedule=recipe.lr_schedule, time_limit=time_budget,
                         precision=recipe.precision, cycles=recipe.cycles)
    trainer = Trainer(model, loss_fn, config, on_event=on_event, should_stop=stop)
    validate = (lambda m: {k: v for k, v in evaluate(m, *val).items() if k != "confusion"}) if val else None
    history = trainer.fit(EpochBatches(ids, lengths, labels, recipe.batch_size, seed,
                                       equal_length=recipe.equal_length, truncating=recipe.truncating), validate)
    T = 1.0
    if val is not None and history.status != "diverged":
        T = calibration.fit_temperature(logits_of(model, val[0], val[1]), val_part.labels)
    test_result = None
    if test is not None and len(test):
        t_ids, t_len = encode(test.texts, vocab, recipe.maxlen, recipe.truncating)
        test_result = evaluate(model, t_ids, t_len, torch.from_numpy(test.labels))
        test_result["calibration"] = calibration.calibration_report(logits_of(model, t_ids, t_len), test.labels, T)
    meta = {"recipe": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(recipe).items()},
            "seed": seed, "train_examples": len(fit_part), "steps": len(history.steps),
            "seconds": round(history.seconds, 1), "status": history.status, "temperature": T,
            "precision": history.precision}
    if test_result is not None:
        meta["test_accuracy"] = round(test_result["acc"], 4)
        meta["test_examples"] = len(test)
        meta["calibration"] = test_result["calibration"]
    tm = TextModel(recipe.name, model.eval(), vocab, recipe.maxlen, meta)
    return SentimentRun(tm, history, test_result)


def recipe_from(preset: str, **changes) -> Recipe:
    """A preset with some settings changed, e.g. ``recipe_from("fast", epochs=2)``."""
    return replace(PRESETS[preset], **changes)


def recipe_to_dict(recipe: Recipe) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(recipe).items()}


def recipe_from_dict(d: dict) -> Recipe:
    known = {f.name for f in fields(Recipe)}
    d = {k: v for k, v in d.items() if k in known}
    if "hidden_sizes" in d:
        d["hidden_sizes"] = tuple(int(h) for h in d["hidden_sizes"])
    return Recipe(**d)


# --- live training as a job (rnnlab.runtime.jobs) ---------------------------------------------------
EVAL_SAMPLE = 2_000   # test reviews scored after a stop or the time limit (unless the whole test set is asked)
AFTER_STOP = 6.0      # seconds a stopped job keeps calibrating and scoring: the runner ends a job that has not
                      # finished 10 s (its grace) after the first Stop, and would then keep nothing
CHUNK = 250           # texts tokenised (or scored) between two checks for a stop


class TokenCache:
    """Texts as arrays of word numbers, kept in the worker process from one job to the next.

    Tokenising 5,000 reviews takes a few seconds on a laptop CPU; the next job on the same reviews (another
    recipe, another seed) finds them here and starts training at once. Word numbers index ``words`` (every
    word seen, in order of first sight); a recipe's vocabulary is then counted with one ``bincount`` and
    mapped with one lookup table. At most ``max_texts`` texts are kept (emptied between jobs when full)."""

    def __init__(self, max_texts: int = 60_000):
        self.max_texts = max_texts
        self.reset()

    def reset(self) -> None:
        self.words: list[str] = []
        self.index: dict[str, int] = {}
        self.docs: dict[tuple[int, int], np.ndarray] = {}

    def make_room(self, n_new: int) -> None:
        if len(self.docs) + n_new > self.max_texts:
            self.reset()

    def ids(self, text: str) -> np.ndarray:
        key = (hash(text), len(text))
        arr = self.docs.get(key)
        if arr is None:
            index, words = self.index, self.words
            out = []
            for t in tokenize(text):
                i = index.get(t)
                if i is None:
                    i = index[t] = len(words)
                    words.append(t)
                out.append(i)
            arr = self.docs[key] = np.asarray(out, dtype=np.int32)
        return arr

    def many(self, texts: list[str], ctx=None, label: str = "Tokenising", offset: int = 0,
             total: int | None = None) -> list[np.ndarray]:
        """Word numbers of every text, ``CHUNK`` texts at a time, reporting progress and checking for a stop."""
        total = total or len(texts)
        out: list[np.ndarray] = []
        for start in range(0, len(texts), CHUNK):
            if ctx is not None:
                ctx.check()
                ctx.progress(offset + start, total, f"{label}… {offset + start:,}/{total:,} reviews")
            out.extend(self.ids(t) for t in texts[start:start + CHUNK])
        return out

    def vocabulary(self, docs: list[np.ndarray], num_words: int | None) -> Vocabulary:
        """The vocabulary ``Vocabulary(num_words).fit(texts)`` would build on these texts."""
        counts = np.bincount(np.concatenate(docs) if docs else np.zeros(0, np.int64), minlength=len(self.words))
        return Vocabulary(num_words).fit_counts({self.words[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def encode(self, docs: list[np.ndarray], vocab: Vocabulary, maxlen: int, truncating: str = "pre"
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """What :func:`encode` returns for these texts: ids post-padded to the longest, and the lengths."""
        lut = np.fromiter((vocab.index.get(w, OOV) for w in self.words), dtype=np.int64, count=len(self.words))
        cut = [d[-maxlen:] if truncating == "pre" else d[:maxlen] for d in docs]
        lengths = np.array([max(len(d), 1) for d in cut], dtype=np.int64)
        ids = np.zeros((len(cut), int(lengths.max()) if len(cut) else 1), dtype=np.int64)
        for r, d in enumerate(cut):
            if len(d):
                ids[r, :len(d)] = lut[d]
            else:
                ids[r, 0] = OOV  # an empty text reads one <oov>, as encode() does
        return torch.from_numpy(ids), torch.from_numpy(lengths)


TOKENS = TokenCache()   # one per process: a worker runs one job at a time


class _Counting:
    """The trainer's batches, counting the reviews handed out (the x axis of the live curves)."""

    def __init__(self, inner):
        self.inner = inner
        self.seen = 0

    def __iter__(self):
        for batch in self.inner:
            self.seen += len(batch[-1])
            yield batch

    def __len__(self) -> int:
        return len(self.inner)


def load_job_data(source: str, upload: dict | None, seed: int, ctx=None) -> tuple[TextDataset, TextDataset, str]:
    """(train, test, a description) for a job: the compact subset, the teacher's full IMDB, or an upload
    (its texts and labels passed in memory; 20% held out, stratified, as the test set)."""
    def progress(done: int, total: int) -> None:
        if ctx is not None:
            ctx.check()
            ctx.progress(done, total,
                         f"Reading the reviews… {done:,}/{total:,}" if total > 2 else "Reading the reviews…")

    if source == "upload":
        if not upload or not upload.get("texts"):
            raise ValueError("No uploaded reviews were given.")
        ds = TextDataset(list(upload["texts"]), np.asarray(upload["labels"], dtype=np.int64))
        train, test = ds.split(0.2, seed, stratify=True)
        return train, test, f"your CSV ({len(ds):,} rows)"
    if source == "imdb":
        from ...runtime.settings import load_settings

        folder = find_imdb([load_settings().imdb_path] if load_settings().imdb_path else [])
        if folder is None:
            raise ValueError("The full IMDB is not available on this server any more: choose the compact subset.")
        data = load_imdb(folder, progress)
        return data["train"], data["test"], "the full IMDB"
    data = load_compact_imdb(progress=progress)
    return data["train"], data["test"], "the compact IMDB subset"


def sentiment_job(ctx, recipe: dict, source: str = "compact", upload: dict | None = None, subset_percent: int = 100,
                  full_test: bool = False, eval_sample: int = EVAL_SAMPLE, seed: int = 0, name: str | None = None,
                  max_train_seconds: float | None = None) -> dict:
    """Train a sentiment model live, as a job of :mod:`rnnlab.runtime.jobs` (run in a worker process).

    Phases: loading data, tokenising, training, calibrating (temperature on the validation split),
    evaluating (the whole test set after a finished run; a random sample of ``eval_sample`` reviews after
    a stop or the time limit, unless ``full_test``). A stop and the time limit act in every phase; the time
    limit is the job's whole wall time, so training ends early enough to leave time for the evaluation,
    which itself gives up (keeping what it scored) at the limit or at a second press of Stop.
    ``max_train_seconds`` (benchmarks): stop training after that many seconds of it, as a time limit does."""
    rec = recipe_from_dict(recipe)
    timing = {}
    mark = [ctx.elapsed()]

    def lap(name_: str) -> None:
        now = ctx.elapsed()
        timing[name_] = round(now - mark[0], 2)
        mark[0] = now

    ctx.limits.check_epochs(rec.epochs)
    ctx.phase("loading data")
    ctx.progress(0, 1, "Loading the reviews…")
    train, test, described = load_job_data(source, upload, seed, ctx)
    ctx.check()
    if subset_percent < 100:
        train = train.stratified(max(int(len(train) * subset_percent / 100), 10), seed)
    if len(train) < 10:
        raise ValueError("Too few training reviews: at least 10 are needed.")
    fit_part, val_part = train.split(rec.val_fraction, seed, stratify=True) if rec.val_fraction > 0 else (train, None)
    lap("loading data")

    ctx.phase("tokenising")
    n_tok = len(fit_part) + (len(val_part) if val_part is not None else 0)
    TOKENS.make_room(n_tok + len(test))
    fit_docs = TOKENS.many(fit_part.texts, ctx, total=n_tok)
    val_docs = TOKENS.many(val_part.texts, ctx, offset=len(fit_part), total=n_tok) if val_part is not None else []
    ctx.check()
    vocab = TOKENS.vocabulary(fit_docs, rec.num_words)
    ids, lengths = TOKENS.encode(fit_docs, vocab, rec.maxlen, rec.truncating)
    val = None
    if val_part is not None and len(val_part):
        v_ids, v_len = TOKENS.encode(val_docs, vocab, rec.maxlen, rec.truncating)
        val = (v_ids, v_len, torch.from_numpy(val_part.labels))
    del fit_docs, val_docs
    ctx.progress(n_tok, n_tok, f"Tokenised {n_tok:,} reviews; {len(vocab):,} words in the vocabulary.")
    lap("tokenising")
    # A worker's first job imports the rest of PyTorch here (torch._dynamo, for the model built on the meta
    # device and for the optimiser): seconds on a laptop, shown as its own phase rather than a frozen "Training".
    ctx.phase("preparing the training")
    ctx.progress(0, 1, "Preparing the training (the first run of a worker loads more of PyTorch)…")
    config = rec.classifier_config(len(vocab))
    model = seeded(lambda: SentimentClassifier(config), seed)
    n_params = sum(p.numel() for p in model.parameters())
    ctx.limits.check_params(n_params)

    # --- training: stop early enough to leave time for calibration and evaluation ---
    per_epoch = math.ceil(len(fit_part) / rec.batch_size)
    eval_every = max(per_epoch // max(rec.evals_per_epoch, 1), 1)
    n_eval = len(test) if full_test else min(len(test), eval_sample)
    val_rate = {"seconds": 0.0, "reviews": 0}   # measured scoring speed, to size the reserve
    stopped_at = [None]                         # when training saw the first Stop
    tokenise_rate = timing["tokenising"] / max(n_tok, 1)

    def reserve() -> float:
        """Seconds to keep for calibrating and evaluating, from the measured speeds (tokenising, scoring)."""
        if val_rate["reviews"]:
            score = val_rate["seconds"] / val_rate["reviews"]
            need = 1.5 * (score * (n_eval + (len(val_part) if val_part is not None else 0))
                          + tokenise_rate * n_eval) + 0.5
        else:
            need = 0.15 * ctx.max_seconds
        return min(max(need, 1.0), 0.4 * ctx.max_seconds)

    def should_stop():
        reason = ctx.should_stop()
        if reason:
            if reason == "cancelled" and stopped_at[0] is None:
                stopped_at[0] = ctx.elapsed()
            return reason
        if max_train_seconds is not None and ctx.elapsed() - train_start >= max_train_seconds:
            return "time_limit"
        return "time_limit" if ctx.remaining() <= reserve() else None

    def validate(m):
        t = time.perf_counter()
        out = {k: v for k, v in evaluate(m, *val).items() if k != "confusion"}
        val_rate["seconds"] += time.perf_counter() - t
        val_rate["reviews"] += len(val[2])
        return out

    batches_ = _Counting(EpochBatches(ids, lengths, torch.from_numpy(fit_part.labels), rec.batch_size, seed,
                                      equal_length=rec.equal_length, truncating=rec.truncating))

    def on_event(event) -> None:
        event.data["reviews"] = batches_.seen
        ctx.on_trainer_event(event)

    # Early stopping and LR drops watch the validation *loss*: a live run validates on a few hundred reviews,
    # whose accuracy jumps by ±2 points from one validation to the next (and sits on a plateau while an LSTM
    # learns its first features), so watching it stops runs that were still learning; the loss moves smoothly.
    tconfig = TrainConfig(lr=rec.lr, clip=rec.clip, epochs=rec.epochs, eval_every=eval_every if val else None,
                          early_stopping=rec.early_stopping, lr_patience=rec.lr_patience, monitor="loss", mode="min",
                          seed=seed, device=ctx.device, ema=rec.ema, lr_schedule=rec.lr_schedule,
                          precision=rec.precision, cycles=rec.cycles)
    if rec.lr_schedule == "cosine":
        # the learning rate anneals over the training time this job has (its limit less the evaluation's
        # reserve): a run cut by its time limit ends at the low rate, not in the middle of a high one
        tconfig.time_limit = max_train_seconds or max(ctx.remaining() - reserve(), 1.0)
    trainer = Trainer(model, loss_fn, tconfig, on_event=on_event, should_stop=should_stop)
    lap("preparing the training")
    ctx.phase("training", total_steps=rec.epochs * per_epoch, per_epoch=per_epoch, train_reviews=len(fit_part))
    train_start = ctx.elapsed()
    history = trainer.fit(batches_, validate if val else None)
    model = trainer.model.cpu().eval()
    epochs_completed = batches_.seen // max(len(fit_part), 1)
    lap("training")

    if ctx.stop_requests and stopped_at[0] is None:
        stopped_at[0] = ctx.elapsed()

    def give_up() -> bool:
        after_stop = stopped_at[0] is not None and ctx.elapsed() - stopped_at[0] > AFTER_STOP
        return ctx.stop_requests >= 2 or ctx.remaining() <= 0 or after_stop

    # --- calibrating ---
    T = 1.0
    if val is not None and history.status != "diverged" and not give_up():
        ctx.phase("calibrating")
        ctx.progress(0, 1, "Fitting the temperature on the validation reviews…")
        z_val = logits_of(model, val[0], val[1], chunk=CHUNK, give_up=give_up)
        if len(z_val) == len(val_part):
            T = calibration.fit_temperature(z_val, val_part.labels)
    lap("calibrating")

    # --- evaluating: a bounded, random sample after a stop; stoppable; never past the limit ---
    test_result, sample_note = None, ""
    if history.status != "diverged" and ctx.stop_requests < 2:
        ctx.phase("evaluating", reviews=n_eval)
        stopped = history.status in ("cancelled", "time_limit")
        whole = full_test or not stopped
        sample = test.stratified(len(test) if whole else n_eval, seed)
        logits, labels_ = [], []
        for start in range(0, len(sample), CHUNK):
            if give_up() and (logits or ctx.stop_requests >= 2):   # one chunk at least, unless asked twice
                break
            ctx.progress(start, len(sample), f"Scoring the test reviews… {start:,}/{len(sample):,}")
            part = sample.take(np.arange(start, min(start + CHUNK, len(sample))))
            t_ids, t_len = TOKENS.encode(TOKENS.many(part.texts), vocab, rec.maxlen, rec.truncating)
            logits.append(logits_of(model, t_ids, t_len))
            labels_.append(part.labels)
        if logits:
            z = np.concatenate(logits)
            test_result = test_metrics(z, np.concatenate(labels_), T)
            scored = len(z)
            if scored < len(sample):
                why = ("the time limit" if ctx.remaining() <= 0 else "the second Stop" if ctx.stop_requests >= 2
                       else f"the {AFTER_STOP:.0f} s a stopped run is given")
                sample_note = (f" Test accuracy on the {scored:,} test reviews scored before {why} "
                               f"(a random sample of the {len(test):,}).")
            elif not whole:
                sample_note = (f" Test accuracy on a random sample of {scored:,} of the {len(test):,} test reviews "
                               "(training was stopped; tick “whole test set” to score them all).")
    lap("evaluating")

    acc = test_result["acc"] if test_result else None
    label = name or f"{rec.cell} {'-'.join(map(str, rec.hidden_sizes))}{' bi' if rec.bidirectional else ''}"
    meta = {"recipe": recipe_to_dict(rec), "seed": seed, "data": described, "train_examples": len(fit_part),
            "steps": len(history.steps), "epochs_completed": epochs_completed, "seconds": round(history.seconds, 1),
            "status": history.status, "temperature": T, "precision": history.precision}
    if test_result is not None:
        meta["test_accuracy"] = round(acc, 4)
        meta["test_examples"] = test_result["n"]
        meta["calibration"] = {**test_result["calibration"],
                               "split": f"{test_result['n']:,} test reviews of {described}"}
    evals = [dict(e) for e in history.evals]
    best_eval = next((e for e in evals if e["step"] == history.best_step), {})
    return {
        "status": history.status,
        "message": history.message + sample_note,
        "epochs_completed": epochs_completed,
        "metrics": {k: v for k, v in {
            "test_acc": acc, "test_loss": test_result["loss"] if test_result else None,
            "test_reviews": test_result["n"] if test_result else 0,
            "val_loss": best_eval.get("loss"), "val_acc": best_eval.get("acc"), "temperature": T,
            "ece_before": test_result["calibration"]["ece_before"] if test_result else None,
            "ece_after": test_result["calibration"]["ece_after"] if test_result else None,
            "train_seconds": round(history.seconds, 2), "reviews_seen": batches_.seen,
            "epochs": epochs_completed, "precision": history.precision}.items() if v is not None},
        "confusion": test_result["confusion"] if test_result else None,
        "calibration": meta.get("calibration"),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "config": config.to_dict(), "vocab": vocab.to_dict(), "maxlen": rec.maxlen, "name": label, "meta": meta,
        "history": {"steps": history.steps, "loss": history.loss,
                    "acc": [m.get("acc") for m in history.metrics]},
        "evals": evals, "lr_drops": history.lr_drops,
        "timing": timing, "params": n_params, "train_reviews": len(fit_part), "test_total": len(test),
    }


# --- reading one review ----------------------------------------------------------------------------
MAX_REVIEW_CHARS = 100_000   # the review box's limit, enforced here too (the browser's limit can be bypassed)
MAX_TOKENS = 2_000           # what a model without a length limit reads at most (the end of the text)
WORK_BUDGET = 24_000         # token-steps one explanation may read (all prefixes, or all occluded copies):
                             # about half a second on one CPU thread for the pretrained BiLSTM


def temperature(tm: TextModel) -> float:
    """The model's fitted temperature (``meta["temperature"]``, else ``meta["calibration"]["temperature"]``;
    1.0 for an uncalibrated model). Every probability shown is ``sigmoid(logit / T)``."""
    t = tm.meta.get("temperature") or (tm.meta.get("calibration") or {}).get("temperature") or 1.0
    t = float(t)
    return t if math.isfinite(t) and t > 0 else 1.0


def calibrated(tm: TextModel) -> SentimentClassifier:
    """The model with its last layer divided by T: its logits are the calibrated log-odds.

    A view that shares every other module with ``tm.model`` (nothing is copied but the small head), kept on
    the TextModel; the shared model itself is never changed (other sessions read it at the same time)."""
    T = temperature(tm)
    cached = tm.__dict__.get("_calibrated")
    if cached is not None and cached[0] == T:
        return cached[1]
    model = tm.model
    if T != 1.0:
        model = copy.copy(tm.model)
        model._modules = dict(tm.model._modules)
        head = copy.deepcopy(tm.model.head)
        last = [m for m in head.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.div_(T)
            last.bias.div_(T)
        model._modules["head"] = head
    tm.__dict__["_calibrated"] = (T, model)
    return model


def fingerprint(tm: TextModel) -> str:
    """A short hash of everything that decides the model's answers (weights, config, vocabulary, maxlen,
    temperature): the key of caches shared between sessions, never the object's ``id()``."""
    cached = tm.__dict__.get("_fingerprint")
    if cached is not None:
        return cached
    h = hashlib.sha1()
    h.update(json.dumps([tm.model.config.to_dict(), tm.maxlen, temperature(tm)], sort_keys=True).encode())
    for k, v in tm.model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    h.update("\n".join(tm.vocab.words).encode())
    key = h.hexdigest()[:16]
    tm.__dict__["_fingerprint"] = key
    return key


def is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


@dataclass
class Reading:
    """What the model made of one text: the tokens it read, its calibrated answer, and how many of the
    words it knows (a review of unknown words gets an answer that means nothing)."""

    tokens: list[str]
    ids: torch.Tensor           # (1, T) on the model's device
    logit: float                # calibrated log-odds of "positive"
    prob: float                 # sigmoid(logit)
    words: int                  # word tokens read (punctuation and emoji not counted)
    known: int                  # ... of which the model's vocabulary holds
    dropped: int                # tokens before the last ``maxlen`` (not read)
    unknown_words: list[str]    # a few of the words it does not know, for the message

    @property
    def known_fraction(self) -> float:
        return self.known / self.words if self.words else 0.0


def _ids(tm: TextModel, text: str) -> tuple[list[str], torch.Tensor, int]:
    tokens = tokenize(str(text)[:MAX_REVIEW_CHARS])
    limit = tm.maxlen or MAX_TOKENS
    dropped = max(len(tokens) - limit, 0)
    tokens = tokens[dropped:]   # what the model was trained to read: the end of a long review
    if not tokens:
        raise ValueError("There is no word to read: type a review.")
    device = next(tm.model.parameters()).device
    return tokens, torch.tensor([tm.vocab.ids(tokens)], dtype=torch.long, device=device), dropped


@torch.no_grad()
def read(tm: TextModel, text: str) -> Reading:
    """One forward pass: the calibrated prediction and the known-word count. Raises ValueError (with a
    message for the student) when the text holds no token at all."""
    tokens, ids, dropped = _ids(tm, text)
    model = calibrated(tm)
    model.eval()
    z = float(model(ids)[0])
    words = [t for t in tokens if is_word(t)]
    unknown = [t for t in words if tm.vocab.index.get(t, OOV) == OOV]
    return Reading(tokens, ids, z, float(calibration.sigmoid(z)), len(words), len(words) - len(unknown), dropped,
                   list(dict.fromkeys(unknown))[:8])


def predict(tm: TextModel, text: str) -> float:
    """Calibrated P(positive) for one text."""
    return read(tm, text).prob


@dataclass
class Trajectory:
    """P(positive) after some of the words: after every word (``every``), or, for a bidirectional model on a
    long text, after a bounded set of evenly spaced words."""

    tokens: list[str]
    positions: np.ndarray       # 1-based: the probability at positions[k] is after reading that many tokens
    probs: np.ndarray
    every: bool


def prefix_positions(T: int, bidirectional: bool, budget: int = WORK_BUDGET) -> np.ndarray:
    """0-based token positions whose prefixes fit the budget: all of them when reading them all is cheap
    (a unidirectional model reads every prefix in one pass), else evenly spaced ones, always the last."""
    if not bidirectional or budget >= T * (T + 1) // 2:
        return np.arange(T)
    k = max(min(T, 2 * budget // T), 8)
    return np.unique(np.round(np.linspace(0, T - 1, k)).astype(np.int64))


@torch.no_grad()
def trajectory(tm: TextModel, text: str, budget: int = WORK_BUDGET) -> Trajectory:
    """The tokens read and the calibrated P(positive) after each of them (or after a bounded set of them)."""
    tokens, ids, _ = _ids(tm, text)
    model = calibrated(tm)
    pos = prefix_positions(len(tokens), model.config.bidirectional, budget)
    probs = model.prefix_probabilities(ids, positions=torch.from_numpy(pos)).float().cpu().numpy()
    return Trajectory(tokens, pos + 1, probs, len(pos) == len(tokens))


@dataclass
class Importance:
    """Occlusion: each word (or each group of ``span`` words in a long review) removed in turn.

    ``logodds[k]``: the calibrated log-odds of the whole text minus those without token k's group; positive
    means the word pushed towards "positive". Log-odds keep their size when the probability is saturated
    (99.99% and 99.9% differ by 2.3 in log-odds, by 0.09 points in probability). ``dprob``: the same in
    probability."""

    tokens: list[str]
    logodds: np.ndarray
    dprob: np.ndarray
    span: int
    logit: float
    prob: float


@torch.no_grad()
def importance(tm: TextModel, text: str, budget: int = WORK_BUDGET, batch_size: int = 64) -> Importance:
    """Word importance by occlusion, in log-odds and in probability (see :class:`Importance`). Removing
    one word at a time reads about T² tokens: a long text is occluded ``span`` words at a time, so that
    the work stays within ``budget`` token-steps."""
    tokens, ids, _ = _ids(tm, text)
    model = calibrated(tm)
    model.eval()
    T = ids.shape[1]
    full = float(model(ids)[0])
    p_full = float(calibration.sigmoid(full))
    if T == 1:  # nothing left to compare with: measure against "undecided"
        return Importance(tokens, np.array([full]), np.array([p_full - 0.5]), 1, full, p_full)
    groups = max(min(T, budget // T), 1)
    span = math.ceil(T / groups)
    starts = list(range(0, T, span))
    rows, lengths = [], []
    for s in starts:
        keep = torch.cat([ids[0, :s], ids[0, s + span:]])
        if len(keep) == 0:
            keep = torch.tensor([OOV], device=ids.device)
        rows.append(keep)
        lengths.append(len(keep))
    z = []
    for b in range(0, len(rows), batch_size):
        chunk, lens = rows[b:b + batch_size], torch.tensor(lengths[b:b + batch_size])
        batch = torch.zeros(len(chunk), int(lens.max()), dtype=torch.long, device=ids.device)
        for r, row in enumerate(chunk):
            batch[r, :len(row)] = row
        z.append(model(batch, lens).float().cpu())
    without = torch.cat(z).numpy().astype(np.float64)
    group_of = np.arange(T) // span
    logodds = full - without[group_of]
    dprob = p_full - calibration.sigmoid(without)[group_of]
    return Importance(tokens, logodds, dprob, span, full, p_full)


def compare(tm: TextModel, original: str, edited: str) -> dict:
    """The what-if numbers: both calibrated predictions and the change in log-odds and in probability."""
    a, b = read(tm, original), read(tm, edited)
    return {"p_original": a.prob, "p_edited": b.prob, "logit_original": a.logit, "logit_edited": b.logit,
            "d_logodds": b.logit - a.logit, "d_prob": b.prob - a.prob}


def text_model_from_result(result: dict) -> TextModel:
    """Rebuild the model a training job returned (weights, config, vocabulary words and settings only)."""
    config = ClassifierConfig.from_dict(result["config"])
    model = SentimentClassifier(config)   # every weight is overwritten by the next line
    model.load_state_dict(result["state_dict"])
    vocab = Vocabulary.from_dict(result["vocab"])
    return TextModel(result.get("name", "trained"), model.eval(), vocab, result.get("maxlen"),
                     dict(result.get("meta", {})))
