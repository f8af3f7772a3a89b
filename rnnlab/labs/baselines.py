"""Forecasting baselines an RNN must beat, and the metrics to compare them.

Every method forecasts, from each origin t (using only y[:t]), the next ``horizon`` values y[t:t+h].
* naive:            the last observed value, repeated.
* seasonal naive:   the value one season (period m) earlier.
* linear AR(p):     y_t = c + Σ a_i y_(t-i), fitted by least squares on the training part; multi-step
                    forecasts feed predictions back in.
* ARIMA(p, d, q):   statsmodels, fitted on the training part; d from an augmented Dickey-Fuller test.

Metrics: MAE, RMSE and MASE = MAE / (mean |y_t - y_(t-1)| on the training part): below 1 beats the
one-step naive forecast of the training data.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np


def naive(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(y[origins - 1][:, None], horizon, axis=1)


def seasonal_naive(y: np.ndarray, origins: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """ŷ[t+h] = y[t+h - m·(⌊h/m⌋+1)] (the same point of the last full season seen)."""
    h = np.arange(horizon)
    back = period * (h // period + 1)
    return y[origins[:, None] + h[None, :] - back[None, :]]


def autocorrelation(y: np.ndarray, max_lag: int) -> np.ndarray:
    """acf[k-1] = Σ y_t y_(t+k) / Σ y_t² for k = 1..max_lag (y already centred), by FFT: O(n log n)."""
    n = len(y)
    size = 1 << int(np.ceil(np.log2(2 * n)))           # zero-padded: a linear, not circular, correlation
    f = np.fft.rfft(y, size)
    full = np.fft.irfft(f * np.conj(f), size)[:max_lag + 1]
    return full[1:] / full[0]


def detect_period(y: np.ndarray, max_period: int | None = None, min_acf: float = 0.3) -> int | None:
    """The lag (>= 2) of the highest autocorrelation peak of the detrended series, if it exceeds ``min_acf``.

    The autocorrelation comes from an FFT, so a long upload costs O(n log n), not O(n²)."""
    y = np.asarray(y, float)
    n = len(y)
    if n < 8 or not np.all(np.isfinite(y)):
        return None
    t = np.arange(n)
    y = y - np.polyval(np.polyfit(t, y, 1), t)   # remove a linear trend (it would dominate the ACF)
    y = y - y.mean()
    if float((y * y).sum()) <= 0:
        return None
    max_period = min(max_period or n // 3, n // 2)
    if max_period < 3:
        return None
    acf = autocorrelation(y, max_period)
    k = np.arange(2, max_period)                  # candidate lags with a neighbour on each side
    peak = (acf[k - 1] > acf[k - 2]) & (acf[k - 1] >= acf[k])
    if not peak.any():
        return None
    best = int(k[peak][np.argmax(acf[k[peak] - 1])])
    return best if acf[best - 1] >= min_acf else None


class LinearAR:
    """y_t = c + Σ_{i=1..p} a_i y_(t-i), least squares."""

    def __init__(self, p: int):
        self.p = p
        self.coef: np.ndarray | None = None

    def fit(self, y: np.ndarray) -> LinearAR:
        p = self.p
        if len(y) <= p + 1:
            raise ValueError(f"need more than {p + 1} points to fit AR({p})")
        X = np.stack([y[p - i - 1:len(y) - i - 1] for i in range(p)], axis=1)   # column i: lag i+1
        A = np.hstack([np.ones((len(X), 1)), X])
        self.coef, *_ = np.linalg.lstsq(A, y[p:], rcond=None)
        return self

    def forecast(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        p, c = self.p, self.coef
        hist = np.stack([y[o - p:o][::-1] for o in origins])    # most recent first
        out = np.empty((len(origins), horizon))
        for h in range(horizon):
            pred = c[0] + hist @ c[1:]
            out[:, h] = pred
            hist = np.hstack([pred[:, None], hist[:, :-1]])
        return out


def arima_forecast(y: np.ndarray, train_end: int, origins: np.ndarray, horizon: int,
                   order: tuple[int, int, int] | None = None,
                   check: Callable[[], None] | None = None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """ARIMA fitted on y[:train_end]; forecasts from each origin with the parameters kept fixed.

    ``check`` is called between origins of a multi-step forecast (a job's stop and time limit)."""
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.stattools import adfuller

    if order is None:
        d = 0
        try:
            if adfuller(y[:train_end], autolag="AIC", result_object=False)[1] > 0.05:
                d = 1
        except ValueError:
            pass
        order = (2, d, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the forecasts are checked by the metrics
        fit = ARIMA(y[:train_end], order=order).fit()
        full = fit.apply(y)  # same parameters, filtered over the whole series: uses only the past at each step
        out = np.empty((len(origins), horizon))
        if horizon == 1:
            pred = full.predict()                 # one-step-ahead predictions at every index
            out[:, 0] = pred[origins]
        else:
            for k, o in enumerate(origins):
                if check is not None and k % 20 == 0:
                    check()
                out[k] = full.get_prediction(start=int(o), end=int(o) + horizon - 1, dynamic=True).predicted_mean
    if not np.all(np.isfinite(out)):
        raise ValueError("ARIMA's forecasts are not finite")
    return out, order


def metrics(truth: np.ndarray, pred: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE and MASE (= MAE / ``scale``; NaN when the scale is 0 or not finite)."""
    err = np.asarray(pred, float) - np.asarray(truth, float)
    mae = float(np.abs(err).mean())
    ok = np.isfinite(scale) and scale > 0
    return {"MAE": mae, "RMSE": float(np.sqrt((err ** 2).mean())), "MASE": mae / scale if ok else float("nan")}


def naive_scale(y_train: np.ndarray) -> float:
    """Mean absolute one-step change on the training part: the MASE denominator."""
    return float(np.abs(np.diff(y_train)).mean()) if len(y_train) > 1 else float("nan")


def all_baselines(y: np.ndarray, train_end: int, origins: np.ndarray, horizon: int, period: int | None = None,
                  ar_order: int = 10, with_arima: bool = True, check: Callable[[], None] | None = None,
                  notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Forecasts of every baseline from each origin: name -> (n_origins, horizon).

    A baseline that fails (ARIMA on an odd series) is left out, and the reason appended to ``notes``."""
    out = {"naive (last value)": naive(y, origins, horizon)}
    m = period or detect_period(y[:train_end])
    if m and m < min(origins):
        out[f"seasonal naive (m={m})"] = seasonal_naive(y, origins, horizon, m)
    p = max(1, min(ar_order, train_end // 4))
    try:
        out[f"linear AR({p})"] = LinearAR(p).fit(y[:train_end]).forecast(y, origins, horizon)
    except (np.linalg.LinAlgError, ValueError) as err:
        if notes is not None:
            notes.append(f"linear AR({p}) could not be fitted: {err}")
    if with_arima:
        try:
            pred, order = arima_forecast(y, train_end, origins, horizon, check=check)
            out[f"ARIMA{order}"] = pred
        except Exception as err:
            if type(err).__name__ == "JobStopped":
                raise
            if notes is not None:
                notes.append(f"ARIMA could not be fitted ({str(err).splitlines()[0][:120]}): it is left out.")
    return out


def method_kind(name: str) -> str:
    """A short stable key for a method's name (for links and colours): naive, seasonal, ar, arima or rnn."""
    if name.startswith("naive"):
        return "naive"
    if name.startswith("seasonal"):
        return "seasonal"
    if name.startswith("linear AR"):
        return "ar"
    if name.startswith("ARIMA"):
        return "arima"
    return "rnn"
