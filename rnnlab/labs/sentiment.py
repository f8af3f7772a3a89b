"""Sentiment classification end to end: recipes (presets), encoding, training, evaluation, and how a
model read a review (probability after each word, word importance by occlusion).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..data.text import TextDataset
from ..nn.init import seeded
from ..nn.models import ClassifierConfig, SentimentClassifier, TextModel
from ..data.tokenizer import Vocabulary, pad, tokenize
from ..train import History, TrainConfig, Trainer


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
    # The guide's section 6 PyTorch classifier: BiLSTM, 2 layers, 256 units, dropout 0.3, Adam 1e-3, clip 1.0.
    "guide_pytorch": Recipe(name="guide_pytorch", num_words=20_000, maxlen=400, cell="LSTM", embed_dim=128,
                            hidden_sizes=(256, 256), bidirectional=True, dropout=0.3, head_dropout=0.3,
                            pooling="last", lr=1e-3, clip=1.0, batch_size=64, epochs=5),
    # The guide's section 8 Keras IMDB model: 10k words, 200 tokens, Embedding 64, BiLSTM 64 -> BiLSTM 32
    # -> Dense 64 relu -> Dropout 0.5 -> sigmoid.
    "guide_keras": Recipe(name="guide_keras", num_words=10_000, maxlen=200, cell="LSTM", embed_dim=64,
                          hidden_sizes=(64, 32), bidirectional=True, head_hidden=64, head_dropout=0.5,
                          pooling="last", lr=1e-3, clip=None, batch_size=64, epochs=5),
    # The shipped model (trained by `python -m rnnlab train-sentiment`): a bidirectional LSTM reading whole
    # reviews (up to 1,000 tokens: 99% of IMDB reviews are shorter), max- and mean-pooled over time, strong
    # dropout on the embedding and the head, and the weights averaged over the last ~1,000 steps (EMA).
    "shipped": Recipe(name="shipped", num_words=30_000, maxlen=1000, cell="LSTM", embed_dim=128, hidden_sizes=(128,),
                      bidirectional=True, embed_dropout=0.3, head_dropout=0.5, pooling="maxmean", lr=3e-3,
                      batch_size=64, epochs=5, early_stopping=4, lr_patience=2, ema=0.999),
}


def encode(texts: list[str], vocab: Vocabulary, maxlen: int, truncating: str = "pre") -> tuple[torch.Tensor, torch.Tensor]:
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
            seed: int = 0, bucket: int = 50) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of similar lengths (less padding to step over), each cut to its longest sequence."""
    n = len(lengths)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    out = []
    chunk = batch_size * bucket
    for start in range(0, n, chunk):
        block = order[start:start + chunk]
        block = block[np.argsort(-lengths[block].numpy(), kind="stable")]
        for b in range(0, len(block), batch_size):
            idx = torch.from_numpy(block[b:b + batch_size])
            L = int(lengths[idx].max())
            out.append((ids[idx, :L], lengths[idx], labels[idx]))
    if shuffle:
        perm = np.random.default_rng(seed + 1).permutation(len(out))
        out = [out[i] for i in perm]
    return out


class EpochBatches:
    """Re-shuffled bucketed batches every epoch (an iterable the trainer reads once per epoch)."""

    def __init__(self, ids, lengths, labels, batch_size: int, seed: int = 0):
        self.args = (ids, lengths, labels, batch_size)
        self.seed = seed
        self.epoch = 0

    def __iter__(self):
        self.epoch += 1
        return iter(batches(*self.args, shuffle=True, seed=self.seed + 1000 * self.epoch))

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


