"""The Architectures page's six experiments: one small model per shape an RNN can take, each trained by
the one trainer inside a job, each evaluated on a fixed test set against what *can* be done.

| section       | task (``rnnlab.data.seqtasks``)           | model                                         |
| ------------- | ----------------------------------------- | --------------------------------------------- |
| one_to_one    | noisy 5×7 digit image → digit             | feed-forward net, no recurrence               |
| one_to_many   | digit → its name in one of five languages | digit → h₀, GRU/LSTM writes letters, fed back |
| many_to_one   | bit string → parity                       | GRU/LSTM, answer read from the last state     |
| sync          | character → "its sentence ends with ?"    | GRU/LSTM tagger, one- vs two-directional      |
| seq2seq       | a written date → ISO date                 | encoder → decoder (``rnnlab.nn.seq2seq``)     |
| attention     | reversing letters (or dates)              | the same seq2seq without and with attention   |

Every job function here follows ``rnnlab.runtime.jobs``: it returns plain data and tensors (weights only),
its ``metrics`` for the class board, and what the page draws (accuracies by length, by position, …).
Models are rebuilt on the page with :func:`model_from_result`.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data import seqtasks
from ...nn.init import seeded
from ...nn.layers import make_recurrent
from ...nn.seq2seq import Seq2SeqConfig, sequence_loss
from ...nn.seq2seq import build as build_seq2seq
from ...train import TrainConfig, Trainer

SECTIONS = ("one_to_one", "one_to_many", "many_to_one", "sync", "seq2seq", "attention")
EVAL_RESERVE = 12.0    # seconds of a job's time limit kept for the final evaluation (a busy CPU is slow)

#: The page's default settings for each section (also what bench/architectures.py times): each trains in
#: well under 20 s on one core of a 2-core CPU.
DEFAULTS = {
    "one_to_one": {"noise": 0.15, "hidden": 32, "steps": 300},
    "one_to_many": {"cell": "GRU", "hidden": 64, "steps": 300},
    "many_to_one": {"cell": "GRU", "hidden": 32, "train_len": 10, "steps": 400},
    "sync": {"cell": "GRU", "hidden": 32, "steps": 150},
    "seq2seq": {"task": "dates", "cell": "GRU", "hidden": 64, "steps": 400},
    "attention": {"task": "reverse", "cell": "GRU", "hidden": 64, "attention": "luong", "steps": 300},
}
JOBS = {s: f"{s}_job" for s in SECTIONS}

#: What each section states it reaches (validation accuracy, the metric its live curve shows), and in words.
TARGETS = {
    "one_to_one": (0.95, "95% of validation images right (the best possible rule: about 97.7%)"),
    "one_to_many": (0.90, "90% of names drawn at temperature 1 real"),
    "many_to_one": (0.99, "99% of validation strings (lengths 1-10) right"),
    "sync": (0.99, "bidirectional: 99% of validation characters tagged right"),
    "seq2seq": (0.90, "90% of validation dates entirely right"),
    "attention": (0.70, "with attention: 70% of validation strings entirely reversed"),
}


# =====================================================================================================
# Models
# =====================================================================================================
class DigitNet(nn.Module):
    """One-to-one: a 35-pixel image in, 10 digit scores out. No state: the same image always gets the
    same answer, whatever came before."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.hidden_layer = nn.Linear(seqtasks.PIXELS, hidden)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.relu(self.hidden_layer(x)))


