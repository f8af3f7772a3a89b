"""The gradients lab: gradient norms against autograd (also far below float64's range, and with skip
connections), the Pascanu criterion, the tasks' measured baselines, the job functions, and the page."""
import math
import threading
import types

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.data.tasks import (
    ADDING_EXPECTED_BASELINE,
    COPY_BLANK,
    COPY_DELIM,
    adding_problem,
    baseline_on,
    copy_baseline,
    copy_memory,
)
from rnnlab.figures.gradients import (
    flow_summary,
    gradient_flow_figure,
    jacobian_figure,
    log_ticks,
    task_curves,
    weight_criterion_figure,
)
from rnnlab.labs.clipping import clipped_steps, clipping_job
from rnnlab.labs.gradients import (
    BLOCK_GAMMA,
    PAGE_FORGET_BIAS,
    build_layer,
    criterion_verdict,
    gradient_flow,
    overflow_note,
    sci,
    sentence_inputs,
    truncated_share,
    truncation_effect,
    truncation_verdict,
    weight_criterion,
    zero_flows,
)
from rnnlab.labs.longrange import (
    DEFAULT_SWEEP,
    SOLVED,
    SOLVED_FRACTION,
    Sweep,
    baseline,
    build_task_model,
    gradient_profile,
    race,
    race_job,
    record_job,
    solved_threshold,
    start_task,
    sweep_job,
    train_task,
    validation_set,
)
from rnnlab.runtime.jobs import JobContext
from rnnlab.status import Status

