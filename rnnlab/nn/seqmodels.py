"""Four sequence models for the comparison page (RNN vs CNN vs MLP vs Transformer), built to about the same
number of weights so that what differs is *how* they read a sequence, not how big they are.

Each reads token ids ``x`` (B, T) and returns logits (B, T, n_out): at every position t a prediction that
may use token t and the tokens before it, never a later one (causal). What differs is how far back
position t can see, its **view** (:func:`view`, in tokens, the current one included):

* :class:`RecurrentNet` — the Text generation page's :class:`~rnnlab.nn.charlm.CharLM` (embedding →
  RNN/LSTM/GRU → linear layer) with its own number of outputs. A running state summarises everything
  read so far: no limit on its view (``None``), but what reaches the output from far back is only what
  the state kept, and the gradient that teaches it to keep it must flow back through every step.
* :class:`CausalConvNet` — 1-D convolutions stacked with dilations 1, 2, 4, … (WaveNet, van den Oord et
  al. 2016; the "temporal convolutional network" of Bai, Kolter & Koltun 2018), padded on the left only,
  so no output sees the future. Receptive field ``1 + (kernel - 1)(1 + 2 + … + 2^(layers-1))``.
* :class:`WindowMLP` — a feed-forward network on a fixed window: at each position the embeddings of the
  last ``window`` tokens are concatenated into one vector (zeros before the start) and go through an MLP.
  Its view is the window; it shares no weights across the positions of the window.
* :class:`CausalTransformer` — token embedding plus a sinusoidal position encoding (Vaswani et al. 2017),
  then pre-LayerNorm blocks of masked multi-head self-attention and an MLP. It reads at most ``context``
  tokens: on a longer input each position is predicted from its last ``context`` tokens: view ``context``.

The sizes are matched with :func:`matched_width`: the width (hidden units, channels or model dimension)
whose parameter count is closest to a target. Build a model with :func:`build` (seeded, see
:func:`rnnlab.nn.init.seeded`): the same seed gives the same weights in any thread or process.
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .charlm import CharLM, CharLMConfig
from .init import seeded

KINDS = ("RNN", "CNN", "MLP", "Transformer")
#: the course's name for each kind
LONG_NAMES = {"RNN": "recurrent net", "CNN": "causal dilated CNN", "MLP": "MLP on a fixed window",
              "Transformer": "causal Transformer"}
MAX_POSITIONS = 4096   # the longest context a Transformer may have


# --- the recurrent net ------------------------------------------------------------------------------------
class RecurrentNet(CharLM):
    """The character model of the Text generation page with ``n_out`` outputs: ``forward(x, state)`` ->
    (logits (B, T, n_out), final state). Reading one token at a time from the state of the last one costs
    the same whatever came before."""

    def __init__(self, vocab_size: int, hidden_size: int = 64, cell: str = "LSTM", num_layers: int = 1,
                 embed_size: int = 16, n_out: int | None = None, dropout: float = 0.0):
        super().__init__(CharLMConfig(vocab_size, cell.upper(), hidden_size, num_layers, embed_size, dropout))
        self.n_out = n_out or vocab_size
        if self.n_out != vocab_size:
            self.head = nn.Linear(hidden_size, self.n_out)

    view = None   # unbounded: the state carries whatever it kept


# --- the causal dilated CNN -------------------------------------------------------------------------------
class CausalConv(nn.Conv1d):
    """A 1-D convolution padded on the left by ``(kernel - 1) × dilation``: output t reads inputs t,
    t - d, …, t - (k-1)d only. Input and output (B, C, T)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int):
        super().__init__(c_in, c_out, kernel_size, dilation=dilation)
        self.left = (kernel_size - 1) * dilation

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, (self.left, 0)))


class CausalConvNet(nn.Module):
    """Embedding → ``n_layers`` causal convolutions (dilation 2^l at layer l, ReLU, a residual connection
    from the second layer on) → linear layer. ``view`` is its receptive field."""

    def __init__(self, vocab_size: int, channels: int = 64, n_layers: int = 4, kernel_size: int = 2,
                 embed_size: int = 16, n_out: int | None = None, dropout: float = 0.0):
        super().__init__()
        if kernel_size < 2 or n_layers < 1:
            raise ValueError("a causal CNN needs a kernel of at least 2 and at least one layer")
        self.n_out = n_out or vocab_size
        self.kernel_size, self.n_layers = kernel_size, n_layers
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.convs = nn.ModuleList(CausalConv(embed_size if k == 0 else channels, channels, kernel_size, 2 ** k)
                                   for k in range(n_layers))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(channels, self.n_out)

    @property
    def view(self) -> int:
        return receptive_field(self.kernel_size, self.n_layers)

    def forward(self, x: Tensor) -> Tensor:
        h = self.embedding(x).transpose(1, 2)            # (B, E, T): channels first for Conv1d
        for k, conv in enumerate(self.convs):
            out = self.drop(torch.relu(conv(h)))
            h = out if k == 0 else h + out
        return self.head(h.transpose(1, 2))


