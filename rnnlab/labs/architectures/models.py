"""The six sections' small models (each an ``nn.Module`` over ``rnnlab.data.seqtasks``' tensors), and how
a page rebuilds a trained one from a job's result."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data import seqtasks
from ...nn.charlm import GREEDY_BELOW
from ...nn.init import seeded
from ...nn.layers import make_recurrent
from ...nn.seq2seq import Seq2SeqConfig
from ...nn.seq2seq import build as build_seq2seq


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
            if not temperature > GREEDY_BELOW:        # 0, NaN, or so small that logits / T overflow
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


def total_params(models) -> int:
    """The weights of several models together (a section that trains two, e.g. with and without attention)."""
    return sum(n_params(m) for m in models)