class WordWriter(nn.Module):
    """One-to-many: the digit sets the first hidden state h₀ = tanh(W d); then the RNN writes one letter
    per step, reading the letter it wrote before (``<s>`` at first), until it writes ``</s>``."""

    def __init__(self, cell: str = "GRU", hidden: int = 64, embed: int = 16):
        super().__init__()
        self.cell = cell.upper()
        self.start = nn.Linear(10, hidden)
        self.embed = nn.Embedding(seqtasks.WORD_VOCAB.size, embed, padding_idx=seqtasks.PAD)
        self.rnn = make_recurrent(cell, embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, seqtasks.WORD_VOCAB.size)

    def initial_state(self, digits: Tensor):
        h0 = torch.tanh(self.start(F.one_hot(digits, 10).float()))[None]
        return (h0, torch.zeros_like(h0)) if self.cell == "LSTM" else h0

    def forward(self, digits: Tensor, dec_in: Tensor) -> Tensor:
        out, _ = self.rnn(self.embed(dec_in), self.initial_state(digits))
        return self.out(out)

    @torch.no_grad()
    def sample(self, digits: Tensor, temperature: float, generator: torch.Generator, max_len: int = 12):
        """Write a word for each digit, each letter drawn from softmax(logits / temperature) (0: always the
        most likely) and fed back in. Returns (symbols (N, L), the distribution each was drawn from (N, L, V))."""
        state = self.initial_state(digits)
        prev = torch.full((len(digits),), seqtasks.BOS, dtype=torch.long)
        done = torch.zeros(len(digits), dtype=torch.bool)
        symbols, dists = [], []
        for _ in range(max_len):
            out, state = self.rnn(self.embed(prev)[:, None], state)
            logits = self.out(out[:, 0])
            logits[:, [seqtasks.PAD, seqtasks.BOS]] = float("-inf")             # never written
            if temperature <= 0:
                probs = F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)[:, 0]
            nxt = torch.where(done, torch.full_like(nxt, seqtasks.PAD), nxt)
            symbols.append(nxt)
            dists.append(probs)
            done |= nxt == seqtasks.EOS
            prev = torch.where(done, torch.full_like(nxt, seqtasks.EOS), nxt)
            if bool(done.all()):
                break
        return torch.stack(symbols, 1), torch.stack(dists, 1)

    @torch.no_grad()
    def next_letter(self, digit: int, prefix: str) -> dict[str, float]:
        """The model's probability of each next symbol after ``prefix`` (temperature 1)."""
        ids = torch.tensor([[seqtasks.BOS] + seqtasks.WORD_VOCAB.ids(prefix)])
        logits = self.forward(torch.tensor([digit]), ids)[0, -1]
        probs = torch.softmax(logits, -1)
        return {seqtasks.WORD_VOCAB.symbol(i): float(p) for i, p in enumerate(probs)
                if i not in (seqtasks.PAD, seqtasks.BOS)}


