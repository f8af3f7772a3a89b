"""The 'RNN from scratch' lesson: the course's example, BPTT by hand, the checks, the character job, the page."""
import numpy as np
import pytest
import torch
from fixtures import open_app_page
from streamlit.testing.v1 import AppTest

from rnnlab.labs.scratch import (
    InputError,
    above_chance,
    autograd_gradients,
    backward_equations,
    bptt_by_hand,
    char_model_job,
    clean_sentence,
    continue_text,
    course_example,
    gradient_check,
    parse_indices,
    torch_hidden_states,
    torch_rnn,
    training_text,
    worst_errors,
)
from rnnlab.nn.numpy_rnn import NumpyRNN, numerical_gradient, relative_error
from rnnlab.status import Status


class FakeContext:
    """What a job sees, without a worker: collects events, stops after ``stop_after`` steps if set."""

    job_id = 1

    def __init__(self, stop_after=None):
        self.events, self.stop_after = [], stop_after

    def phase(self, name, **data):
        self.events.append(("phase", 0, {"name": name}))

    def emit(self, kind, step=0, epoch=0, **data):
        self.events.append((kind, step, data))

    def should_stop(self):
        steps = sum(1 for e in self.events if e[0] == "step")
        return Status.STOPPED if self.stop_after is not None and steps >= self.stop_after else None

    def of(self, kind):
        return [e for e in self.events if e[0] == kind]


