"""Time series for forecasting: built-in series, CSV parsing, windowing, a chronological split and
scaling fitted on the training part only (so that nothing about the future leaks into training).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_CSV_MB = 20


class SeriesError(ValueError):
    """Unusable series input; the message says what is wrong."""


@dataclass
class Series:
    name: str
    time: np.ndarray                 # (N,) datetimes or step numbers
    values: np.ndarray               # (N, F) float; column 0 is the target
    columns: list[str]
    period: int | None = None        # a known seasonal period, if any

    @property
    def target(self) -> np.ndarray:
        return self.values[:, 0]

    def __len__(self) -> int:
        return len(self.values)


# --- built-in series --------------------------------------------------------------------------------
def sine(n: int = 1000, period: float = 50.0, noise: float = 0.0, seed: int = 0) -> Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n)
    return Series("sine", t, y[:, None], ["value"], int(round(period)))


def sines_trend(n: int = 1000, periods=(50.0, 13.0), amplitudes=(1.0, 0.5), trend: float = 0.002,
                noise: float = 0.1, seed: int = 0) -> Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = sum(a * np.sin(2 * np.pi * t / p) for p, a in zip(periods, amplitudes)) + trend * t + noise * rng.normal(size=n)
    return Series("sum of sines + trend + noise", t, y[:, None], ["value"], int(round(periods[0])))


def ar2(n: int = 1000, phi1: float = 0.6, phi2: float = -0.3, sigma: float = 1.0, seed: int = 0) -> Series:
    """x_t = φ1 x_(t-1) + φ2 x_(t-2) + ε_t, ε ~ N(0, σ²) (stationary for the defaults)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n + 100)
    e = rng.normal(0, sigma, n + 100)
    with np.errstate(over="ignore", invalid="ignore"):  # explosive coefficients: the page says so
        for t in range(2, n + 100):
            x[t] = phi1 * x[t - 1] + phi2 * x[t - 2] + e[t]
    return Series("AR(2)", np.arange(n), x[100:, None], ["value"])


def mackey_glass(n: int = 1000, tau: int = 17, beta: float = 0.2, gamma: float = 0.1, power: int = 10,
                 dt: float = 1.0, seed: int = 0) -> Series:
    """dx/dt = β x(t-τ) / (1 + x(t-τ)^n) - γ x(t); chaotic for τ = 17 (integrated with Euler, 10 substeps)."""
    rng = np.random.default_rng(seed)
    sub = 10
    h = dt / sub
    lag = tau * sub
    total = (n + 200) * sub
    x = np.empty(total + lag)
    x[:lag + 1] = 1.2 + 0.01 * rng.normal(size=lag + 1)
    for i in range(lag, total + lag - 1):
        xl = x[i - lag]
        x[i + 1] = x[i] + h * (beta * xl / (1 + xl ** power) - gamma * x[i])
    y = x[lag::sub][200:200 + n]
    return Series("Mackey-Glass (τ=17)", np.arange(len(y)), y[:, None], ["value"])


def stocks(ticker: str = "GOOG") -> Series:
    """Weekly closing prices (normalised to 1 on 2018-01-01) from plotly's bundled dataset."""
    import plotly.data

    df = plotly.data.stocks()
    if ticker not in df.columns:
        raise SeriesError(f"no ticker {ticker}; choose from {', '.join(c for c in df.columns if c != 'date')}")
    others = [c for c in df.columns if c not in ("date", ticker)]
    return Series(f"{ticker} weekly price (plotly)", pd.to_datetime(df["date"]).to_numpy(),
                  df[[ticker] + others].to_numpy(float), [ticker] + others)


def sunspots() -> Series:
    """Yearly sunspot activity 1700-2008 (statsmodels); an 11-year cycle."""
    import statsmodels.api as sm

    df = sm.datasets.sunspots.load_pandas().data
    return Series("sunspots (yearly, statsmodels)", df["YEAR"].astype(int).to_numpy(), df[["SUNACTIVITY"]].to_numpy(float),
                  ["SUNACTIVITY"], 11)


def co2() -> Series:
    """Mauna Loa CO2, weekly 1958-2001 (statsmodels), gaps filled by interpolation; a 52-week cycle."""
    import statsmodels.api as sm

    df = sm.datasets.co2.load_pandas().data.interpolate()
    return Series("CO2 at Mauna Loa (weekly, statsmodels)", df.index.to_numpy(), df[["co2"]].to_numpy(float), ["co2"], 52)


BUILTIN = {
    "sine": sine, "sum of sines + trend + noise": sines_trend, "AR(2) process": ar2,
    "Mackey-Glass chaos": mackey_glass, "stock prices (plotly)": stocks, "sunspots (statsmodels)": sunspots,
    "CO2 (statsmodels)": co2,
}