def train_sentiment(recipe: Recipe, train: TextDataset, test: TextDataset | None = None, seed: int = 0,
                    device: str | None = None, on_event: Callable | None = None,
                    should_stop: Callable[[], bool] | None = None, max_steps: int | None = None,
                    time_budget: float | None = None) -> SentimentRun:
    """Fit a vocabulary on the training texts, train with validation, early stopping and LR drops, and
    (if ``test`` is given) measure test accuracy with the confusion matrix."""
    if len(train) < 10:
        raise ValueError("need at least 10 training examples")
    fit_part, val_part = train.split(recipe.val_fraction, seed) if recipe.val_fraction > 0 else (train, None)
    vocab = build_vocab(fit_part.texts, recipe.num_words)
    ids, lengths = encode(fit_part.texts, vocab, recipe.maxlen, recipe.truncating)
    labels = torch.from_numpy(fit_part.labels)
    config_ = recipe.classifier_config(len(vocab))
    model = seeded(lambda: SentimentClassifier(config_), seed)
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
                         ema=recipe.ema)
    trainer = Trainer(model, loss_fn, config, on_event=on_event, should_stop=stop)
    validate = (lambda m: {k: v for k, v in evaluate(m, *val).items() if k != "confusion"}) if val else None
    history = trainer.fit(EpochBatches(ids, lengths, labels, recipe.batch_size, seed), validate)
    test_metrics = None
    if test is not None and len(test):
        t_ids, t_len = encode(test.texts, vocab, recipe.maxlen, recipe.truncating)
        test_metrics = evaluate(model, t_ids, t_len, torch.from_numpy(test.labels))
    meta = {"recipe": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(recipe).items()},
            "seed": seed, "train_examples": len(fit_part), "steps": len(history.steps),
            "seconds": round(history.seconds, 1), "status": history.status}
    if test_metrics is not None:
        meta["test_accuracy"] = round(test_metrics["acc"], 4)
        meta["test_examples"] = len(test)
    tm = TextModel(recipe.name, model.eval(), vocab, recipe.maxlen, meta)
    return SentimentRun(tm, history, test_metrics)


def recipe_from(preset: str, **changes) -> Recipe:
    """A preset with some settings changed, e.g. ``recipe_from("fast", epochs=2)``."""
    return replace(PRESETS[preset], **changes)


# --- reading one review ----------------------------------------------------------------------------
def _ids(tm: TextModel, text: str) -> tuple[list[str], torch.Tensor]:
    tokens = tokenize(text)
    if tm.maxlen and len(tokens) > tm.maxlen:
        tokens = tokens[-tm.maxlen:]  # what the model was trained to read: the end of a long review
    if not tokens:
        raise ValueError("There is no word to read: type a review.")
    device = next(tm.model.parameters()).device
    return tokens, torch.tensor([tm.vocab.ids(tokens)], dtype=torch.long, device=device)


@torch.no_grad()
def predict(tm: TextModel, text: str) -> float:
    """P(positive) for one text."""
    tm.model.eval()
    _, ids = _ids(tm, text)
    return float(torch.sigmoid(tm.model(ids))[0])


@torch.no_grad()
def trajectory(tm: TextModel, text: str) -> tuple[list[str], np.ndarray]:
    """The tokens read and P(positive) after each of them."""
    tokens, ids = _ids(tm, text)
    return tokens, tm.model.prefix_probabilities(ids).cpu().numpy()


@torch.no_grad()
def occlusion(tm: TextModel, text: str, batch_size: int = 256) -> tuple[list[str], np.ndarray, float]:
    """Word importance: P(positive) of the whole text minus P(positive) with that one word removed.

    Positive: the word pushed the prediction towards positive. Returns tokens, importances, P(full)."""
    tm.model.eval()
    tokens, ids = _ids(tm, text)
    T = ids.shape[1]
    full = float(torch.sigmoid(tm.model(ids))[0])
    if T == 1:
        return tokens, np.array([full - 0.5]), full
    # Row k is the text without token k: length T-1, each built by skipping one column.
    keep = ~torch.eye(T, dtype=torch.bool, device=ids.device)
    without = ids.expand(T, T)[keep].view(T, T - 1)
    probs = []
    for start in range(0, T, batch_size):
        probs.append(torch.sigmoid(tm.model(without[start:start + batch_size])))
    return tokens, full - torch.cat(probs).cpu().numpy(), full
