"""Our traced layers against torch.nn.RNN/LSTM/GRU with the same weights: outputs, states, gradients."""
import itertools

import pytest
import torch
from torch import nn

from rnnlab import GRU, LSTM, RNN, from_torch, make_recurrent, to_torch
from rnnlab.nn.cells import GRUCell, LSTMCell, RNNCell

TOL = dict(atol=1e-5, rtol=1e-5)
KINDS = [("RNN_TANH", nn.RNN, {"nonlinearity": "tanh"}), ("RNN_RELU", nn.RNN, {"nonlinearity": "relu"}),
         ("LSTM", nn.LSTM, {}), ("GRU", nn.GRU, {})]
CONFIGS = list(itertools.product(KINDS, [1, 2], [False, True], [False, True]))


def _ids(cfg):
    (name, _, _), layers, bidir, bf = cfg
    return f"{name}-L{layers}-{'bi' if bidir else 'uni'}-{'bf' if bf else 'tf'}"


def _pair(torch_cls, kw, layers, bidir, bf, dropout=0.0, input_size=5, hidden=6, bias=True):
    torch.manual_seed(len(kw) + layers * 7 + bidir * 3 + bf)
    ref = torch_cls(input_size, hidden, num_layers=layers, bidirectional=bidir, batch_first=bf,
                    dropout=dropout, bias=bias, **kw)
    ours = from_torch(ref)
    ours.stepwise = True  # the Python step-by-step loop, not the fused kernel
    return ref, ours


def _inputs(bf, B=3, T=7, n_in=5, requires_grad=True):
    x = torch.randn((B, T, n_in) if bf else (T, B, n_in))
    return x.requires_grad_(requires_grad)


def _state(kind, layers, bidir, B=3, H=6):
    n = layers * (2 if bidir else 1)
    h0 = torch.randn(n, B, H, requires_grad=True)
    if kind == "LSTM":
        return (h0, torch.randn(n, B, H, requires_grad=True))
    return h0


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def _loss(out, state):
    # Weighted sums so that every output element and state gets a distinct gradient.
    w = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    return (out * w).sum() + sum((s ** 2).sum() for s in _flat(state))


def _check_same(ref, ours, args_ref, args_ours, kwargs_ours=None):
    out_r, st_r = ref(*args_ref)
    out_o, st_o = ours(*args_ours, **(kwargs_ours or {}))
    torch.testing.assert_close(out_o, out_r, **TOL)
    for a, b in zip(_flat(st_o), _flat(st_r)):
        torch.testing.assert_close(a, b, **TOL)
    gr = torch.autograd.grad(_loss(out_r, st_r), list(ref.parameters()), retain_graph=True)
    go = torch.autograd.grad(_loss(out_o, st_o), list(ours.parameters()), retain_graph=True)
    for (name, _), a, b in zip(ref.named_parameters(), go, gr):
        torch.testing.assert_close(a, b, **TOL, msg=lambda m, name=name: f"gradient of {name}: {m}")
    return out_r, st_r, out_o, st_o


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_forward_and_gradients_match_torch(cfg):
    (kind, cls, kw), layers, bidir, bf = cfg
    ref, ours = _pair(cls, kw, layers, bidir, bf)
    x = _inputs(bf)
    out_r, st_r, out_o, st_o = _check_same(ref, ours, (x,), (x,))
    gx_r, = torch.autograd.grad(_loss(out_r, st_r), x)
    gx_o, = torch.autograd.grad(_loss(out_o, st_o), x)
    torch.testing.assert_close(gx_o, gx_r, **TOL)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_initial_states_match_torch(cfg):
    (kind, cls, kw), layers, bidir, bf = cfg
    ref, ours = _pair(cls, kw, layers, bidir, bf)
    x, hx = _inputs(bf), _state(kind, layers, bidir)
    out_r, st_r, out_o, st_o = _check_same(ref, ours, (x, hx), (x, hx))
    g_r = torch.autograd.grad(_loss(out_r, st_r), _flat(hx))
    g_o = torch.autograd.grad(_loss(out_o, st_o), _flat(hx))
    for a, b in zip(g_o, g_r):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
@pytest.mark.parametrize("by", ["lengths", "mask"])
def test_variable_lengths_match_packed_torch(cfg, by):
    (kind, cls, kw), layers, bidir, bf = cfg
    ref, ours = _pair(cls, kw, layers, bidir, bf)
    x, hx = _inputs(bf), _state(kind, layers, bidir)
    lengths = torch.tensor([7, 3, 5])
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)

    class Packed(nn.Module):  # torch's module, padded back, as the reference
        def __init__(self):
            super().__init__()
            self.m = ref

        def forward(self, _x, h):
            out, st = self.m(packed, h)
            return nn.utils.rnn.pad_packed_sequence(out, batch_first=bf, total_length=7)[0], st

    kwargs = {"lengths": lengths} if by == "lengths" else {"mask": torch.arange(7)[None, :] < lengths[:, None]}
    _check_same(Packed(), ours, (x, hx), (x, hx), kwargs)
    ours.stepwise = False  # the fused path packs for us and must agree too
    _check_same(Packed(), ours, (x, hx), (x, hx), kwargs)


