"""One-to-one: a noisy 5×7 digit image → the digit, by a feed-forward net; tested against the best
possible rule (the exact posterior of the noise)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...data import seqtasks
from .models import build_model
from .training import Run, _model_part, _result, _train

DIGIT_TEST = 2000


def digit_test_set(noise: float):
    return seqtasks.digit_images(DIGIT_TEST, noise, seqtasks.TEST_SEED)


def one_to_one_job(ctx, noise: float = 0.15, hidden: int = 32, steps: int = 300, lr: float = 1e-2,
                   batch: int = 64, seed: int = 0) -> dict:
    ctx.phase("preparing")
    config = {"hidden": int(hidden)}
    model = build_model("one_to_one", config, seed)
    gen = np.random.default_rng(seed)
    val_x, val_y = seqtasks.digit_images(500, noise, seqtasks.TEST_SEED + 1)

    def loss_fn(m, b):
        x, y = b
        logits = m(x)
        return F.cross_entropy(logits, y), {"acc": (logits.argmax(-1) == y).float().mean()}

    def validate(m):
        return {"acc": float((m(val_x).argmax(-1) == val_y).float().mean())}

    trainers = _train(ctx, [Run("net", model, loss_fn, lambda _s: seqtasks.digit_images(batch, noise, gen), validate)],
                      steps, lr, eval_every=25)
    ctx.phase("evaluating")
    x, y = digit_test_set(noise)
    model = model.cpu().eval()
    with torch.no_grad():
        pred = model(x).argmax(-1)
    confusion = torch.zeros(10, 10, dtype=torch.long)
    confusion.index_put_((y, pred), torch.ones_like(y), accumulate=True)
    acc, best = float((pred == y).float().mean()), seqtasks.bayes_accuracy(x, y, noise)
    return _result(trainers, steps, {"test_acc": acc, "best_possible_acc": best, "chance": 0.1},
                   **_model_part(model, config, trainers["net"]), confusion=confusion, noise=float(noise))


def glyph_distance(a: int, b: int) -> int:
    """How many of the pixels of the clean glyphs of digits ``a`` and ``b`` differ."""
    return int((seqtasks.GLYPHS[a] != seqtasks.GLYPHS[b]).sum())


def most_confused(confusion, k: int = 3) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells of a confusion matrix: (true digit, predicted digit, count)."""
    cm = torch.as_tensor(confusion).clone()
    cm.fill_diagonal_(0)
    values, flat = cm.flatten().topk(k)
    return [(int(i) // 10, int(i) % 10, int(v)) for v, i in zip(values, flat) if int(v) > 0]
