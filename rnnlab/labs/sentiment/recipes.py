"""Sentiment recipes: every setting that defines a model and its training (:class:`Recipe`), the named
presets the page, the command line and the benchmarks start from, and their plain-dict form (a job's kwargs)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ...nn.models import ClassifierConfig


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
    # For the page's 3-minute budget: bfloat16 where the CPU has it natively gives a larger LSTM more updates in
    # the same time; cosine cycles with warm restarts, averaged weights. See docs/experiments/sentiment.md.
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
    # The shipped model (`python -m rnnlab train-sentiment --preset shipped`), chosen on validation accuracy among
    # the recipes tried: see docs/experiments/sentiment.md and its model card, assets/sentiment/README.md.
    "shipped": Recipe(name="shipped", num_words=30_000, maxlen=1000, cell="LSTM", embed_dim=128, hidden_sizes=(256,),
                      bidirectional=True, embed_dropout=0.5, head_dropout=0.5, pooling="maxmean", lr=2e-3,
                      batch_size=64, epochs=10, early_stopping=None, lr_patience=None, evals_per_epoch=4,
                      ema=0.998, equal_length=True, lr_schedule="cosine"),
}


def float32_mb(n_params: int) -> float:
    """What ``n_params`` weights take as float32 (4 bytes each), in MB (10⁶ bytes)."""
    return n_params * 4 / 1e6


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
