"""Many-to-many, synced: each character → "does its sentence end with ?"; a one-directional tagger
against a two-directional one, and the best any left-to-right reader can do."""
from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...data import seqtasks
from .models import Tagger, build_model
from .training import Run, _model_part, _result, _train

QA_LENGTH = 48
QA_TEST = 2000


@functools.lru_cache(maxsize=1)
def qa_test_set():
    return seqtasks.qa_batch(QA_TEST, QA_LENGTH, seqtasks.TEST_SEED)


@functools.lru_cache(maxsize=1)
def qa_limits() -> tuple[float, float]:
    """(the best a left-to-right reader can expect on the test texts, the luck it may have on them)."""
    _, tags, dist = qa_test_set()
    return seqtasks.causal_ceiling(tags, dist), seqtasks.causal_band(tags, dist)


def tagger_accuracy(model: Tagger, ids: Tensor, tags: Tensor, dist: Tensor, max_dist: int = 20) -> dict:
    """Accuracy over tagged characters, and by the number of characters until the sentence's end mark."""
    with torch.no_grad():
        pred = model(ids).argmax(-1)
    ok = (pred == tags).float()
    scored = tags != seqtasks.IGNORE
    by_dist = []
    for k in range(max_dist + 1):
        sel = scored & (dist == k)
        by_dist.append(float(ok[sel].mean()) if sel.any() else float("nan"))
    return {"acc": float(ok[scored].mean()), "by_distance": by_dist}


def sync_job(ctx, cell: str = "GRU", hidden: int = 32, steps: int = 300, lr: float = 1e-2, batch: int = 32,
             seed: int = 0) -> dict:
    """Train a one-directional and a two-directional tagger side by side on the same batches."""
    ctx.phase("preparing")
    configs = {name: {"cell": cell, "hidden": int(hidden), "bidirectional": bi}
               for name, bi in (("unidirectional", False), ("bidirectional", True))}
    models = {name: build_model("sync", c, seed) for name, c in configs.items()}
    vi, vt, vd = seqtasks.qa_batch(256, QA_LENGTH, seqtasks.TEST_SEED + 1)
    data = {}

    def batches(step: int):   # both models see the very same batches (drawn once per step)
        if step not in data:
            data.clear()
            data[step] = seqtasks.qa_batch(batch, QA_LENGTH, np.random.default_rng([seed, step]))
        ids, tags, _ = data[step]
        return ids, tags

    def loss_fn(m, b):
        ids, tags = b
        logits = m(ids)
        real = tags != seqtasks.IGNORE
        loss = F.cross_entropy(logits.reshape(-1, 2), tags.reshape(-1), ignore_index=seqtasks.IGNORE)
        return loss, {"acc": ((logits.argmax(-1) == tags) & real).sum() / real.sum()}

    def validate(m):
        return {"acc": tagger_accuracy(m, vi, vt, vd)["acc"]}

    trainers = _train(ctx, [Run(n, m, loss_fn, batches, validate) for n, m in models.items()], steps, lr, eval_every=25)
    ctx.phase("evaluating")
    ids, tags, dist = qa_test_set()
    ceiling, band = qa_limits()
    parts, metrics = {}, {"causal_ceiling": ceiling, "causal_band": band}
    for name, m in models.items():
        m = m.cpu().eval()
        acc = tagger_accuracy(m, ids, tags, dist)
        metrics[f"test_acc_{name}"] = acc["acc"]
        parts[name] = {**_model_part(m, configs[name], trainers[name]), "by_distance": acc["by_distance"]}
    return _result(trainers, steps, metrics, models=parts, config={"cell": cell, "hidden": int(hidden)})