def test_course_example_hidden_states_equal_a_direct_computation_and_torch():
    ex = course_example(3, 4, 2, seed=0, inputs=[0, 1, 2])
    p = ex.params
    assert p["W_xh"].shape == (4, 3) and p["W_hh"].shape == (4, 4) and p["W_hy"].shape == (2, 4)
    np.testing.assert_array_equal(ex.X, np.eye(3))           # the 3 one-hot steps
    h = np.zeros(4)
    for t in range(3):
        h = np.tanh(p["W_xh"][:, t] + p["W_hh"] @ h + p["b_h"])  # one-hot x_t picks column t
        np.testing.assert_allclose(ex.H[t], h, atol=1e-12)
        np.testing.assert_allclose(ex.Y[t], p["W_hy"] @ h + p["b_y"], atol=1e-12)
    rnn = torch.nn.RNN(3, 4, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(p["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.tensor(p["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.tensor(p["b_h"]))
        rnn.bias_hh_l0.zero_()
        out, h_n = rnn(torch.tensor(ex.X)[None])
    np.testing.assert_allclose(out[0].numpy(), ex.H, atol=1e-6)
    bridge = torch_hidden_states(ex, "float64")
    assert bridge.max_diff < 1e-12
    np.testing.assert_allclose(bridge.H, out[0].numpy(), atol=1e-12)
    assert 1e-9 < torch_hidden_states(ex, "float32").max_diff < 1e-6  # float32 rounds, but stays within 1e-6


def test_seed_and_sizes_change_the_example():
    a, b = course_example(seed=0), course_example(seed=1)
    assert not np.allclose(a.H, b.H)
    big = course_example(5, 8, 3, seed=0, inputs=[4, 0, 0, 2], targets=[2, 1, 0, 0])
    assert big.H.shape == (4, 8) and big.P.shape == (4, 3)
    np.testing.assert_allclose(big.P.sum(axis=1), 1.0)
    assert big.loss == pytest.approx(-np.mean(np.log(big.P[np.arange(4), [2, 1, 0, 0]])))


@pytest.mark.parametrize("seed", [0, 7])
def test_hand_written_bptt_equals_finite_differences_and_autograd(seed):
    ex = course_example(3, 4, 2, seed=seed, inputs=[0, 1, 2], targets=[0, 1, 1])
    grads, _ = bptt_by_hand(ex)
    model = NumpyRNN.from_params(ex.params)
    auto = autograd_gradients(ex)
    for name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        fd = numerical_gradient(model, ex.X, ex.targets, name, eps=1e-6)
        assert relative_error(grads[name], fd) < 1e-5, name
        assert relative_error(grads[name], auto[name]) < 1e-12, name
    rows = gradient_check(ex)
    assert [r["weight"] for r in rows] == ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]
    assert max(r["relative error (finite diff.)"] for r in rows) < 1e-5
    assert max(r["max |BPTT − autograd|"] for r in rows) < 1e-12
    worst_fd, worst_auto = worst_errors(rows)
    assert worst_auto == max(float(np.abs(grads[n] - auto[n]).max()) for n in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    assert worst_fd == max(r["relative error (finite diff.)"] for r in rows)


def test_worst_errors_are_the_largest_of_each_column():
    rows = [{"weight": "W_xh", "relative error (finite diff.)": 1e-9, "max |BPTT − autograd|": 3e-17},
            {"weight": "W_hh", "relative error (finite diff.)": 2e-8, "max |BPTT − autograd|": 1e-17},
            {"weight": "b_h", "relative error (finite diff.)": 5e-10, "max |BPTT − autograd|": 0.0}]
    assert worst_errors(rows) == (2e-8, 3e-17)


def test_gradient_check_catches_a_wrong_backward_pass(monkeypatch):
    ex = course_example(seed=0, targets=[0, 1, 0])
    original = NumpyRNN.backward

    def forgets_the_tanh_slope(self, cache, record=None):
        saved = cache.H.copy()
        cache.H[1:] = 0.0            # 1 - h² becomes 1: the classic bug
        grads = original(self, cache, record)
        cache.H[:] = saved
        return grads

    monkeypatch.setattr(NumpyRNN, "backward", forgets_the_tanh_slope)
    rows = gradient_check(ex)
    assert max(r["relative error (finite diff.)"] for r in rows) > 1e-2


def test_each_recorded_dh_is_autograds_gradient_of_h_t():
    ex = course_example(3, 4, 2, seed=3, inputs=[2, 0, 1], targets=[1, 0, 1])
    _, records = bptt_by_hand(ex)
    rnn, head = torch_rnn(ex.params)
    h, hs = torch.zeros(4, dtype=torch.float64), []
    for x in torch.tensor(ex.X):
        h = torch.tanh(rnn.weight_ih_l0 @ x + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ h + rnn.bias_hh_l0)
        h.retain_grad()
        hs.append(h)
    loss = torch.nn.functional.cross_entropy(head(torch.stack(hs)), torch.tensor(ex.targets))
    loss.backward()
    assert loss.item() == pytest.approx(ex.loss, abs=1e-12)
    for rec in records:
        np.testing.assert_allclose(rec["dh"], hs[rec["t"] - 1].grad.numpy(), atol=1e-12)


def test_backward_equations_carry_the_steps_numbers():
    ex = course_example(seed=0, targets=[0, 1, 0])
    _, records = bptt_by_hand(ex)
    last = records[0]
    lines = backward_equations(ex, last)
    assert r"\underbrace{0}" in lines[1][1]        # at t = T nothing comes from the future
    assert all(f"{v:.3f}" in lines[1][1] for v in last["dh"])
    first = backward_equations(ex, records[-1])
    assert all(f"{v:.3f}" in first[4][1] for v in records[-1]["sum_W_hh"].ravel())


@pytest.mark.parametrize("text,size,message", [("", 3, "at least one"), ("0, 3", 3, "from 0 to 2"),
                                               ("a, b", 3, "not a whole number"), (", ".join("0" * 20), 3, "At most")])
def test_bad_inputs_get_clear_messages(text, size, message):
    with pytest.raises(InputError, match=message):
        parse_indices(text, size, "input")


def test_parse_indices_reads_commas_and_spaces():
    assert parse_indices("0, 1 2;1", 3, "input") == [0, 1, 2, 1]


def test_char_model_job_learns_and_streams_loss_and_samples():
    ctx = FakeContext()
    res = char_model_job(ctx, sentence="hello world", hidden=32, steps=300, lr=5e-3, sample_every=50, seed=0)
    steps = ctx.of("step")
    assert [s[1] for s in steps] == list(range(1, 301))
    losses = [s[2]["loss"] for s in steps]
    assert losses[0] == pytest.approx(np.log(8), rel=0.05)          # 8 characters: starts at chance
    assert np.mean(losses[-20:]) < 0.1 * losses[0]
    samples = ctx.of("sample")
    assert [s[1] for s in samples] == [50, 100, 150, 200, 250, 300]
    assert "hello world" in samples[-1][2]["text"]
    assert res["status"] == Status.FINISHED and res["epochs_completed"] >= 1
    assert res["history"]["loss"] == losses
    assert set(res["params"]) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y"}
    assert res["params"]["W_hh"].shape == (32, 32)
    assert "world" in continue_text(res["params"], res["chars"], "hello", 12, temperature=0.1)


def test_char_model_job_stops_and_refuses_bad_settings():
    res = char_model_job(FakeContext(stop_after=20), sentence="hello world", steps=500)
    assert res["status"] == Status.STOPPED and len(res["history"]["loss"]) == 20
    with pytest.raises(ValueError, match="at most|At most"):
        char_model_job(FakeContext(), sentence="x" * 500)
    with pytest.raises(ValueError, match="learning rate"):
        char_model_job(FakeContext(), lr=float("nan"))


# --- the page ------------------------------------------------------------------------------------------
def _page(root, **state) -> AppTest:
    return open_app_page(root, "app_pages/scratch.py", timeout=90, **state)


def test_page_prints_the_examples_hidden_states(root):
    at = _page(root)
    ex = course_example()
    printed = at.code[1].value.splitlines()
    assert len(printed) == 3
    for t, line in enumerate(printed):
        assert line == f"step {t + 1}: h = {np.round(ex.H[t], 3)}"      # exactly what the shown code prints
    assert "def rnn_forward" in at.code[0].value


@pytest.mark.parametrize("tab", ["Backpropagation by hand", "Gradient check", "The same in torch.nn.RNN"])
def test_page_tabs_render(root, tab):
    at = _page(root, scr_tab=tab, scr_seed=4, scr_hidden=3, scr_inputs="2, 2, 0, 1", scr_targets="1, 0, 0, 1")
    ex = course_example(3, 3, 2, seed=4, inputs=[2, 2, 0, 1], targets=[1, 0, 0, 1])
    if tab == "Gradient check":
        table = at.dataframe[0].value
        assert list(table["weight"]) == ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]
        assert float(at.metric[0].value) < 1e-5
    elif tab == "The same in torch.nn.RNN":
        assert float(at.metric[0].value) < 1e-12
        assert len(at.dataframe[0].value) == 4
    else:
        assert any(f"L = {ex.loss:.4f}" in m.value for m in at.markdown)
        at.select_slider(key="scr_bwd_t").set_value(1).run()
        assert any("backward step 4 of 4" in m.value for m in at.markdown)


def test_page_explains_bad_inputs(root):
    at = _page(root, scr_inputs="0, 9")
    assert any("9 is not a valid input" in e.value for e in at.error)
    at = _page(root, scr_inputs="0, 1", scr_targets="0")
    assert any("One target per time step" in e.value for e in at.error)


@pytest.mark.slow
def test_page_trains_the_character_model_through_the_job_runner(root):
    at = _page(root, scr_tab="Train a character model", scr_sentence="hi there $x$ ~~y~~", scr_char_steps=200)
    at.button(key="scr_char_train").click().run()
    job = at.session_state["scr_char_job"]
    assert job.wait(120) and job.end_state == "finished", job.error
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("**Finished.**") for s in at.success)
    assert len(job.of_kind("step")) == 200 and job.of_kind("sample")
    assert job.meta["lab"] == "scratch" and job.meta["total_steps"] == 200
    assert at.code[-1].value.startswith("hi th")              # the trained model continues the prime
    assert job.result["params"]["W_hh"].shape == (32, 32)      # weights came back as tensors
    for prime in ("", "\u200b\u200b"):                         # issue 29: nothing to start with, said so
        at.text_input(key="scr_prime").set_value(prime).run()
        assert not at.exception and any("Type a few characters" in w.value for w in at.warning)


