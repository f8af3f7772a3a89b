"""Stacked recurrent layers that run on torch's fused kernels, or step by step with a full trace.

``RNN``, ``LSTM`` and ``GRU`` here *are* ``torch.nn.RNN/LSTM/GRU`` (they subclass them), so they own
the same parameters under the same names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...) and load any
torch state_dict as it is. What they add:

* ``forward(x, hx, lengths=..., mask=...)`` takes variable-length batches directly (it packs for you);
* ``trace(x, ...)`` runs the same maths one time step at a time in Python (see ``rnnlab.nn.cells``) and
  returns a :class:`Trace` with every pre-activation, gate, hidden state and cell state;
* ``stepwise = True`` makes ``forward`` use that step-by-step loop too (used to check the loop
  against the fused kernel, and where a lesson needs gradients of intermediate steps).

A model is trained fast on the fused kernel (cuDNN on a GPU) and then inspected step by step,
with no conversion: both paths read the same tensors.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .cells import GATES
from .recurrence import input_projection, recurrence

DIRECTIONS = ("forward", "backward")


@dataclass
class DirectionTrace:
    """What one layer computed in one direction. Every tensor is (batch, time, hidden) in *token order*
    (also for the backward direction, so index t always belongs to token t), whatever ``batch_first`` is.

    ``h`` is the layer's output (zero at padded positions past a sequence's length) and carries
    gradients; with autograd on, ``pre``, ``gates`` and ``c`` are detached values for inspection.
    ``c`` at padded positions repeats the last valid cell state; ``Trace.lengths`` tells where each ends.
    """

    layer: int
    direction: str
    x: Tensor                       # (B, T, input size of this layer)
    pre: dict[str, Tensor]          # pre-activations: RNN {"h"}; LSTM {i,f,g,o}; GRU {r,z,n}
    gates: dict[str, Tensor]        # after the nonlinearity: LSTM {i,f,g,o}; GRU {r,z,n,hn}; RNN {}
    h: Tensor                       # hidden state after each step
    c: Tensor | None = None         # LSTM cell state after each step
    h0: Tensor | None = None        # (B, H) state before the first step of this direction
    c0: Tensor | None = None


@dataclass
class Trace:
    """Everything a traced forward pass computed, indexed by ``trace[layer, "forward"|"backward"]``."""

    mode: str
    num_layers: int
    bidirectional: bool
    hidden_size: int
    lengths: Tensor                 # (B,) valid steps per sequence
    parts: dict[tuple[int, str], DirectionTrace] = field(default_factory=dict)

    def __getitem__(self, key) -> DirectionTrace:
        if isinstance(key, int):
            key = (key, "forward")
        layer, direction = key
        if isinstance(direction, int):
            direction = DIRECTIONS[direction]
        return self.parts[(layer % self.num_layers, direction)]

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATES[self.mode]

    def last(self) -> DirectionTrace:
        """The top layer's forward direction: what a classifier head usually reads."""
        return self[self.num_layers - 1, "forward"]


def lengths_from_mask(mask: Tensor) -> Tensor:
    """(B, T) boolean mask of valid steps -> (B,) lengths. Valid steps must come first in each row."""
    mask = mask.bool()
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if not torch.equal(mask, steps[None, :] < lengths[:, None]):
        raise ValueError("mask must mark a prefix of each sequence (padding only at the end)")
    return lengths


