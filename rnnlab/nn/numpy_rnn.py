"""A vanilla RNN in NumPy, from scratch: forward pass, backpropagation through time by hand,
gradient clipping, and SGD / Adam. Small enough to read in one sitting.

Forward, for t = 1..T (x_t a column vector, here one row of ``X``)::

    a_t = W_xh x_t + W_hh h_(t-1) + b_h
    h_t = tanh(a_t)
    y_t = W_hy h_t + b_y               logits
    p_t = softmax(y_t)
    L   = (1/T) sum_t -log p_t[target_t]

Backward (BPTT), for t = T..1, with dh_next = 0 at the end::

    dy_t   = (p_t - onehot(target_t)) / T
    dW_hy += dy_t h_t^T                 db_y += dy_t
    dh_t   = W_hy^T dy_t + dh_next      (the loss at t, plus everything later steps send back)
    da_t   = (1 - h_t^2) * dh_t         (tanh' = 1 - tanh^2)
    dW_xh += da_t x_t^T   dW_hh += da_t h_(t-1)^T   db_h += da_t
    dh_next = W_hh^T da_t               (this product, repeated, is what vanishes or explodes)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def one_hot(indices, size: int, dtype=np.float64) -> np.ndarray:
    """(T,) integer indices -> (T, size) one-hot rows."""
    indices = np.asarray(indices, dtype=np.int64)
    out = np.zeros((len(indices), size), dtype=dtype)
    out[np.arange(len(indices)), indices] = 1.0
    return out


def softmax(y: np.ndarray) -> np.ndarray:
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass."""

    X: np.ndarray        # (T, D) inputs
    H: np.ndarray        # (T+1, hidden) states, H[0] = h0
    P: np.ndarray        # (T, O) softmax outputs
    targets: np.ndarray  # (T,) target indices
    loss: float


class NumpyRNN:
    """Many-to-many vanilla (tanh) RNN with a softmax output at every step."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0,
                 dtype=np.float64, scale: float = 0.01):
        rng = np.random.default_rng(seed)
        self.hidden_size = hidden_size
        self.params: dict[str, np.ndarray] = {
            "W_xh": rng.normal(0, scale, (hidden_size, input_size)).astype(dtype),
            "W_hh": rng.normal(0, scale, (hidden_size, hidden_size)).astype(dtype),
            "b_h": np.zeros(hidden_size, dtype=dtype),
            "W_hy": rng.normal(0, scale, (output_size, hidden_size)).astype(dtype),
            "b_y": np.zeros(output_size, dtype=dtype),
        }

    def forward(self, X: np.ndarray, targets, h0: np.ndarray | None = None) -> Cache:
        """Run the sequence ``X`` (T, D); return the cache with the mean cross-entropy loss."""
        p = self.params
        T = X.shape[0]
        targets = np.asarray(targets, dtype=np.int64)
        H = np.zeros((T + 1, self.hidden_size), dtype=p["W_hh"].dtype)
        if h0 is not None:
            H[0] = h0
        for t in range(T):
            H[t + 1] = np.tanh(p["W_xh"] @ X[t] + p["W_hh"] @ H[t] + p["b_h"])
        P = softmax(H[1:] @ p["W_hy"].T + p["b_y"])
        loss = float(-np.log(P[np.arange(T), targets] + 1e-300).mean())
        return Cache(X, H, P, targets, loss)

    def backward(self, cache: Cache) -> dict[str, np.ndarray]:
        """Backpropagation through time; returns a gradient per parameter (and ``h0``)."""
        p = self.params
        X, H, P, targets = cache.X, cache.H, cache.P, cache.targets
        T = X.shape[0]
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        dY = P.copy()
        dY[np.arange(T), targets] -= 1.0
        dY /= T
        # The output layer sees each step independently: do it for all steps in one product.
        grads["W_hy"] = dY.T @ H[1:]
        grads["b_y"] = dY.sum(axis=0)
        dh_next = np.zeros(self.hidden_size, dtype=H.dtype)
        for t in reversed(range(T)):
            dh = p["W_hy"].T @ dY[t] + dh_next
            da = (1.0 - H[t + 1] ** 2) * dh
            grads["W_xh"] += np.outer(da, X[t])
            grads["W_hh"] += np.outer(da, H[t])
            grads["b_h"] += da
            dh_next = p["W_hh"].T @ da
        grads["h0"] = dh_next
        return grads

    def loss_and_grads(self, X, targets, h0=None):
        cache = self.forward(X, targets, h0)
        return cache.loss, self.backward(cache), cache.H[-1]

    def sample(self, first_index: int, n: int, vocab_size: int, rng: np.random.Generator,
               h0: np.ndarray | None = None, temperature: float = 1.0) -> list[int]:
        """Generate ``n`` indices, feeding each sampled index back in as the next one-hot input."""
        p = self.params
        h = np.zeros(self.hidden_size) if h0 is None else h0
        idx, out = first_index, []
        for _ in range(n):
            x = np.zeros(vocab_size)
            x[idx] = 1.0
            h = np.tanh(p["W_xh"] @ x + p["W_hh"] @ h + p["b_h"])
            probs = softmax((p["W_hy"] @ h + p["b_y"]) / max(temperature, 1e-6))
            idx = int(rng.choice(len(probs), p=probs))
            out.append(idx)
        return out


def clip_gradients(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``; return the norm before."""
    keys = [k for k in grads if k in PARAM_NAMES]
    norm = float(np.sqrt(sum(float((grads[k] ** 2).sum()) for k in keys)))
    if np.isfinite(norm) and norm > max_norm:
        for k in keys:
            grads[k] *= max_norm / (norm + 1e-12)
    return norm