TORCH_CELL = {"RNN_TANH": nn.RNNCell, "RNN_RELU": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small recurrent nets run fastest on one thread, and a busy 2-core machine slows two down many times."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _autograd_hs(cell, T, hidden, init="default", radius=None, seed=0, input_size=8, forget_bias=0.0,
                 residual=False, scale=1.0):
    """h_1..h_T by plain torch.nn cells in float64 (retain_grad on each), on the same weights, inputs and w
    as gradient_flow; the loss is scale · w·h_T."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, T, input_size, generator=gen).double()
    layer = build_layer(cell, input_size, hidden, init, radius, seed, forget_bias)
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
            h_new, c = ref(x[:, t], (h, c))
        else:
            h_new = ref(x[:, t], h)
        h = h_new + h if residual else h_new
        h.retain_grad()
        hs.append(h)
    return hs, w * scale


def _autograd_norms(cell, T, hidden, **kw):
    hs, w = _autograd_hs(cell, T, hidden, **kw)
    (hs[-1] * w).sum().backward()
    return np.array([float(v.grad.norm()) for v in hs])


# --- gradient flow -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("radius", [None, 1.8])
def test_plotted_gradient_norms_equal_autograd(cell, radius):
    fb = 1.0 if cell == "LSTM" else 0.0
    flow = gradient_flow(cell, 40, 6, radius=radius, seed=2, forget_bias=fb)
    ref = _autograd_norms(cell, 40, 6, radius=radius, seed=2, forget_bias=fb)
    np.testing.assert_allclose(flow.grad_norms, ref, rtol=1e-8)
    np.testing.assert_allclose(flow.log10_grad, np.log10(ref), atol=1e-9)
    assert flow.log10_grad[-1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("cell", ["RNN_TANH", "LSTM", "GRU"])
def test_skip_connections_equal_autograd_and_keep_the_gradient(cell):
    flow = gradient_flow(cell, 60, 6, seed=3, forget_bias=0.0, residual=True)
    ref = _autograd_norms(cell, 60, 6, seed=3, residual=True)
    np.testing.assert_allclose(flow.grad_norms, ref, rtol=1e-8)
    plain = gradient_flow(cell, 60, 6, seed=3, forget_bias=0.0)
    assert flow.log10_grad[0] > plain.log10_grad[0] + 3          # the identity path carries it back
    assert flow.residual and flow.threshold is None


def test_log_space_norms_go_far_below_float64():
    # a contracting tanh RNN at T = 1000: ‖∂L/∂h_1‖ ≈ 1e-454, far below the smallest normal float64 (~2.2e-308)
    flow = gradient_flow("RNN_TANH", 1000, 16, init="orthogonal", radius=0.5, seed=0)
    assert np.all(np.isfinite(flow.log10_grad)) and flow.log10_grad[0] < -400
    assert flow.grad_norms[0] == 0.0                               # as a float64 it underflows...
    # ...but the direct computation with the loss scaled by 1e300 lands in range: it must agree
    hs, w = _autograd_hs("RNN_TANH", 1000, 16, init="orthogonal", radius=0.5, seed=0, scale=1e300)
    (hs[-1] * w).sum().backward()
    safe_norm = lambda g: float(g.abs().max()) * float((g / g.abs().max()).norm())  # noqa: E731 (no x² overflow)
    direct = np.log10([safe_norm(v.grad) for v in hs]) - 300
    np.testing.assert_allclose(flow.log10_grad, direct, atol=1e-8)
    # a straight line down, no floor: the decay per step stays the same along the sequence
    d = np.diff(flow.log10_grad)
    assert abs(d[:300].mean() - d[-300:].mean()) < 0.1 * abs(d.mean())


@pytest.mark.parametrize("cell", ["RNN_TANH", "LSTM", "GRU"])
def test_jacobian_product_norm_equals_autograd(cell):
    T, H = 12, 5
    flow = gradient_flow(cell, T, H, seed=1, forget_bias=0.0)
    hs, _ = _autograd_hs(cell, T, H, seed=1)
    assert list(flow.jacobian_steps) == list(range(1, T + 1))
    for t in (0, 5, T - 2):
        J = torch.stack([torch.autograd.grad(hs[-1][0, i], hs[t], retain_graph=True)[0][0] for i in range(H)])
        assert 10 ** flow.log10_jacobian[t] == pytest.approx(float(torch.linalg.matrix_norm(J, ord=2)), rel=1e-5)


def test_long_sequences_sample_the_jacobian_and_extremes_stay_finite():
    flow = gradient_flow("GRU", 600, 8, seed=0)
    assert len(flow.jacobian_steps) == 250 and flow.jacobian_steps[0] == 1 and flow.jacobian_steps[-1] == 600
    big = gradient_flow("LSTM", 400, 128, radius=3.0, seed=0)
    assert np.all(np.isfinite(big.log10_grad)) and not big.jacobian_exact
    vanish = gradient_flow("RNN_TANH", 100, 32, seed=0)
    assert vanish.log10_ratio_first_last() < -5
    explode = gradient_flow("RNN_TANH", 100, 32, radius=3.0, seed=0)
    assert explode.log10_ratio_first_last() > 3


def test_forget_bias_one_keeps_more_gradient_than_zero():
    one, zero = (gradient_flow("LSTM", 100, 32, seed=0, forget_bias=b) for b in (1.0, 0.0))
    assert one.log10_grad[0] > zero.log10_grad[0] + 3
    assert gradient_flow("LSTM", 10, 4).forget_bias == 1.0          # the lab's default, as Keras'


def test_the_pages_forget_bias_lets_the_fresh_lstm_keep_its_gradient():
    """At Keras' bias 1 every fresh cell vanishes at T = 200 (the LSTM to ~4e-16); at the page's bias 3 the LSTM
    keeps orders of magnitude more than the tanh RNN and the GRU, the contrast the page teaches."""
    ratio = {(c, b): gradient_flow(c, 200, 32, seed=0, forget_bias=b).log10_ratio_first_last()
             for c in ("RNN_TANH", "LSTM", "GRU") for b in (1.0, PAGE_FORGET_BIAS)}
    assert ratio["LSTM", 1.0] < -10                                   # the old default: it vanished too
    assert ratio["LSTM", PAGE_FORGET_BIAS] > -6
    assert ratio["LSTM", PAGE_FORGET_BIAS] > max(ratio["RNN_TANH", 1.0], ratio["GRU", 1.0]) + 30


def test_skip_connections_are_not_the_identity_and_can_explode():
    """I + J is not I: at the page's defaults the dashed curves climb instead of staying at 1 (GRU ×3e29)."""
    for cell in ("RNN_TANH", "LSTM", "GRU"):
        skip = gradient_flow(cell, 100, 32, seed=0, forget_bias=PAGE_FORGET_BIAS, residual=True)
        plain = gradient_flow(cell, 100, 32, seed=0, forget_bias=PAGE_FORGET_BIAS)
        assert skip.log10_ratio_first_last() > plain.log10_ratio_first_last()
    assert gradient_flow("GRU", 100, 32, seed=0, residual=True).log10_ratio_first_last() > 10


def test_the_criterion_decides_nothing_at_its_boundary():
    """Pascanu et al.'s σ_max < 1/γ is strict: σ_max rescaled to 1 (0.99999997) and an orthogonal W_hh
    (1.00000003) are both at the boundary, not on either side of it."""
    for sigma in (0.99999997, 1.00000003, 1.0):
        assert "decides nothing" in criterion_verdict(sigma, 1.0)
    assert "guaranteed to vanish" in criterion_verdict(0.998, 1.0)
    assert "no longer guaranteed" in criterion_verdict(1.002, 1.0)
    assert "guaranteed to vanish" in criterion_verdict(3.9, 0.25) and "1/γ = 4" in criterion_verdict(3.9, 0.25)
    for flow in (gradient_flow("RNN_TANH", 20, 32, radius=1.0, scale_by="sigma"),
                 gradient_flow("RNN_TANH", 20, 32, init="orthogonal")):
        assert "decides nothing" in criterion_verdict(flow.sigma_max["W_hh"], flow.gamma["W_hh"])


