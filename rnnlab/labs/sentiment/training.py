"""Training a sentiment model in this process (the command line and the benchmarks): the loss, evaluation,
logits in order, the held-out metrics (accuracy, confusion matrix, calibration) and :func:`train_sentiment`."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...data.text import TextDataset
from ...nn.init import seeded
from ...nn.models import SentimentClassifier, TextModel
from ...status import Status
from ...train import History, TrainConfig, Trainer
from .. import calibration
from .data import EpochBatches, batches, build_vocab, encode
from .recipes import Recipe, recipe_to_dict


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


def held_out_metrics(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> dict:
    """Accuracy, loss (calibrated), confusion matrix [[TN, FP], [FN, TP]] and the calibration report."""
    labels = np.asarray(labels).astype(np.int64)
    pred = (logits > 0).astype(np.int64)
    cm = np.zeros((2, 2), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    return {"acc": float((pred == labels).mean()) if len(labels) else float("nan"),
            "loss": calibration.nll(logits, labels, temperature) if len(labels) else float("nan"),
            "confusion": cm, "n": int(len(labels)),
            "calibration": calibration.calibration_report(logits, labels, temperature)}


def ms_per_step(seconds: float, steps: int) -> float:
    """Milliseconds of training per step, from ``seconds`` spent over ``steps`` steps (at least one)."""
    return seconds / max(steps, 1) * 1000


def train_sentiment(recipe: Recipe, train: TextDataset, test: TextDataset | None = None, seed: int = 0,
                    device: str | None = None, on_event: Callable | None = None,
                    should_stop: Callable[[], Status | None] | None = None, max_steps: int | None = None,
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

    def stop() -> Status | None:
        if start[0] is None:
            start[0] = time.perf_counter()
        if time_budget is not None and time.perf_counter() - start[0] > time_budget:
            return Status.TIME_LIMIT
        return should_stop() if should_stop is not None else None

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
    if val is not None and history.status != Status.DIVERGED:
        T = calibration.fit_temperature(logits_of(model, val[0], val[1]), val_part.labels)
    test_result = None
    if test is not None and len(test):
        t_ids, t_len = encode(test.texts, vocab, recipe.maxlen, recipe.truncating)
        test_result = evaluate(model, t_ids, t_len, torch.from_numpy(test.labels))
        test_result["calibration"] = calibration.calibration_report(logits_of(model, t_ids, t_len), test.labels, T)
    meta = {"recipe": recipe_to_dict(recipe), "seed": seed, "train_examples": len(fit_part),
            "steps": len(history.steps), "seconds": round(history.seconds, 1), "status": history.status,
            "temperature": T, "precision": history.precision}
    if test_result is not None:
        meta["test_accuracy"] = round(test_result["acc"], 4)
        meta["test_examples"] = len(test)
        meta["calibration"] = test_result["calibration"]
    tm = TextModel(recipe.name, model.eval(), vocab, recipe.maxlen, meta)
    return SentimentRun(tm, history, test_result)