def receptive_field(kernel_size: int, n_layers: int) -> int:
    """Inputs one output of a stack of causal convolutions with dilations 1, 2, …, 2^(n-1) can see."""
    return 1 + (kernel_size - 1) * (2 ** n_layers - 1)


# --- the MLP on a window ----------------------------------------------------------------------------------
class WindowMLP(nn.Module):
    """At each position: the embeddings of the last ``window`` tokens, side by side in one vector of
    ``window × embed_size`` numbers → ``n_layers`` hidden layers (ReLU) → linear layer."""

    def __init__(self, vocab_size: int, window: int = 8, hidden_size: int = 64, n_layers: int = 2,
                 embed_size: int = 16, n_out: int | None = None, dropout: float = 0.0):
        super().__init__()
        if window < 1 or n_layers < 1:
            raise ValueError("an MLP needs a window of at least 1 token and at least one hidden layer")
        self.n_out = n_out or vocab_size
        self.window = window
        self.embedding = nn.Embedding(vocab_size, embed_size)
        sizes = [window * embed_size] + [hidden_size] * n_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, self.n_out)

    @property
    def view(self) -> int:
        return self.window

    def forward(self, x: Tensor) -> Tensor:
        e = self.embedding(x)                                    # (B, T, E)
        B, T, E = e.shape
        padded = F.pad(e, (0, 0, self.window - 1, 0))             # zeros before the start
        # position t gets tokens t-W+1 … t, oldest first: (B, T, W, E) -> (B, T, W·E)
        h = padded.unfold(1, self.window, 1).transpose(2, 3).reshape(B, T, self.window * E)
        for layer in self.layers:
            h = self.drop(torch.relu(layer(h)))
        return self.head(h)


