"""Batches of sequences: padding, masking and packing.

A batch is one tensor, so sentences of different lengths are padded to the longest. A forward RNN
that reads padding *after* a sentence has already produced its answer at the last word; a bidirectional
one has not: its backward direction starts at the end of the row, so it reads the pads first and
arrives at the real words with a state that depends on how much padding there was. Telling the layer
the lengths (``lengths=``, which packs the batch into a ``PackedSequence``) makes each row exactly what
the sentence gives alone. Packing has a price on a CPU, measured here by :func:`padding_cost_job`.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from ..data.tokenizer import OOV, PAD, Vocabulary, tokenize
from ..inputs import readable
from ..nn.init import seeded
from ..nn.models import ClassifierConfig, SentimentClassifier
from ..status import Status, stop_status

MAX_SENTENCES = 8
#: the page's batch: three sentences of different lengths
DEFAULT_SENTENCES = ("A wonderful film.\nThe plot is thin but the actors are great.\n"
                     "I did not enjoy a single minute of this boring mess.")
MAX_TOKENS = 40       # per sentence: the padded tensor is drawn cell by cell


class BatchError(ValueError):
    """The typed sentences cannot make a batch; the message says why."""


@dataclass
class Batch:
    """Sentences as one padded batch: ``ids`` (B, T) with the pads (id 0) at the end of each row."""

    sentences: list[str]
    tokens: list[list[str]]
    ids: torch.Tensor
    lengths: torch.Tensor
    unknown: list[list[bool]]       # words outside the vocabulary (read as <oov>)
    notes: list[str]                # what was cut, for the page to say

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def width(self) -> int:
        return int(self.ids.shape[1])

    @property
    def padding_share(self) -> float:
        """Fraction of the tensor's cells that are padding."""
        return 1.0 - float(self.lengths.sum()) / (self.size * self.width)


def make_batch(text: str, vocab: Vocabulary, max_sentences: int = MAX_SENTENCES,
               max_tokens: int = MAX_TOKENS) -> Batch:
    """One sentence per line -> a post-padded batch (the layout ``pack_padded_sequence`` expects).

    A line with no word in it is left out, and a note says how many were: a line of invisible characters
    only (zero-width spaces, direction marks, lone combining marks) is no sentence, by the one rule of every
    page (:func:`rnnlab.inputs.readable`); nor is one whose only text is markup (``<br />``)."""
    typed = [line.strip() for line in str(text).splitlines() if line.strip()]
    lines = [line for line in typed if readable(line) and tokenize(line)]
    notes = []
    if lines and len(lines) < len(typed):
        blank = len(typed) - len(lines)
        notes.append(f"{blank} line{'s' * (blank != 1)} with no word in {'them' if blank != 1 else 'it'} "
                     f"{'are' if blank != 1 else 'is'} left out (invisible characters or markup only).")
    if len(lines) > max_sentences:
        notes.append(f"Only the first {max_sentences} sentences are used ({len(lines)} typed).")
        lines = lines[:max_sentences]
    sentences, tokens = [], []
    for line in lines:
        toks = tokenize(line)
        if len(toks) > max_tokens:
            notes.append(f"A sentence of {len(toks)} tokens is cut to its first {max_tokens}.")
            toks = toks[:max_tokens]
        sentences.append(line)
        tokens.append(toks)
    if not tokens:
        raise BatchError("Type at least one sentence with a word in it (one sentence per line).")
    ids_rows = [vocab.ids(t) for t in tokens]
    lengths = torch.tensor([len(r) for r in ids_rows], dtype=torch.long)
    width = int(lengths.max())
    ids = torch.tensor([r + [PAD] * (width - len(r)) for r in ids_rows], dtype=torch.long)
    unknown = [[i == OOV for i in r] for r in ids_rows]
    return Batch(sentences, tokens, ids, lengths, unknown, notes)


