"""Live training as a job of :mod:`rnnlab.runtime.jobs` (run in a worker process): :func:`sentiment_job`."""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from ...nn.init import seeded
from ...nn.models import SentimentClassifier
from ...train import TrainConfig, Trainer
from .. import calibration
from .data import CHUNK, TOKENS, EpochBatches, load_job_data
from .recipes import recipe_from_dict, recipe_to_dict
from .training import evaluate, logits_of, loss_fn, test_metrics

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