class _Traced:
    """Mixin for torch.nn.RNNBase subclasses: variable-length forward, step-by-step loop, trace."""

    stepwise: bool = False

    # --- helpers ---------------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def is_lstm(self) -> bool:
        return self.mode == "LSTM"

    def _weights(self, layer: int, direction: int):
        sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _prepare(self, x: Tensor, hx, lengths, mask):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1 if not self.batch_first else 0)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(1)
        if self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        if mask is not None:  # always (B, T), whatever batch_first is
            lengths = lengths_from_mask(mask)
        if lengths is not None:
            lengths = torch.as_tensor(lengths, dtype=torch.long).reshape(-1).cpu()
            if lengths.shape[0] != B:
                raise ValueError(f"lengths has {lengths.shape[0]} entries for a batch of {B}")
            if int(lengths.min()) < 1 or int(lengths.max()) > T:
                raise ValueError(f"lengths must lie in 1..{T}")
        return x, hx, lengths, unbatched

    def _finish(self, out: Tensor, state, unbatched: bool):
        if self.batch_first:
            out = out.transpose(0, 1)
        if unbatched:
            out = out.squeeze(1 if not self.batch_first else 0)
            state = tuple(s.squeeze(1) for s in state) if isinstance(state, tuple) else state.squeeze(1)
        return out, state

    # --- public API ------------------------------------------------------------------------
    def forward(self, input: Tensor, hx=None, lengths=None, mask=None):
        """Like torch.nn.*.forward; also takes ``lengths`` (B,) or a (B, T) ``mask`` of valid steps."""
        if isinstance(input, nn.utils.rnn.PackedSequence):
            return super().forward(input, hx)
        if self.stepwise:
            out, state, _ = self._loop(input, hx, lengths, mask, keep=False)
            return out, state
        if lengths is None and mask is None:
            return super().forward(input, hx)
        x, hx, lengths, unbatched = self._prepare(input, hx, lengths, mask)
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, state = super().forward(packed, hx)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        return self._finish(out, state, unbatched)

    def stepwise_forward(self, input: Tensor, hx=None):
        """``forward`` by the step-by-step loop, keeping no trace: the same numbers. On a CPU one time step
        of a large layer is several times faster this way than through the fused kernel (an LSTM-800 layer
        pair: about 1.7 ms against 7 ms), which is what writing text one character at a time does."""
        out, state, _ = self._loop(input, hx, None, None, keep=False)
        return out, state

    def trace(self, input: Tensor, hx=None, lengths=None, mask=None):
        """Run step by step and return ``(output, state, Trace)``; outputs equal ``forward``'s."""
        return self._loop(input, hx, lengths, mask, keep=True)

    # --- the loop --------------------------------------------------------------------------
    def _loop(self, input: Tensor, hx, lengths, mask, keep: bool):
        x, hx, lengths, unbatched = self._prepare(input, hx, lengths, mask)
        T, B = x.shape[0], x.shape[1]
        H, D = self.hidden_size, self.num_directions
        out_H = self.proj_size if getattr(self, "proj_size", 0) else H
        if out_H != H:
            raise NotImplementedError("proj_size is not supported by the step-by-step loop")
        if hx is None:
            zeros = x.new_zeros(self.num_layers * D, B, H)
            hx = (zeros, zeros) if self.is_lstm else zeros
        h0_all, c0_all = (hx if self.is_lstm else (hx, None))
        step_mask = None
        if lengths is not None and int(lengths.min()) < T:
            step_mask = (torch.arange(T)[:, None] < lengths[None, :]).to(x.device).unsqueeze(-1)  # (T,B,1)
        trace = Trace(self.mode, self.num_layers, self.bidirectional, H,
                      lengths if lengths is not None else torch.full((B,), T, dtype=torch.long))
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                out, hT, cT, part = self._run_direction(
                    layer_in, h0_all[k], None if c0_all is None else c0_all[k],
                    self._weights(layer, d), step_mask, reverse=d == 1, keep=keep)
                outs.append(out)
                h_n.append(hT)
                c_n.append(cT)
                if keep:
                    part.layer, part.direction = layer, DIRECTIONS[d]
                    part.x = layer_in.transpose(0, 1)
                    part.h0 = h0_all[k]
                    part.c0 = None if c0_all is None else c0_all[k]
                    trace.parts[(layer, DIRECTIONS[d])] = part
            layer_in = outs[0] if D == 1 else torch.cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        state = torch.stack(h_n)
        if self.is_lstm:
            state = (state, torch.stack(c_n))
        out, state = self._finish(layer_in, state, unbatched)
        return out, state, (trace if keep else None)

    def _run_direction(self, x, h, c, weights, step_mask, reverse: bool, keep: bool):
        w_ih, w_hh, b_ih, b_hh = weights
        gru = self.mode == "GRU"
        xw = input_projection(self.mode, x, w_ih, b_ih, b_hh)
        if reverse:  # the backward direction is the forward loop over the flipped sequence
            xw = xw.flip(0)
            step_mask = None if step_mask is None else step_mask.flip(0)
        out, hT, cT, pre, hs, cs, hn = recurrence(self.mode, xw, h, c, w_hh, b_hh if gru else None, step_mask,
                                                  record=keep)
        part = None
        if keep:
            if reverse:
                out_tok, pre, cs, hn = out.flip(0), pre.flip(0), _flip(cs), _flip(hn)
            else:
                out_tok = out
            part = self._make_part(out_tok, pre, cs, hn)
        return (out.flip(0) if reverse else out), hT, cT, part

    def _make_part(self, out, pre_all, cs, hn) -> DirectionTrace:
        bt = lambda t: None if t is None else t.transpose(0, 1)  # noqa: E731  (T,B,.) -> (B,T,.)
        pre_all = bt(pre_all)
        names = GATES[self.mode]
        pre = dict(zip(names, pre_all.chunk(len(names), dim=2))) if names else {"h": pre_all}
        # Gates are recomputed from the stored pre-activations in one vectorised call per gate:
        # exactly the values the loop used, without keeping dozens of small tensors per step.
        gates: dict[str, Tensor] = {g: pre[g].tanh() if g in ("g", "n") else pre[g].sigmoid() for g in names}
        if self.mode == "GRU":
            gates["hn"] = bt(hn)
        return DirectionTrace(layer=-1, direction="", x=None, pre=pre, gates=gates, h=bt(out), c=bt(cs))


