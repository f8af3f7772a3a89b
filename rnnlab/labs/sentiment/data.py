"""Reviews as tensors: the vocabulary, encoding (post-padded ids and lengths), batches of similar lengths,
the worker's token cache (:data:`TOKENS`) and the train/test data a live job reads."""
from __future__ import annotations

import math

import numpy as np
import torch

from ...data.text import TextDataset, compact_imdb_info, find_imdb, load_compact_imdb, load_imdb
from ...data.tokenizer import OOV, Vocabulary, pad, tokenize


def encode(texts: list[str], vocab: Vocabulary, maxlen: int,
           truncating: str = "pre") -> tuple[torch.Tensor, torch.Tensor]:
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
            seed: int = 0, bucket: int = 50, equal_length: bool = False,
            truncating: str = "pre") -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of similar lengths (less padding to step over), each cut to its longest sequence.

    ``equal_length``: cut every review of a batch to the batch's shortest one instead (dropping its first
    words with ``truncating="pre"``, its last with ``"post"``), so that a bidirectional model needs no
    packing (see ``SentimentClassifier.features``). Reviews are sorted by length within blocks of
    ``batch_size * bucket``, so neighbours differ by a few words at most (``dropped_share`` measures it)."""
    n = len(lengths)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    out = []
    chunk = batch_size * bucket
    for start in range(0, n, chunk):
        block = order[start:start + chunk]
        block = block[np.argsort(-lengths[block].numpy(), kind="stable")]
        for b in range(0, len(block), batch_size):
            idx = torch.from_numpy(block[b:b + batch_size])
            if equal_length:
                m = int(lengths[idx].min())
                first = ((lengths[idx] - m)[:, None] if truncating == "pre"
                         else torch.zeros(len(idx), 1, dtype=torch.long))
                cols = first + torch.arange(m)[None, :]
                out.append((ids[idx].gather(1, cols), torch.full((len(idx),), m, dtype=torch.long), labels[idx]))
            else:
                L = int(lengths[idx].max())
                out.append((ids[idx, :L], lengths[idx], labels[idx]))
    if shuffle:
        perm = np.random.default_rng(seed + 1).permutation(len(out))
        out = [out[i] for i in perm]
    return out


def dropped_share(lengths: torch.Tensor, batch_size: int, bucket: int = 50, seed: int = 0) -> float:
    """Share of all tokens that equal-length batches drop (for a given set of review lengths)."""
    kept = sum(int(b[1].sum()) for b in batches(torch.zeros(len(lengths), int(lengths.max()), dtype=torch.long),
                                               lengths, torch.zeros(len(lengths), dtype=torch.long), batch_size,
                                               seed=seed, bucket=bucket, equal_length=True))
    return 1.0 - kept / max(int(lengths.sum()), 1)


class EpochBatches:
    """Re-shuffled bucketed batches every epoch (an iterable the trainer reads once per epoch)."""

    def __init__(self, ids, lengths, labels, batch_size: int, seed: int = 0, equal_length: bool = False,
                 truncating: str = "pre"):
        self.args = (ids, lengths, labels, batch_size)
        self.seed = seed
        self.epoch = 0
        self.options = {"equal_length": equal_length, "truncating": truncating}

    def __iter__(self):
        self.epoch += 1
        return iter(batches(*self.args, shuffle=True, seed=self.seed + 1000 * self.epoch, **self.options))

    def __len__(self) -> int:
        return math.ceil(len(self.args[1]) / self.args[3])


def build_vocab(texts: list[str], num_words: int) -> Vocabulary:
    return Vocabulary(num_words=num_words).fit(texts)


CHUNK = 250           # texts tokenised (or scored) between two checks for a stop
MIN_TRAIN_REVIEWS = 10   # a job refuses fewer training reviews than this
UPLOAD_TEST_SHARE = 0.2  # of an upload, held out to test (stratified)


class TokenCache:
    """Texts as arrays of word numbers, kept in the worker process from one job to the next.

    Tokenising 5,000 reviews takes a few seconds on a laptop CPU; the next job on the same reviews (another
    recipe, another seed) finds them here and starts training at once. Word numbers index ``words`` (every
    word seen, in order of first sight); a recipe's vocabulary is then counted with one ``bincount`` and
    mapped with one lookup table. At most ``max_texts`` texts are kept (emptied between jobs when full)."""

    def __init__(self, max_texts: int = 60_000):
        self.max_texts = max_texts
        self.reset()

    def reset(self) -> None:
        self.words: list[str] = []
        self.index: dict[str, int] = {}
        self.docs: dict[tuple[int, int], np.ndarray] = {}

    def make_room(self, n_new: int) -> None:
        if len(self.docs) + n_new > self.max_texts:
            self.reset()

    def ids(self, text: str) -> np.ndarray:
        key = (hash(text), len(text))
        arr = self.docs.get(key)
        if arr is None:
            index, words = self.index, self.words
            out = []
            for t in tokenize(text):
                i = index.get(t)
                if i is None:
                    i = index[t] = len(words)
                    words.append(t)
                out.append(i)
            arr = self.docs[key] = np.asarray(out, dtype=np.int32)
        return arr

    def many(self, texts: list[str], ctx=None, label: str = "Tokenising", offset: int = 0,
             total: int | None = None) -> list[np.ndarray]:
        """Word numbers of every text, ``CHUNK`` texts at a time, reporting progress and checking for a stop."""
        total = total or len(texts)
        out: list[np.ndarray] = []
        for start in range(0, len(texts), CHUNK):
            if ctx is not None:
                ctx.check()
                ctx.progress(offset + start, total, f"{label}… {offset + start:,}/{total:,} reviews")
            out.extend(self.ids(t) for t in texts[start:start + CHUNK])
        return out

    def vocabulary(self, docs: list[np.ndarray], num_words: int | None) -> Vocabulary:
        """The vocabulary ``Vocabulary(num_words).fit(texts)`` would build on these texts."""
        counts = np.bincount(np.concatenate(docs) if docs else np.zeros(0, np.int64), minlength=len(self.words))
        return Vocabulary(num_words).fit_counts({self.words[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def encode(self, docs: list[np.ndarray], vocab: Vocabulary, maxlen: int, truncating: str = "pre"
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """What :func:`encode` returns for these texts: ids post-padded to the longest, and the lengths."""
        lut = np.fromiter((vocab.index.get(w, OOV) for w in self.words), dtype=np.int64, count=len(self.words))
        cut = [d[-maxlen:] if truncating == "pre" else d[:maxlen] for d in docs]
        lengths = np.array([max(len(d), 1) for d in cut], dtype=np.int64)
        ids = np.zeros((len(cut), int(lengths.max()) if len(cut) else 1), dtype=np.int64)
        for r, d in enumerate(cut):
            if len(d):
                ids[r, :len(d)] = lut[d]
            else:
                ids[r, 0] = OOV  # an empty text reads one <oov>, as encode() does
        return torch.from_numpy(ids), torch.from_numpy(lengths)


TOKENS = TokenCache()   # one per process: a worker runs one job at a time


def load_job_data(source: str, upload: dict | None, seed: int, ctx=None) -> tuple[TextDataset, TextDataset, str]:
    """(train, test, a description) for a job: the compact subset, the teacher's full IMDB, or an upload
    (its texts and labels passed in memory; 20% held out, stratified, as the test set)."""
    def progress(done: int, total: int) -> None:
        if ctx is not None:
            ctx.check()
            ctx.progress(done, total,
                         f"Reading the reviews… {done:,}/{total:,}" if total > 2 else "Reading the reviews…")

    if source == "upload":
        if not upload or not upload.get("texts"):
            raise ValueError("No uploaded reviews were given.")
        ds = TextDataset(list(upload["texts"]), np.asarray(upload["labels"], dtype=np.int64))
        train, test = ds.split(UPLOAD_TEST_SHARE, seed, stratify=True)
        return train, test, f"your CSV ({len(ds):,} rows)"
    if source == "imdb":
        from ...runtime.settings import load_settings

        folder = find_imdb([load_settings().imdb_path] if load_settings().imdb_path else [])
        if folder is None:
            raise ValueError("The full IMDB is not available on this server any more: choose the compact subset.")
        data = load_imdb(folder, progress)
        return data["train"], data["test"], "the full IMDB"
    data = load_compact_imdb(progress=progress)
    return data["train"], data["test"], "the compact IMDB subset"


def planned_steps(recipe, source: str, n_upload: int = 0, subset_percent: int = 100) -> int:
    """The training steps a job will take, for its progress bar before it has read any data: ``recipe.epochs``
    passes, in batches of ``recipe.batch_size``, over the reviews it trains on: the training part (an upload's
    80%, the compact subset's, the full IMDB's 25,000), ``subset_percent`` of it, less the validation share."""
    if n_upload:
        n_train = n_upload * 0.8
    elif source == "compact":
        n_train = compact_imdb_info()["train"]["reviews"]
    else:
        n_train = 25_000
    n_fit = int(n_train * subset_percent / 100 * (1 - recipe.val_fraction))
    return recipe.epochs * math.ceil(n_fit / recipe.batch_size)


def upload_too_small(ds: TextDataset, seed: int) -> str | None:
    """Why an upload's reviews are too few to train on (the job would refuse them after Train), or None: its
    training part (80%, split as the job splits it) must hold ``MIN_TRAIN_REVIEWS``, and its test part one."""
    train, test = ds.split(UPLOAD_TEST_SHARE, seed, stratify=True)
    if len(train) >= MIN_TRAIN_REVIEWS and len(test) >= 1:
        return None
    return (f"{len(ds):,} labelled rows are too few: {1 - UPLOAD_TEST_SHARE:.0%} of them are trained on "
            f"({len(train):,} here) and a training needs at least {MIN_TRAIN_REVIEWS}, with the rest kept to "
            f"test. Upload at least {math.ceil(MIN_TRAIN_REVIEWS / (1 - UPLOAD_TEST_SHARE)) + 2} rows.")