def test_truncation_cuts_signal_only_when_the_gradient_reaches_back():
    """The tab's forget-bias control gives both sides: at bias 0 the LSTM's gradient has vanished within k = 20
    steps and truncation changes nothing; at the page's bias 3 it turns the update well away."""
    far = truncation_effect("LSTM", 100, 20, forget_bias=PAGE_FORGET_BIAS)
    near = truncation_effect("LSTM", 100, 20, forget_bias=0.0)
    assert far["cosine"] < 0.9 and near["cosine"] > 0.999
    share = {b: truncated_share(gradient_flow("LSTM", 100, 32, forget_bias=b).log10_grad, 20)
             for b in (0.0, PAGE_FORGET_BIAS)}
    assert "cuts real signal" in truncation_verdict(far["cosine"], share[PAGE_FORGET_BIAS], 20, 100)
    assert "vanished" in truncation_verdict(near["cosine"], share[0.0], 20, 100)
    assert "full BPTT" in truncation_verdict(1.0, 0.0, 100, 100)


def test_sci_prints_numbers_beyond_float64():
    assert sci(-400.5) == "3.2e-401"
    assert sci(math.log10(3.14159e-7)) == f"{3.14159e-7:.1e}"
    assert sci(0.0) == "1.0e+00" and sci(math.log10(9.999)) == "1.0e+01"
    assert sci(-math.inf) == "0"


def test_weight_criterion_radius_sigma_and_each_blocks_gamma():
    layer = build_layer("RNN_TANH", 3, 8, "default", radius=0.5, seed=0)
    sig, rad = weight_criterion(layer)
    assert rad["W_hh"] == pytest.approx(0.5, rel=1e-6)
    assert sig["W_hh"] == pytest.approx(float(torch.linalg.svdvals(layer.weight_hh_l0.detach().double())[0]))
    assert sig["W_hh"] > rad["W_hh"]                                  # ρ ≤ σ_max, here strictly
    layer = build_layer("LSTM", 3, 8, "default", radius=0.9, seed=0, scale_by="sigma")
    sig, rad = weight_criterion(layer)
    assert all(v == pytest.approx(0.9, rel=1e-6) for v in sig.values())
    assert all(rad[k] <= sig[k] + 1e-9 for k in sig)
    assert gradient_flow("RNN_TANH", 10, 8).threshold == 1.0 and gradient_flow("LSTM", 10, 8).threshold is None
    gru = gradient_flow("GRU", 10, 4)
    assert set(gru.sigma_max) == {"W_hr", "W_hz", "W_hn"}
    assert gru.gamma == {"W_hr": 0.25, "W_hz": 0.25, "W_hn": 1.0} == BLOCK_GAMMA["GRU"]


def test_layers_are_built_without_the_global_rng():
    state = torch.get_rng_state()
    a = build_layer("LSTM", 3, 8, "orthogonal", radius=1.2, seed=5)
    m = build_task_model("adding", "IRNN", 8, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    b = build_layer("LSTM", 3, 8, "orthogonal", radius=1.2, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert torch.equal(m.rnn.weight_hh_l0, torch.eye(8))              # IRNN: identity recurrence

    ref = {k: v.clone() for k, v in build_task_model("adding", "LSTM", 16, seed=3, chrono_T=50).state_dict().items()}
    bad = []

    def build():
        for _ in range(20):
            torch.rand(100)                                           # another session using the global RNG
            sd = build_task_model("adding", "LSTM", 16, seed=3, chrono_T=50).state_dict()
            bad.extend(k for k in ref if not torch.equal(ref[k], sd[k]))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_truncation():
    full = truncation_effect("GRU", 30, 30)
    assert full["cosine"] == pytest.approx(1.0) and full["norm_ratio"] == pytest.approx(1.0)
    short = truncation_effect("RNN_TANH", 60, 5, radius=1.5)
    assert short["cosine"] < 0.999
    assert truncated_share(np.zeros(10), 4) == pytest.approx(0.6)     # log10 of ten norms of 1
    assert truncated_share(np.zeros(10), 20) == 0.0
    assert truncated_share(np.array([-500.0, -500.0, 0.0]), 1) == pytest.approx(2e-500 / 1, abs=1e-300)


def test_sentence_inputs():
    x, n = sentence_inputs("the cat saw the dog", 8, 0)
    assert x.shape == (5, 8) and n == 5 and np.array_equal(x[0], x[3])   # one vector per word
    assert sentence_inputs("\u200b\u200b  ", 8, 0) == (None, 0)          # zero-width characters only: no words
    long, n = sentence_inputs("word " * 3000, 8, 0)
    assert long.shape[0] == 1000 and n == 3000
    assert sentence_inputs("", 8, 0) == (None, 0)


# --- tasks and their baselines --------------------------------------------------------------------------
def test_adding_problem_and_its_measured_baseline():
    x, y = adding_problem(20_000, 30, torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 30, 2) and torch.all(x[..., 1].sum(1) == 2)
    first, second = x[..., 1].argmax(1), 29 - x[..., 1].flip(1).argmax(1)
    assert torch.all(first < 15) and torch.all(second >= 15)
    # predicting 1 scores 1/6 in expectation; measured on 20,000 sequences it is within 0.005 of it
    assert baseline_on("adding", x, y) == pytest.approx(1 / 6, abs=0.005)
    assert pytest.approx(float(((y - 1) ** 2).mean()), abs=0.005) == ADDING_EXPECTED_BASELINE
    # the lab's baseline is the one measured on the validation data every run is scored on
    vx, vy = validation_set("adding", 50)
    assert baseline("adding", 50) == pytest.approx(float(((vy.double() - 1) ** 2).mean()), rel=1e-12)
    assert baseline("adding", 50) == pytest.approx(1 / 6, abs=0.03)
    assert solved_threshold("adding", 50) == pytest.approx(SOLVED_FRACTION * baseline("adding", 50))


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
    assert float(ce) == pytest.approx(copy_baseline(T), rel=1e-6) == baseline_on("copy", x, y)
    assert copy_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))


