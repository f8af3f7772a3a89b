"""Time series for forecasting: built-in series, CSV parsing that says what it did, windowing, a
chronological split and scaling fitted on the training part only (so that nothing about the future leaks
into training).

Uploads are bounded and checked: at most ``MAX_CSV_MB`` megabytes and the last ``MAX_POINTS`` rows; the
separator (comma, semicolon, tab, bar) and decimal commas are detected; cells that are not numbers, infinite
values, unreadable or ambiguous dates, mixed date formats and mixed time-zone offsets each leave a note for
the student instead of vanishing silently; and a series that cannot be forecast (constant, or with values
too large or too small for float arithmetic) is refused with the reason.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..inputs import readable
from .series_dates import _looks_like_time, _row_list, parse_times

MAX_CSV_MB = 20
MAX_POINTS = 5_000          # rows kept from an upload (the most recent ones)
MAX_COLUMNS = 50            # columns kept from an upload
MAX_ABS = 1e15              # larger values are a data error (or a unit to change), not a series to forecast
MIN_SPREAD = 1e-12          # a target that varies by less cannot be standardised reliably


class SeriesError(ValueError):
    """Unusable series input; the message says what is wrong."""


@dataclass
class Series:
    name: str
    time: np.ndarray                 # (N,) datetimes or step numbers
    values: np.ndarray               # (N, F) float; column 0 is the target
    columns: list[str]
    period: int | None = None        # a known seasonal period, if any
    notes: list[str] = field(default_factory=list)   # what was done to the data on the way (shown to students)

    @property
    def target(self) -> np.ndarray:
        return self.values[:, 0]

    def __len__(self) -> int:
        return len(self.values)

    def key(self) -> str:
        """A content hash: the same data gives the same key in every session (caches, matching results)."""
        h = hashlib.sha1(np.ascontiguousarray(self.values, dtype=np.float64).tobytes())
        h.update(repr((self.name, self.columns, self.period, self.values.shape)).encode())
        return h.hexdigest()[:16]

    def to_plain(self) -> dict:
        """What a training job needs, as plain data (the time axis stays with the page)."""
        return {"name": self.name, "values": np.asarray(self.values, float), "columns": list(self.columns),
                "period": self.period}

    @classmethod
    def from_plain(cls, d: dict) -> Series:
        values = np.asarray(d["values"], float)
        if values.ndim == 1:
            values = values[:, None]
        return cls(str(d["name"]), np.arange(len(values)), values, list(d["columns"]), d.get("period"))


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


def mackey_glass(n: int = 1000, tau: int = 17, every: int = 1, beta: float = 0.2, gamma: float = 0.1,
                 power: int = 10, seed: int = 0) -> Series:
    """dx/dt = β x(t-τ) / (1 + x(t-τ)^p) - γ x(t), sampled every ``every`` time units; chaotic for τ > 16.8.

    Integrated with Euler steps of 0.1 time units; the first 200 time units (the transient) are dropped.
    Sampling every 3 or 6 units (as in the classic benchmarks) puts more of the nonlinear dynamics between
    two samples: a linear model then forecasts it much worse than a recurrent network."""
    if every < 1:
        raise SeriesError("the sampling interval must be at least 1 time unit")
    rng = np.random.default_rng(seed)
    sub = 10
    h = 1.0 / sub
    lag = tau * sub
    total = (n * every + 201) * sub
    x = np.empty(total + lag)
    x[:lag + 1] = 1.2 + 0.01 * rng.normal(size=lag + 1)
    for i in range(lag, total + lag - 1):
        xl = x[i - lag]
        x[i + 1] = x[i] + h * (beta * xl / (1 + xl ** power) - gamma * x[i])
    y = x[lag + 200 * sub::sub * every][:n]
    name = f"Mackey-Glass (τ={tau}" + (f", every {every} time units)" if every > 1 else ")")
    return Series(name, np.arange(len(y)) * every, y[:, None], ["value"])


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
    return Series("sunspots (yearly, statsmodels)", df["YEAR"].astype(int).to_numpy(),
                  df[["SUNACTIVITY"]].to_numpy(float), ["SUNACTIVITY"], 11)


def co2() -> Series:
    """Mauna Loa CO2, weekly 1958-2001 (statsmodels), gaps filled by interpolation; a 52-week cycle."""
    import statsmodels.api as sm

    df = sm.datasets.co2.load_pandas().data.interpolate()
    return Series("CO2 at Mauna Loa (weekly, statsmodels)", df.index.to_numpy(), df[["co2"]].to_numpy(float),
                  ["co2"], 52)


BUILTIN = {
    "sine": sine, "sum of sines + trend + noise": sines_trend, "AR(2) process": ar2,
    "Mackey-Glass chaos": mackey_glass, "stock prices (plotly)": stocks, "sunspots (statsmodels)": sunspots,
    "CO2 (statsmodels)": co2,
}


# --- checks -------------------------------------------------------------------------------------------
def check_values(values: np.ndarray, columns: list[str]) -> list[str]:
    """Refuse what cannot be forecast, with the reason; return notes about what can (e.g. a constant feature).

    Column 0 is the target. Values must be finite and at most ``MAX_ABS`` in size; the target must vary,
    by more than ``MIN_SPREAD`` and more than a billionth of its size (float32 training sees no less)."""
    values = np.asarray(values, float)
    notes = []
    if len(values) < 2:
        raise SeriesError("there are no rows left to forecast" if len(values) == 0 else
                          "there is only one row: a forecast needs a series of many time steps, one per row")
    bad = ~np.isfinite(values)
    if bad.any():
        j = int(np.argmax(bad.any(axis=0)))
        raise SeriesError(f"{columns[j]!r} has {int(bad[:, j].sum())} values that are not finite numbers "
                          "(infinite or missing)")
    big = np.abs(values).max(axis=0)
    for j, c in enumerate(columns):
        if big[j] > MAX_ABS:
            raise SeriesError(f"{c!r} holds values as large as {big[j]:.3g}. This lab computes with values up to "
                              f"{MAX_ABS:.0e}: remove the outliers, or change the unit (divide the column by a "
                              "power of ten).")
    y = values[:, 0]
    spread = float(y.max() - y.min())
    if spread == 0:
        raise SeriesError(f"{columns[0]!r} is constant (every value is {y[0]:.6g}): there is nothing to forecast.")
    if spread < MIN_SPREAD or spread <= 1e-9 * big[0]:
        raise SeriesError(f"{columns[0]!r} varies by only {spread:.3g} around {float(np.median(y)):.6g}: too "
                          "little to compute with reliably. Change the unit (multiply the column by a power of "
                          "ten) or subtract its typical value.")
    for j, c in enumerate(columns[1:], start=1):
        if np.ptp(values[:, j]) == 0:
            notes.append(f"The feature {c!r} is constant: it carries no information.")
    return notes


# --- CSV ----------------------------------------------------------------------------------------------
@dataclass
class CsvTable:
    frame: pd.DataFrame              # numeric columns as float (unreadable and infinite cells: NaN), others as text
    numeric: list[str]
    time_candidates: list[str]
    notes: list[str] = field(default_factory=list)   # what was done while reading (shown to students)
    sep: str = ","
    first_row: int = 2               # the file's line number of the frame's first row (for messages)

    def default_time(self) -> str | None:
        """The column that most likely orders the rows: the first date column, else a numeric column that
        only increases (a step number, a year), unless it is the only numeric column."""
        if self.time_candidates:
            return self.time_candidates[0]
        if len(self.numeric) > 1:
            for c in self.numeric:
                v = self.frame[c].to_numpy(float)
                if len(v) > 1 and np.all(np.isfinite(v)) and np.all(np.diff(v) > 0):
                    return c
        return None

    def rows_missing(self, columns: list[str]) -> int:
        """How many rows have a missing value (NaN) in any of ``columns``."""
        return int(self.frame[list(columns)].isna().any(axis=1).sum())


_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}


def detect_separator(sample: str) -> str:
    """The delimiter that splits the sample's lines into the same number (> 1) of fields most consistently;
    ``","`` when none does (a one-column file)."""
    lines = [ln for ln in sample.splitlines() if ln.strip()][:60]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]                                      # the sample may cut its last line
    best, best_score = ",", (0.0, 0)
    for sep in (",", ";", "\t", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        share = counts.count(mode) / len(counts)
        score = (share, mode)
        if mode > 1 and share >= 0.8 and score > best_score:
            best, best_score = sep, score
    return best


def _cut_rows(raw: bytes, max_rows: int) -> tuple[bytes, int]:
    """The header and the last ``max_rows`` lines of a CSV (in linear time), and how many data lines it had."""
    body_end = len(raw) - (1 if raw.endswith(b"\n") else 0)
    n_lines = raw.count(b"\n", 0, body_end) + 1
    if n_lines - 1 <= max_rows:
        return raw, n_lines - 1
    header_end = raw.find(b"\n")
    pos = body_end
    for _ in range(max_rows):
        pos = raw.rfind(b"\n", 0, pos)
    return raw[:header_end + 1] + raw[pos + 1:], n_lines - 1


#: 1,5 · -12,25 · 1.234,5 · 1.234.567,89 (dots group thousands, the comma is the decimal point)
_EURO_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")


def _decimal_comma(frame: pd.DataFrame) -> bool:
    """Do the text cells look like numbers written with a decimal comma (1,5)?"""
    pattern = _EURO_NUMBER
    hits = total = 0
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]):
            continue
        cells = frame[c].dropna().astype(str).str.strip().head(200)
        total += len(cells)
        hits += int(cells.map(lambda s: "," in s and bool(pattern.match(s))).sum())
    return total > 0 and hits >= 0.5 * total


#: decimal digits of every script (all below U+20000) as ASCII digits, and the Arabic decimal separator as a point
_DIGITS = {**{cp: str(unicodedata.digit(chr(cp))) for cp in range(128, 0x20000)
              if unicodedata.category(chr(cp)) == "Nd"}, ord("\u066b"): "."}


def _numeric_columns(df: pd.DataFrame, first_row: int, notes: list[str], decimal_comma: bool = False) -> list[str]:
    """Convert the columns that hold numbers to float (in place); say what was not a number, or infinite.
    With ``decimal_comma``, text such as 1.234,5 is read as 1234.5 (a date such as 01.02.2020 is not)."""
    numeric = []
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            values = col.astype(float)
        else:
            text = col.astype("string").str.strip()
            filled = text.notna() & (text != "")
            if not filled.any():
                continue
            if not text[filled].map(str.isascii).all():     # digits of another script: ٣٫٥ is 3.5
                text = text.str.translate(_DIGITS)
            if decimal_comma:
                euro = text.str.match(_EURO_NUMBER, na=False)
                text = text.where(~euro, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
            values = pd.to_numeric(text.where(filled), errors="coerce").astype(float)
            junk = filled & values.isna()
            if junk.sum() > 0.1 * filled.sum():
                continue                                 # mostly text: not a numeric column
            if junk.any():
                idx = np.flatnonzero(junk.to_numpy())
                examples = ", ".join(repr(str(v))[:30] for v in col[junk].head(3))
                notes.append(f"Column {c!r}: {len(idx):,} cell{'s' if len(idx) > 1 else ''} "
                             f"{'are' if len(idx) > 1 else 'is'} not a number ({examples}; line "
                             f"{_row_list(idx, first_row)}): treated as missing.")
        inf = np.isinf(values.to_numpy())
        if inf.any():
            idx = np.flatnonzero(inf)
            notes.append(f"Column {c!r}: {len(idx):,} infinite value{'s' if len(idx) > 1 else ''} (line "
                         f"{_row_list(idx, first_row)}): treated as missing. (A number beyond ±1.8e308 is "
                         "infinite to a computer's float.)")
            values = values.mask(np.isinf(values))
        df[c] = values
        numeric.append(c)
    return numeric


MAX_NAME = 60               # characters of a column's name kept (it labels menus, plots and the class board)
#: control characters and the marks that reverse or isolate the direction of the text after them
_HIDDEN = {cp: None for cp in [*range(32), 127, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def _column_names(names, notes: list[str]) -> list[str]:
    """Usable column names: control and direction-override characters removed, a name of only invisible
    characters (spaces, zero-width marks) replaced by "column k", a long one cut, and each one unique."""
    out: list[str] = []
    cut = 0
    for k, name in enumerate(names):
        text = str(name).translate(_HIDDEN).strip()
        text = text if readable(text) else f"column {k + 1}"
        if len(text) > MAX_NAME:
            text, cut = text[:MAX_NAME - 1] + "…", cut + 1
        out.append(text if text not in out else f"{text} ({k + 1})")
    if cut:
        notes.append(f"{cut} column name{'s were' if cut > 1 else ' was'} longer than {MAX_NAME} characters: "
                     "shortened.")
    return out


def read_table(raw: bytes, max_mb: float = MAX_CSV_MB, max_rows: int = MAX_POINTS) -> CsvTable:
    """Parse an uploaded CSV: separator and decimal comma detected, at most ``max_rows`` rows (the last ones)
    and ``MAX_COLUMNS`` columns; list its numeric columns and those that could be the time axis. Everything
    done to the data is said in ``notes``. Linear in the file's size."""
    if len(raw) > max_mb * 1e6:
        raise SeriesError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {max_mb:.0f} MB")
    if not raw or raw.isspace():
        raise SeriesError("the file is empty")
    notes: list[str] = []
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):                 # a byte-order mark: UTF-16 text
        try:
            raw = raw.decode("utf-16").encode("utf-8")
            notes.append("The file is UTF-16 text: read as such.")
        except UnicodeDecodeError:
            raise SeriesError("the file starts like UTF-16 text but is not: save it as a CSV (UTF-8)") from None
    if b"\x00" in raw[:65536]:
        raise SeriesError("the file holds binary data (NUL bytes), not text: upload a CSV file, saved as text "
                          "(UTF-8)")
    if b"\r\n" in raw:
        raw = raw.replace(b"\r\n", b"\n")
    kept, n_rows = _cut_rows(raw, max_rows)
    first_row = 2
    if n_rows > max_rows:
        first_row = n_rows - max_rows + 2
        notes.append(f"The file has {n_rows:,} rows: too many to train on in class. Using the last {max_rows:,} "
                     f"(lines {first_row:,}–{n_rows + 1:,}).")
    sample = kept[:65536].decode("utf-8", errors="replace")
    sep = detect_separator(sample)
    if sep != ",":
        notes.append(f"Read as a table separated by {_SEPARATORS[sep]}.")
    encoding = "utf-8-sig"
    for attempt in range(2):
        try:
            df = pd.read_csv(io.BytesIO(kept), sep=sep, encoding=encoding, skipinitialspace=True,
                             low_memory=False)
            break
        except UnicodeDecodeError:
            if attempt:
                raise SeriesError("the file is neither UTF-8 nor Latin-1 text") from None
            encoding = "latin-1"
            notes.append("The file is not UTF-8: read as Latin-1.")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
            raise SeriesError(f"not a readable CSV: {str(err).splitlines()[0]}") from None
    if df.empty or len(df.columns) == 0:
        raise SeriesError("the CSV has no rows")
    if len(df.columns) > MAX_COLUMNS:
        notes.append(f"The file has {len(df.columns):,} columns: using the first {MAX_COLUMNS}.")
        df = df.iloc[:, :MAX_COLUMNS]
    df.columns = _column_names(df.columns, notes)
    decimal_comma = sep != "," and _decimal_comma(df)
    if decimal_comma:
        notes.append("Numbers are written with a decimal comma (1,5): read as such.")
    numeric = _numeric_columns(df, first_row, notes, decimal_comma)
    if not numeric:
        hint = "" if sep != "," or len(df.columns) > 1 else (
            " (only one column was found: if the values are separated by something other than commas, "
            "semicolons, tabs or bars, save the file as a standard CSV)")
        raise SeriesError("the file has no numeric column to forecast" + hint)
    time_candidates = [c for c in df.columns if c not in numeric and _looks_like_time(df[c])]
    return CsvTable(df, numeric, time_candidates, notes, sep, first_row)


