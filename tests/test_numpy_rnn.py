"""The NumPy RNN's hand-written BPTT against finite differences and torch autograd."""
import numpy as np
import pytest
import torch

from rnnlab.nn.numpy_rnn import (
    SGD,
    Adam,
    NumpyRNN,
    clip_gradients,
    numerical_gradient,
    one_hot,
    relative_error,
    train_chars,
)
from rnnlab.status import Status


def _problem(seed=0, T=6, V=4, H=5):
    rng = np.random.default_rng(seed)
    model = NumpyRNN(V, H, V, seed=seed, scale=0.5)  # large weights: non-trivial tanh slopes
    X = one_hot(rng.integers(0, V, T), V)
    targets = rng.integers(0, V, T)
    h0 = rng.normal(0, 0.5, H)
    return model, X, targets, h0


@pytest.mark.parametrize("name", ["W_xh", "W_hh", "b_h", "W_hy", "b_y"])
def test_bptt_matches_finite_differences(name):
    model, X, targets, h0 = _problem()
    cache = model.forward(X, targets, h0)
    analytic = model.backward(cache)[name]
    numeric = numerical_gradient(model, X, targets, name, eps=1e-6, h0=h0)
    assert relative_error(analytic, numeric) < 1e-5


def test_bptt_matches_torch_autograd():
    model, X, targets, h0 = _problem(seed=1, T=9)
    grads = model.backward(model.forward(X, targets, h0))
    p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    h = torch.tensor(h0, requires_grad=True)
    h_t, logits = h, []
    for x in torch.tensor(X):
        h_t = torch.tanh(p["W_xh"] @ x + p["W_hh"] @ h_t + p["b_h"])
        logits.append(p["W_hy"] @ h_t + p["b_y"])
    loss = torch.nn.functional.cross_entropy(torch.stack(logits), torch.tensor(targets))
    loss.backward()
    for k, v in p.items():
        assert relative_error(grads[k], v.grad.numpy()) < 1e-10, k
    assert relative_error(grads["h0"], h.grad.numpy()) < 1e-10


def test_clipping_bounds_the_global_norm():
    grads = {"W_xh": np.full((2, 2), 3.0), "b_h": np.full(2, 4.0)}
    before = clip_gradients(grads, 1.0)
    assert before == pytest.approx(np.sqrt(4 * 9 + 2 * 16))
    after = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    assert after == pytest.approx(1.0)


@pytest.mark.parametrize("opt", [SGD(lr=0.1), Adam(lr=0.1)])
def test_optimisers_descend_a_quadratic(opt):
    params = {"w": np.array([3.0, -2.0])}
    for _ in range(200):
        opt.step(params, {"w": 2 * params["w"]})
    assert np.abs(params["w"]).max() < 0.1


def test_learns_next_character():
    text = "hello world, hello rnn. " * 20
    model, chars, log = train_chars(text, hidden_size=32, seq_len=16, steps=300, lr=1e-2, seed=0)
    first, last = np.mean(log.losses[:10]), np.mean(log.losses[-20:])
    assert first == pytest.approx(np.log(len(chars)), rel=0.05)  # starts at chance
    assert last < 0.35 * first
    sample = model.sample(chars.index("h"), 20, len(chars), np.random.default_rng(0), temperature=0.3)
    assert "hello" in "h" + "".join(chars[i] for i in sample)


def test_short_text_is_refused():
    with pytest.raises(ValueError, match="at least"):
        train_chars("abc", seq_len=25)


def test_course_style_forward_equals_the_model():
    from rnnlab.nn.numpy_rnn import rnn_forward

    model, X, targets, h0 = _problem(seed=2, T=7)
    H, Y = rnn_forward(X, **model.params, h0=h0)
    cache = model.forward(X, targets, h0)
    np.testing.assert_allclose(H, cache.H[1:], atol=1e-14)
    np.testing.assert_allclose(np.exp(Y) / np.exp(Y).sum(1, keepdims=True), cache.P, atol=1e-14)


def test_xavier_init_is_bounded_seeded_and_has_zero_biases():
    from rnnlab.nn.numpy_rnn import init_params

    p = init_params(3, 4, 2, seed=5, init="xavier")
    for name, (fan_out, fan_in) in {"W_xh": (4, 3), "W_hh": (4, 4), "W_hy": (2, 4)}.items():
        assert p[name].shape == (fan_out, fan_in)
        assert np.abs(p[name]).max() <= np.sqrt(6 / (fan_in + fan_out))
    assert not p["b_h"].any() and not p["b_y"].any()
    np.testing.assert_array_equal(p["W_hh"], init_params(3, 4, 2, seed=5)["W_hh"])
    assert not np.array_equal(p["W_hh"], init_params(3, 4, 2, seed=6)["W_hh"])
    with pytest.raises(ValueError, match="unknown"):
        init_params(3, 4, 2, init="he")


def test_recorded_backward_steps_add_up_to_the_gradients():
    model, X, targets, h0 = _problem(seed=3, T=5)
    record = []
    grads = model.backward(model.forward(X, targets, h0), record=record)
    assert [r["t"] for r in record] == [5, 4, 3, 2, 1]
    np.testing.assert_allclose(sum(r["dW_hh"] for r in record), grads["W_hh"], atol=1e-14)
    np.testing.assert_allclose(sum(r["dW_xh"] for r in record), grads["W_xh"], atol=1e-14)
    np.testing.assert_allclose(record[-1]["sum_W_hh"], grads["W_hh"], atol=1e-14)
    assert not record[0]["dh_next"].any()  # nothing comes back from after the last step
    for later, earlier in zip(record, record[1:]):
        np.testing.assert_allclose(earlier["dh_next"], model.params["W_hh"].T @ later["da"], atol=1e-14)


def test_training_stops_when_asked_and_samples_continue_a_prime():
    from rnnlab.nn.numpy_rnn import sample_text

    calls = []
    stop_at = 30
    model, chars, log = train_chars("abcabcabc" * 10, hidden_size=16, seq_len=8, steps=500, lr=3e-2,
                                    on_step=lambda s, loss, m: calls.append(s),
                                    should_stop=lambda: Status.STOPPED if len(calls) >= stop_at else None)
    assert log.status == Status.STOPPED and len(log.losses) == stop_at == len(calls)
    model, chars, log = train_chars("abcabcabc" * 10, hidden_size=16, seq_len=8, steps=300, lr=3e-2)
    assert log.status == Status.FINISHED
    out = sample_text(model, chars, "ab", 9, np.random.default_rng(0), temperature=0.1)
    assert out == "cabcabcab"