@pytest.mark.slow
def test_lstm_beats_tanh_rnn_on_adding_at_T50():
    _, rnn = train_task("adding", "RNN", 50, steps=400, hidden=32, seed=0, eval_every=50)
    _, lstm = train_task("adding", "LSTM", 50, steps=400, hidden=32, seed=0, eval_every=50)
    assert lstm.final < lstm.threshold < rnn.final
    assert lstm.solved and not rnn.solved
    assert lstm.solved_at == next(s for s, v in zip(lstm.val_steps, lstm.val_loss) if v < lstm.threshold)


def test_race_and_gradient_profile():
    runs = [start_task("copy", c, 10, steps=30, hidden=16, eval_every=10) for c in ("GRU", "IRNN")]
    rounds = []
    race(runs, on_round=rounds.append, every=10)
    assert rounds == [10, 20, 30]
    assert all(len(r.trainer.history.steps) == 30 for r in runs)
    model = build_task_model("adding", "RNN", 8)
    x, y = adding_problem(16, 20, torch.Generator().manual_seed(0))
    prof = gradient_profile(model, x, y)
    assert prof.shape == (20,) and np.all(np.isfinite(prof))
    # the same profile by autograd: the tanh RNN unrolled by hand, every h_t kept, L = MSE(head(h_T), y)
    rnn = model.rnn
    W_ih, W_hh = rnn.weight_ih_l0.detach().double(), rnn.weight_hh_l0.detach().double().requires_grad_()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().double()
    h, hs = torch.zeros(x.shape[0], W_hh.shape[0], dtype=torch.float64), []
    for t in range(x.shape[1]):
        h = torch.tanh(model.inputs(x)[:, t].double() @ W_ih.T + h @ W_hh.T + b)
        h.retain_grad()
        hs.append(h)
    head = model.head.double()
    torch.nn.functional.mse_loss(head(h).squeeze(-1), y.double()).backward()
    model.head.float()
    expected = np.array([float(torch.linalg.vector_norm(h_t.grad).log10()) for h_t in hs])
    np.testing.assert_allclose(prof, expected, atol=1e-4)
    assert prof[0] < prof[-1] - 1                         # and this untrained RNN's gradient does shrink going back


# --- job functions, called directly with a real JobContext -----------------------------------------------
class _Ctx(JobContext):
    def __init__(self, seconds=120.0, stop_after=None):
        self.sent = []
        self.flag = types.SimpleNamespace(value=0)
        super().__init__(1, self.sent.append, self.flag, seconds)
        self.stop_after = stop_after

    def emit(self, kind, step=0, epoch=0, **data):
        super().emit(kind, step, epoch, **data)
        if self.stop_after is not None and kind == "eval" and step >= self.stop_after:
            self.flag.value = 1

    def events(self, kind):
        return [m.event for m in self.sent if m.event.kind == kind]