def series_from_table(table: CsvTable, target: str, features: list[str] = (), time_column: str | None = None,
                      missing: str = "fill", dayfirst: bool | None = None) -> Series:
    """Build a Series from chosen columns, sorted by time. ``missing``: "fill" (interpolate, then edge values)
    or "drop". What was done is listed in ``series.notes``; what cannot be forecast raises SeriesError."""
    df = table.frame
    cols = [target] + [f for f in features if f != target]
    notes: list[str] = []
    for c in cols:
        if c not in df.columns:
            raise SeriesError(f"no column {c!r}")
        if c not in table.numeric:
            bad = df[c][pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()].head(3).tolist()
            raise SeriesError(f"column {c!r} is not numeric (e.g. {bad}); choose a numeric column")
    data = df[cols].astype(float).reset_index(drop=True)
    t = None
    if time_column:
        if time_column not in df.columns:
            raise SeriesError(f"no column {time_column!r}")
        if time_column in table.numeric:
            t = df[time_column].astype(float).reset_index(drop=True)
            bad = t.isna()
            if bad.any():
                notes.append(f"{int(bad.sum()):,} rows have no time value: left out.")
        else:
            parsed = parse_times(df[time_column], dayfirst, table.first_row)
            notes += parsed.notes
            t = parsed.times.reset_index(drop=True)
            bad = t.isna()
        if bad.all():
            why = [n for n in notes if "outside the years" in n]        # dates too far away, not unreadable ones
            raise SeriesError(f"no value of {time_column!r} could be read as a time" + (f". {why[0]}" if why else ""))
        data, t = data[~bad].reset_index(drop=True), t[~bad].reset_index(drop=True)
        order = np.argsort(t.to_numpy(), kind="stable")
        if np.any(order != np.arange(len(order))):
            notes.append(f"Rows sorted by {time_column!r} (the file was not in time order).")
            data, t = data.iloc[order].reset_index(drop=True), t.iloc[order].reset_index(drop=True)
        dup = int(t.duplicated().sum())
        if dup:
            notes.append(f"{dup:,} rows repeat a time already seen: kept in file order.")
    n_missing = int(data.isna().any(axis=1).sum())
    if n_missing:
        if missing == "drop":
            keep = ~data.isna().any(axis=1)
            data = data[keep].reset_index(drop=True)
            t = t[keep].reset_index(drop=True) if t is not None else None
            notes.append(f"{n_missing:,} rows with missing values dropped.")
        elif missing == "fill":
            empty = [c for c in cols if data[c].isna().all()]
            if empty:
                raise SeriesError(f"column {empty[0]!r} is entirely empty")
            data = data.interpolate(limit_direction="both")
            notes.append(f"{n_missing:,} rows with missing values filled by interpolation.")
        else:
            raise SeriesError(f"{n_missing} rows have missing values: choose to fill or drop them")
    if data.isna().any().any():
        raise SeriesError("a column is entirely empty")
    values = data.to_numpy(float)
    notes += check_values(values, cols)
    time = t.to_numpy() if t is not None else np.arange(len(data))
    return Series(target, time, values, cols, notes=notes)


