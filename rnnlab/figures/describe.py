"""A figure's text alternative: one sentence, computed from the figure's own data, for screen readers (and as a
caption where a page shows it). It names the title and axes, then what the data do: a line's first and last
value and its extremes (with the x where they happen), a bar chart's largest and smallest bar, a heatmap's shape
and range, a diagram's nodes counted per row. A page that knows what matters passes its own sentence instead
(``app_pages.common.plot(summary=...)``)."""
from __future__ import annotations

import re

import numpy as np

MAX_TRACES = 4        # a sentence, not a table: the rest are counted
_TAG = re.compile(r"<[^>]+>")


def describe(fig) -> str:
    """One sentence saying what ``fig`` (a Plotly figure or its dict) shows."""
    data, layout = _parts(fig)
    head = _heading(layout)
    traces = [t for t in data if t.get("visible", True) is not False and _has_values(t)]
    if not traces:
        return _sentence(head or "An empty figure")
    if _is_diagram(traces, layout):
        body = "a diagram of " + ", ".join(f"{_plain(t['name']).replace('_', ' ')}: {_n(t.get('x'))}"
                                            for t in traces if t.get("name"))
    elif all(t.get("type") == "bar" and _n(_bar_values(t)[0]) == 1 for t in traces) and len(traces) > 1:
        body = _one_bar_each(traces)
    else:
        parts = [p for p in (_trace(t, layout) for t in traces[:MAX_TRACES]) if p]
        if len(traces) > MAX_TRACES:
            parts.append(f"and {len(traces) - MAX_TRACES} more")
        body = "; ".join(parts)
    return _sentence(": ".join(p for p in (head, body) if p))


# --- the parts ---------------------------------------------------------------------------------------------
def _parts(fig) -> tuple[list[dict], dict]:
    """Traces as dicts of the keys read here (arrays not copied: a heatmap's z stays a reference) and the layout
    as ``{"title", "x", "y"}``, from a ``go.Figure`` or a figure dict alike."""
    data = fig.get("data", []) if isinstance(fig, dict) else fig.data
    layout = fig.get("layout", {}) if isinstance(fig, dict) else fig.layout
    keys = ("type", "name", "x", "y", "z", "mode", "visible", "orientation")
    traces = [{k: v for k in keys if (v := _get(t, k)) is not None} for t in data]
    axes = {n: {"title": _get(layout, n + "axis", "title", "text") or _str(_get(layout, n + "axis", "title")),
                "type": _get(layout, n + "axis", "type"), "visible": _get(layout, n + "axis", "visible"),
                "log10": _powers_of_ten(_get(layout, n + "axis", "tickvals"), _get(layout, n + "axis", "ticktext"))}
            for n in ("x", "y")}
    title = _get(layout, "title", "text") or _str(_get(layout, "title"))
    return traces, {"title": title, **axes}


def _get(obj, *path):
    """``obj[path[0]][path[1]]...``, or None where a key is missing or invalid for a Plotly object."""
    for key in path:
        try:
            obj = obj[key]
        except (KeyError, ValueError, TypeError, AttributeError, IndexError):
            return None
        if obj is None:
            return None
    return obj


_SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _powers_of_ten(vals, texts) -> bool:
    """Whether an axis plots log10 values under labels 10ⁿ (the Gradients lab's axes reach 10⁻⁴⁰⁰, beyond what
    Plotly's own log axis can draw): its values are then read as exponents."""
    if vals is None or texts is None or len(vals) < 2 or len(vals) != len(texts):
        return False
    for v, t in zip(vals, texts):
        t = str(t).strip().translate(_SUPER)
        want = 0 if t == "1" else (int(t[2:]) if t.startswith("10") and re.fullmatch(r"-?\d+", t[2:]) else None)
        if want is None or float(v) != want:
            return False
    return True


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


def _plain(text) -> str:
    """Text without HTML: h<sub>t</sub> -> h_t, x<sup>2</sup> -> x^2, <br> -> a space."""
    text = re.sub(r"<sub>(.*?)</sub>", r"_\1", str(text or ""))
    text = re.sub(r"<sup>(.*?)</sup>", r"^\1", text)
    return re.sub(r"\s+", " ", _TAG.sub(" ", text)).strip()