def test_race_job_streams_curves_and_reports_steps_to_solve():
    ctx = _Ctx()
    r = race_job(ctx, task="adding", cells=["GRU", "RNN"], T=10, steps=150, hidden=16, seed=0)
    assert r["status"] == Status.FINISHED and r["baseline"] == baseline("adding", 10)
    gru = r["runs"]["GRU"]
    evals = [(e.step, e.data["loss"]) for e in ctx.events("eval") if e.data["cell"] == "GRU"]
    assert [s for s, _ in evals] == gru["val_steps"] and [v for _, v in evals] == gru["val_loss"]
    first = next(s for s, v in evals if v < r["threshold"])        # the GRU solves T = 10 within 150 steps
    assert gru["solved"] and gru["solved_at"] == first < 150
    assert [(e.step, e.data["cell"]) for e in ctx.events("solved")] == [(first, "GRU")]
    assert not r["runs"]["RNN"]["solved"] and r["runs"]["RNN"]["solved_at"] == -1
    assert r["metrics"]["steps_to_solve_GRU"] == first and "steps_to_solve_RNN" not in r["metrics"]
    assert r["metrics"]["best_val_GRU"] == min(gru["val_loss"])


def test_race_job_stops_when_asked():
    ctx = _Ctx(stop_after=25)
    r = race_job(ctx, task="copy", cells=["GRU"], T=10, steps=400, hidden=16, together=False)
    assert r["status"] == Status.STOPPED and r["runs"]["GRU"]["steps"][-1] < 400


def test_a_race_ends_as_its_worst_run_and_names_the_cells_that_diverged():
    from rnnlab.labs.longrange import RunResult, _summary

    def run(cell, status):
        return RunResult("adding", cell, 10, 0, [], [], [], [], 1.0, 0.25, 1.0, False, None, status, "", 0.0)

    status, message = _summary({"GRU": run("GRU", Status.STOPPED), "RNN": run("RNN", Status.DIVERGED)}, "the curves")
    assert status is Status.DIVERGED and message == "Diverged: RNN; the curves kept."   # was "stopped" before
    assert _summary({"GRU": run("GRU", SOLVED), "RNN": run("RNN", Status.FINISHED)}, "x") == (Status.FINISHED, "")
    assert _summary({"GRU": run("GRU", Status.TIME_LIMIT), "RNN": run("RNN", Status.STOPPED)}, "x") == (
        Status.STOPPED, "Stopped by the user; x kept.")
    assert _summary({"GRU": run("GRU", Status.TIME_LIMIT)}, "x") == (
        Status.TIME_LIMIT, "Stopped at the time limit; x kept.")


def test_record_job_snapshots_match_the_fresh_model():
    ctx = _Ctx()
    r = record_job(ctx, "RNN", 12, 40, 8, seed=3, snapshots=4)
    assert r["at_steps"] == [0, 10, 20, 30, 40] and tuple(r["profiles"].shape) == (5, 12)
    fresh = build_task_model("adding", "RNN", 8, seed=3, chrono_T=12)
    probe = adding_problem(64, 12, torch.Generator().manual_seed(3 + 7))
    np.testing.assert_allclose(r["profiles"][0].numpy(), gradient_profile(fresh, *probe), rtol=1e-10)
    assert [e.step for e in ctx.events("profile")] == r["at_steps"]


def test_clipping_job_shows_divergence_cleanly():
    ctx = _Ctx()
    r = clipping_job(ctx, "RNN_TANH", 50, 1.5, 0.3, 1.0, 60)
    runs = r["runs"]
    assert r["status"] == Status.FINISHED                  # the divergence is the lesson, not the job's failure
    assert runs["without clipping"]["status"] == Status.DIVERGED and "diverged" in runs["without clipping"]["message"]
    assert runs["with clipping"]["status"] == Status.FINISHED and any(runs["with clipping"]["clipped"])
    assert all(math.isfinite(v) for v in runs["with clipping"]["loss"])
    steps = [e for e in ctx.events("step") if e.data["run"] == "with clipping"]
    assert [e.data["loss"] for e in steps] == runs["with clipping"]["loss"]


def test_sweep_job_and_the_shipped_sweep(root):
    ctx = _Ctx()
    r = sweep_job(ctx, Ts=(10,), seeds=(0,), cells=("GRU",), steps=100, eval_every=25)
    rows = r["sweep"]["results"]
    assert r["status"] == Status.FINISHED and len(rows) == 1 and len(ctx.events("result")) == 1
    assert rows[0]["baseline"] == baseline("adding", 10)
    sweep = Sweep.load(root / "assets" / "gradients" / "sweep_adding.json")
    # the page describes the shipped sweep with DEFAULT_SWEEP's numbers: they must be the shipped ones
    cfg = DEFAULT_SWEEP
    assert (sweep.Ts, sweep.seeds, sweep.steps, sweep.cells) == (list(cfg["Ts"]), list(cfg["seeds"]), cfg["steps"],
                                                                 list(cfg["cells"]))
    for row in sweep.results:       # every shipped verdict follows from the measured baseline
        assert row["baseline"] == pytest.approx(baseline("adding", row["T"]), rel=1e-9)
        assert row["solved"] == (row["final"] < SOLVED_FRACTION * row["baseline"])
        assert row["status"] in (Status.FINISHED, SOLVED, Status.EARLY_STOPPED, Status.DIVERGED)
    s = sweep.success()
    T_max = sweep.Ts.index(max(sweep.Ts))
    assert s["RNN"][T_max] == 0 and s["LSTM"][T_max] == 1 and s["GRU"][T_max] == 1