def pre_padded(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The same rows with the pads moved to the front (Keras' default ``padding="pre"``)."""
    out = torch.zeros_like(ids)
    T = ids.shape[1]
    for b, n in enumerate(lengths.tolist()):
        out[b, T - n:] = ids[b, :n]
    return out


# --- what the layer computes with and without masking --------------------------------------------------
@dataclass
class MaskingComparison:
    """The first recurrent layer's final states (B, directions, H) and the model's P(positive) (B,), each
    sentence read alone, in the batch with ``lengths=`` (masked/packed), and in the batch unmasked; and
    per token (B, T) how far the unmasked outputs are from the alone ones, per direction (valid tokens
    only, NaN past a row's length)."""

    final_alone: np.ndarray
    final_masked: np.ndarray
    final_unmasked: np.ndarray
    prob_alone: np.ndarray
    prob_masked: np.ndarray
    prob_unmasked: np.ndarray
    token_diff: dict[str, np.ndarray]     # "forward" / "backward" -> (B, T)
    padding: str

    def final_gap(self, which: str = "unmasked") -> np.ndarray:
        """max |final state − alone| per row and direction (B, directions)."""
        other = self.final_unmasked if which == "unmasked" else self.final_masked
        return np.abs(other - self.final_alone).max(axis=2)

    def largest_gap(self, which: str = "unmasked") -> float:
        """max |final state − alone| over every row, direction and unit."""
        return float(self.final_gap(which).max())

    def largest_prob_change(self) -> float:
        """The largest |P(positive) unmasked − P(positive) alone| over the rows (a probability, 0–1)."""
        return float(np.abs(self.prob_unmasked - self.prob_alone).max())


def _final_states(state) -> torch.Tensor:
    h_n = state[0] if isinstance(state, tuple) else state        # (directions, B, H) for one layer
    return h_n.transpose(0, 1)                                   # (B, directions, H)


@torch.no_grad()
def compare_masking(model: SentimentClassifier, batch: Batch, padding: str = "post") -> MaskingComparison:
    """Run ``batch`` through ``model`` three ways: each sentence alone, padded with ``lengths=``, padded
    without (pads at the end, or at the start with ``padding="pre"``)."""
    if padding not in ("post", "pre"):
        raise ValueError("padding must be 'post' or 'pre'")
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    rnn = model.rnns[0]
    ids, lengths = batch.ids.to(device), batch.lengths
    B, T = ids.shape
    unmasked_ids = ids if padding == "post" else pre_padded(ids, lengths).to(device)
    D = 2 if rnn.bidirectional else 1

    final_alone, prob_alone, out_alone = [], [], []
    for b in range(B):
        row = ids[b:b + 1, :int(lengths[b])]
        out, state = rnn(model.embedding(row))
        final_alone.append(_final_states(state)[0])
        out_alone.append(out[0])
        prob_alone.append(torch.sigmoid(model(row))[0])
    _, state_m = rnn(model.embedding(ids), lengths=lengths)
    out_u, state_u = rnn(model.embedding(unmasked_ids))
    prob_masked = torch.sigmoid(model(ids, lengths))
    prob_unmasked = torch.sigmoid(model(unmasked_ids))

    H = rnn.hidden_size
    diff = {name: np.full((B, T), np.nan) for name in ("forward", "backward")[:D]}
    for b in range(B):
        n = int(lengths[b])
        valid = out_u[b, :n] if padding == "post" else out_u[b, T - n:]
        gap = (valid - out_alone[b]).abs()
        for d, name in enumerate(("forward", "backward")[:D]):
            diff[name][b, :n] = gap[:, d * H:(d + 1) * H].amax(dim=1).cpu().numpy()
    model.train(was)
    np_ = lambda t: t.detach().float().cpu().numpy()  # noqa: E731
    return MaskingComparison(np_(torch.stack(final_alone)), np_(_final_states(state_m)), np_(_final_states(state_u)),
                             np_(torch.stack(prob_alone)), np_(prob_masked), np_(prob_unmasked), diff, padding)


# --- the PackedSequence layout ----------------------------------------------------------------------
@dataclass
class PackedLayout:
    """How ``pack_padded_sequence`` lays a batch out: rows sorted longest first, then time step by time
    step, only the rows still running (``batch_sizes[t]`` of them)."""

    lengths: list[int]
    batch_sizes: list[int]          # rows still running at each step
    sorted_indices: list[int]       # original row of each sorted row
    order: list[tuple[int, int]]    # (original row, time step) of each element of packed.data, in order

    @property
    def packed_steps(self) -> int:
        return sum(self.batch_sizes)


def packed_layout(lengths) -> PackedLayout:
    """Pack a (B, T) tensor whose cells hold their own position and read back where each one went."""
    lengths = torch.as_tensor(lengths, dtype=torch.long).reshape(-1)
    B, T = len(lengths), int(lengths.max())
    where = torch.arange(B * T, dtype=torch.float64).reshape(B, T, 1)
    packed = pack_padded_sequence(where, lengths, batch_first=True, enforce_sorted=False)
    flat = packed.data[:, 0].long().tolist()
    return PackedLayout(lengths.tolist(), packed.batch_sizes.tolist(), packed.sorted_indices.tolist(),
                        [(k // T, k % T) for k in flat])


# --- what padding and packing cost: a timed job --------------------------------------------------------
#: The course's §6 classifier (BiLSTM, 2 layers of 256, embedding 128, 20k words) on 64 × 200 tokens, and a
#: small configuration that measures the same thing in a few seconds.
COST_CONFIGS = {
    "small": dict(label="Small: batch 16 × 100 tokens, BiLSTM 64 × 1 layer", batch=16, seq_len=100, embed=64,
                  hidden=64, layers=1, vocab=5000, rounds=6),
    "course": dict(label="The course's §6: batch 64 × 200 tokens, BiLSTM 256 × 2 layers", batch=64, seq_len=200,
                   embed=128, hidden=256, layers=2, vocab=20000, rounds=3),
}
#: What the course reports for its §6 BiLSTM on a 2-core CPU (seconds per training step).
QUOTED = {"padded": 1.46, "packed": 3.48}
#: Where the pads go, as the page's choice shows it.
PAD_LABELS = {"post": "at the end (PyTorch; what packing needs)", "pre": "at the start (Keras' default)"}
LENGTHS = {"mixed": "lengths drawn uniformly from 10% to 100% of the longest",
           "equal": "every sentence full length (no padding at all)"}


def cost_lengths(kind: str, batch: int, seq_len: int, rng: np.random.Generator) -> torch.Tensor:
    if kind == "equal":
        return torch.full((batch,), seq_len, dtype=torch.long)
    if kind != "mixed":
        raise ValueError(f"unknown lengths {kind!r}")
    lengths = rng.integers(max(seq_len // 10, 1), seq_len + 1, batch)
    lengths[0] = seq_len               # the batch is as wide as its longest sentence
    return torch.as_tensor(lengths, dtype=torch.long)


def _logits(model: SentimentClassifier, ids: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """The classifier's forward pass with the choice made explicit: every layer packs when ``lengths``
    is given (even if all rows are full), and reads the padded tensor as it is otherwise."""
    x = model.drop_embed(model.embedding(ids))
    state = None
    for k, rnn in enumerate(model.rnns):
        if k:
            x = model.drop_between(x)
        x, state = rnn(x, lengths=lengths) if lengths is not None else rnn(x)
    return model.head(model._final(state)).squeeze(-1)


def padding_cost_job(ctx, config: str = "small", lengths: str = "mixed", seed: int = 0) -> dict:
    """Time training steps (forward, backward, Adam) of a bidirectional LSTM classifier on one batch,
    padded (the layer reads every pad) and packed (``lengths=``), alternating so that a busy machine
    slows both alike. Returns the seconds of every timed step and their medians."""
    if config not in COST_CONFIGS:
        raise ValueError(f"unknown configuration {config!r}")
    c = COST_CONFIGS[config]
    ctx.phase("building the model")
    rng = np.random.default_rng(seed)
    cfg = ClassifierConfig(vocab_size=c["vocab"], embed_dim=c["embed"], hidden_sizes=(c["hidden"],) * c["layers"],
                           cell="LSTM", bidirectional=True, dropout=0.3 if c["layers"] > 1 else 0.0,
                           head_dropout=0.3, pooling="last")
    model = seeded(lambda: SentimentClassifier(cfg), seed)
    # No per-class size limit here: these are two fixed, known configurations (the course's has 4.9 M
    # weights, most of them the embedding); the job's time limit bounds the work.
    n_params = sum(p.numel() for p in model.parameters())
    lens = cost_lengths(lengths, c["batch"], c["seq_len"], rng)
    ids = torch.as_tensor(rng.integers(2, c["vocab"], (c["batch"], c["seq_len"])), dtype=torch.long)
    ids[torch.arange(c["seq_len"])[None, :] >= lens[:, None]] = PAD
    labels = torch.as_tensor(rng.integers(0, 2, c["batch"]), dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step(packed: bool) -> float:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = _logits(model, ids, lens if packed else None)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return time.perf_counter() - t0

    times = {"padded": [], "packed": []}
    total = 2 * (c["rounds"] + 1)
    ctx.phase("timing")
    done, status, last_round = 0, Status.FINISHED, 0.0
    for r in range(c["rounds"] + 1):          # round 0 warms up (first-call allocations), not counted
        reason = ctx.should_stop()
        if times["packed"] and not reason and ctx.remaining() < 1.2 * last_round:
            reason = Status.TIME_LIMIT        # the next round would not finish in time: end before it
        if reason and times["packed"]:        # keep the rounds already measured
            status = stop_status(reason)
            break
        round_start = time.perf_counter()
        for kind in ("padded", "packed"):
            if not times["packed"]:           # nothing measured yet: a stop ends the job at once
                ctx.check()
            seconds = step(kind == "packed")
            done += 1
            if r:
                times[kind].append(seconds)
            ctx.progress(done, total, f"{'Warming up' if not r else 'Timing'}: {kind} step, "
                                      f"round {r}/{c['rounds']} ({seconds:.2f} s)")
        last_round = time.perf_counter() - round_start
    rounds = len(times["packed"])
    times["padded"] = times["padded"][:rounds]
    med = {k: statistics.median(v) for k, v in times.items()}
    ended = {Status.FINISHED: ".", Status.STOPPED: ", then you stopped it.",
             Status.TIME_LIMIT: ", then the time limit came."}[status]
    return {"status": status, "message": f"Timed {rounds} step{'s' * (rounds != 1)} each way{ended}",
            "config": dict(c), "config_name": config, "lengths_kind": lengths,
            "lengths": lens.tolist(), "padding_share": 1.0 - float(lens.sum()) / (c["batch"] * c["seq_len"]),
            "times": times, "median": med, "ratio": med["packed"] / med["padded"], "params": n_params,
            "threads": torch.get_num_threads(), "metrics": {"padded_s": med["padded"], "packed_s": med["packed"]}}


def fresh_bidirectional(vocab: Vocabulary, hidden_size: int = 16, seed: int = 0) -> SentimentClassifier:
    """An untrained bidirectional LSTM classifier (seeded): what the page uses when no trained model is
    installed. Its predictions mean nothing, but padding changes its states just the same."""
    config = ClassifierConfig(vocab_size=len(vocab), embed_dim=16, hidden_sizes=(hidden_size,), cell="LSTM",
                              bidirectional=True)
    return seeded(lambda: SentimentClassifier(config), seed).eval()