def _heading(layout: dict) -> str:
    """The title, then what is drawn against what: "Loss (validation loss against epoch, log scale)"."""
    title = _plain(layout["title"])
    x, y = (_plain(layout[n]["title"]) for n in ("x", "y"))
    log = any(layout[n]["type"] == "log" or layout[n]["log10"] for n in ("x", "y"))
    axes = f"{y} against {x}" if x and y else (y or (f"{x} on the x axis" if x else ""))
    axes += ", log scale" if axes and log else ""
    return f"{title} ({axes})" if title and axes else (title or axes)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else "A figure"
    return text if text.endswith((".", "!", "?")) else text + "."


# --- the data ------------------------------------------------------------------------------------------------
def _n(values) -> int:
    try:
        return len(values)
    except TypeError:
        return 0


def _numbers(values) -> np.ndarray | None:
    """Values as floats (NaN for gaps), or None if they are not numbers (categories)."""
    if values is None:
        return None
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return arr


def _fmt(v) -> str:
    if isinstance(v, str):
        return f"'{_plain(v)}'"
    v = float(v)
    if not np.isfinite(v):          # int(inf) raised OverflowError (issue 29)
        return "NaN" if np.isnan(v) else ("infinite" if v > 0 else "minus infinite")
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def _fmt_exp(e: float) -> str:
    """10**e written out (e = -27.6 -> '2.5e-28'), also where 10**e is beyond a float (e = -400)."""
    k = int(np.floor(e))
    m = float(f"{10 ** (e - k):.2g}")
    if m >= 10:
        m, k = m / 10, k + 1
    return _fmt(10.0 ** k * m) if -4 <= k < 6 else f"{m:g}e{k}"


def _left_out(values: np.ndarray, nan: bool = True) -> str:
    """The note " (2 infinite values and 1 NaN value left out)" for what a sentence of extremes skips, or "".
    NaN is counted only where it is not a deliberate gap (bars and heatmaps; lines use NaN to break a line)."""
    n_inf = int(np.isinf(values).sum())
    n_nan = int(np.isnan(values).sum()) if nan else 0
    parts = [f"{n} {what} value{'s' if n > 1 else ''}" for n, what in ((n_inf, "infinite"), (n_nan, "NaN")) if n]
    return f" ({' and '.join(parts)} left out)" if parts else ""


def _is_diagram(traces: list[dict], layout: dict) -> bool:
    """Boxes with labels on hidden axes (rnnlab.figures.diagrams): nodes, not data."""
    hidden_axes = layout["x"]["visible"] is False or layout["y"]["visible"] is False
    labelled = [t for t in traces if "text" in str(t.get("mode", "")) and "markers" in str(t.get("mode", ""))]
    named = {str(t.get("name", "")).lower() for t in traces}
    return bool(labelled) and (hidden_axes or bool(named & {"inputs", "hidden", "outputs"}))


def _has_values(trace: dict) -> bool:
    """A trace with something drawn (a legend-only entry has no x, y or z)."""
    return any(_n(trace.get(k)) for k in ("x", "y", "z"))


def _bar_values(trace: dict) -> tuple:
    """(values, labels) of a bar trace, whichever way it lies."""
    if trace.get("orientation") == "h":
        return trace.get("x"), trace.get("y")
    return trace.get("y"), trace.get("x")


def _one_bar_each(traces: list[dict]) -> str:
    """Bars drawn one trace each (a legend entry per bar): named by their traces, largest first."""
    bars, skipped = [], []
    for t in traces:
        v = _numbers(_bar_values(t)[0])
        if v is not None and np.isfinite(v[0]):
            bars.append((float(v[0]), _plain(t.get("name")) or _fmt(_bar_values(t)[1][0])))
        elif v is not None:
            skipped.append(float(v[0]))
    bars.sort(reverse=True)
    return ", ".join(f"{name} {_fmt(v)}" for v, name in bars) + _left_out(np.array(skipped))


