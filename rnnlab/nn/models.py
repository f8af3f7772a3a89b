"""Models built from the traced layers: a many-to-one text classifier (sentiment) and its trace.

``SentimentClassifier``: token ids -> embedding -> stacked RNN/LSTM/GRU (each layer its own size,
optionally bidirectional, dropout between) -> dense head -> one logit (positive vs negative).
It trains on the fused kernels and can be read step by step with ``trace``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from ..data.tokenizer import Vocabulary
from .layers import Trace, make_recurrent


@dataclass
class ClassifierConfig:
    vocab_size: int
    embed_dim: int = 64
    hidden_sizes: tuple[int, ...] = (64,)
    cell: str = "LSTM"
    bidirectional: bool = False
    dropout: float = 0.0            # between recurrent layers
    embed_dropout: float = 0.0
    head_hidden: int = 0            # 0: a single linear layer on the final state
    head_dropout: float = 0.0
    pooling: str = "last"           # "last": final states; "maxmean": max and mean of the top layer over time
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ClassifierConfig:
        d = dict(d)
        d["hidden_sizes"] = tuple(d["hidden_sizes"])
        return cls(**d)


class SentimentClassifier(nn.Module):
    """Many-to-one: read the whole text, answer from the final hidden state(s)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        self.rnns = nn.ModuleList()
        size_in = c.embed_dim
        D = 2 if c.bidirectional else 1
        for h in c.hidden_sizes:
            self.rnns.append(make_recurrent(c.cell, size_in, h, batch_first=True, bidirectional=c.bidirectional))
            size_in = h * D
        if c.pooling == "maxmean":
            size_in *= 2
        elif c.pooling != "last":
            raise ValueError(f"unknown pooling {c.pooling!r}")
        self.drop_between = nn.Dropout(c.dropout)
        self.drop_embed = nn.Dropout(c.embed_dropout)
        if c.head_hidden:
            self.head = nn.Sequential(nn.Linear(size_in, c.head_hidden), nn.ReLU(), nn.Dropout(c.head_dropout),
                                      nn.Linear(c.head_hidden, 1))
        else:
            self.head = nn.Sequential(nn.Dropout(c.head_dropout), nn.Linear(size_in, 1))

    @property
    def cell(self) -> str:
        return self.rnns[0].mode

    @staticmethod
    def _final(state) -> Tensor:
        h_n = state[0] if isinstance(state, tuple) else state      # (D, B, H)
        return torch.cat(list(h_n), dim=-1)                         # forward final ‖ backward final

    @staticmethod
    def _pool(out: Tensor, lengths: Tensor | None) -> Tensor:
        """Max and mean of the top layer's outputs over the valid steps: (B, 2 * features)."""
        if lengths is None:
            return torch.cat([out.amax(dim=1), out.mean(dim=1)], dim=-1)
        valid = (torch.arange(out.shape[1], device=out.device)[None, :] < lengths.to(out.device)[:, None])[..., None]
        mx = out.masked_fill(~valid, float("-inf")).amax(dim=1)
        mean = (out * valid).sum(dim=1) / lengths.to(out.device, out.dtype)[:, None]
        return torch.cat([mx, mean], dim=-1)

    def features(self, ids: Tensor, lengths: Tensor | None = None) -> Tensor:
        """What the head reads: final states, or max/mean pooled outputs.

        The fused kernel runs on the padded batch whenever padding cannot change a valid step: every row
        has the same length, or the model reads forwards only (padding sits after the last word, and a
        forward pass never looks ahead; each row's answer is read at its own last word). Only a
        bidirectional model on rows of different lengths is packed, so that its backward half starts at
        each row's last word instead of reading the padding first. Packing costs 2-3x on a CPU, which is
        why bidirectional recipes train on equal-length batches (``batches(..., equal_length=True)``)."""
        x = self.drop_embed(self.embedding(ids))
        state = None
        ragged = lengths is not None and bool((lengths != lengths[0]).any())
        for k, rnn in enumerate(self.rnns):
            if k:
                x = self.drop_between(x)
            x, state = rnn(x, lengths=lengths) if ragged and rnn.bidirectional else rnn(x)
        if self.config.pooling == "maxmean":
            return self._pool(x, lengths if ragged else None)
        if ragged and not self.config.bidirectional:
            return x[torch.arange(x.shape[0], device=x.device), (lengths - 1).to(x.device)]
        return self._final(state)

    def forward(self, ids: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``ids`` (B, T) padded at the end; ``lengths`` (B,). Returns logits (B,)."""
        return self.head(self.features(ids, lengths)).squeeze(-1)

    @torch.no_grad()
    def trace(self, ids: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, list[Trace]]:
        """Step-by-step pass (eval mode): logits and one :class:`Trace` per recurrent layer."""
        was = self.training
        self.eval()
        x = self.embedding(ids)
        traces, state = [], None
        for rnn in self.rnns:
            x, state, tr = rnn.trace(x, lengths=lengths)
            traces.append(tr)
        final = self._pool(x, lengths) if self.config.pooling == "maxmean" else self._final(state)
        logits = self.head(final).squeeze(-1)
        self.train(was)
        return logits, traces

    @torch.no_grad()
    def prefix_probabilities(self, ids: Tensor, positions=None, chunk: int = 16) -> Tensor:
        """P(positive) after each token of one text ``ids`` (1, T), or only after the tokens at ``positions``
        (0-based, any order); returns one probability per position, in the order given.

        A unidirectional model's state after token t is what it would end with on the text cut there:
        one pass gives every prefix. A bidirectional model's backward half starts from the prefix's last
        token, so each prefix must be re-read: only the first layer's forward half is shared. Prefixes are
        read ``chunk`` at a time (shortest first, padded only to the chunk's longest), so memory stays
        bounded; time grows with the total length of the prefixes asked for: ask for a bounded set of
        positions on long texts.
        """
        was = self.training
        self.eval()
        T = ids.shape[1]
        pos = torch.arange(T) if positions is None else torch.as_tensor(positions, dtype=torch.long).reshape(-1).cpu()
        if len(pos) and (int(pos.min()) < 0 or int(pos.max()) >= T):
            raise ValueError(f"prefix positions must lie in 0..{T - 1}")
        if not self.config.bidirectional:
            x = self.embedding(ids)
            for rnn in self.rnns:
                x, _ = rnn(x)
            out = x[0]                                                     # (T, F)
            if self.config.pooling == "maxmean":
                # pooling over each prefix: running max and running mean
                steps = torch.arange(1, T + 1, device=out.device, dtype=out.dtype)[:, None]
                feats = torch.cat([out.cummax(dim=0).values, out.cumsum(dim=0) / steps], dim=-1)
            else:
                feats = out  # top layer output at t is the final state of the prefix ending at t
            probs = torch.sigmoid(self.head(feats[pos.to(out.device)]).squeeze(-1))
        else:
            probs = torch.empty(len(pos), device=ids.device)
            emb = self.embedding(ids)                                       # (1, T, E)
            first = self.rnns[0]
            forward0, _ = _one_direction(first, reverse=False)(emb)        # (1, T, H): the same for every prefix
            backward0 = _one_direction(first, reverse=True)
            order = torch.argsort(pos)
            for s in range(0, len(order), chunk):
                idx = order[s:s + chunk]
                lengths = pos[idx] + 1
                n, longest = len(idx), int(lengths.max())
                x = emb[:, :longest].expand(n, longest, -1)
                # the backward half reads each prefix from its last token: reverse the valid steps of each row
                steps = torch.arange(longest)[None, :]
                rev = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps).to(x.device)
                def flip(t, rev=rev):
                    return t.gather(1, rev[..., None].expand(-1, -1, t.shape[-1]))
                back, _ = backward0(flip(x), lengths=lengths)
                x = torch.cat([forward0[:, :longest].expand(n, -1, -1), flip(back)], dim=-1)
                for rnn in self.rnns[1:]:
                    x, _ = rnn(x, lengths=lengths)
                if self.config.pooling == "maxmean":
                    feats = self._pool(x, lengths)
                else:  # final states: forward half at the prefix's last token, backward half at its first
                    H = x.shape[-1] // 2
                    last = x[torch.arange(n), (lengths - 1).to(x.device), :H]
                    feats = torch.cat([last, x[:, 0, H:]], dim=-1)
                probs[idx.to(probs.device)] = torch.sigmoid(self.head(feats).squeeze(-1))
        self.train(was)
        return probs


def _one_direction(rnn: nn.Module, reverse: bool) -> nn.Module:
    """A one-layer, one-direction copy of ``rnn``'s first layer (its reverse half if ``reverse``), built on
    the meta device so that nothing is drawn from torch's global random generator."""
    with torch.device("meta"):
        one = make_recurrent(rnn.mode, rnn.input_size, rnn.hidden_size, batch_first=True, bias=rnn.bias)
    p = rnn.weight_ih_l0
    one = one.to_empty(device=p.device).to(p.dtype)
    sfx = "_reverse" if reverse else ""
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if rnn.bias else [])
    one.load_state_dict({f"{n}_l0": getattr(rnn, f"{n}_l0{sfx}") for n in names})
    return one.eval()


@dataclass
class TextModel:
    """A classifier with the vocabulary and settings it was trained with: what the app passes around."""

    name: str
    model: SentimentClassifier
    vocab: Vocabulary
    maxlen: int | None = None
    meta: dict = field(default_factory=dict)


def save_text_model(bundle: TextModel, folder) -> None:
    """Weights (a weights-only torch file), config and vocabulary, side by side in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in bundle.model.state_dict().items()}
    torch.save(state, folder / "model.pt")
    bundle.vocab.save(folder / "vocab.json")
    info = {"name": bundle.name, "config": bundle.model.config.to_dict(), "maxlen": bundle.maxlen, "meta": bundle.meta}
    (folder / "config.json").write_text(json.dumps(info, indent=2))


def load_text_model(folder, device: torch.device | str = "cpu") -> TextModel:
    """Load what ``save_text_model`` wrote (weights_only: a model file cannot run code)."""
    folder = Path(folder)
    info = json.loads((folder / "config.json").read_text())
    model = SentimentClassifier(ClassifierConfig.from_dict(info["config"]))
    model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
    return TextModel(info["name"], model.to(device).eval(), Vocabulary.load(folder / "vocab.json"),
                     info.get("maxlen"), info.get("meta", {}))


def text_model_zip(bundle: TextModel) -> bytes:
    """The saved model folder as a zip archive in memory (for a download button)."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        save_text_model(bundle, tmp)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(Path(tmp).iterdir()):
                z.write(f, f.name)
        return buf.getvalue()
