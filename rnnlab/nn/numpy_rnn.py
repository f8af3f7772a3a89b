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

``rnn_forward`` is the same forward pass written the way a course writes it on one slide (it is what the
"RNN from scratch" page shows and runs); ``NumpyRNN.backward(cache, record=steps)`` keeps every
intermediate gradient of BPTT, step by step, for the page to print.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..status import Status, stop_status

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
INITS = ("xavier", "small")


def xavier_uniform(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), so that a layer keeps the
    variance of what flows through it roughly unchanged, forwards and backwards."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, (fan_out, fan_in))


def init_params(input_size: int, hidden_size: int, output_size: int, seed: int = 0, init: str = "xavier",
                scale: float = 0.01, dtype=np.float64) -> dict[str, np.ndarray]:
    """The five weights of a vanilla RNN, drawn from ``np.random.default_rng(seed)`` in the order
    W_xh, W_hh, W_hy. ``init``: "xavier" (Glorot uniform, biases zero) or "small" (N(0, scale²), as in
    Karpathy's min-char-rnn)."""
    if init not in INITS:
        raise ValueError(f"unknown initialisation {init!r}; choose from {', '.join(INITS)}")
    rng = np.random.default_rng(seed)
    if init == "xavier":
        draw = lambda rows, cols: xavier_uniform(rng, rows, cols)  # noqa: E731
    else:
        draw = lambda rows, cols: rng.normal(0, scale, (rows, cols))  # noqa: E731
    W_xh, W_hh, W_hy = draw(hidden_size, input_size), draw(hidden_size, hidden_size), draw(output_size, hidden_size)
    return {"W_xh": W_xh.astype(dtype), "W_hh": W_hh.astype(dtype), "b_h": np.zeros(hidden_size, dtype=dtype),
            "W_hy": W_hy.astype(dtype), "b_y": np.zeros(output_size, dtype=dtype)}


def rnn_forward(X, W_xh, W_hh, W_hy, b_h, b_y, h0=None):
    """Run the RNN over the rows of X; return the hidden state and the output after every step."""
    h = np.zeros(W_hh.shape[0]) if h0 is None else h0
    hs, ys = [], []
    for x in X:                                 # a time step
        h = np.tanh(W_xh @ x + W_hh @ h + b_h)  # new memory
        y = W_hy @ h + b_y                      # output
        hs.append(h)
        ys.append(y)
    return np.array(hs), np.array(ys)


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
                 dtype=np.float64, scale: float = 0.01, init: str = "small"):
        self.hidden_size = hidden_size
        self.params: dict[str, np.ndarray] = init_params(input_size, hidden_size, output_size, seed, init, scale,
                                                         dtype)

    @classmethod
    def from_params(cls, params: dict) -> NumpyRNN:
        """A model around existing weights (copied, as float64 arrays if they were tensors or lists)."""
        model = cls.__new__(cls)
        as_array = lambda v: v.detach().cpu().numpy() if hasattr(v, "detach") else v  # noqa: E731 (torch tensors)
        model.params = {k: np.array(as_array(params[k]), dtype=np.float64) for k in PARAM_NAMES}
        model.hidden_size = model.params["W_hh"].shape[0]
        return model

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

    def backward(self, cache: Cache, record: list | None = None) -> dict[str, np.ndarray]:
        """Backpropagation through time; returns a gradient per parameter (and ``h0``).

        With ``record`` (a list), one dict per step is appended, from the last step back to the first:
        ``t`` (1-based), ``dy`` (∂L/∂y_t), ``dh_out`` (from this step's output), ``dh_next`` (from the
        future), ``dh`` (their sum), ``da`` (∂L/∂a_t), this step's terms ``dW_xh``, ``dW_hh``, ``db_h``,
        and ``sum_W_hh`` (∂L/∂W_hh accumulated so far)."""
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
            dh_out = p["W_hy"].T @ dY[t]
            dh = dh_out + dh_next
            da = (1.0 - H[t + 1] ** 2) * dh
            grads["W_xh"] += np.outer(da, X[t])
            grads["W_hh"] += np.outer(da, H[t])
            grads["b_h"] += da
            if record is not None:
                record.append({"t": t + 1, "dy": dY[t].copy(), "dh_out": dh_out, "dh_next": dh_next, "dh": dh,
                               "da": da, "dW_xh": np.outer(da, X[t]), "dW_hh": np.outer(da, H[t]), "db_h": da.copy(),
                               "sum_W_hh": grads["W_hh"].copy(), "sum_W_xh": grads["W_xh"].copy()})
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
    status: Status = Status.FINISHED    # or STOPPED, TIME_LIMIT, DIVERGED
    message: str = ""