# --- figures --------------------------------------------------------------------------------------------
def test_figures_draw_the_computed_numbers():
    flows = [gradient_flow("RNN_TANH", 1000, 16, init="orthogonal", radius=0.5, seed=0),
             gradient_flow("LSTM", 1000, 16)]
    fig = gradient_flow_figure(flows)
    np.testing.assert_allclose(fig.data[0].y, flows[0].log10_grad)
    assert fig.data[0].customdata[0] == sci(flows[0].log10_grad[0])
    assert min(fig.layout.yaxis.tickvals) <= flows[0].log10_grad.min()
    assert "10⁻" in fig.layout.yaxis.ticktext[0]
    jac = jacobian_figure(flows)
    assert list(jac.data[0].x) == list(flows[0].jacobian_steps)
    bars = weight_criterion_figure(flows)
    assert list(bars.data[0].x) == list(flows[0].sigma_max.values()) + list(flows[1].sigma_max.values())
    assert list(bars.data[2].x) == [1.0, 4.0, 4.0, 1.0, 4.0]            # 1/γ: W_hh, then LSTM's i, f, g, o
    assert log_ticks(-454.2, 0.3)[0] == list(range(-500, 1, 100))
    curves = task_curves({"LSTM": ([25, 50], [0.1, 0.01])}, 0.17, 0.0425, 50, solved_at={"LSTM": 50})
    names = [t.name for t in curves.data]
    assert "★ solved here" in names and list(curves.data[-2].y) == [0.17, 0.17]


