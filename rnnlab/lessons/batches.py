"""Lessons of the Batches of sequences page: which direction of a bidirectional layer the pads reach, what
packing costs, and what a sentiment model's word vectors encode."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data.tokenizer import Vocabulary
from ..labs.batching import (
    COST_CONFIGS,
    DEFAULT_SENTENCES,
    LENGTHS,
    PAD_LABELS,
    compare_masking,
    cost_lengths,
    fresh_bidirectional,
    make_batch,
    padding_cost_job,
)
from ..labs.embeddings import (
    DEFAULT_AMONG,
    DEFAULT_NEIGHBOURS,
    DEFAULT_WORD,
    chance_cosine,
    embedding_table,
    mean_cosine,
    nearest_neighbours,
    unit_rows,
    word_id,
    word_sentiment,
)
from ..labs.sentiment import calibrated
from . import Finding, Lesson, job_context

PAGE = "app_pages/batches.py"
DEFAULTS = {"bat_tab": "Padding and masking", "bat_text": DEFAULT_SENTENCES, "bat_pad": "post"}
SEED = 0
SHORT_LINE = "Bad."
SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "sentiment"


@lru_cache(maxsize=1)
def _shipped():
    from ..nn.models import load_text_model

    return load_text_model(SHIPPED) if (SHIPPED / "model.pt").exists() else None


def _model(text: str):
    """The model the page reads the batch with: the shipped one, or (not installed) a fresh BiLSTM."""
    tm = _shipped()
    if tm is not None:
        return calibrated(tm), tm.vocab
    vocab = Vocabulary().fit([" ".join(text.split())])
    return fresh_bidirectional(vocab, seed=SEED), vocab


def _gaps(text: str, padding: str):
    model, vocab = _model(text)
    batch = make_batch(text, vocab)
    cmp = compare_masking(model, batch, padding)
    pads = batch.width - batch.lengths.numpy()
    return pads, {d: np.nanmax(v, axis=1) for d, v in cmp.token_diff.items()}


def _short_line() -> Finding:
    pads, gap = _gaps(DEFAULT_SENTENCES + "\n" + SHORT_LINE, "post")
    order = np.argsort(pads, kind="stable")
    rising = bool(np.all(np.diff(gap["backward"][order]) >= 0))
    return Finding(rising and gap["backward"][np.argmax(pads)] == gap["backward"].max() and gap["backward"].max() > 0.01
                   and float(gap["forward"].max()) < 1e-5 and float(gap["backward"][pads == 0].max()) < 1e-5,
                   f"pads per row {pads.tolist()}: largest backward gap {np.round(gap['backward'], 3).tolist()}, "
                   f"forward {float(gap['forward'].max()):.1e}")


def _pre() -> Finding:
    pads, gap = _gaps(DEFAULT_SENTENCES, "pre")
    padded = pads > 0
    return Finding(bool(gap["forward"][padded].min() > 0.01) and float(gap["backward"].max()) < 1e-5
                   and float(gap["forward"][~padded].max()) < 1e-5,
                   f"pads per row {pads.tolist()}: largest forward gap {np.round(gap['forward'], 3).tolist()}, "
                   f"backward {float(gap['backward'].max()):.1e}")


def mixed_padding_share() -> float:
    """The padding share of the small configuration's mixed batch (the page's default measurement)."""
    c = COST_CONFIGS["small"]
    lens = cost_lengths("mixed", c["batch"], c["seq_len"], np.random.default_rng(SEED))
    return 1.0 - float(lens.sum()) / (c["batch"] * c["seq_len"])


def _cost() -> Finding:
    # on one thread (Lesson.run): the ratio, not the seconds, is what is checked
    res = {k: padding_cost_job(job_context(), "small", k, SEED) for k in ("mixed", "equal")}
    mixed, equal = res["mixed"], res["equal"]
    return Finding(mixed["padding_share"] > 0.3 and mixed["ratio"] > 1.3 and equal["padding_share"] == 0
                   and equal["ratio"] < min(1.5, mixed["ratio"]),
                   f"mixed lengths: {mixed['padding_share']:.0%} pads skipped, packed ÷ padded "
                   f"{mixed['ratio']:.2f}×; full length: {equal['padding_share']:.0%} pads, {equal['ratio']:.2f}×")


def _neighbours() -> Finding:
    tm = _shipped()
    if tm is None:
        return Finding(False, "the pretrained sentiment model is not installed")
    unit = unit_rows(embedding_table(tm.model, tm.vocab))
    chance = chance_cosine(unit, DEFAULT_NEIGHBOURS, DEFAULT_AMONG, SEED)
    ok, parts = True, []
    for word in (DEFAULT_WORD, "wonderful"):
        nbrs = nearest_neighbours(unit, tm.vocab, word, DEFAULT_NEIGHBOURS, DEFAULT_AMONG)
        ids = [word_id(tm.vocab, word, unit.shape[0])] + [tm.vocab.index[n.word] for n in nbrs]
        p = word_sentiment(calibrated(tm), ids)
        same = int(((p[1:] > 0.5) == (p[0] > 0.5)).sum())
        cos = mean_cosine(nbrs)
        ok &= same >= len(nbrs) - 1 and chance < cos < chance + 0.15
        parts.append(f"{word} (P(pos) {p[0]:.0%}): {same}/{len(nbrs)} neighbours on its side "
                     f"({', '.join(n.word for n in nbrs[:5])} …), mean cosine {cos:.2f}")
    return Finding(bool(ok), "; ".join(parts) + f"; random level {chance:.2f}")


LESSONS = (
    Lesson("batches.padding.short_line", "Add a short line to the batch: in <b>Padding and masking</b>, the rows "
           "with the most pads get the largest gaps in the backward direction, while the forward direction stays "
           "at 0.", {"bat_tab": "Padding and masking", "bat_text": f"{DEFAULT_SENTENCES}\n{SHORT_LINE}"},
           "the more pads a row has, the larger its backward gap; the full-length row and every forward output 0",
           "With the pads at the end, the backward direction starts on the pads and reaches the words with a "
           "drifted state; the forward direction reads the words first, so its outputs there are exact.",
           _short_line),
    Lesson("batches.padding.pre", "Switch <b>Pads go</b> to <i>at the start</i> (Keras' default): now the forward "
           "direction reads the pads first.", {"bat_tab": "Padding and masking", "bat_pad": "pre"},
           "the gaps move to the forward direction; the backward outputs are now exact",
           "Whichever direction meets the pads before the words carries them into every word's state; masking "
           "(lengths=) makes both directions skip them.", _pre, link={"bat_pad": PAD_LABELS["pre"]}),
    Lesson("batches.cost.equal", "In <b>What it costs</b>, press Measure: packing skips the pads "
           f"({mixed_padding_share():.0%} of this batch), yet its step is slower. Measure again with <i>every "
           "sentence full length</i>: nothing to skip; how close are the two now?",
           {"bat_tab": "What it costs", "bat_cost_len": "equal"},
           "mixed lengths: packed over 1.3× the padded step's time; full length: closer than with mixed lengths "
           "(under 1.5×; 1.0–1.13× on a quiet core)",
           "Packed, the layer computes only the rows still running at each step: a batch that shrinks unevenly, "
           "which on a CPU runs slower than one regular pass over every cell, pads included. With no pads the "
           "two do the same work, and packing's bookkeeping adds little.", _cost, slow=True,
           link={"bat_cost_len": LENGTHS["equal"]}),
    Lesson("batches.embeddings.awful", "In <b>Embeddings</b>, are the neighbours of <i>awful</i> synonyms, or "
           "words that push a review the same way? Try <i>wonderful</i>, and compare the cosines with the random "
           "level under the table.", {"bat_tab": "Embeddings", "bat_word": DEFAULT_WORD},
           "words of the same sentiment, few synonyms; mean cosines only a little above the random level",
           "The model was only asked to classify reviews: it moved each row along the few directions that "
           "sentiment needs, so words with the same effect point alike, and most of each row is still its "
           "random start.", _neighbours),
)