def _flip(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.flip(0)


class RNN(_Traced, nn.RNN):
    """Elman RNN (tanh or relu), traceable. Same constructor as ``torch.nn.RNN``."""


class LSTM(_Traced, nn.LSTM):
    """LSTM, traceable. Same constructor as ``torch.nn.LSTM`` (``proj_size`` only on the fused path)."""


class GRU(_Traced, nn.GRU):
    """GRU, traceable. Same constructor as ``torch.nn.GRU``."""


CELL_TYPES = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def make_recurrent(cell: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    """Build a traced layer by name: ``"RNN"`` / ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"``, ``"GRU"``."""
    cell = cell.upper()
    if cell in ("RNN", "RNN_TANH", "RNN_RELU"):
        kwargs.setdefault("nonlinearity", "relu" if cell == "RNN_RELU" else "tanh")
        return RNN(input_size, hidden_size, **kwargs)
    if cell not in CELL_TYPES:
        raise ValueError(f"unknown cell {cell!r}; choose RNN, RNN_RELU, LSTM or GRU")
    return CELL_TYPES[cell](input_size, hidden_size, **kwargs)


def _config(module: nn.RNNBase) -> dict:
    kwargs = dict(num_layers=module.num_layers, bias=module.bias, batch_first=module.batch_first,
                  dropout=module.dropout, bidirectional=module.bidirectional)
    if module.mode.startswith("RNN"):
        kwargs["nonlinearity"] = module.nonlinearity
    if getattr(module, "proj_size", 0):
        kwargs["proj_size"] = module.proj_size
    return kwargs


def _convert(module: nn.RNNBase, cls: type) -> nn.Module:
    p = next(module.parameters())
    copy = cls(module.input_size, module.hidden_size, **_config(module)).to(device=p.device, dtype=p.dtype)
    copy.load_state_dict(module.state_dict())
    return copy


def from_torch(module: nn.RNNBase) -> nn.Module:
    """A traced copy of a ``torch.nn.RNN/LSTM/GRU`` with the same configuration and weights."""
    return _convert(module, {"RNN_TANH": RNN, "RNN_RELU": RNN, "LSTM": LSTM, "GRU": GRU}[module.mode])


def to_torch(module: nn.RNNBase) -> nn.RNNBase:
    """A plain ``torch.nn`` module with the same configuration and weights (for export)."""
    return _convert(module, {"RNN_TANH": nn.RNN, "RNN_RELU": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[module.mode])