# --- CSV ----------------------------------------------------------------------------------------------
@dataclass
class CsvTable:
    frame: pd.DataFrame
    numeric: list[str]
    time_candidates: list[str]


def read_table(raw: bytes, max_mb: float = MAX_CSV_MB) -> CsvTable:
    """Parse an uploaded CSV; list its numeric columns and the columns that could be the time axis."""
    if len(raw) > max_mb * 1e6:
        raise SeriesError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {max_mb:.0f} MB")
    if not raw.strip():
        raise SeriesError("the file is empty")
    try:
        df = pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise SeriesError(f"not a readable CSV: {str(err).splitlines()[0]}") from None
    if df.empty or len(df.columns) == 0:
        raise SeriesError("the CSV has no rows")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    time_candidates = []
    for c in df.columns:
        if c in numeric:
            continue
        parsed = pd.to_datetime(df[c], errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            time_candidates.append(c)
    return CsvTable(df, numeric, time_candidates)


def series_from_table(table: CsvTable, target: str, features: list[str] = (), time_column: str | None = None,
                      missing: str = "fill") -> Series:
    """Build a Series from chosen columns. ``missing``: "fill" (interpolate, then edge values) or "drop"."""
    df = table.frame
    cols = [target] + [f for f in features if f != target]
    for c in cols:
        if c not in df.columns:
            raise SeriesError(f"no column {c!r}")
        if c not in table.numeric:
            bad = df[c][pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()].head(3).tolist()
            raise SeriesError(f"column {c!r} is not numeric (e.g. {bad}); choose a numeric column")
    data = df[cols].astype(float)
    t = None
    if time_column:
        t = pd.to_datetime(df[time_column], errors="coerce", format="mixed")
        order = np.argsort(t.to_numpy(), kind="stable")
        data, t = data.iloc[order].reset_index(drop=True), t.iloc[order].reset_index(drop=True)
    n_missing = int(data.isna().any(axis=1).sum())
    if n_missing:
        if missing == "drop":
            keep = ~data.isna().any(axis=1)
            data = data[keep]
            t = t[keep] if t is not None else None
        elif missing == "fill":
            data = data.interpolate(limit_direction="both")
        else:
            raise SeriesError(f"{n_missing} rows have missing values: choose to fill or drop them")
    if data.isna().any().any():
        raise SeriesError("a column is entirely empty")
    time = t.to_numpy() if t is not None else np.arange(len(data))
    return Series(target, time, data.to_numpy(float), cols)


# --- windowing, splitting, scaling --------------------------------------------------------------------
@dataclass
class Scaler:
    """Standardisation with the mean and standard deviation of the *training* part."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "Scaler":
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 1e-12, std, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean) / self.std

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        return y * self.std[0] + self.mean[0]


@dataclass
class Split:
    """Chronological parts of a series and the windows cut from each (scaled with the train-only scaler)."""

    series: Series
    window: int
    horizon: int
    bounds: tuple[int, int]          # index where validation starts, index where test starts
    scaler: Scaler
    scaled: np.ndarray               # (N, F)
    parts: dict = field(default_factory=dict)   # name -> (X (n, window, F), Y (n, horizon), target indices (n,))


def make_windows(values: np.ndarray, window: int, horizon: int, start: int, end: int):
    """Samples whose *targets* lie in [start, end): inputs are the ``window`` steps before each target
    block (they may reach back before ``start``: the past is known when forecasting)."""
    X, Y, idx = [], [], []
    for t in range(max(start, window), end - horizon + 1):
        X.append(values[t - window:t])
        Y.append(values[t:t + horizon, 0])
        idx.append(t)
    F = values.shape[1]
    if not X:
        return np.zeros((0, window, F)), np.zeros((0, horizon)), np.zeros(0, dtype=int)
    return np.stack(X), np.stack(Y), np.array(idx)


def split_series(series: Series, window: int = 30, horizon: int = 1, val: float = 0.15, test: float = 0.15) -> Split:
    """Chronological train / validation / test split; the scaler sees the training part only."""
    N = len(series)
    if window < 1 or horizon < 1:
        raise SeriesError("window and horizon must be at least 1")
    n_test, n_val = int(N * test), int(N * val)
    v0, t0 = N - n_test - n_val, N - n_test
    need = window + horizon
    if v0 < need + 10 or n_val < horizon or n_test < horizon:
        raise SeriesError(f"the series has {N} points: too short for a window of {window} and a horizon of {horizon} "
                          f"(need about {int((need + 10) / (1 - val - test)) + 1} points)")
    scaler = Scaler.fit(series.values[:v0])
    scaled = scaler.transform(series.values)
    parts = {"train": make_windows(scaled, window, horizon, 0, v0),
             "val": make_windows(scaled, window, horizon, v0, t0),
             "test": make_windows(scaled, window, horizon, t0, N)}
    return Split(series, window, horizon, (v0, t0), scaler, scaled, parts)
