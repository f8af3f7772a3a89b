"""Many-to-one: a bit string → its parity, read from the last hidden state; tested at every length, up
to three times the longest trained."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...data import seqtasks
from .models import ParityNet, build_model
from .training import Run, _model_part, _result, _train


def parity_by_length(model: ParityNet, max_len: int) -> list[float]:
    """Test accuracy at every length 1..max_len (the fixed test set)."""
    bits, lengths, y = seqtasks.parity_test_set(max_len)
    with torch.no_grad():
        pred = model(bits, lengths).argmax(-1)
    ok = (pred == y).float()
    return [float(ok[lengths == L].mean()) for L in range(1, max_len + 1)]


def many_to_one_job(ctx, cell: str = "GRU", hidden: int = 32, train_len: int = 10, steps: int = 400,
                    lr: float = 1e-2, batch: int = 64, seed: int = 0) -> dict:
    ctx.phase("preparing")
    config = {"cell": cell, "hidden": int(hidden)}
    model = build_model("many_to_one", config, seed)
    gen = np.random.default_rng(seed)
    vb, vl, vy = seqtasks.parity_batch(512, 1, train_len, seqtasks.TEST_SEED + 1)

    def loss_fn(m, b):
        bits, lengths, y = b
        logits = m(bits, lengths)
        return F.cross_entropy(logits, y), {"acc": (logits.argmax(-1) == y).float().mean()}

    def validate(m):
        return {"acc": float((m(vb, vl).argmax(-1) == vy).float().mean())}

    run = Run("net", model, loss_fn, lambda _s: seqtasks.parity_batch(batch, 1, train_len, gen), validate)
    trainers = _train(ctx, [run], steps, lr, eval_every=25)
    ctx.phase("evaluating")
    model = model.cpu().eval()
    by_len = parity_by_length(model, min(3 * train_len, seqtasks.PARITY_MAX))
    return _result(trainers, steps, {"test_acc_trained_lengths": float(np.mean(by_len[:train_len])),
                                     "test_acc_longer": float(np.mean(by_len[train_len:])),
                                     "test_acc_longest": by_len[-1], "chance": 0.5},
                   **_model_part(model, config, trainers["net"]), acc_by_length=by_len, train_len=int(train_len))