# --- windowing, splitting, scaling --------------------------------------------------------------------
@dataclass
class Scaler:
    """Standardisation with the mean and standard deviation of the *training* part."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
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

    def window_counts(self) -> dict[str, int]:
        """How many windows each part holds: {"train": n, "val": n, "test": n}."""
        return {k: len(v[0]) for k, v in self.parts.items()}


def make_windows(values: np.ndarray, window: int, horizon: int, start: int, end: int):
    """Samples whose *targets* lie in [start, end): inputs are the ``window`` steps before each target
    block (they may reach back before ``start``: the past is known when forecasting)."""
    F = values.shape[1]
    idx = np.arange(max(start, window), end - horizon + 1)
    if len(idx) == 0:
        return np.zeros((0, window, F)), np.zeros((0, horizon)), np.zeros(0, dtype=int)
    X = values[idx[:, None] + np.arange(-window, 0)[None, :]]          # (n, window, F)
    Y = values[idx[:, None] + np.arange(horizon)[None, :], 0]          # (n, horizon)
    return X, Y, idx


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
    train = series.target[:v0]
    spread = float(train.max() - train.min())
    if spread == 0 or spread <= 1e-9 * float(np.abs(train).max()):
        raise SeriesError(f"the training part (the first {v0:,} points) of {series.columns[0]!r} is constant: "
                          "there is nothing to learn from. Use a longer or another series.")
    scaler = Scaler.fit(series.values[:v0])
    scaled = scaler.transform(series.values)
    parts = {"train": make_windows(scaled, window, horizon, 0, v0),
             "val": make_windows(scaled, window, horizon, v0, t0),
             "test": make_windows(scaled, window, horizon, t0, N)}
    return Split(series, window, horizon, (v0, t0), scaler, scaled, parts)