class ParityNet(nn.Module):
    """Many-to-one: read the bits one at a time, answer "odd number of 1s?" from the last hidden state."""

    def __init__(self, cell: str = "GRU", hidden: int = 32):
        super().__init__()
        self.rnn = make_recurrent(cell, 2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def running(self, bits: Tensor) -> Tensor:
        """Logits (B, L, 2) read after every bit: the answer the network would give if the string ended there."""
        out, _ = self.rnn(F.one_hot(bits, 2).float())
        return self.out(out)

    def forward(self, bits: Tensor, lengths: Tensor) -> Tensor:
        # a forward RNN never looks ahead: run the padded batch and read each row at its own last bit
        logits = self.running(bits)
        return logits[torch.arange(len(bits), device=bits.device), lengths.to(bits.device) - 1]


class Tagger(nn.Module):
    """Many-to-many, synced: one tag per character, read from the hidden state at that character: the
    forward state only (it has read the past), or forward ‖ backward (it has read the past and the future)."""

    def __init__(self, cell: str = "GRU", hidden: int = 32, embed: int = 16, bidirectional: bool = False):
        super().__init__()
        self.embed = nn.Embedding(seqtasks.QA_VOCAB.size, embed, padding_idx=seqtasks.PAD)
        self.rnn = make_recurrent(cell, embed, hidden, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 2)

    def forward(self, ids: Tensor) -> Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.out(out)


def build_model(section: str, config: dict, seed: int = 0) -> nn.Module:
    """The model of a section from its config, initialised from ``seed`` (not torch's global generator)."""
    c = dict(config)
    if section == "one_to_one":
        return seeded(lambda: DigitNet(c["hidden"]), seed)
    if section == "one_to_many":
        return seeded(lambda: WordWriter(c["cell"], c["hidden"]), seed)
    if section == "many_to_one":
        return seeded(lambda: ParityNet(c["cell"], c["hidden"]), seed)
    if section == "sync":
        return seeded(lambda: Tagger(c["cell"], c["hidden"], bidirectional=c["bidirectional"]), seed)
    if section in ("seq2seq", "attention"):
        return build_seq2seq(Seq2SeqConfig(**c), seed)
    raise ValueError(f"unknown section {section!r}")


def model_from_result(section: str, result: dict, which: str | None = None) -> nn.Module:
    """Rebuild a trained model from a job's result (config + weights; ``which`` names one of two models)."""
    part = result["models"][which] if which else result
    model = build_model(section, part["config"], 0)
    model.load_state_dict(part["state_dict"])
    return model.eval()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# =====================================================================================================
# Training inside a job
# =====================================================================================================
@dataclass
class Run:
    """One model to train: its loss, its endless batches and its validation (a fixed set)."""

    name: str
    model: nn.Module
    loss_fn: Callable
    batches: Callable[[int], object]
    validate: Callable[[nn.Module], dict]


def _train(ctx, runs: list[Run], steps: int, lr: float, eval_every: int, clip: float | None = 1.0) -> dict:
    """Train the runs side by side (one step each in turn), with the job's stop and time limit. Each keeps
    its best validated weights (``acc``). Returns {name: trainer}."""
    ctx.phase("training")
    budget = max(ctx.remaining() - EVAL_RESERVE, 1.0)
    trainers, loops = {}, {}
    for run in runs:
        def forward(event, name=run.name):
            ctx.emit(event.kind, event.step, event.epoch, model=name, **event.data)
        trainer = Trainer(run.model, run.loss_fn, TrainConfig(lr=lr, clip=clip, max_steps=steps, eval_every=eval_every,
                                                              monitor="acc", mode="max", time_limit=budget,
                                                              device=ctx.device),
                          on_event=forward, should_stop=ctx.should_stop)
        trainers[run.name] = trainer
        loops[run.name] = trainer.run(run.batches, _on_cpu(run.validate))
    active = list(loops)
    while active:
        for name in list(active):
            if next(loops[name], None) is None:
                active.remove(name)
    return trainers


def _on_cpu(validate):
    """Validation runs on the CPU, where its fixed data lives: a model the trainer moved to a GPU is copied
    back for it (these models are tiny)."""
    def run(model):
        if _device_of(model).type == "cpu":
            return validate(model)
        return validate(copy.deepcopy(model).cpu())
    return run


def _status(trainers: dict) -> tuple[str, str]:
    """One status and message for the job from its trainers (the worst of them)."""
    order = ("diverged", "cancelled", "time_limit", "early_stopped", "done")
    hs = [t.history for t in trainers.values()]
    status = next(s for s in order if any(h.status == s for h in hs))
    if len(hs) == 1:
        return status, hs[0].message
    msgs = [f"{name}: {t.history.message}" for name, t in trainers.items()]
    return status, " · ".join(msgs)


def _history(trainer: Trainer) -> dict:
    h = trainer.history
    return {"steps": list(h.steps), "loss": [float(v) for v in h.loss],
            "eval_steps": [e["step"] for e in h.evals], "eval_acc": [float(e["acc"]) for e in h.evals],
            "seconds": float(h.seconds), "status": h.status}


def _model_part(model: nn.Module, config: dict, trainer: Trainer) -> dict:
    return {"config": config, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "history": _history(trainer), "params": n_params(model)}


def _result(trainers: dict, total_steps: int, metrics: dict, **extra) -> dict:
    status, message = _status(trainers)
    done = min(len(t.history.steps) for t in trainers.values())
    return {"status": status, "message": message, "steps_done": done, "total_steps": total_steps,
            # "epochs": these tasks draw fresh examples every step; a run that did all its steps is one whole run
            "epochs_completed": int(done >= total_steps), "metrics": {k: float(v) for k, v in metrics.items()},
            **extra}


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _stop_evaluating(ctx) -> bool:
    return ctx.stop_requests >= 2 or ctx.remaining() <= 0


# =====================================================================================================
# One-to-one: digits
# =====================================================================================================
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


def most_confused(confusion, k: int = 3) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells of a confusion matrix: (true digit, predicted digit, count)."""
    cm = torch.as_tensor(confusion).clone()
    cm.fill_diagonal_(0)
    values, flat = cm.flatten().topk(k)
    return [(int(i) // 10, int(i) % 10, int(v)) for v, i in zip(values, flat) if int(v) > 0]


# =====================================================================================================
# One-to-many: the names of digits
# =====================================================================================================
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


# =====================================================================================================
# Many-to-one: parity
# =====================================================================================================
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


# =====================================================================================================
# Many-to-many synced: one direction or two
# =====================================================================================================
QA_LENGTH = 48
QA_TEST = 2000


@functools.lru_cache(maxsize=1)
def qa_test_set():
    return seqtasks.qa_batch(QA_TEST, QA_LENGTH, seqtasks.TEST_SEED)


@functools.lru_cache(maxsize=1)
def qa_limits() -> tuple[float, float]:
    """(the best a left-to-right reader can expect on the test texts, the luck it may have on them)."""
    _, tags, dist = qa_test_set()
    return seqtasks.causal_ceiling(tags, dist), seqtasks.causal_band(tags, dist)


def tagger_accuracy(model: Tagger, ids: Tensor, tags: Tensor, dist: Tensor, max_dist: int = 20) -> dict:
    """Accuracy over tagged characters, and by the number of characters until the sentence's end mark."""
    with torch.no_grad():
        pred = model(ids).argmax(-1)
    ok = (pred == tags).float()
    scored = tags != seqtasks.IGNORE
    by_dist = []
    for k in range(max_dist + 1):
        sel = scored & (dist == k)
        by_dist.append(float(ok[sel].mean()) if sel.any() else float("nan"))
    return {"acc": float(ok[scored].mean()), "by_distance": by_dist}


def sync_job(ctx, cell: str = "GRU", hidden: int = 32, steps: int = 300, lr: float = 1e-2, batch: int = 32,
             seed: int = 0) -> dict:
    """Train a one-directional and a two-directional tagger side by side on the same batches."""
    ctx.phase("preparing")
    configs = {name: {"cell": cell, "hidden": int(hidden), "bidirectional": bi}
               for name, bi in (("unidirectional", False), ("bidirectional", True))}
    models = {name: build_model("sync", c, seed) for name, c in configs.items()}
    vi, vt, vd = seqtasks.qa_batch(256, QA_LENGTH, seqtasks.TEST_SEED + 1)
    data = {}

    def batches(step: int):   # both models see the very same batches (drawn once per step)
        if step not in data:
            data.clear()
            data[step] = seqtasks.qa_batch(batch, QA_LENGTH, np.random.default_rng([seed, step]))
        ids, tags, _ = data[step]
        return ids, tags

    def loss_fn(m, b):
        ids, tags = b
        logits = m(ids)
        real = tags != seqtasks.IGNORE
        loss = F.cross_entropy(logits.reshape(-1, 2), tags.reshape(-1), ignore_index=seqtasks.IGNORE)
        return loss, {"acc": ((logits.argmax(-1) == tags) & real).sum() / real.sum()}

    def validate(m):
        return {"acc": tagger_accuracy(m, vi, vt, vd)["acc"]}

    trainers = _train(ctx, [Run(n, m, loss_fn, batches, validate) for n, m in models.items()], steps, lr, eval_every=25)
    ctx.phase("evaluating")
    ids, tags, dist = qa_test_set()
    ceiling, band = qa_limits()
    parts, metrics = {}, {"causal_ceiling": ceiling, "causal_band": band}
    for name, m in models.items():
        m = m.cpu().eval()
        acc = tagger_accuracy(m, ids, tags, dist)
        metrics[f"test_acc_{name}"] = acc["acc"]
        parts[name] = {**_model_part(m, configs[name], trainers[name]), "by_distance": acc["by_distance"]}
    return _result(trainers, steps, metrics, models=parts, config={"cell": cell, "hidden": int(hidden)})


# =====================================================================================================
# Seq2seq: teacher forcing, free running, attention
# =====================================================================================================
def seq2seq_config(task: str, cell: str, hidden: int, attention: str | None, embed: int = 32) -> dict:
    src, tgt = seqtasks.SEQ2SEQ_TASKS[task]
    return Seq2SeqConfig(src.size, tgt.size, embed, int(hidden), cell, attention,
                         bidirectional_encoder=False).to_dict()


def _chunks(pairs, n: int = 250):
    for k in range(0, len(pairs), n):
        yield pairs[k:k + n]


@torch.no_grad()
def decode_pairs(model, task: str, pairs) -> list[str]:
    """Greedy, free-running outputs for (source, target) pairs."""
    _, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    out = []
    for chunk in _chunks(list(pairs)):
        src, src_len, _, dec_out = seqtasks.seq2seq_batch(task, chunk)
        d = model.run(src, src_len, max_len=dec_out.shape[1] + 2)
        out += [tgt_vocab.decode(row) for row in d.tokens]
    return out


@torch.no_grad()
def forcing_errors(model, task: str, pairs) -> dict:
    """Teacher forcing vs free running, position by position, on the same inputs.

    ``teacher``: the share of wrong symbols at each output position when the decoder is fed the true
    previous symbols; ``free``: when it is fed its own. ``after_error``: in free running, the share of
    wrong symbols among those that come after the first mistake (errors compounding), and the same
    share under teacher forcing for the same sequences."""
    L = max(len(t) for _, t in pairs) + 1
    wrong_t, wrong_f, count = torch.zeros(L), torch.zeros(L), torch.zeros(L)
    after_f = after_t = after_n = 0
    for chunk in _chunks(list(pairs)):
        src, src_len, dec_in, dec_out = seqtasks.seq2seq_batch(task, chunk)
        teach = model.run(src, src_len, dec_in=dec_in).logits.argmax(-1)
        free = model.run(src, src_len, max_len=dec_out.shape[1], stop_at_eos=False).tokens
        real = dec_out != seqtasks.PAD
        wt, wf = (teach != dec_out) & real, (free != dec_out) & real
        n = dec_out.shape[1]
        wrong_t[:n] += wt.sum(0).float()
        wrong_f[:n] += wf.sum(0).float()
        count[:n] += real.sum(0).float()
        first = torch.where(wf.any(1), wf.float().argmax(1), torch.full((len(chunk),), n))
        later = (torch.arange(n)[None, :] > first[:, None]) & real
        after_f += int((wf & later).sum())
        after_t += int((wt & later).sum())
        after_n += int(later.sum())
    keep = count > 0
    return {"teacher": (wrong_t[keep] / count[keep]).tolist(), "free": (wrong_f[keep] / count[keep]).tolist(),
            "after_error_free": after_f / after_n if after_n else float("nan"),
            "after_error_teacher": after_t / after_n if after_n else float("nan"), "after_error_count": after_n}


LENGTH_BINS = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
DATE_LENGTH_BINS = ((6, 9), (10, 12), (13, 15), (16, 18), (19, 22), (23, 32))


def accuracy_by_length(task: str, pairs, outputs: list[str]) -> dict:
    """Whole-output and per-symbol accuracy in bins of input length."""
    bins = LENGTH_BINS if task == "reverse" else DATE_LENGTH_BINS
    exact, symbols, counts = [], [], []
    for lo, hi in bins:
        sel = [(o, t) for o, (s, t) in zip(outputs, pairs) if lo <= len(s) <= hi]
        counts.append(len(sel))
        exact.append(float(np.mean([o == t for o, t in sel])) if sel else float("nan"))
        right = [sum(a == b for a, b in zip(o, t)) / len(t) for o, t in sel]
        symbols.append(float(np.mean(right)) if sel else float("nan"))
    return {"bins": [f"{lo}–{hi}" for lo, hi in bins], "exact": exact, "symbols": symbols, "counts": counts}


def _seq2seq_run(name, task, model, batch, gen_seed, val_pairs) -> Run:
    data = {}

    def batches(step):   # the same batch for every model that draws with this seed
        if step not in data:
            data.clear()
            pairs = seqtasks.seq2seq_pairs(task, batch, np.random.default_rng([gen_seed, step]))
            data[step] = seqtasks.seq2seq_batch(task, pairs)
        return data[step]

    def validate(m):
        outs = decode_pairs(m, task, val_pairs)
        return {"acc": float(np.mean([o == t for o, (_, t) in zip(outs, val_pairs)]))}

    return Run(name, model, lambda m, b: _with_acc(sequence_loss(m, b)), batches, validate)


def _with_acc(loss_metrics):
    loss, metrics = loss_metrics
    return loss, {"acc": metrics["token_acc"]}


def seq2seq_job(ctx, task: str = "dates", cell: str = "GRU", hidden: int = 64, attention: str | None = None,
                steps: int = 400, lr: float = 1e-2, batch: int = 64, seed: int = 0) -> dict:
    """One encoder–decoder trained with teacher forcing; then tested free running (greedy), and compared
    position by position with teacher forcing."""
    ctx.phase("preparing")
    config = seq2seq_config(task, cell, hidden, attention)
    model = build_model("seq2seq", config, seed)
    val_pairs = seqtasks.seq2seq_pairs(task, 200, seqtasks.TEST_SEED + 1)
    trainers = _train(ctx, [_seq2seq_run("seq2seq", task, model, batch, seed, val_pairs)], steps, lr, eval_every=50)
    ctx.phase("evaluating")
    model = model.cpu().eval()
    pairs = list(seqtasks.held_out_pairs(task))
    outputs = decode_pairs(model, task, pairs)
    exact = float(np.mean([o == t for o, (_, t) in zip(outputs, pairs)]))
    forcing = forcing_errors(model, task, pairs)
    extra = {"forcing": forcing, "by_length": accuracy_by_length(task, pairs, outputs), "task": task}
    if task == "dates":
        formats = [f for _, _, f in seqtasks.date_pairs(len(pairs), seqtasks.TEST_SEED)]
        extra["by_format"] = {f: float(np.mean([o == t for o, (_, t), g in zip(outputs, pairs, formats) if g == f]))
                              for f in seqtasks.DATE_FORMATS}
    return _result(trainers, steps, {"test_exact": exact, "free_symbol_error": float(np.mean(forcing["free"])),
                                     "teacher_symbol_error": float(np.mean(forcing["teacher"]))},
                   **_model_part(model, config, trainers["seq2seq"]), **extra)


def attention_job(ctx, task: str = "reverse", cell: str = "GRU", hidden: int = 64, attention: str = "luong",
                  steps: int = 300, lr: float = 5e-3, batch: int = 64, seed: int = 0) -> dict:
    """The same seq2seq without and with attention, on the same batches, side by side."""
    if attention not in ("bahdanau", "luong"):
        raise ValueError("attention is 'bahdanau' or 'luong'")
    ctx.phase("preparing")
    configs = {"without attention": seq2seq_config(task, cell, hidden, None),
               "with attention": seq2seq_config(task, cell, hidden, attention)}
    models = {n: build_model("attention", c, seed) for n, c in configs.items()}
    val_pairs = seqtasks.seq2seq_pairs(task, 200, seqtasks.TEST_SEED + 1)
    runs = [_seq2seq_run(n, task, m, batch, seed, val_pairs) for n, m in models.items()]
    trainers = _train(ctx, runs, steps, lr, eval_every=50)
    ctx.phase("evaluating")
    pairs = list(seqtasks.held_out_pairs(task))
    parts, metrics = {}, {}
    for k, (name, m) in enumerate(models.items()):
        if _stop_evaluating(ctx):
            break
        ctx.progress(k, len(models), f"Testing the model {name} on {len(pairs):,} inputs…")
        m = m.cpu().eval()
        outputs = decode_pairs(m, task, pairs)
        by_len = accuracy_by_length(task, pairs, outputs)
        key = "attention" if name == "with attention" else "no_attention"
        metrics[f"test_exact_{key}"] = float(np.mean([o == t for o, (_, t) in zip(outputs, pairs)]))
        metrics[f"longest_exact_{key}"] = by_len["exact"][-1]
        parts[name] = {**_model_part(m, configs[name], trainers[name]), "by_length": by_len}
    return _result(trainers, steps, metrics, models=parts, task=task,
                   config={"cell": cell, "hidden": int(hidden), "attention": attention})


# =====================================================================================================
# What the page asks of a trained model (fast: one input)
# =====================================================================================================
@torch.no_grad()
def translate(model, task: str, text: str, forced: list[str] | None = None) -> dict:
    """Decode one input greedily: the output, the probability of each chosen symbol, the attention
    weights (output steps × input steps, or None) and the tensors' shapes. ``forced``: symbols fed first."""
    src_vocab, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    src, src_len = src_vocab.encode([text])
    f = None
    if forced:
        specials = seqtasks.SPECIALS
        f = torch.tensor([[tgt_vocab.ids(s)[0] if s not in specials else specials.index(s) for s in forced]])
    d = model.run(src, src_len, max_len=max(len(text), 10) + 4, forced=f)
    probs = torch.softmax(d.logits[0], -1)
    chosen = d.tokens[0]
    n = int((chosen == seqtasks.EOS).nonzero()[0, 0]) + 1 if (chosen == seqtasks.EOS).any() else len(chosen)
    enc_out, state, _ = model.encode(src, src_len)
    return {"output": tgt_vocab.decode(chosen), "symbols": [tgt_vocab.symbol(int(i)) for i in chosen[:n]],
            "prob": [float(probs[t, chosen[t]]) for t in range(n)],
            "attention": d.attention[0, :n].numpy() if d.attention is not None else None,
            "shapes": {"x": (1, len(text)), "embedded": (1, len(text), model.config.embed),
                       "encoder outputs": tuple(enc_out.shape), "context": (1, model.config.hidden),
                       "logits": (1, n, tgt_vocab.size)}}


def shape_text(name: str, shape) -> str:
    """ "h: 1 × 7 × 32" for a label in the diagrams."""
    return f"{name}: " + " × ".join(str(int(d)) for d in shape)


@torch.no_grad()
def classify_digit(model: DigitNet, image: Tensor) -> dict:
    """One image through the net: the probabilities and the real shapes on the way."""
    x = image.reshape(1, -1)
    h = torch.relu(model.hidden_layer(x))
    y = model.out(h)
    return {"probs": torch.softmax(y, -1)[0].tolist(),
            "shapes": {"x": shape_text("x", x.shape), "h": shape_text("h", h.shape), "y": shape_text("y", y.shape)}}


@torch.no_grad()
def write_word(model: WordWriter, digit: int, temperature: float, seed: int) -> dict:
    """One word written for ``digit``, letter by letter: each step's distribution (at this temperature),
    the letter drawn, and the exact distribution of the next letter after the letters drawn so far."""
    symbols, dists = model.sample(torch.tensor([digit]), temperature, torch.Generator().manual_seed(seed))
    steps, prefix = [], ""
    for k in range(symbols.shape[1]):
        i = int(symbols[0, k])
        if i == seqtasks.PAD:
            break
        sym = seqtasks.WORD_VOCAB.symbol(i)
        probs = {seqtasks.WORD_VOCAB.symbol(j): float(p) for j, p in enumerate(dists[0, k]) if float(p) > 0}
        # the exact distribution is empty once the letters drawn start no real name of the digit
        steps.append({"chosen": sym, "probs": probs, "ideal": seqtasks.ideal_next_letter(digit, prefix)})
        if i == seqtasks.EOS:
            break
        prefix += sym
    word = "".join(s["chosen"] for s in steps if s["chosen"] != seqtasks.SPECIALS[seqtasks.EOS])
    L = len(steps)
    h0 = model.initial_state(torch.tensor([digit]))
    h0 = h0[0] if isinstance(h0, tuple) else h0
    finished = bool(steps) and steps[-1]["chosen"] == seqtasks.SPECIALS[seqtasks.EOS]
    return {"word": word, "finished": finished, "steps": steps,
            "real": word in seqtasks.word_distribution(digit),
            "shapes": {"x": shape_text("x (letter fed back)", (1, L, model.embed.embedding_dim)),
                       "h": shape_text("h", (1, L, model.rnn.hidden_size)) + "  ·  " + shape_text("h₀", h0.shape),
                       "y": shape_text("y", (1, L, seqtasks.WORD_VOCAB.size))}}


@torch.no_grad()
def read_bits(model: ParityNet, bits: list[int]) -> dict:
    """The network's P(odd) after every bit of one string (the answer is the last one)."""
    x = torch.tensor([bits])
    out, _ = model.rnn(F.one_hot(x, 2).float())
    logits = model.out(out)
    p = torch.softmax(logits, -1)[0, :, 1]
    return {"p_odd": p.tolist(), "answer": int(p[-1] > 0.5), "truth": int(sum(bits) % 2),
            "shapes": {"x": shape_text("x", (1, len(bits), 2)), "h": shape_text("h", out.shape),
                       "y": shape_text("y", logits[:, -1].shape)}}


@torch.no_grad()
def tag_text(models: dict[str, Tagger], text: str) -> dict:
    """P(question) for every character of ``text`` from each tagger, and the true tags."""
    ids, _ = seqtasks.QA_VOCAB.encode([text])
    tags, dist = seqtasks.qa_tags(text)
    out, shapes = {}, {}
    for name, m in models.items():
        h, _ = m.rnn(m.embed(ids))
        y = m.out(h)
        out[name] = torch.softmax(y, -1)[0, :, 1].tolist()
        shapes[name] = {"x": shape_text("x", ids.shape), "h": shape_text("h", h.shape), "y": shape_text("y", y.shape)}
    return {"probs": out, "truth": tags, "distance": dist, "shapes": shapes}


def seq2seq_shapes(info: dict) -> dict:
    s = info["shapes"]
    return {"x": shape_text("x", s["x"]), "enc": shape_text("encoder outputs", s["encoder outputs"]),
            "dec": shape_text("c", s["context"]), "y": shape_text("y", s["logits"])}


@torch.no_grad()
def forcing_demo(model, task: str, text: str, target: str, position: int, symbol: str) -> dict:
    """The same decoder on one input, three ways: fed the true previous symbols (teacher forcing), fed its
    own (free running), and fed the true symbols up to ``position`` with ``symbol`` written there instead,
    then its own (what one early mistake does to the rest)."""
    src_vocab, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    src, src_len = src_vocab.encode([text])
    dec_in, _ = tgt_vocab.encode([target], bos=True)
    teacher = model.run(src, src_len, dec_in=dec_in).logits.argmax(-1)[0]
    free = translate(model, task, text)["output"]
    forced = list(target[:position]) + [symbol]
    mistaken = translate(model, task, text, forced=forced)["output"]
    return {"teacher": tgt_vocab.decode(teacher), "free": free, "mistake": mistaken, "forced": "".join(forced)}