def alphabet(text: str) -> list[str]:
    """The characters of ``text``, sorted: index k of the one-hot vectors is ``alphabet(text)[k]``."""
    return sorted(set(text))


def sample_text(model: NumpyRNN, chars: list[str], prime: str, n: int, rng: np.random.Generator,
                temperature: float = 1.0) -> str:
    """Continue ``prime`` by ``n`` sampled characters: the prime is read first (warming up h), then each
    sampled character is fed back in. Characters of the prime outside the alphabet are skipped."""
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in prime if c in index] or [0]
    h = np.zeros(model.hidden_size)
    p = model.params
    for i in ids[:-1]:
        h = np.tanh(p["W_xh"][:, i] + p["W_hh"] @ h + p["b_h"])   # W_xh @ onehot(i) is column i
    out = model.sample(ids[-1], n, len(chars), rng, h0=h, temperature=temperature)
    return "".join(chars[i] for i in out)


def train_chars(text: str, hidden_size: int = 64, seq_len: int = 25, steps: int = 500,
                lr: float = 1e-2, optimizer: str = "adam", clip: float | None = 5.0, seed: int = 0,
                on_step=None, should_stop=None) -> tuple[NumpyRNN, list[str], CharTrainingLog]:
    """Next-character prediction: walk through ``text`` in windows of ``seq_len``, carrying h across
    windows (truncated BPTT). Returns the model, its alphabet and the loss per step.

    ``on_step(step, loss, model)`` is called after every update; ``should_stop()`` before each one: a
    truthy answer (``Status.STOPPED``, ``Status.TIME_LIMIT``) ends training there, with that status in the log."""
    if len(text) < seq_len + 1:
        raise ValueError(f"text needs at least {seq_len + 1} characters, got {len(text)}")
    chars = alphabet(text)
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    V = len(chars)
    model = NumpyRNN(V, hidden_size, V, seed=seed)
    opt = Adam(lr=lr) if optimizer == "adam" else SGD(lr=lr)
    log = CharTrainingLog()
    h, pos = np.zeros(hidden_size), 0
    for step in range(steps):
        reason = stop_status(should_stop()) if should_stop is not None else None
        if reason:
            log.status, log.message = reason, f"Stopped after {step} of {steps} steps."
            break
        if pos + seq_len + 1 > len(data):
            h, pos = np.zeros(hidden_size), 0
        X = one_hot(data[pos:pos + seq_len], V)
        loss, grads, h = model.loss_and_grads(X, data[pos + 1:pos + seq_len + 1], h)
        if not np.isfinite(loss):
            log.status = Status.DIVERGED
            log.message = f"The loss became {loss} at step {step}: lower the learning rate."
            break
        norm = clip_gradients(grads, clip) if clip else clip_gradients(grads, np.inf)
        opt.step(model.params, grads)
        log.steps.append(step)
        log.losses.append(loss)
        log.grad_norms.append(norm)
        if on_step is not None:
            on_step(step, loss, model)
        pos += seq_len
    else:
        log.message = f"{steps} steps done."
    return model, chars, log
