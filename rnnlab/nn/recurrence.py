"""The time loop of one layer in one direction, and its backward pass (BPTT) written out by hand.

``recurrence`` runs the cell of ``rnnlab.nn.cells`` once per step. When gradients are needed it runs
inside a ``torch.autograd.Function`` whose backward is backpropagation through time done by hand,
as in the NumPy RNN: autograd would otherwise record about ten tiny operations per step, and at
batch 1 recording them costs more than the arithmetic. The tests check these gradients against
``torch.nn``'s to 1e-5.

Shapes: ``xw`` (T, B, G*H) is the input projection of every step, already including every bias that
simply adds (both biases for RNN and LSTM, ``b_ih`` for GRU); ``mask`` (T, B, 1) marks valid steps.
Time runs forwards here; a backward direction flips its inputs before and its outputs after.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .cells import gru_step, lstm_step, rnn_step


def input_projection(mode: str, x: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """``xw`` (T, B, G*H) for every step in one matrix product. For RNN and LSTM both biases simply add,
    so both are folded in here; a GRU's b_hh stays in the loop (the reset gate multiplies it)."""
    T, B = x.shape[0], x.shape[1]
    xw = (x.reshape(T * B, -1) @ w_ih.t()).view(T, B, -1)
    if b_ih is None:
        return xw
    return xw + (b_ih if mode == "GRU" else b_ih + b_hh)


def _loop(mode: str, xw: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
          mask: Tensor | None, record: bool = True):
    """Plain forward loop. Returns out, final h, final c, and per step (if ``record``): pre, h, c, hn."""
    outs, pres, hs, cs, hns = [], [], [], [], []
    relu = mode == "RNN_RELU"
    for t, xw_t in enumerate(xw.unbind(0)):
        if mode == "LSTM":
            h_new, c_new, parts = lstm_step(xw_t, h, c, w_hh, None)
        elif mode == "GRU":
            h_new, parts = gru_step(xw_t, h, w_hh, b_hh)
            c_new = None
            if record:
                hns.append(parts["hn"])
        else:
            h_new, parts = rnn_step(xw_t, h, w_hh, None, relu=relu)
            c_new = None
        if mask is not None:
            m = mask[t]
            outs.append(h_new * m)
            h = torch.where(m, h_new, h)
            if c_new is not None:
                c = torch.where(m, c_new, c)
        else:
            outs.append(h_new)
            h, c = h_new, c_new
        if record:
            pres.append(parts["pre"])
            hs.append(h)
            if c is not None:
                cs.append(c)
    stack = lambda xs: torch.stack(xs) if xs else None  # noqa: E731
    return torch.stack(outs), h, c, stack(pres), stack(hs), stack(cs), stack(hns)


class _Recurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, mask, xw, h0, c0, w_hh, b_hh):
        out, hT, cT, pre, hs, cs, hn = _loop(mode, xw, h0, c0, w_hh, b_hh, mask)
        ctx.mode = mode
        ctx.save_for_backward(mask, h0, c0, w_hh, pre, hs, cs, hn)
        extras = [t for t in (pre, hs, cs, hn) if t is not None]
        ctx.mark_non_differentiable(*extras)
        empty = xw.new_empty(0)
        return (out, hT, cT if cT is not None else empty, pre, hs,
                cs if cs is not None else empty, hn if hn is not None else empty)

    @staticmethod
    def backward(ctx, d_out, d_hT, d_cT, *_):
        mask, h0, c0, w_hh, pre, hs, cs, hn = ctx.saved_tensors
        grads = backward_through_time(ctx.mode, pre, hs, cs, hn, h0, c0, w_hh, mask, d_out, d_hT, d_cT,
                                      need_b_hh=ctx.needs_input_grad[6])
        return None, None, grads["xw"], grads["h0"], grads["c0"], grads["w_hh"], grads["b_hh"]


