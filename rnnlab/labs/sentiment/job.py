"""Live training as a job of :mod:`rnnlab.runtime.jobs` (run in a worker process): :func:`sentiment_job`.

The job is a :class:`_LiveRun` taken through its phases in order, one method each: loading data, tokenising,
preparing the training, training, calibrating, evaluating, and the result. What one phase leaves for the next
(the splits, the vocabulary, the trainer, the history, the temperature) is kept on the run."""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from ...data.text import TextDataset
from ...nn.init import seeded
from ...nn.models import SentimentClassifier
from ...status import Status
from ...train import TrainConfig, Trainer
from .. import calibration
from .data import CHUNK, MIN_TRAIN_REVIEWS, TOKENS, EpochBatches, load_job_data
from .recipes import Recipe, recipe_from_dict, recipe_to_dict
from .training import evaluate, held_out_metrics, logits_of, loss_fn

EVAL_SAMPLE = 2_000   # test reviews scored after a stop or the time limit (unless the whole test set is asked)
AFTER_STOP = 6.0      # seconds a stopped job keeps calibrating and scoring: the runner ends a job that has not
                      # finished 10 s (its grace) after the first Stop, and would then keep nothing


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
    run = _LiveRun(ctx, recipe_from_dict(recipe), seed, max_train_seconds)
    ctx.limits.check_epochs(run.rec.epochs)
    run.load_data(source, upload, subset_percent)
    run.tokenise()
    run.prepare(full_test, eval_sample)
    run.train()
    run.calibrate()
    run.evaluate(full_test)
    return run.result(name)


