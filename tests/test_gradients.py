"""Gradient analysis against autograd, the Pascanu criterion, tasks' baselines, and short training runs."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.labs.clipping import clipping_experiment
from rnnlab.labs.gradients import build_layer, gradient_flow, truncated_share, truncation_effect, weight_criterion
from rnnlab.labs.longrange import Sweep, TaskModel, gradient_profile, race, start_task, train_task
from rnnlab.data.tasks import (ADDING_BASELINE, COPY_BLANK, COPY_DELIM, adding_problem, copy_baseline, copy_memory)

TORCH_CELL = {"RNN_TANH": nn.RNNCell, "RNN_RELU": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


def _autograd_norms(cell, T, hidden, init="default", radius=None, seed=0, input_size=8, retain=False):
    """‖∂L/∂h_t‖ by plain autograd with retain_grad, on the same weights, inputs and w as gradient_flow."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, T, input_size, generator=gen).double()
    layer = build_layer(cell, input_size, hidden, init, radius, seed)
    w = torch.randn(1, hidden, generator=gen)
    w = (w / w.norm()).double()  # normalised in float32, exactly as gradient_flow does
    kw = {"nonlinearity": "relu"} if cell == "RNN_RELU" else {}
    ref = TORCH_CELL[cell](input_size, hidden, **kw).double()
    ref.load_state_dict({k.replace("_l0", ""): v.double() for k, v in layer.state_dict().items()})
    h = torch.zeros(1, hidden, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs = []
    for t in range(T):
        if cell == "LSTM":
            h, c = ref(x[:, t], (h, c))
        else:
            h = ref(x[:, t], h)
        h.retain_grad()
        hs.append(h)
    (hs[-1] * w).sum().backward(retain_graph=retain)
    return np.array([float(v.grad.norm()) for v in hs]), hs, ref, x


@pytest.mark.parametrize("cell", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("radius", [None, 1.8])
def test_plotted_gradient_norms_equal_autograd(cell, radius):
    flow = gradient_flow(cell, 40, 6, radius=radius, seed=2)
    ref, *_ = _autograd_norms(cell, 40, 6, radius=radius, seed=2)
    np.testing.assert_allclose(flow.grad_norms, ref, rtol=1e-8, atol=1e-300)
    assert flow.grad_norms[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("cell", ["RNN_TANH", "LSTM", "GRU"])
def test_jacobian_product_norm_equals_autograd(cell):
    T, H = 12, 5
    flow = gradient_flow(cell, T, H, seed=1)
    _, hs, ref, x = _autograd_norms(cell, T, H, seed=1, retain=True)
    for t in (0, 5, T - 2):
        J = torch.stack([torch.autograd.grad(hs[-1][0, i], hs[t], retain_graph=True)[0][0] for i in range(H)])
        assert flow.jacobian_norms[t] == pytest.approx(float(torch.linalg.matrix_norm(J, ord=2)), rel=1e-5)


def test_vanishing_and_exploding_are_visible():
    vanish = gradient_flow("RNN_TANH", 100, 32, seed=0)
    assert vanish.ratio_first_last() < 1e-5
    explode = gradient_flow("RNN_TANH", 100, 32, radius=3.0, seed=0)
    assert explode.ratio_first_last() > 1e3
    big = gradient_flow("LSTM", 1000, 256, radius=3.0, seed=0)   # extreme settings stay finite, no crash
    assert np.all(np.isfinite(big.grad_norms)) and not big.jacobian_exact


def test_weight_criterion():
    layer = build_layer("RNN_TANH", 3, 8, "orthogonal", radius=0.5, seed=0)
    sig, rad = weight_criterion(layer)
    assert rad["W_hh"] == pytest.approx(0.5, rel=1e-6)
    assert sig["W_hh"] == pytest.approx(float(torch.linalg.svdvals(layer.weight_hh_l0.detach().double())[0]))
    assert gradient_flow("RNN_TANH", 10, 8).threshold == 1.0 and gradient_flow("LSTM", 10, 8).threshold is None
    assert set(weight_criterion(build_layer("GRU", 3, 4))[0]) == {"W_hr", "W_hz", "W_hn"}


def test_truncation():
    full = truncation_effect("GRU", 30, 30)
    assert full["cosine"] == pytest.approx(1.0) and full["norm_ratio"] == pytest.approx(1.0)
    short = truncation_effect("RNN_TANH", 60, 5, radius=1.5)
    assert short["cosine"] < 0.999
    assert truncated_share(np.ones(10), 4) == pytest.approx(0.6)
    assert truncated_share(np.ones(10), 20) == 0.0


def test_adding_problem_and_its_baseline():
    x, y = adding_problem(20_000, 30, torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 30, 2) and torch.all(x[..., 1].sum(1) == 2)
    first, second = x[..., 1].argmax(1), 29 - x[..., 1].flip(1).argmax(1)
    assert torch.all(first < 15) and torch.all(second >= 15)
    assert ADDING_BASELINE == 0.1767                          # Le et al. (2015)
    assert float(((y - 1) ** 2).mean()) == pytest.approx(1 / 6, abs=0.005)  # the exact expectation


def test_copy_memory_and_its_baseline():
    T = 30
    x, y = copy_memory(4, T, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, T + 20)
    assert torch.equal(y[:, -10:], x[:, :10]) and torch.all(x[:, T + 9] == COPY_DELIM)
    assert torch.all(y[:, :T + 10] == COPY_BLANK)
    # the strategy "blank, then uniform over the 8 symbols" scores exactly the baseline
    logits = torch.full((4, T + 20, 10), -1e9)
    logits[:, :T + 10, COPY_BLANK] = 0
    logits[:, T + 10:, :8] = 0
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
    assert float(ce) == pytest.approx(copy_baseline(T), rel=1e-6)
    assert copy_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))


@pytest.mark.slow
def test_lstm_beats_tanh_rnn_on_adding_at_T50():
    _, rnn = train_task("adding", "RNN", 50, steps=400, hidden=32, seed=0, eval_every=50)
    _, lstm = train_task("adding", "LSTM", 50, steps=400, hidden=32, seed=0, eval_every=50)
    assert lstm.final < 0.25 * ADDING_BASELINE < rnn.final
    assert lstm.solved and not rnn.solved


def test_race_and_gradient_profile():
    runs = [start_task("copy", c, 10, steps=30, hidden=16, eval_every=10) for c in ("GRU", "IRNN")]
    rounds = []
    race(runs, on_round=rounds.append, every=10)
    assert rounds == [10, 20, 30]
    assert all(len(r.trainer.history.steps) == 30 for r in runs)
    model = TaskModel("adding", "RNN", 8)
    x, y = adding_problem(16, 20)
    prof = gradient_profile(model, x, y)
    assert prof.shape == (20,) and np.all(prof > 0)


def test_clipping_experiment_shows_divergence_cleanly():
    runs = clipping_experiment("RNN_TANH", 50, 1.5, 0.3, 1.0, 60)
    assert runs["without clipping"]["status"] == "diverged"
    assert "diverged" in runs["without clipping"]["message"]
    assert runs["with clipping"]["status"] == "done" and any(runs["with clipping"]["clipped"])
    assert all(math.isfinite(v) for v in runs["with clipping"]["loss"])


def test_shipped_sweep_shows_the_lesson(root):
    sweep = Sweep.load(root / "assets" / "gradients" / "sweep_adding.json")
    s = sweep.success()
    T_max = sweep.Ts.index(max(sweep.Ts))
    assert s["RNN"][T_max] == 0 and s["LSTM"][T_max] == 1 and s["GRU"][T_max] == 1