def backward_through_time(mode, pre, hs, cs, hn, h0, c0, w_hh, mask=None, d_out=None, d_hT=None, d_cT=None,
                          need_b_hh: bool = False, record=None) -> dict:
    """BPTT by hand for the loop above, from the per-step values the forward pass kept.

    ``d_out`` (T, B', H), ``d_hT``, ``d_cT`` (B', H): gradients arriving at the outputs and final state.
    B' may differ from the forward batch B when B == 1: each row is then its own gradient vector
    (rows of the identity give the Jacobian dh_T/dh_t). ``record(t, dh, dc)``, if given, is called
    with the gradient w.r.t. the state *before* step t (that is h_(t-1)), for t = T-1 .. 0.
    """
    T, _, H = hs.shape
    h_prev = torch.cat([h0[None], hs[:-1]])                        # state before each step
    dh = d_hT if d_hT is not None else torch.zeros_like(h0)
    rows = dh.shape[0]
    keep = None if mask is None else (~mask).to(hs.dtype)           # 1 where the state is carried over
    m = None if mask is None else mask.to(hs.dtype)
    # Everything that does not depend on the incoming gradient is computed for all steps at once.
    if mode == "LSTM":
        i, f, _, o = pre.sigmoid().chunk(4, dim=2)
        g = pre[..., 2 * H:3 * H].tanh()
        c_prev = torch.cat([c0[None], cs[:-1]])
        c_new = torch.addcmul(f * c_prev, i, g)                     # also at masked steps
        tc = c_new.tanh()
        k = o * (1 - tc * tc)                                       # dh -> dc through h = o tanh(c)
        scale = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)], dim=2)
        dc = d_cT if d_cT is not None else torch.zeros_like(dh)
    elif mode == "GRU":
        r, z, _ = pre.sigmoid().chunk(3, dim=2)
        n = pre[..., 2 * H:].tanh()
        p_n = (1 - z) * (1 - n * n)
        p_z = (h_prev - n) * z * (1 - z)
        p_r = hn * r * (1 - r)
    else:
        h_new = pre.relu() if mode == "RNN_RELU" else pre.tanh()
        slope = (pre > 0).to(pre.dtype) if mode == "RNN_RELU" else 1 - h_new * h_new
    d_pre = [None] * T
    d_hw = [None] * T if mode == "GRU" else d_pre
    for t in range(T - 1, -1, -1):
        d_new = dh if d_out is None else d_out[t] + dh
        if m is not None:
            d_new = m[t] * d_new                                    # gradient reaching h_new
        if mode == "LSTM":
            dc_new = torch.addcmul(dc if m is None else m[t] * dc, d_new, k[t])
            d_pre[t] = torch.cat([dc_new, dc_new, dc_new, d_new], dim=1) * scale[t]
            dc_prev = dc_new * f[t]
            dc = dc_prev if keep is None else torch.addcmul(dc_prev, keep[t], dc)
            dh_prev = d_pre[t] @ w_hh
        elif mode == "GRU":
            dp_n = d_new * p_n[t]
            dp_r = dp_n * p_r[t]
            dp_z = d_new * p_z[t]
            d_pre[t] = torch.cat([dp_r, dp_z, dp_n], dim=1)
            d_hw[t] = torch.cat([dp_r, dp_z, dp_n * r[t]], dim=1)
            dh_prev = torch.addmm(d_new * z[t], d_hw[t], w_hh)
        else:
            d_pre[t] = d_new * slope[t]
            dh_prev = d_pre[t] @ w_hh
        dh = dh_prev if keep is None else torch.addcmul(dh_prev, keep[t], dh)
        if record is not None:
            record(t, dh, dc if mode == "LSTM" else None)
    d_xw = torch.stack(d_pre)
    grads = {"xw": d_xw, "h0": dh, "c0": dc if mode == "LSTM" else None, "b_hh": None, "w_hh": None}
    if rows == hs.shape[1]:  # weight gradients only make sense for a real batch of gradients
        d_hw_all = d_xw if mode != "GRU" else torch.stack(d_hw)
        flat = d_hw_all.reshape(T * rows, -1)
        grads["w_hh"] = flat.t() @ h_prev.reshape(T * rows, H)
        grads["b_hh"] = flat.sum(0) if mode == "GRU" and need_b_hh else None
    return grads


def recurrence(mode: str, xw: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
               mask: Tensor | None, record: bool = True):
    """Run the loop; returns out (T,B,H), h_T, c_T and per-step pre, h, c, hn (or None).

    With gradients on, out, h_T and c_T carry them (hand-written BPTT); the per-step extras are
    detached. Without, everything is a plain tensor.
    """
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (xw, h0, c0, w_hh, b_hh))
    if not needs_grad:
        return _loop(mode, xw, h0, c0, w_hh, b_hh, mask, record)
    if c0 is None and mode == "LSTM":
        raise ValueError("LSTM needs c0")
    out, hT, cT, pre, hs, cs, hn = _Recurrence.apply(mode, mask, xw, h0, c0, w_hh, b_hh)
    return (out, hT, cT if mode == "LSTM" else None, pre, hs, cs if mode == "LSTM" else None,
            hn if mode == "GRU" else None)