class _LiveRun:
    """One live training, phase by phase (see :func:`sentiment_job`), with the measured speeds that size the
    time kept for the evaluation and the moment the first Stop was seen."""

    def __init__(self, ctx, rec: Recipe, seed: int, max_train_seconds: float | None = None):
        self.ctx, self.rec, self.seed, self.max_train_seconds = ctx, rec, seed, max_train_seconds
        self.timing: dict[str, float] = {}         # seconds per phase, for the result
        self.mark = ctx.elapsed()
        self.val_seconds, self.val_reviews = 0.0, 0   # measured scoring speed, to size the reserve
        self.stopped_at: float | None = None       # when training saw the first Stop
        self.train_start: float | None = None

    def lap(self, phase: str) -> None:
        now = self.ctx.elapsed()
        self.timing[phase] = round(now - self.mark, 2)
        self.mark = now

    # --- the phases, in order --------------------------------------------------------------------------
    def load_data(self, source: str, upload: dict | None, subset_percent: int) -> None:
        """The reviews, the share of the training ones asked for, and the validation split."""
        ctx, rec, seed = self.ctx, self.rec, self.seed
        ctx.phase("loading data")
        ctx.progress(0, 1, "Loading the reviews…")
        train, self.test, self.described = load_job_data(source, upload, seed, ctx)
        ctx.check()
        if subset_percent < 100:
            train = train.stratified(max(int(len(train) * subset_percent / 100), MIN_TRAIN_REVIEWS), seed)
        if len(train) < MIN_TRAIN_REVIEWS:
            raise ValueError(f"Too few training reviews: at least {MIN_TRAIN_REVIEWS} are needed.")
        self.fit_part, self.val_part = (train.split(rec.val_fraction, seed, stratify=True) if rec.val_fraction > 0
                                        else (train, None))
        self.lap("loading data")

    def tokenise(self) -> None:
        """Word numbers (kept in the worker's cache for the next job), the vocabulary and the encoded splits."""
        ctx, rec, fit_part, val_part = self.ctx, self.rec, self.fit_part, self.val_part
        ctx.phase("tokenising")
        n_tok = self.n_tok = len(fit_part) + (len(val_part) if val_part is not None else 0)
        TOKENS.make_room(n_tok + len(self.test))
        fit_docs = TOKENS.many(fit_part.texts, ctx, total=n_tok)
        val_docs = TOKENS.many(val_part.texts, ctx, offset=len(fit_part), total=n_tok) if val_part is not None else []
        ctx.check()
        vocab = self.vocab = TOKENS.vocabulary(fit_docs, rec.num_words)
        self.ids, self.lengths = TOKENS.encode(fit_docs, vocab, rec.maxlen, rec.truncating)
        self.val = None
        if val_part is not None and len(val_part):
            v_ids, v_len = TOKENS.encode(val_docs, vocab, rec.maxlen, rec.truncating)
            self.val = (v_ids, v_len, torch.from_numpy(val_part.labels))
        ctx.progress(n_tok, n_tok, f"Tokenised {n_tok:,} reviews; {len(vocab):,} words in the vocabulary.")
        self.lap("tokenising")

    def prepare(self, full_test: bool, eval_sample: int) -> None:
        """The model (its size checked against the limits), its batches and its trainer."""
        ctx, rec = self.ctx, self.rec
        # A worker's first job imports the rest of PyTorch here (torch._dynamo, for the model built on the meta
        # device and for the optimiser): seconds on a laptop, shown as its own phase rather than a frozen "Training".
        ctx.phase("preparing the training")
        ctx.progress(0, 1, "Preparing the training (the first run of a worker loads more of PyTorch)…")
        config = self.config = rec.classifier_config(len(self.vocab))
        model = seeded(lambda: SentimentClassifier(config), self.seed)
        self.n_params = sum(p.numel() for p in model.parameters())
        ctx.limits.check_params(self.n_params)
        self.per_epoch = math.ceil(len(self.fit_part) / rec.batch_size)
        self.n_eval = len(self.test) if full_test else min(len(self.test), eval_sample)
        self.tokenise_rate = self.timing["tokenising"] / max(self.n_tok, 1)
        self.batches = _Counting(EpochBatches(self.ids, self.lengths, torch.from_numpy(self.fit_part.labels),
                                              rec.batch_size, self.seed, equal_length=rec.equal_length,
                                              truncating=rec.truncating))
        self.trainer = Trainer(model, loss_fn, self.train_config(), on_event=self.on_event,
                               should_stop=self.should_stop)
        self.lap("preparing the training")

    def train(self) -> None:
        """Until the recipe's end, an early stop, a Stop, divergence, or the time the evaluation needs."""
        ctx, rec = self.ctx, self.rec
        ctx.phase("training", total_steps=rec.epochs * self.per_epoch, per_epoch=self.per_epoch,
                  train_reviews=len(self.fit_part))
        self.train_start = ctx.elapsed()
        self.history = self.trainer.fit(self.batches, self.validate if self.val else None)
        self.model = self.trainer.model.cpu().eval()
        self.epochs_completed = self.batches.seen // max(len(self.fit_part), 1)
        self.lap("training")
        if ctx.stop_requests and self.stopped_at is None:
            self.stopped_at = ctx.elapsed()

    def calibrate(self) -> None:
        """The temperature fitted on the validation reviews (1.0 without them, after divergence, or when
        giving up: a temperature fitted on part of them would not be the model's)."""
        self.T = 1.0
        if self.val is not None and self.history.status != Status.DIVERGED and not self.give_up():
            self.ctx.phase("calibrating")
            self.ctx.progress(0, 1, "Fitting the temperature on the validation reviews…")
            z_val = logits_of(self.model, self.val[0], self.val[1], chunk=CHUNK, give_up=self.give_up)
            if len(z_val) == len(self.val_part):
                self.T = calibration.fit_temperature(z_val, self.val_part.labels)
        self.lap("calibrating")

    def evaluate(self, full_test: bool) -> None:
        """The test metrics: of every test review after a finished run (or with ``full_test``), else of a
        bounded random sample; stoppable, never past the limit; none after divergence or a second Stop."""
        ctx, status = self.ctx, self.history.status
        self.test_result, self.sample_note = None, ""
        if status != Status.DIVERGED and ctx.stop_requests < 2:
            ctx.phase("evaluating", reviews=self.n_eval)
            whole = full_test or status not in (Status.STOPPED, Status.TIME_LIMIT)
            sample = self.test.stratified(len(self.test) if whole else self.n_eval, self.seed)
            z, labels = self.score(sample)
            if len(z):
                self.test_result = held_out_metrics(z, labels, self.T)
                self.sample_note = self.note(len(z), len(sample), whole)
        self.lap("evaluating")

    def result(self, name: str | None) -> dict:
        """What the page keeps: the metrics, the curves, the weights and how to rebuild the model."""
        rec, history, test_result, T = self.rec, self.history, self.test_result, self.T
        acc = test_result["acc"] if test_result else None
        label = name or f"{rec.cell} {'-'.join(map(str, rec.hidden_sizes))}{' bi' if rec.bidirectional else ''}"
        meta = self.meta()
        evals = [dict(e) for e in history.evals]
        best_eval = next((e for e in evals if e["step"] == history.best_step), {})
        return {
            "status": history.status,
            "message": history.message + self.sample_note,
            "epochs_completed": self.epochs_completed,
            "metrics": {k: v for k, v in {
                "test_acc": acc, "test_loss": test_result["loss"] if test_result else None,
                "test_reviews": test_result["n"] if test_result else 0,
                "val_loss": best_eval.get("loss"), "val_acc": best_eval.get("acc"), "temperature": T,
                "ece_before": test_result["calibration"]["ece_before"] if test_result else None,
                "ece_after": test_result["calibration"]["ece_after"] if test_result else None,
                "train_seconds": round(history.seconds, 2), "reviews_seen": self.batches.seen,
                "epochs": self.epochs_completed, "precision": history.precision}.items() if v is not None},
            "confusion": test_result["confusion"] if test_result else None,
            "calibration": meta.get("calibration"),
            "state_dict": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "config": self.config.to_dict(), "vocab": self.vocab.to_dict(), "maxlen": rec.maxlen, "name": label,
            "meta": meta,
            "history": {"steps": history.steps, "loss": history.loss,
                        "acc": [m.get("acc") for m in history.metrics]},
            "evals": evals, "lr_drops": history.lr_drops,
            "timing": self.timing, "params": self.n_params, "train_reviews": len(self.fit_part),
            "test_total": len(self.test),
        }

    # --- what the phases share ---------------------------------------------------------------------------
    def train_config(self) -> TrainConfig:
        rec = self.rec
        eval_every = max(self.per_epoch // max(rec.evals_per_epoch, 1), 1)
        # Early stopping and LR drops watch the validation *loss*: a live run validates on a few hundred reviews,
        # whose accuracy jumps by ±2 points from one validation to the next (and sits on a plateau while an LSTM
        # learns its first features), so watching it stops runs that were still learning; the loss moves smoothly.
        tconfig = TrainConfig(lr=rec.lr, clip=rec.clip, epochs=rec.epochs, eval_every=eval_every if self.val else None,
                              early_stopping=rec.early_stopping, lr_patience=rec.lr_patience, monitor="loss",
                              mode="min", seed=self.seed, device=self.ctx.device, ema=rec.ema,
                              lr_schedule=rec.lr_schedule, precision=rec.precision, cycles=rec.cycles)
        if rec.lr_schedule == "cosine":
            # the learning rate anneals over the training time this job has (its limit less the evaluation's
            # reserve): a run cut by its time limit ends at the low rate, not in the middle of a high one
            tconfig.time_limit = self.max_train_seconds or max(self.ctx.remaining() - self.reserve(), 1.0)
        return tconfig

    def reserve(self) -> float:
        """Seconds to keep for calibrating and evaluating, from the measured speeds (tokenising, scoring)."""
        ctx = self.ctx
        if self.val_reviews:
            score = self.val_seconds / self.val_reviews
            need = 1.5 * (score * (self.n_eval + (len(self.val_part) if self.val_part is not None else 0))
                          + self.tokenise_rate * self.n_eval) + 0.5
        else:
            need = 0.15 * ctx.max_seconds
        return min(max(need, 1.0), 0.4 * ctx.max_seconds)

    def should_stop(self) -> Status | None:
        """The trainer's question between steps: a Stop, the benchmark's training time, or the reserve reached."""
        ctx = self.ctx
        reason = ctx.should_stop()
        if reason:
            if reason == Status.STOPPED and self.stopped_at is None:
                self.stopped_at = ctx.elapsed()
            return reason
        if self.max_train_seconds is not None and ctx.elapsed() - self.train_start >= self.max_train_seconds:
            return Status.TIME_LIMIT
        return Status.TIME_LIMIT if ctx.remaining() <= self.reserve() else None

    def validate(self, model) -> dict:
        t = time.perf_counter()
        out = {k: v for k, v in evaluate(model, *self.val).items() if k != "confusion"}
        self.val_seconds += time.perf_counter() - t
        self.val_reviews += len(self.val[2])
        return out

    def on_event(self, event) -> None:
        event.data["reviews"] = self.batches.seen
        self.ctx.on_trainer_event(event)

    def give_up(self) -> bool:
        """Whether calibrating and scoring should end now: a second Stop, the time limit, or ``AFTER_STOP``
        seconds past the first Stop."""
        ctx = self.ctx
        after_stop = self.stopped_at is not None and ctx.elapsed() - self.stopped_at > AFTER_STOP
        return ctx.stop_requests >= 2 or ctx.remaining() <= 0 or after_stop

    def score(self, sample: TextDataset) -> tuple[np.ndarray, np.ndarray]:
        """Logits and labels of the sample's reviews, ``CHUNK`` at a time, until :meth:`give_up` (one chunk at
        least, unless Stop was pressed twice)."""
        ctx, rec = self.ctx, self.rec
        logits, labels = [], []
        for start in range(0, len(sample), CHUNK):
            if self.give_up() and (logits or ctx.stop_requests >= 2):
                break
            ctx.progress(start, len(sample), f"Scoring the test reviews… {start:,}/{len(sample):,}")
            part = sample.take(np.arange(start, min(start + CHUNK, len(sample))))
            t_ids, t_len = TOKENS.encode(TOKENS.many(part.texts), self.vocab, rec.maxlen, rec.truncating)
            logits.append(logits_of(self.model, t_ids, t_len))
            labels.append(part.labels)
        if not logits:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(logits), np.concatenate(labels)

    def note(self, scored: int, sampled: int, whole: bool) -> str:
        """The message's sentence on what the test accuracy was measured on, when not every test review."""
        ctx, total = self.ctx, len(self.test)
        if scored < sampled:
            why = ("the time limit" if ctx.remaining() <= 0 else "the second Stop" if ctx.stop_requests >= 2
                   else f"the {AFTER_STOP:.0f} s a stopped run is given")
            return (f" Test accuracy on the {scored:,} test reviews scored before {why} "
                    f"(a random sample of the {total:,}).")
        if not whole:
            return (f" Test accuracy on a random sample of {scored:,} of the {total:,} test reviews "
                    "(training was stopped; tick “whole test set” to score them all).")
        return ""

    def meta(self) -> dict:
        """The model's description, saved with it (recipe, data, training, temperature, test calibration)."""
        rec, history, test_result = self.rec, self.history, self.test_result
        meta = {"recipe": recipe_to_dict(rec), "seed": self.seed, "data": self.described,
                "train_examples": len(self.fit_part), "steps": len(history.steps),
                "epochs_completed": self.epochs_completed, "seconds": round(history.seconds, 1),
                "status": history.status, "temperature": self.T, "precision": history.precision}
        if test_result is not None:
            meta["test_accuracy"] = round(test_result["acc"], 4)
            meta["test_examples"] = test_result["n"]
            meta["calibration"] = {**test_result["calibration"],
                                   "split": f"{test_result['n']:,} test reviews of {self.described}"}
        return meta
