"""One time step of a vanilla RNN, an LSTM and a GRU, written out so every gate is visible.

The step functions follow the equations taught in class, with weights laid out exactly as in
``torch.nn`` (gate order i, f, g, o for the LSTM and r, z, n for the GRU)::

    RNN   a_t = W_ih x_t + b_ih + W_hh h_(t-1) + b_hh          h_t = tanh(a_t)   (or relu)

    LSTM  i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)     input gate
          f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)     forget gate
          g_t = tanh   (W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)     candidate
          o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)     output gate
          c_t = f_t * c_(t-1) + i_t * g_t                          cell state
          h_t = o_t * tanh(c_t)

    GRU   r_t = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)     reset gate
          z_t = sigmoid(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)     update gate
          n_t = tanh   (W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn))   candidate
          h_t = (1 - z_t) * n_t + z_t * h_(t-1)

Each step function takes the input projection ``xw = W_ih x_t + b_ih`` already computed (a layer
computes it for all time steps in one matrix product, which is what makes the traced loop fast)
and returns the new state plus a dict of named parts: pre-activations (``pre_*``) and gates.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

#: The gates each cell exposes, in torch.nn's weight order.
GATES = {
    "RNN_TANH": (),
    "RNN_RELU": (),
    "LSTM": ("i", "f", "g", "o"),
    "GRU": ("r", "z", "n"),
}

#: What each gate does, in a sentence a student can read next to a plot.
GATE_DESCRIPTIONS = {
    "i": "input gate: how much of the candidate enters the cell state",
    "f": "forget gate: how much of the old cell state is kept",
    "g": "candidate: the new content proposed for the cell state",
    "o": "output gate: how much of tanh(c), the squashed cell state, is shown as h",
    "r": "reset gate: how much of the old h's term (U_n h + b_hn) enters the candidate",
    "z": "update gate: how much of the old h is kept unchanged",
    "n": "candidate: the new hidden content proposed",
}


def rnn_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool = False):
    """Vanilla RNN step. ``xw``: (B, H) input projection; ``h``: (B, H). Returns h_t, parts."""
    a = torch.addmm(xw, h, w_hh.t()) if b_hh is None else torch.addmm(xw + b_hh, h, w_hh.t())
    h_new = torch.relu(a) if relu else torch.tanh(a)
    return h_new, {"pre": a}


def lstm_step(xw: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None):
    """LSTM step. ``xw``: (B, 4H). Returns h_t, c_t and the parts i, f, g, o and their pre-activations."""
    pre = torch.addmm(xw, h, w_hh.t()) if b_hh is None else torch.addmm(xw + b_hh, h, w_hh.t())
    H = h.shape[1]
    # One sigmoid over all four blocks (g's share is unused) is cheaper than three small calls.
    i, f, _, o = pre.sigmoid().chunk(4, dim=1)
    g = pre[:, 2 * H:3 * H].tanh()
    c_new = torch.addcmul(f * c, i, g)
    h_new = o * c_new.tanh()
    return h_new, c_new, {"pre": pre, "i": i, "f": f, "g": g, "o": o}


def gru_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None):
    """GRU step. ``xw``: (B, 3H). Returns h_t and the parts r, z, n, their pre-activations and W_hn h + b_hn."""
    hw = h @ w_hh.t() if b_hh is None else torch.addmm(b_hh, h, w_hh.t())
    x_r, x_z, x_n = xw.chunk(3, dim=1)
    h_r, h_z, h_n = hw.chunk(3, dim=1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    pre_n = torch.addcmul(x_n, r, h_n)
    n = pre_n.tanh()
    h_new = torch.lerp(n, h, z)  # (1 - z) * n + z * h
    return h_new, {"pre": torch.cat([x_r + h_r, x_z + h_z, pre_n], dim=1), "hn": h_n, "r": r, "z": z, "n": n}


def _project(x: Tensor, w_ih: Tensor, b_ih: Tensor | None) -> Tensor:
    return x @ w_ih.t() if b_ih is None else torch.addmm(b_ih, x, w_ih.t())


class RNNCell(nn.RNNCell):
    """``torch.nn.RNNCell`` computed step by step; ``step`` also returns the pre-activation."""

    def step(self, x: Tensor, h: Tensor | None = None):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return rnn_step(_project(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                        relu=self.nonlinearity == "relu")

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        return self.step(x, hx)[0]


class LSTMCell(nn.LSTMCell):
    """``torch.nn.LSTMCell`` computed step by step; ``step`` also returns every gate."""

    def step(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None):
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h, c, parts = lstm_step(_project(x, self.weight_ih, self.bias_ih), state[0], state[1],
                                self.weight_hh, self.bias_hh)
        return (h, c), parts

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        return self.step(x, hx)[0]


class GRUCell(nn.GRUCell):
    """``torch.nn.GRUCell`` computed step by step; ``step`` also returns every gate."""

    def step(self, x: Tensor, h: Tensor | None = None):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return gru_step(_project(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        return self.step(x, hx)[0]
