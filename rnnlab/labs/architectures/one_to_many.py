"""One-to-many: a digit → its name, letter by letter, in one of five languages; tested by the share of
real names written and the expected cross-entropy against the true distribution of names."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...data import seqtasks
from .models import WordWriter, build_model
from .training import Run, _model_part, _result, _train


def word_samples(model: WordWriter, digit: int, temperature: float, n: int, seed: int) -> list[str]:
    """``n`` words written for ``digit`` at ``temperature`` (a seeded draw: the same seed, the same words)."""
    symbols, _ = model.sample(torch.full((n,), digit, dtype=torch.long), temperature,
                              torch.Generator().manual_seed(seed))
    vocab = seqtasks.WORD_VOCAB
    return [vocab.decode(row) if (row == seqtasks.EOS).any() else vocab.decode(row) + "…" for row in symbols]


def valid_share(model: WordWriter, temperature: float = 1.0, per_digit: int = 100,
                seed: int = seqtasks.TEST_SEED) -> dict:
    """The share of written words that are a real name of their digit, per digit and overall."""
    per = {}
    for d in range(10):
        words = word_samples(model, d, temperature, per_digit, seed + d)
        real = set(seqtasks.word_distribution(d))
        per[d] = sum(w in real for w in words) / len(words)
    return {"overall": float(np.mean(list(per.values()))), "per_digit": [per[d] for d in range(10)]}


def word_nll(model: WordWriter) -> tuple[float, float]:
    """(the model's expected cross-entropy per word, in nats, over the true distribution of names; the
    entropy of that distribution: the lowest any model can reach)."""
    digits, words, probs = [], [], []
    for d in range(10):
        for w, p in seqtasks.word_distribution(d).items():
            digits.append(d)
            words.append(w)
            probs.append(p)
    x, _ = seqtasks.WORD_VOCAB.encode(words, bos=True)
    y, _ = seqtasks.WORD_VOCAB.encode(words, eos=True)
    with torch.no_grad():
        logits = model(torch.tensor(digits), x)
        nll = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=seqtasks.PAD, reduction="none").sum(1)
    p = torch.tensor(probs)
    return float((p * nll).sum() / 10), float(-(p * p.log()).sum() / 10)


def one_to_many_job(ctx, cell: str = "GRU", hidden: int = 64, steps: int = 300, lr: float = 1e-2,
                    batch: int = 64, seed: int = 0) -> dict:
    ctx.phase("preparing")
    config = {"cell": cell, "hidden": int(hidden)}
    model = build_model("one_to_many", config, seed)
    gen = np.random.default_rng(seed)

    def loss_fn(m, b):
        d, x, y = b
        logits = m(d, x)
        loss = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=seqtasks.PAD)
        real = y != seqtasks.PAD
        return loss, {"acc": ((logits.argmax(-1) == y) & real).sum() / real.sum()}

    def validate(m):
        return {"acc": valid_share(m, 1.0, per_digit=20, seed=seqtasks.TEST_SEED + 1)["overall"]}

    trainers = _train(ctx, [Run("writer", model, loss_fn, lambda _s: seqtasks.number_word_batch(batch, gen), validate)],
                      steps, lr, eval_every=25)
    ctx.phase("evaluating")
    model = model.cpu().eval()
    share = valid_share(model)
    nll, entropy = word_nll(model)
    return _result(trainers, steps, {"valid_words": share["overall"], "nll_per_word": nll, "entropy_per_word": entropy},
                   **_model_part(model, config, trainers["writer"]), valid_per_digit=share["per_digit"])