# --- the page, through Streamlit's AppTest -------------------------------------------------------------------
def _figures(at) -> list[dict]:
    """The page's Plotly figures as dicts (Plotly's typed arrays decoded)."""
    import base64
    import json

    def decode(obj):
        if isinstance(obj, dict):
            if "bdata" in obj and "dtype" in obj:
                arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
                return arr.reshape(obj["shape"] if isinstance(obj.get("shape"), list) else
                                   [int(s) for s in str(obj.get("shape", arr.size)).split(",")]).tolist()
            return {k: decode(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [decode(v) for v in obj]
        return obj

    return [decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart")]


def _page(root, **query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page("app_pages/gradients.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run_job(at, key: str, button: str, timeout: float = 240):
    from app_pages import training

    at.button(key=button).click().run()
    job = at.session_state[key]
    assert job.meta["lab"] == "gradients" and job.meta["params"]
    training.wait_for(job, timeout)
    assert job.end_state == "finished", (job.end_state, job.error)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return job


def test_page_plots_the_computed_norms(root):
    at = _page(root)
    flow_fig = _figures(at)[0]
    assert [t["name"] for t in flow_fig["data"]] == ["RNN (tanh)", "LSTM", "GRU"]
    expected = gradient_flow("RNN_TANH", 100, 32, seed=0)
    np.testing.assert_allclose(flow_fig["data"][0]["y"], expected.log10_grad, rtol=1e-12)
    lstm = gradient_flow("LSTM", 100, 32, seed=0, forget_bias=PAGE_FORGET_BIAS)     # the page's default bias, 3
    np.testing.assert_allclose(flow_fig["data"][1]["y"], lstm.log10_grad, rtol=1e-12)
    assert at.metric[1].value == sci(lstm.log10_ratio_first_last())
    at.slider(key="gr_T").set_value(300).run()
    assert len(_figures(at)[0]["data"][0]["x"]) == 300
    at.toggle(key="gr_skip").set_value(True).run()
    names = [t["name"] for t in _figures(at)[0]["data"]]
    assert names == ["RNN (tanh)", "LSTM", "GRU", "RNN (tanh) + skip", "LSTM + skip", "GRU + skip"]
    at.radio(key="gr_input").set_value("typed sentence").run()
    at.text_input(key="gr_text").set_value("\u200b\u200b ").run()          # no words: a warning, not a crash
    assert not at.exception and at.warning


def test_page_link_restores_the_settings(root):
    at = _page(root, gr_T="250", gr_hidden="16", gr_fbias="0.0", gr_scale="largest singular value σ_max",
               gr_radius="0.8", gr_tab="Gradient flow")
    assert at.slider(key="gr_T").value == 250 and at.select_slider(key="gr_hidden").value == 16
    assert at.slider(key="gr_fbias").value == 0.0 and at.slider(key="gr_radius").value == 0.8
    flow = gradient_flow("LSTM", 250, 16, seed=0, forget_bias=0.0, radius=0.8, scale_by="sigma")
    np.testing.assert_allclose(_figures(at)[0]["data"][1]["y"], flow.log10_grad, rtol=1e-12)
    at.button(key="gr_reset_page").click().run()                      # and the reset button undoes it all
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="gr_T").value == 100 and at.slider(key="gr_fbias").value == PAGE_FORGET_BIAS
    assert at.select_slider(key="gr_hidden").value == 32


def test_page_says_what_it_measured_on_truncation_skips_and_the_boundary(root):
    at = _page(root, gr_tab="Truncated BPTT")
    cut = " ".join(c.value for c in at.caption)
    assert "cuts real signal" in cut and at.metric[1].value == "0.7739"
    at.slider(key="gr_tr_fbias").set_value(0.0).run()
    assert "vanished" in " ".join(c.value for c in at.caption) and at.metric[1].value == "1.0000"
    at = _page(root, gr_skip="true", gr_init="orthogonal")
    gru = gradient_flow("GRU", 100, 32, init="orthogonal", seed=0, residual=True)
    text = " ".join(c.value for c in at.caption)
    assert "can explode" in text and "unchanged" not in text
    assert f"GRU + skip: ‖∂L/∂h₁‖/‖∂L/∂h_T‖ = {sci(gru.log10_ratio_first_last())}" in text
    assert any("decides nothing" in m.value for m in at.markdown)    # orthogonal: σ_max = 1 within float rounding


@pytest.mark.slow
def test_page_extreme_settings(root):
    at = _page(root, gr_T="1000", gr_hidden="256", gr_scale="spectral radius ρ", gr_radius="3.0")
    fig = _figures(at)[0]
    assert len(fig["data"][0]["x"]) == 1000
    assert all(np.isfinite(fig["data"][0]["y"]))


@pytest.mark.slow
def test_page_trains_through_the_job_runner(root):
    at = _page(root, gr_tab="Clipping", gr_cl_steps="50")
    job = _run_job(at, "job_gr_clip", "gr_cl_go")
    runs = job.result["runs"]
    clip_fig = _figures(at)[0]
    loss = next(t for t in clip_fig["data"] if t["name"] == "with clipping")
    np.testing.assert_allclose(loss["y"], runs["with clipping"]["loss"], rtol=1e-6)
    assert any("diverged" in e.value for e in at.error) and any("with clipping" in s.value for s in at.success)

    at = _page(root, gr_tab="Long-range tasks", gr_lr_T="10", gr_lr_steps="50", gr_lr_cells=["GRU", "RNN"])
    job = _run_job(at, "job_gr_race", "gr_lr_go")
    race_fig = _figures(at)[0]
    gru = next(t for t in race_fig["data"] if t["name"] == "GRU")
    assert gru["y"] == job.result["runs"]["GRU"]["val_loss"]
    base = next(t for t in race_fig["data"] if t["name"].startswith("baseline"))
    assert base["y"][0] == pytest.approx(baseline("adding", 10))
    assert {m.label for m in at.metric} == {"GRU", "RNN"}

    at = _page(root, gr_hm_T="20", gr_hm_steps="50")
    job = _run_job(at, "job_gr_record", "gr_hm_go")
    heat = next(f for f in _figures(at) if f["data"][0]["type"] == "heatmap")
    np.testing.assert_allclose(np.array(heat["data"][0]["z"], dtype=float), job.result["profiles"].numpy())


def test_page_refuses_a_model_over_the_class_limit(root, monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_PARAMS", "1000")                  # the teacher's cap: 1,000 weights
    at = _page(root, gr_tab="Long-range tasks")
    at.button(key="gr_lr_go").click().run()
    assert any("over this class's limit" in e.value for e in at.error)
    assert "job_gr_race" not in at.session_state                      # nothing was submitted


@pytest.mark.slow
def test_page_sweep_rerun_streams_and_stops(root):
    import time

    from app_pages import training

    at = _page(root, gr_tab="Long-range tasks")
    at.button(key="gr_sw_go").click().run()
    job = at.session_state["job_gr_sweep"]
    end = time.monotonic() + 240
    while not job.of_kind("result") and time.monotonic() < end:
        job.heartbeat()
        time.sleep(0.2)
    job.stop()
    training.wait_for(job, 120)
    assert job.end_state == "stopped"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rows = job.result["sweep"]["results"]
    assert rows and rows[0]["T"] == 10 and rows[0]["cell"] == "RNN"
    fig = next(f for f in _figures(at) if f["layout"]["xaxis"].get("title", {}).get("text") == "sequence length T")
    rnn = next(t for t in fig["data"] if t["name"] == "RNN (tanh)")
    assert rnn["y"][0] == float(rows[0]["solved"])


def test_zero_flows_are_those_with_an_exactly_zero_gradient():
    import dataclasses

    flow = gradient_flow("RNN_TANH", 12, 4, seed=0)
    gaps = flow.log10_grad.copy()
    gaps[3] = -np.inf
    tiny = dataclasses.replace(flow, cell="tiny", log10_grad=np.full(12, -400.0))   # small, not 0
    gap = dataclasses.replace(flow, cell="gap", log10_grad=gaps)
    flows = [flow, gap, tiny, dataclasses.replace(gap, cell="gap2")]
    expected = [f for f in flows if any(v == -np.inf for v in f.log10_grad.tolist())]
    assert [f.cell for f in zero_flows(flows)] == [f.cell for f in expected] == ["gap", "gap2"]
    assert zero_flows([flow]) == []


def test_clipped_steps_counts_the_clipped_flags():
    flags = [True, False, 1, 0, True, None]
    assert clipped_steps({"clipped": flags}) == len([f for f in flags if f]) == 3
    assert clipped_steps({"clipped": []}) == 0


# --- issue 29 -------------------------------------------------------------------------------------------------
def test_relu_state_overflow_is_cut_and_explained():
    """Issue 29: with relu and ρ = 3 (the slider's top) h grows about 2.6× a step and passes float64's 1.8e308
    near step 756 of T = 1,000; the curves went on from inf and nan states as if nothing happened. Now the flow
    stops at the last finite step, and the note says what overflowed, at which step and why."""
    flow = gradient_flow("RNN_RELU", 1000, 32, radius=3.0, seed=0)
    assert flow.overflow_at == 756 and len(flow.steps) == 755 and flow.jacobian_steps[-1] == 755
    assert np.all(np.isfinite(flow.log10_grad)) and 2 < flow.growth < 3
    note = overflow_note(flow, "RNN (relu)")
    assert "at step 756 it passed 1.8e+308" in note and "ρ(W_hh) = 3.00" in note and "2.6× a step" in note
    assert "stop at step 755" in note
    short = gradient_flow("RNN_RELU", 700, 32, radius=3.0, seed=0)      # before the overflow: nothing changes
    assert short.overflow_at is None and overflow_note(short, "RNN (relu)") is None and len(short.steps) == 700
    skip = gradient_flow("RNN_RELU", 1000, 32, radius=3.0, seed=0, residual=True)
    assert skip.overflow_at is not None and "skip connection" in overflow_note(skip, "RNN (relu)")
    assert "(from step 755)" in flow_summary([flow, gradient_flow("RNN_TANH", 1000, 32, seed=0)])


def test_lone_combining_marks_are_no_words():
    """Issue 29: a sentence of combining accents alone (invisible) was one word; the rule of rnnlab.inputs.readable
    makes it no words, as zero-width characters are."""
    assert sentence_inputs("\u0301\u0301 \u0301", 8, 0) == (None, 0)
    assert sentence_inputs("e\u0301\u0301\u0301", 8, 0)[1] == 1


def test_page_explains_the_relu_overflow(root):
    """Issue 29: the page at relu, ρ = 3, T = 1,000 warns what overflowed, where and why."""
    at = _page(root, gr_T="1000", gr_cells=["RNN (relu)"], gr_scale="spectral radius ρ", gr_radius="3.0")
    assert any("RNN (relu): the hidden state itself overflowed" in w.value and "step 756" in w.value
               for w in at.warning)
    assert len(_figures(at)[0]["data"][0]["x"]) == 755


def test_clipping_runs_that_overflow_before_any_update_say_why():
    """Issue 29: at the Clipping tab's extremes (relu or tanh, ρ = 3, T = 200) both runs "diverged at step 1"
    and the advice was to lower the learning rate or clip, neither of which can help before the first update.
    Now the message says what overflowed float32 (the state h in the forward pass at step 131), how fast it
    grew, and why; and tanh's gradient of size 5.3e19, which float32 cannot square, is measured in float64 by
    the trainer and clipped instead of stopping the run."""
    from rnnlab.labs.clipping import clipping_experiment

    relu = clipping_experiment("RNN_RELU", 200, 3.0, 1.0, 0.1, 5)
    for run in relu.values():
        assert run["status"] == Status.DIVERGED and "forward pass overflowed before any update" in run["message"]
        assert "at step 131 of T = 200" in run["message"] and "3.4e38" in run["message"]
        assert "relu's slope of 1" in run["message"] and "learning rate (1)" not in run["message"]
    tanh = clipping_experiment("RNN_TANH", 200, 3.0, 1.0, 0.1, 5)["with clipping"]
    assert tanh["status"] != Status.DIVERGED       # its gradient (5.3e19) is measured in float64 and clipped
    fine = clipping_experiment("RNN_TANH", 50, 1.5, 0.3, 1.0, 5)["with clipping"]
    assert fine["status"] != Status.DIVERGED