def _mistaken_backward(ex, mistake: str) -> dict:
    """BPTT with one line wrong: the tanh's slope forgotten, or the gradient from the future dropped."""
    p, T = ex.params, ex.steps
    H = np.vstack([np.zeros(ex.H.shape[1]), ex.H])
    dY = ex.P.copy()
    dY[np.arange(T), ex.targets] -= 1.0
    dY /= T
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dh_next = np.zeros(ex.H.shape[1])
    for t in reversed(range(T)):
        dh = p["W_hy"].T @ dY[t] + (0.0 if mistake == "no future" else dh_next)
        da = dh if mistake == "no slope" else (1 - H[t + 1] ** 2) * dh
        grads["W_xh"] += np.outer(da, ex.X[t])
        grads["W_hh"] += np.outer(da, H[t])
        grads["b_h"] += da
        dh_next = p["W_hh"].T @ da
    return grads


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gradient_check_thresholds_in_the_text_separate_right_from_wrong(seed):
    """The page says a relative error of RIGHT_BELOW or less means BPTT is right and a one-line mistake gives
    more than WRONG_ABOVE (it said "around 10⁻⁹", which seed 2 exceeds, and "near 1", which no mistake reached)."""
    from rnnlab.labs.scratch import FD_EPS, RIGHT_BELOW, WRONG_ABOVE

    ex = course_example(seed=seed, targets=[0, 1, 0])
    assert worst_errors(gradient_check(ex, FD_EPS))[0] <= RIGHT_BELOW
    model = NumpyRNN.from_params(ex.params)
    fd = {k: numerical_gradient(model, ex.X, ex.targets, k, eps=FD_EPS) for k in ("W_xh", "W_hh", "b_h")}
    for mistake in ("no slope", "no future"):
        wrong = _mistaken_backward(ex, mistake)
        assert max(relative_error(wrong[k], fd[k]) for k in fd) > WRONG_ABOVE, mistake