def _trace(trace: dict, layout: dict) -> str:
    kind = trace.get("type") or "scatter"
    name = _plain(trace.get("name"))
    if kind == "heatmap":
        return _heatmap(trace, name)
    if kind == "bar":
        return _bars(trace, name)
    if kind == "histogram":
        xs = _numbers(trace.get("x"))
        if xs is None or not np.isfinite(xs).any():
            return name
        note = _left_out(xs, nan=False)
        xs = xs[np.isfinite(xs)]
        return f"{name + ': ' if name else ''}{xs.size} values from {_fmt(xs.min())} to {_fmt(xs.max())}{note}"
    return _line(trace, name, layout)


def _heatmap(trace: dict, name: str) -> str:
    z = _numbers_2d(trace.get("z"))
    if z is None or not np.isfinite(z).any():
        note = "" if z is None else _left_out(z)
        return f"{name or 'a heatmap'}{': nothing drawn' + note if note else ''}"
    rows, cols = z.shape
    ok = z[np.isfinite(z)]
    return (f"{name + ': ' if name else ''}a {rows} × {cols} heatmap, values from {_fmt(ok.min())} to "
            f"{_fmt(ok.max())}{_left_out(z)}")


def _numbers_2d(z) -> np.ndarray | None:
    if z is None:
        return None
    try:
        arr = np.asarray(z, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 2 and arr.size else (arr.reshape(1, -1) if arr.ndim == 1 and arr.size else None)


def _bars(trace: dict, name: str, noun: str = "bar") -> str:
    values, labels = _bar_values(trace)
    vals = _numbers(values)
    if vals is None or not np.isfinite(vals).any():
        note = "" if vals is None else _left_out(vals)
        return f"{name + ': ' if name else ''}nothing drawn{note}" if note else name
    labels = list(labels) if labels is not None and _n(labels) == len(vals) else list(range(len(vals)))
    ok = np.flatnonzero(np.isfinite(vals))              # the extremes of what is drawn: inf is no bar
    k_hi, k_lo = int(ok[np.argmax(vals[ok])]), int(ok[np.argmin(vals[ok])])
    note = _left_out(vals)
    if len(vals) == 1:
        return f"{name + ': ' if name else ''}{_fmt(vals[0])} at {_fmt(labels[0])}"
    head = f"{name + ': ' if name else ''}{len(vals)} {noun}s"
    return (f"{head}, the largest {_fmt(vals[k_hi])} at {_fmt(labels[k_hi])}, the smallest {_fmt(vals[k_lo])} at "
            f"{_fmt(labels[k_lo])}{note}")


def _line(trace: dict, name: str, layout: dict) -> str:
    ys = _numbers(trace.get("y"))
    fy = _fmt_exp if layout["y"]["log10"] else _fmt
    if ys is None:        # categories up the y axis, values along x: read like bars
        return _bars({"x": trace.get("x"), "y": trace.get("y"), "orientation": "h"}, name, "point")
    xs = trace.get("x")
    xs = list(xs) if xs is not None and _n(xs) == len(ys) else list(range(len(ys)))
    ok = np.flatnonzero(np.isfinite(ys))
    if not ok.size:
        note = _left_out(ys, nan=False)          # "": drawn for its legend entry only
        return f"{name + ': ' if name else ''}nothing drawn{note}" if note else ""
    first, last = ok[0], ok[-1]
    label = name + ": " if name else ""
    note = _left_out(ys, nan=False)
    if first == last:
        return f"{label}{fy(ys[first])} at {_fmt(xs[first])}{note}"
    text = f"{label}from {fy(ys[first])} at {_fmt(xs[first])} to {fy(ys[last])} at {_fmt(xs[last])}"
    k_hi = ok[np.argmax(ys[ok])]
    k_lo = ok[np.argmin(ys[ok])]
    extremes = [f"highest {fy(ys[k])} at {_fmt(xs[k])}" for k in (k_hi,) if k not in (first, last)]
    extremes += [f"lowest {fy(ys[k])} at {_fmt(xs[k])}" for k in (k_lo,) if k not in (first, last)]
    return text + (f" ({', '.join(extremes)})" if extremes else "") + note