# --- the causal Transformer -------------------------------------------------------------------------------
class SinusoidalPositions(nn.Module):
    """The fixed position encoding of Vaswani et al. (2017): PE[p, 2i] = sin(p / 10000^(2i/d)),
    PE[p, 2i+1] = cos(…). A computed buffer (no weights), rebuilt by ``init_buffers``."""

    def __init__(self, d_model: int, max_positions: int = MAX_POSITIONS):
        super().__init__()
        self.d_model, self.max_positions = d_model, max_positions
        self.register_buffer("pe", torch.empty(max_positions, d_model), persistent=False)
        if self.pe.device.type != "meta":
            self.init_buffers()

    @torch.no_grad()
    def init_buffers(self) -> None:
        p = torch.arange(self.max_positions, dtype=torch.float32)[:, None]
        i = torch.arange(0, self.d_model, 2, dtype=torch.float32)
        angle = p / torch.pow(10000.0, i / self.d_model)
        pe = torch.zeros(self.max_positions, self.d_model)
        pe[:, 0::2] = torch.sin(angle)
        pe[:, 1::2] = torch.cos(angle[:, : self.d_model // 2])
        self.pe.copy_(pe.to(self.pe.device))

    def forward(self, T: int) -> Tensor:
        if self.max_positions < T:
            raise ValueError(f"{T:,} positions asked, {self.max_positions:,} encoded")
        return self.pe[:T]


class SelfAttention(nn.Module):
    """Masked multi-head self-attention: position t attends to positions 0 … t of its input."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"the model width ({d_model}) must be a multiple of the number of heads ({n_heads})")
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor) -> Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.mlp(self.ln2(x)))


class CausalTransformer(nn.Module):
    """Token embedding + sinusoidal positions → ``n_layers`` pre-LN blocks → LayerNorm → linear layer.

    ``context``: the most tokens (the current one included) it reads at once. On a longer input each
    position is predicted from the last ``context`` tokens only, so nothing more than ``context - 1`` steps
    back reaches it. The position encoding has no weights: the parameter count does not depend on it."""

    def __init__(self, vocab_size: int, d_model: int = 64, n_layers: int = 2, n_heads: int = 4, context: int = 128,
                 dropout: float = 0.0, n_out: int | None = None):
        super().__init__()
        if not 1 <= context <= MAX_POSITIONS:
            raise ValueError(f"the context must be between 1 and {MAX_POSITIONS:,} tokens")
        self.n_out = n_out or vocab_size
        self.context = context
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.positions = SinusoidalPositions(d_model, context)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, dropout) for _ in range(n_layers))
        self.drop = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, self.n_out)

    @property
    def view(self) -> int:
        return self.context

    def forward(self, x: Tensor) -> Tensor:
        T = x.shape[1]
        if self.context >= T:
            return self._read(x)
        # Longer than the context: position t is predicted from the window x[t-C+1 … t] alone, read as if it
        # were the whole input (as a GPT generating past its block size). Stacking sliding-window attention
        # instead would let each layer look C-1 tokens further back.
        C = self.context
        first = self._read(x[:, :C])                                     # positions 0 … C-1: exact already
        windows = x.unfold(1, C, 1)[:, 1:]                                # (B, T-C, C): ends at C … T-1
        B, n, _ = windows.shape
        rest = self._read(windows.reshape(B * n, C))[:, -1].view(B, n, -1)
        return torch.cat([first, rest], dim=1)

    def _read(self, x: Tensor) -> Tensor:
        h = self.drop(self.embedding(x) + self.positions(x.shape[1]))
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))


# --- one interface for the four ---------------------------------------------------------------------------
CLASSES = {"RNN": RecurrentNet, "CNN": CausalConvNet, "MLP": WindowMLP, "Transformer": CausalTransformer}
#: the argument :func:`matched_width` varies for each kind, and the step between two widths tried
WIDTH = {"RNN": ("hidden_size", 1), "CNN": ("channels", 1), "MLP": ("hidden_size", 1), "Transformer": ("d_model", None)}


def view(model: nn.Module) -> int | None:
    """Tokens (the current one included) an output can depend on: None for a recurrent net (no limit)."""
    return model.view


def logits(model: nn.Module, x: Tensor) -> Tensor:
    """(B, T, n_out) logits of any of the four (a recurrent net starts from a zero state)."""
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


def last_logits(model: nn.Module, x: Tensor) -> Tensor:
    """(B, n_out): the prediction after the last token. A model with a bounded view reads only the tokens
    it can see (the same numbers as reading them all, for less work)."""
    v = model.view
    if v is not None and x.shape[1] > v:
        x = x[:, -v:]
    return logits(model, x)[:, -1]


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def make(kind: str, vocab_size: int, n_out: int | None = None, **settings) -> nn.Module:
    """An unseeded model (build it under ``torch.device("meta")`` to count, or use :func:`build`)."""
    if kind not in CLASSES:
        raise ValueError(f"unknown model {kind!r}; choose from {', '.join(KINDS)}")
    return CLASSES[kind](vocab_size, n_out=n_out, **settings)


@lru_cache(maxsize=512)
def _size(kind: str, vocab_size: int, n_out: int | None, settings: tuple) -> int:
    with torch.device("meta"):
        return count_params(make(kind, vocab_size, n_out, **dict(settings)))


def size_of(kind: str, vocab_size: int, n_out: int | None = None, **settings) -> int:
    """The parameter count of a model with these settings, without allocating it."""
    return _size(kind, vocab_size, n_out, tuple(sorted(settings.items())))


def matched_width(kind: str, target: int, vocab_size: int, n_out: int | None = None, max_width: int = 8192,
                  **settings) -> int:
    """The width (RNN/MLP: hidden units, CNN: channels, Transformer: model dimension, a multiple of its
    heads) whose parameter count is closest to ``target``, the other settings fixed."""
    name, step = WIDTH[kind]
    step = step or settings.get("n_heads", 4)
    best, best_gap = step, None
    lo, hi = 1, max_width // step                    # the count grows with the width: bisect, then compare
    while lo < hi:
        mid = (lo + hi) // 2
        if size_of(kind, vocab_size, n_out, **{name: mid * step}, **settings) < target:
            lo = mid + 1
        else:
            hi = mid
    for m in (lo - 1, lo):
        if m >= 1:
            gap = abs(size_of(kind, vocab_size, n_out, **{name: m * step}, **settings) - target)
            if best_gap is None or gap < best_gap:
                best, best_gap = m * step, gap
    return best


def matched_settings(kind: str, target: int, vocab_size: int, n_out: int | None = None, **settings) -> dict:
    """``settings`` with the width filled in by :func:`matched_width`."""
    name, _ = WIDTH[kind]
    return {**settings, name: matched_width(kind, target, vocab_size, n_out, **settings)}


def build(kind: str, vocab_size: int, n_out: int | None = None, seed: int = 0, **settings) -> nn.Module:
    """A model with weights drawn from ``seed`` (never from torch's global generator)."""
    return seeded(lambda: make(kind, vocab_size, n_out, **settings), seed)
