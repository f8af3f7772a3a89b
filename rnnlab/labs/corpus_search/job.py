"""The models the corpus search offers, and the job that builds an index (run once per model, on demand)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...nn.charlm import load_charlm
from ...nn.models import load_text_model
from ...status import Status
from ..memory import model_digest
from .corpus import corpus_key, make_corpus
from .index import build_index, index_folder, index_info

ASSETS = Path(__file__).resolve().parents[3] / "assets"


@dataclass(frozen=True)
class SearchModel:
    """A shipped model and the corpus it is searched over: ``kind`` "sentiment" (words) or "charlm"."""

    label: str
    kind: str
    folder: Path
    corpus: dict

    @property
    def present(self) -> bool:
        return (self.folder / "model.pt").exists() and (self.folder / "config.json").exists()


MODELS = {
    "sentiment": SearchModel("Sentiment model (BiLSTM-256) on IMDB reviews", "sentiment", ASSETS / "sentiment",
                             {"name": "imdb"}),
    "lstm": SearchModel("Character model (LSTM) on Shakespeare", "charlm", ASSETS / "textgen" / "shakespeare_lstm",
                        {"name": "shakespeare"}),
    "gru": SearchModel("Character model (GRU) on Shakespeare", "charlm", ASSETS / "textgen" / "shakespeare_gru",
                       {"name": "shakespeare"}),
    "rnn": SearchModel("Character model (tanh RNN) on Shakespeare", "charlm", ASSETS / "textgen" / "shakespeare_rnn",
                       {"name": "shakespeare"}),
}


def load_model(kind: str, folder: str | Path):
    """(model, vocabulary) of a saved sentiment model or character model, in eval mode on the CPU."""
    if kind == "sentiment":
        tm = load_text_model(folder)
        return tm.model, tm.vocab
    if kind == "charlm":
        model, vocab, _ = load_charlm(folder)
        return model, vocab
    raise ValueError(f"unknown model kind {kind!r}")


def index_path(kind: str, folder: str | Path, corpus: dict, root: str | Path | None = None) -> Path:
    """Where the index of this saved model over this corpus is (or will be): its weights' digest names it."""
    model, _ = load_model(kind, folder)
    return index_folder(model_digest(model), corpus_key(corpus), root)


def corpus_index_job(ctx, kind: str, folder: str, corpus: dict, name: str = "", root: str | None = None) -> dict:
    """Read the corpus with the model once and store the index (nothing to do if it is there already).
    Returns ``{"status", "message", "folder", "info"}``; Stop ends it between two batches, leaving nothing."""
    ctx.phase("loading the model")
    model, vocab = load_model(kind, folder)
    target = index_folder(model_digest(model), corpus_key(corpus), root)
    info = index_info(target)
    if info is None:
        ctx.check()
        ctx.phase("reading the corpus")
        text = make_corpus(corpus)
        ctx.check()
        ctx.phase("reading with the model")

        def progress(done: int, total: int) -> None:
            ctx.progress(done, total, f"Reading the corpus: {done:,} of {total:,} tokens")
            ctx.check()

        info = build_index(model, vocab, text, target, progress, name)
        message = (f"Index built in {info['seconds']:.0f} s: {info['tokens']:,} tokens x {info['units']} units, "
                   f"{info['bytes'] / 1e6:.0f} MB.")
    else:
        message = "The index was already built."
    return {"status": Status.FINISHED, "message": message, "folder": str(target), "info": info}
