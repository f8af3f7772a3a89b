"""The hidden states of a model over a whole corpus, computed once per model and kept on disk.

What is stored: the top layer's hidden state h after every token (both halves of a bidirectional layer side
by side: units 0..H-1 read forwards, H..2H-1 backwards), as int8: round(127·h), h in [-1, 1] for an LSTM, a
GRU or a tanh RNN, so one step is 1/127 and the stored values are within 0.004 of the model's. int8 rather than
packed bits: any threshold can be asked, and the matches can show the activations themselves; the bits of a
threshold are packed from it when first asked (about 0.1 s; :mod:`.search`).

The bound: at most :data:`MAX_INDEX_BYTES` (150 MB) of activations per index (a longer corpus is cut, whole
texts first), and at most :data:`MAX_INDEXES` indexes in the cache folder (the least recently used goes first):
the sentiment model on 1,000 IMDB reviews is 261,508 tokens x 512 units = 134 MB, the LSTM-800 on the
tiny-shakespeare validation text 111,540 x 800 = 89 MB. Where: ``corpus_index/`` in the app's data folder
(:func:`rnnlab.runtime.database.data_dir`), one folder per model digest and corpus, written to a temporary
folder and renamed, so that a reader never sees half an index and two builds of the same one cannot clash.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ...nn.charlm import CharLM
from ...nn.models import SentimentClassifier, _one_direction
from ...runtime.database import data_dir
from .corpus import CHARS, Corpus, tracks

FORMAT = 1
SCALE = 127                      # int8 = round(SCALE * h)
MAX_INDEX_BYTES = 150_000_000    # activations of one index (the brief's bound; a corpus is cut to fit)
MAX_INDEXES = 6                  # indexes kept in the cache folder: at most about 900 MB
WARMUP = 256                     # characters each stream of a character model reads before its own
STREAMS = 64                     # a character corpus is read as this many streams side by side
CHUNK = 256                      # characters per forward call (progress and Stop between two)
BATCH_TOKENS = 32_768            # tokens per batch of reviews (longest review of the batch x its size)
BITS_KEPT = 3                    # thresholds whose packed bits an open index keeps in memory

Progress = Callable[[int, int], None]


def cache_root() -> Path:
    return data_dir() / "corpus_index"


def index_folder(digest: str, corpus_key: str, root: str | Path | None = None) -> Path:
    """Where the index of the model with this digest over this corpus lives (it may not exist yet)."""
    return Path(root or cache_root()) / f"{digest[:20]}-{corpus_key}-v{FORMAT}"


def quantise(h: torch.Tensor) -> np.ndarray:
    """h as int8 steps of 1/127, clipped to [-1, 1] (only a ReLU RNN goes beyond)."""
    return (h.float() * SCALE).round_().clamp_(-SCALE, SCALE).to(torch.int8).cpu().numpy()


# --- reading a corpus -----------------------------------------------------------------------------------
def _flip(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's first ``length`` steps in reverse order (the padding after them stays where it is)."""
    steps = torch.arange(x.shape[1])[None, :]
    rev = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return x.gather(1, rev[..., None].expand(-1, -1, x.shape[-1]))


@torch.no_grad()
def sentiment_top(model: SentimentClassifier, ids: torch.Tensor, lengths: torch.Tensor, halves=None) -> torch.Tensor:
    """The top recurrent layer's output (B, T, D·H) for reviews padded at the end. A bidirectional layer runs
    as two one-direction copies of itself, the backward one on each review reversed: every valid step is
    exact, on the fused kernel, without packing (which costs 2-3x on a CPU)."""
    x = model.embedding(ids)
    for k, rnn in enumerate(model.rnns):
        if rnn.bidirectional:
            fwd, bwd = halves[k] if halves else (_one_direction(rnn, False), _one_direction(rnn, True))
            back, _ = bwd(_flip(x, lengths))
            x = torch.cat([fwd(x)[0], _flip(back, lengths)], dim=-1)
        else:
            x, _ = rnn(x)
    return x


def sentiment_units(model: SentimentClassifier) -> int:
    return model.config.hidden_sizes[-1] * (2 if model.config.bidirectional else 1)