@pytest.mark.parametrize("kind,cls,kw", KINDS, ids=[k[0] for k in KINDS])
def test_dropout_between_layers_and_no_bias(kind, cls, kw):
    ref, ours = _pair(cls, kw, 3, True, True, dropout=0.5, bias=False)
    ref.eval(), ours.eval()
    x = _inputs(True)
    _check_same(ref, ours, (x,), (x,))
    ours.train()
    torch.manual_seed(0)
    a, _ = ours(x)
    torch.manual_seed(1)
    b, _ = ours(x)
    assert not torch.allclose(a, b), "dropout between layers should act in training mode"


@pytest.mark.parametrize("kind,cls,kw", KINDS, ids=[k[0] for k in KINDS])
def test_unbatched_input(kind, cls, kw):
    ref, ours = _pair(cls, kw, 2, True, False)
    x = torch.randn(7, 5)
    _check_same(ref, ours, (x,), (x,))


@pytest.mark.parametrize("kind,cls,kw", KINDS, ids=[k[0] for k in KINDS])
def test_fused_and_traced_paths_share_weights(kind, cls, kw):
    _, ours = _pair(cls, kw, 2, True, True)
    ours.stepwise = False
    x = _inputs(True, requires_grad=False)
    fused, st_f = ours(x)
    traced, st_t, trace = ours.trace(x)
    torch.testing.assert_close(traced, fused, **TOL)
    assert len(trace.parts) == 4


def test_weights_convert_both_ways():
    torch.manual_seed(0)
    ours = LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True)
    plain = to_torch(ours)
    assert type(plain) is nn.LSTM
    assert plain.state_dict().keys() == ours.state_dict().keys()
    assert "weight_ih_l1_reverse" in ours.state_dict()
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(plain(x)[0], ours.trace(x)[0], **TOL)
    back = GRU(4, 3)
    back.load_state_dict(nn.GRU(4, 3).state_dict())  # a torch state_dict loads as it is
    assert isinstance(make_recurrent("rnn_relu", 4, 3), RNN)
    assert make_recurrent("rnn_relu", 4, 3).nonlinearity == "relu"
    with pytest.raises(ValueError):
        make_recurrent("transformer", 4, 3)


def test_trace_contents_follow_the_equations():
    torch.manual_seed(0)
    lstm = LSTM(3, 4, batch_first=True)
    x = torch.randn(2, 6, 3)
    out, (h_n, c_n), tr = lstm.trace(x)
    part = tr[0, "forward"]
    assert part.h.shape == part.c.shape == part.gates["f"].shape == (2, 6, 4)
    torch.testing.assert_close(part.h, out)
    torch.testing.assert_close(part.c[:, -1], c_n[0])
    c_prev = torch.cat([part.c0[:, None], part.c[:, :-1]], dim=1)
    g = part.gates
    torch.testing.assert_close(part.c, g["f"] * c_prev + g["i"] * g["g"])
    torch.testing.assert_close(part.h, g["o"] * torch.tanh(part.c))
    # i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), from the weights directly
    h_prev = torch.cat([part.h0[:, None], part.h[:, :-1]], dim=1)
    W_ii, W_hi = lstm.weight_ih_l0[:4], lstm.weight_hh_l0[:4]
    i = torch.sigmoid(x @ W_ii.T + lstm.bias_ih_l0[:4] + h_prev @ W_hi.T + lstm.bias_hh_l0[:4])
    torch.testing.assert_close(g["i"], i)

    gru = GRU(3, 4, batch_first=True, bidirectional=True)
    out, _, tr = gru.trace(x)
    back = tr[0, "backward"]
    torch.testing.assert_close(back.h, out[..., 4:])  # backward states are stored in token order
    h_next = torch.cat([back.h[:, 1:], back.h0[:, None]], dim=1)
    g = back.gates
    torch.testing.assert_close(back.h, (1 - g["z"]) * g["n"] + g["z"] * h_next)
    assert set(g) == {"r", "z", "n", "hn"}

    rnn = RNN(3, 4, batch_first=True)
    out, _, tr = rnn.trace(x)
    torch.testing.assert_close(torch.tanh(tr[0].pre["h"]), out)


@pytest.mark.parametrize("cell_cls,ref_cls,kw", [(RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
                                                  (RNNCell, nn.RNNCell, {}),
                                                  (LSTMCell, nn.LSTMCell, {}), (GRUCell, nn.GRUCell, {})])
def test_single_cells_match_torch_cells(cell_cls, ref_cls, kw):
    torch.manual_seed(0)
    ref = ref_cls(5, 4, **kw)
    ours = cell_cls(5, 4, **kw)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 5)
    a, b = ours(x), ref(x)
    for u, v in zip(_flat(a), _flat(b)):
        torch.testing.assert_close(u, v, **TOL)


def test_bad_lengths_are_explained():
    lstm = LSTM(2, 3, batch_first=True)
    x = torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match="lengths"):
        lstm.trace(x, lengths=torch.tensor([5, 1]))
    with pytest.raises(ValueError, match="prefix"):
        lstm(x, mask=torch.tensor([[1, 0, 1, 0], [1, 1, 1, 1]]))