class SGD:
    """Plain gradient descent: w <- w - lr * g."""

    def __init__(self, lr: float = 0.1):
        self.lr = lr

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for k, w in params.items():
            w -= self.lr * grads[k]


@dataclass
class Adam:
    """Adam (Kingma & Ba 2015): per-weight step sizes from running means of g and g^2, bias-corrected."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, w in params.items():
            g = grads[k]
            m = self.m.setdefault(k, np.zeros_like(w))
            v = self.v.setdefault(k, np.zeros_like(w))
            m[:] = self.beta1 * m + (1 - self.beta1) * g
            v[:] = self.beta2 * v + (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def numerical_gradient(model: NumpyRNN, X, targets, name: str, eps: float = 1e-5, h0=None) -> np.ndarray:
    """Central finite differences of the loss w.r.t. parameter ``name`` (slow; for checking BPTT)."""
    w = model.params[name]
    grad = np.zeros_like(w)
    it = np.nditer(w, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = w[i]
        w[i] = old + eps
        plus = model.forward(X, targets, h0).loss
        w[i] = old - eps
        minus = model.forward(X, targets, h0).loss
        w[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|): 0 when equal, about 1 when unrelated."""
    denom = max(float(np.abs(a).max() + np.abs(b).max()), 1e-30)
    return float(np.abs(a - b).max() / denom)


@dataclass
class CharTrainingLog:
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)


def train_chars(text: str, hidden_size: int = 64, seq_len: int = 25, steps: int = 500,
                lr: float = 1e-2, optimizer: str = "adam", clip: float | None = 5.0, seed: int = 0,
                on_step=None) -> tuple[NumpyRNN, list[str], CharTrainingLog]:
    """Next-character prediction: walk through ``text`` in windows of ``seq_len``, carrying h across
    windows (truncated BPTT). Returns the model, its alphabet and the loss per step."""
    if len(text) < seq_len + 1:
        raise ValueError(f"text needs at least {seq_len + 1} characters, got {len(text)}")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    V = len(chars)
    model = NumpyRNN(V, hidden_size, V, seed=seed)
    opt = Adam(lr=lr) if optimizer == "adam" else SGD(lr=lr)
    log = CharTrainingLog()
    h, pos = np.zeros(hidden_size), 0
    for step in range(steps):
        if pos + seq_len + 1 > len(data):
            h, pos = np.zeros(hidden_size), 0
        X = one_hot(data[pos:pos + seq_len], V)
        loss, grads, h = model.loss_and_grads(X, data[pos + 1:pos + seq_len + 1], h)
        norm = clip_gradients(grads, clip) if clip else clip_gradients(grads, np.inf)
        opt.step(model.params, grads)
        log.steps.append(step)
        log.losses.append(loss)
        log.grad_norms.append(norm)
        if on_step is not None:
            on_step(step, loss)
        pos += seq_len
    return model, chars, log