def read_words(model: SentimentClassifier, vocab, corpus: Corpus, out: np.ndarray, progress: Progress | None = None,
               batch_tokens: int = BATCH_TOKENS) -> None:
    """Fill ``out`` (T, units) with the model's int8 states over every text of ``corpus``, longest first."""
    model.eval()
    halves = [(_one_direction(r, False), _one_direction(r, True)) if r.bidirectional else None for r in model.rnns]
    bounds = corpus.bounds
    order = np.argsort(-(bounds[1:] - bounds[:-1]), kind="stable")
    done, total, k = 0, len(corpus), 0
    while k < len(order):
        longest = int(bounds[order[k] + 1] - bounds[order[k]])
        batch = order[k:k + max(1, batch_tokens // max(longest, 1))]
        k += len(batch)
        lengths = torch.tensor([int(bounds[i + 1] - bounds[i]) for i in batch])
        ids = torch.zeros(len(batch), longest, dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, :lengths[row]] = torch.tensor(vocab.ids(corpus.tokens[bounds[i]:bounds[i + 1]]))
        h = sentiment_top(model, ids, lengths, halves)
        for row, i in enumerate(batch):
            out[bounds[i]:bounds[i + 1]] = quantise(h[row, :lengths[row]])
        done += int(lengths.sum())
        if progress is not None:
            progress(done, total)


def read_chars(model: CharLM, vocab, corpus: Corpus, out: np.ndarray, progress: Progress | None = None,
               streams: int = STREAMS, warmup: int = WARMUP, chunk: int = CHUNK) -> None:
    """Fill ``out`` (T, hidden) with the top layer's int8 h after every character of ``corpus``.

    One stream of 111,540 steps would be read one character at a time; instead the text is cut into
    ``streams`` pieces read side by side (matrix products over the batch), and each piece first reads the
    ``warmup`` characters before it (the first piece: the end of ``corpus.before``) with the state carried:
    every character is read with at least that much context, as a model carrying its state would
    (a character model's memory fades within a few hundred characters)."""
    model.eval()
    text = "".join(corpus.tokens)
    unknown = "map" if vocab.unknown_id is not None else "error"
    ids = vocab.encode(text, unknown=unknown)
    warmup = min(warmup, len(corpus.before))
    before = vocab.encode(corpus.before[len(corpus.before) - warmup:], unknown=unknown) if warmup else ids[:0]
    full = torch.cat([before, ids])
    T = len(ids)
    n = max(1, min(streams, T // max(warmup, 64)))
    length = -(-T // n)
    rows = torch.zeros(n, warmup + length, dtype=torch.long)
    for b in range(n):
        piece = full[b * length: b * length + warmup + length]   # its warm-up, then its own characters
        rows[b, :len(piece)] = piece
    state, steps = None, rows.shape[1]
    with torch.no_grad():
        for a in range(0, steps, chunk):
            h, state = model.rnn(model.embedding(rows[:, a:a + chunk]), state)
            q = quantise(h)
            for b in range(n):
                lo, hi = max(a, warmup), min(a + chunk, steps)          # this chunk's steps past the warm-up
                first, last = b * length + lo - warmup, min(b * length + hi - warmup, T)
                if last > first:
                    out[first:last] = q[b, lo - a:lo - a + last - first]
            if progress is not None:
                progress(min(a + chunk, steps) * n, steps * n)


# --- building and keeping -------------------------------------------------------------------------------
def build_index(model, vocab, corpus: Corpus, folder: str | Path, progress: Progress | None = None,
                name: str = "") -> dict:
    """Read ``corpus`` with ``model`` (a :class:`SentimentClassifier` on words, a :class:`CharLM` on
    characters) and write its index in ``folder``; returns the index's description (``index.json``)."""
    folder = Path(folder)
    words = isinstance(model, SentimentClassifier)
    if words == (corpus.kind == CHARS):
        raise ValueError("a sentiment model reads words and a character model characters")
    units = sentiment_units(model) if words else model.config.hidden_size
    full = len(corpus)
    corpus = corpus.cut(MAX_INDEX_BYTES // units)
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    try:
        out = np.lib.format.open_memmap(tmp / "acts.npy", mode="w+", dtype=np.int8, shape=(len(corpus), units))
        (read_words if words else read_chars)(model, vocab, corpus, out, progress)
        out.flush()
        del out
        seconds = time.perf_counter() - started
        body = {"tokens": corpus.tokens, "bounds": corpus.bounds.tolist(), "pieces": corpus.pieces, "pos": corpus.pos}
        (tmp / "tokens.json.gz").write_bytes(gzip.compress(json.dumps(body).encode("utf-8"), 6, mtime=0))
        cell = model.cell if words else model.config.cell.upper()
        info = {"format": FORMAT, "model": name, "cell": cell, "kind": corpus.kind, "corpus": corpus.name,
                "corpus_key": corpus.key, "tokens": len(corpus), "texts": len(corpus.bounds) - 1, "units": units,
                "halves": 2 if words and model.config.bidirectional else 1,
                "cut_from": full if full > len(corpus) else None, "bytes": len(corpus) * units,
                "seconds": round(seconds, 1), "threads": torch.get_num_threads(),
                "built": time.strftime("%Y-%m-%d %H:%M", time.localtime()), "warmup": min(WARMUP, len(corpus.before))}
        (tmp / "index.json").write_text(json.dumps(info, indent=1))
        try:
            os.rename(tmp, folder)
        except OSError:              # built meanwhile by another job: keep that one
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    evict(folder.parent, keep=folder)
    return json.loads((folder / "index.json").read_text())


def evict(root: str | Path, keep: Path | None = None, max_indexes: int = MAX_INDEXES) -> list[str]:
    """Delete the least recently used indexes beyond ``max_indexes`` (and temporary folders over an hour old)."""
    root = Path(root)
    if not root.exists():
        return []
    gone, now = [], time.time()
    for tmp in root.glob(".tmp-*"):
        if now - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
    found = sorted((p for p in root.iterdir() if (p / "index.json").exists()),
                   key=lambda p: (p == keep, (p / "index.json").stat().st_mtime), reverse=True)
    for p in found[max_indexes:]:
        shutil.rmtree(p, ignore_errors=True)
        gone.append(p.name)
    return gone


def halves(info: dict) -> tuple[range, range] | None:
    """The units that read forwards and those that read backwards (a bidirectional layer), else None."""
    if info.get("halves") != 2:
        return None
    h = int(info["units"]) // 2
    return range(0, h), range(h, 2 * h)


def index_info(folder: str | Path) -> dict | None:
    """The description of the index in ``folder``, or None if it has not been built."""
    path = Path(folder) / "index.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class Index:
    """An index opened for searching: the int8 activations (memory-mapped: the operating system shares the
    pages between processes), the tokens, and the packed bits of the last few thresholds asked."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.info = json.loads((self.folder / "index.json").read_text())
        # recently used: eviction keeps it (a read-only data folder is never evicted from either)
        with contextlib.suppress(OSError):
            os.utime(self.folder / "index.json")
        body = json.loads(gzip.decompress((self.folder / "tokens.json.gz").read_bytes()))
        self.tokens: list[str] = body["tokens"]
        self.bounds = np.asarray(body["bounds"], dtype=np.int64)
        self.pieces = [tuple(p) for p in body["pieces"]]
        self.pos: str | None = body.get("pos")
        self.acts: np.ndarray = np.load(self.folder / "acts.npy", mmap_mode="r")
        self.kind: str = self.info["kind"]
        self._bits: OrderedDict[int, np.ndarray] = OrderedDict()
        self._tracks: dict | None = None
        self._newlines: np.ndarray | None = None
        #: the end of the text each position belongs to (a window may not pass it)
        self.text_end = np.repeat(self.bounds[1:], np.diff(self.bounds))

    @property
    def units(self) -> int:
        return int(self.acts.shape[1])

    def bits(self, q: int) -> np.ndarray:
        """Units at or above the int8 level ``q`` after each token, packed 64 to a word: (T, ⌈U/64⌉) uint64."""
        if q in self._bits:
            self._bits.move_to_end(q)
            return self._bits[q]
        packed = pack_bits(self.acts, q)
        self._bits[q] = packed
        while len(self._bits) > BITS_KEPT:
            self._bits.popitem(last=False)
        return packed

    def tracks(self) -> dict[str, np.ndarray]:
        if self._tracks is None:
            self._tracks = tracks(self.kind, self.tokens, self.pos)
        return self._tracks

    def line_col(self, position: int) -> tuple[int, int]:
        """(line, column) of a position, both from 1 (the column as the "position in the line" track counts)."""
        if self._newlines is None:
            self._newlines = np.flatnonzero(np.array(self.tokens, dtype=object) == "\n")
        k = int(np.searchsorted(self._newlines, position))        # newlines before the position
        return k + 1, position - (int(self._newlines[k - 1]) if k else -1)

    def text_of(self, position: int) -> int:
        return int(np.searchsorted(self.bounds, position, side="right") - 1)


def pack_bits(acts: np.ndarray, q: int, rows: int = 65_536) -> np.ndarray:
    """``acts >= q`` packed along the units (little-endian bits, padded to whole 64-bit words), a block of
    rows at a time so that the boolean array never holds the whole corpus."""
    T, U = acts.shape
    words = -(-U // 64)
    out = np.zeros((T, words * 8), dtype=np.uint8)
    for a in range(0, T, rows):
        out[a:a + rows, :-(-U // 8)] = np.packbits(np.asarray(acts[a:a + rows]) >= q, axis=1, bitorder="little")
    return out.view(np.uint64)