def test_backward_flow_total_is_the_size_of_the_sum_not_the_sum_of_the_sizes():
    """The black line is ‖∂L/∂h_t‖: at the default example's t = 1 the two parts partly cancel (the caption
    says so), and the blue part, zero at t = T, grows walking back."""
    from rnnlab.figures.scratch import backward_flow

    _, records = bptt_by_hand(course_example(targets=[0, 1, 0]))
    fig = backward_flow(records, 1)
    red, blue, total = (list(tr.y) for tr in fig.data)
    assert "size of their sum" in fig.data[2].name
    assert total[0] < red[0] + blue[0] - 0.1
    assert blue[2] == 0 and blue[0] > blue[1] > 0


def test_power_of_ten_text():
    from rnnlab.labs.scratch import power_of_ten

    assert power_of_ten(1e-6) == "10⁻⁶" and power_of_ten(1e-7) == "10⁻⁷" and power_of_ten(100) == "10²"


# --- issue 29: what a student types --------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("\u200b\u200b", "Type at least one input"),             # invisible only: empty, as on every page
    (" , ,\u200b ", "Type at least one input"),
    ("²", "“²” is not a whole number"),                       # a digit to str.isdigit, not a number
    ("①", "“①” is not a whole number"),
    ("1_0", "“1_0” is not a whole number"),                   # int() reads it as 10
    ("\u202eabc", "“\\u202eabc” is not a whole number"),     # quoted visibly: no reversed message
    ("9" * 50, "is not a valid input"),
], ids=["zero-width", "separators", "superscript", "circled", "underscore", "rtl-override", "50-digits"])
def test_zero_width_only_and_odd_digit_inputs_are_refused_with_the_value_quoted_visibly(text, message):
    """Issue 29: the inputs box read "\u200b\u200b" as a number it could not parse and quoted it invisibly
    (and U+202E reversed its own message); numbers are read by rnnlab.inputs.parse_number, the value quoted by
    rnnlab.inputs.shown, invisible-only text is empty (rnnlab.inputs.readable)."""
    with pytest.raises(InputError) as err:
        parse_indices(text, 3, "input")
    assert message in str(err.value) and "\u202e" not in str(err.value)
    assert parse_indices("٣, 0", 4, "input") == [3, 0]           # decimal digits of any script are digits


def test_page_explains_zero_width_inputs_like_empty_ones(root):
    """Issue 29: the page's inputs and targets boxes, invisible-only: the empty box's message."""
    at = _page(root, scr_inputs="\u200b\u200b")
    assert any("Type at least one input" in e.value for e in at.error)
    at = _page(root, scr_targets="\u200b")
    assert any("Type at least one target" in e.value for e in at.error)


def test_a_sentence_of_invisible_characters_is_refused_and_direction_marks_are_left_out(root):
    """Issue 29: a sentence of zero-width spaces trained a model on an invisible alphabet; it is refused like
    an empty one. Direction marks in a real sentence are left out (they would reverse the samples shown)."""
    for invisible in ("\u200b\u200b", "\u202e\u200f", " \n "):
        with pytest.raises(InputError, match="Type a sentence"):
            training_text(invisible)
        with pytest.raises(ValueError, match="Type a sentence"):
            char_model_job(FakeContext(), sentence=invisible, steps=5)
    assert clean_sentence("\u202ehello\u200b  world") == "hello world"
    at = _page(root, scr_tab="Train a character model", scr_sentence="\u200b\u200b")
    assert any("none you can see" in w.value for w in at.warning)
    assert at.button(key="scr_char_train").disabled
    at = _page(root, scr_tab="Train a character model", scr_sentence="\u202ehi there")
    assert any("6 different characters" in c.value and "left out" in c.value for c in at.caption)


def test_a_learning_rate_that_overshoots_is_explained():
    """Issue 29: at the largest learning rate (0.5) with 128 hidden units the loss ends ten times above chance
    (ln V) and the run said only "Finished": its message now says it is worse than guessing, and why."""
    res = char_model_job(FakeContext(), sentence="hello world", hidden=128, steps=100, lr=0.5, sample_every=50)
    assert res["metrics"]["loss_last20"] > res["metrics"]["chance_loss"]
    assert "above chance" in res["message"] and "learning rate, 0.5" in res["message"]
    assert above_chance([0.1] * 20, 8, 5e-3) is None and above_chance([3.0] * 5, 8, 0.5) is None
