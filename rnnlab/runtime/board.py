"""The class board: every training that ends, in any lab, leaves one row that the whole class sees.

A row holds what the experiment was and what came of it, and nothing else about the student: the lab,
the task or data set, the cell, every hyperparameter the page sent (``job.meta["params"]``), the seed,
the device, the wall time, how the job ended, the final metrics (``job.result["metrics"]``) and a
nickname the student may choose (no login). Together, 30 students' runs map what one cannot: accuracy
against hidden size, sequence length or learning rate, per cell, with the spread across seeds.

    board = Board()                                  # the app's database (rnnlab.runtime.database)
    runner.listeners.append(board.listener(device="CPU"))   # one row per job that ends
    rows = board.rows(class_code="2B")               # newest first, plain dicts
    groups = pooled(filter_rows(rows, lab="longrange"), metric="accuracy", x="T")
    board.to_csv(rows)  /  from_csv(blob)            # a round trip: what was exported reads back the same

What is recorded: a job that ran and returned its result, whatever its end (finished, early-stopped,
diverged, stopped, time limit). Not recorded: a job that failed with an error (it has no result, and
its message may be about a bug rather than the experiment), and a job stopped before it started
training (left the queue, or stopped while loading data): neither says anything about the model.

Every field is bounded (lengths, number of keys) and made JSON-safe; a NaN or infinite metric (a
diverged loss) is stored as empty, since JSON and PostgreSQL have no NaN.
"""
from __future__ import annotations

import csv
import io
import json
import math
import queue
import statistics
import threading
import time
import traceback
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from ..inputs import readable
from ..status import END_LABELS, END_STATES, Status
from .database import database, runs

MAX_KEYS = 40
MAX_TEXT = 200
NICKNAME_CHARS = 24
MAX_ROWS = 5000
#: how a job may have ended to leave a row (every end but an error)
RECORDED_STATES = (Status.FINISHED, Status.EARLY_STOPPED, Status.DIVERGED, Status.STOPPED, Status.TIME_LIMIT)
#: the board's words for them: a job's end labels, shortened where a table column has no room
STATE_LABELS = {**{s: END_LABELS[s] for s in RECORDED_STATES}, Status.STOPPED: "stopped",
                Status.TIME_LIMIT: "time limit"}
#: the columns of a row, in the order of the table and of the CSV (params and metrics follow, flattened)
FIELDS = ("id", "recorded_at", "class_code", "nickname", "lab", "task", "cell", "end_state", "seed", "device",
          "wall_seconds", "epochs")
#: metric names where smaller is better (anything else: larger is better)
LOWER_IS_BETTER = ("loss", "mae", "rmse", "mse", "mase", "error", "err", "perplexity", "ppl", "bpc", "nll",
                   "seconds", "time")


# --- making a row ----------------------------------------------------------------------------------------
def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """A short single-line string: control and zero-width characters removed, whitespace collapsed; empty
    when nothing readable is left (combining accents alone: the rule of :func:`rnnlab.inputs.readable`)."""
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t")
    text = " ".join(text.split())[:limit]
    return text if readable(text) else ""


def clean_nickname(value: Any) -> str:
    return clean_text(value, NICKNAME_CHARS)


def _scalar(value: Any):
    """A NumPy or torch scalar (0-d array/tensor) as a Python number; anything else unchanged."""
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "item") and tuple(shape) in ((), (1,)):
        try:
            return value.item()
        except Exception:
            return value
    return value


def _json_value(value: Any, depth: int = 0):
    """A hyperparameter as JSON: numbers, strings, booleans, None and short lists of them."""
    value = _scalar(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist") and hasattr(value, "shape"):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and depth < 2:
        return [_json_value(v, depth + 1) for v in list(value)[:MAX_KEYS]]
    if isinstance(value, dict) and depth < 2:
        return {clean_text(k, 64): _json_value(v, depth + 1) for k, v in list(value.items())[:MAX_KEYS]}
    return clean_text(value)


def _metric(value: Any) -> float | None:
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError
    try:
        number = float(value)
    except OverflowError:              # an int beyond a float (10**400): as infinite, no value
        return None
    return number if math.isfinite(number) else None


def clean_params(params: Any) -> dict:
    if not isinstance(params, dict):
        return {}
    return {clean_text(k, 64): _json_value(v) for k, v in list(params.items())[:MAX_KEYS]}


def clean_metrics(metrics: Any) -> dict:
    """Scalar metrics only (a confusion matrix or a curve is no board entry); NaN/inf become None."""
    if not isinstance(metrics, dict):
        return {}
    out = {}
    for k, v in list(metrics.items())[:MAX_KEYS]:
        try:
            out[clean_text(k, 64)] = _metric(v)
        except (TypeError, ValueError):
            continue
    return out


@dataclass(frozen=True)
class RunRecord:
    """What the board keeps of an ended job, read from it once, at the boundary: ``job.meta`` (what the page
    sent: lab, task, cell, params, nickname, class code, device) and ``job.result`` (what the job function
    returned: metrics, epochs_completed, device), each field cleaned and bounded. Robust to what a page or
    a job did not send: a missing lab, task, cell, params or metrics is left empty."""

    end_state: Status | None        # None while the job runs
    ran: bool                       # it started (a job that left the queue did not)
    has_result: bool                # it returned (an error or an early stop has no result)
    lab: str                        # the page's, else the module of the job's function
    task: str
    cell: str
    params: dict
    seed: int | None
    nickname: str
    class_code: str | None          # the page's (None: it sent none)
    device: str | None              # where the job says it ran, else the page's (None: neither says)
    wall_seconds: float
    metrics: dict                   # scalars only, NaN as None
    epochs: int | None

    @classmethod
    def from_job(cls, job) -> RunRecord:
        meta = job.meta if isinstance(job.meta, dict) else {}
        result = job.result if isinstance(job.result, dict) else {}
        state = getattr(job, "end_state", None)
        epochs = result.get("epochs_completed")
        device = result.get("device") or meta.get("device")
        return cls(
            end_state=Status(state) if state in END_STATES else None,
            ran=job.started is not None, has_result=job.result is not None,
            lab=clean_text(meta.get("lab") or str(getattr(job, "target", "")).partition(":")[0].rsplit(".", 1)[-1],
                           64),
            task=clean_text(meta.get("task", "")), cell=clean_text(meta.get("cell", ""), 64),
            params=clean_params(meta.get("params")), seed=int(job.seed) if job.seed is not None else None,
            nickname=clean_nickname(meta.get("nickname", "")),
            class_code=clean_text(meta["class_code"], 64) if "class_code" in meta else None,
            device=clean_text(device, 64) if device else None, wall_seconds=round(float(job.elapsed()), 3),
            metrics=clean_metrics(result.get("metrics")),
            epochs=int(epochs) if isinstance(epochs, (int, float)) and math.isfinite(epochs) else None)

    @property
    def recorded(self) -> bool:
        """Is it a board entry? (see the module's doc: it ran, returned, and did not fail)"""
        return self.end_state in RECORDED_STATES and self.ran and self.has_result

    def row(self, class_code: str = "", device: str = "") -> dict:
        """The board's row: ``class_code`` and ``device`` stand in for what the job did not say."""
        return {"recorded_at": time.time(),
                "class_code": self.class_code if self.class_code is not None else clean_text(class_code, 64),
                "lab": self.lab, "task": self.task, "cell": self.cell, "params": self.params, "seed": self.seed,
                "device": self.device if self.device is not None else clean_text(device, 64),
                "wall_seconds": self.wall_seconds, "end_state": self.end_state.value, "metrics": self.metrics,
                "epochs": self.epochs, "nickname": self.nickname}


def row_from_job(job, *, class_code: str = "", device: str = "") -> dict | None:
    """The board's row for an ended job, or None if it is not one to record (see the module's doc).

    The class code comes from ``job.meta`` (set when the job was submitted), else from ``class_code``; the
    device from the result, the meta, else ``device`` (see :class:`RunRecord`)."""
    record = RunRecord.from_job(job)
    return record.row(class_code=class_code, device=device) if record.recorded else None


# --- the store -------------------------------------------------------------------------------------------
class Board:
    """The class board in a database (default: the app's; see rnnlab.runtime.database)."""

    def __init__(self, url: str | None = None):
        self.url = url
        self.engine = database(url)
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending = 0

    # writing
    def record(self, row: dict) -> int:
        """Insert one row now; returns its id."""
        values = {k: v for k, v in row.items() if k in runs.c and k != "id"}
        values.setdefault("recorded_at", time.time())
        values.setdefault("params", {})
        values.setdefault("metrics", {})
        with self.engine.begin() as conn:
            return int(conn.execute(runs.insert().values(**values)).inserted_primary_key[0])

    def record_later(self, row: dict) -> None:
        """Insert in a background thread: the job runner's thread never waits for the database."""
        with self._lock:   # queued under the lock: the writer cannot decide to stop between the two
            self._pending += 1
            self._queue.put(row)
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, name="rnnlab-board", daemon=True)
                self._writer.start()

    def _write_loop(self) -> None:
        while True:
            try:
                row = self._queue.get(timeout=30)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._writer = None
                        return
                continue
            for attempt in range(3):
                try:
                    self.record(row)
                    break
                except Exception:
                    if attempt == 2:
                        traceback.print_exc()
                    time.sleep(0.5 * (attempt + 1))
            with self._lock:
                self._pending -= 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row handed to :meth:`record_later` is written (tests, shutdown)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._pending == 0:
                    return True
            time.sleep(0.01)
        return False

    def listener(self, device: str = "", class_code: str = ""):
        """A job-runner listener (``runner.listeners.append(...)``) that records each ended job here."""
        def on_end(job) -> None:
            row = row_from_job(job, class_code=class_code, device=device)
            if row is not None:
                self.record_later(row)
        return on_end

    def clear(self, class_code: str | None = None) -> int:
        """Delete every row (or one class code's); returns how many."""
        stmt = delete(runs)
        if class_code is not None:
            stmt = stmt.where(runs.c.class_code == class_code)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    # reading
    def version(self, class_code: str | None = None) -> tuple[int, int]:
        """(number of rows, newest id): cheap, and changes whenever a row is added or removed."""
        stmt = select(func.count(runs.c.id), func.max(runs.c.id))
        if class_code is not None:
            stmt = stmt.where(runs.c.class_code == class_code)
        with self.engine.connect() as conn:
            n, newest = conn.execute(stmt).one()
        return int(n or 0), int(newest or 0)

    def rows(self, class_code: str | None = None, lab: str | None = None, limit: int = MAX_ROWS) -> list[dict]:
        """The newest ``limit`` rows (of one class code, one lab), newest first, as plain dicts."""
        stmt = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if class_code is not None:
            stmt = stmt.where(runs.c.class_code == class_code)
        if lab is not None:
            stmt = stmt.where(runs.c.lab == lab)
        with self.engine.connect() as conn:
            return [_row_dict(r._mapping) for r in conn.execute(stmt)]


_boards: dict[str, Board] = {}
_boards_lock = threading.Lock()


def shared_board(url: str | None = None) -> Board:
    """The one :class:`Board` of this process for ``url`` (default: the app's database)."""
    from .database import database_url, normalise_url

    url = normalise_url(url) if url else database_url()
    with _boards_lock:
        if url not in _boards:
            _boards[url] = Board(url)
        return _boards[url]


def board_listener(device: str = ""):
    """A job-runner listener that records each ended job on the app's board (found when the job ends)."""
    def on_end(job) -> None:
        if (getattr(job, "meta", None) or {}).get("board") is False:
            return          # not a student's training (a checkpoint's answer computed for the teacher)
        row = row_from_job(job, device=device)
        if row is not None:
            shared_board().record_later(row)
    return on_end


def _row_dict(mapping) -> dict:
    row = dict(mapping)
    for key in ("params", "metrics"):
        value = row.get(key)
        if isinstance(value, str):   # a driver that hands JSON back as text
            try:
                value = json.loads(value)
            except ValueError:
                value = {}
        row[key] = value if isinstance(value, dict) else {}
    return row


# --- looking at rows -------------------------------------------------------------------------------------
def filter_rows(rows: Iterable[dict], *, lab: str | None = None, labs: Iterable[str] | None = None,
                states: Iterable[str] | None = None, task: str | None = None) -> list[dict]:
    labs = set(labs) if labs is not None else None
    states = set(states) if states is not None else None
    return [r for r in rows if (lab is None or r.get("lab") == lab) and (labs is None or r.get("lab") in labs)
            and (states is None or r.get("end_state") in states) and (task is None or r.get("task") == task)]


def keys_of(rows: Iterable[dict], field: str) -> list[str]:
    """Every key of ``params`` or ``metrics`` seen in the rows, in order of first appearance."""
    seen: OrderedDict[str, None] = OrderedDict()
    for r in rows:
        for k in (r.get(field) or {}):
            seen.setdefault(k, None)
    return list(seen)


def runs_per_lab(rows: Iterable[dict], labs: Iterable[str]) -> dict[str, int]:
    """How many of the rows each of ``labs`` has (0 for a lab with none)."""
    rows = list(rows)
    return {name: sum(r.get("lab") == name for r in rows) for name in labs}


def varying_params(rows: Iterable[dict], params: Iterable[str]) -> list[str]:
    """The settings among ``params`` that take more than one value over the rows (a missing one counts as a
    value), in the order given: the interesting x axes."""
    rows = list(rows)
    return [p for p in params if len({str((r.get("params") or {}).get(p)) for r in rows}) > 1]


def lower_is_better(metric: str) -> bool:
    name = metric.lower()
    return any(part in name.replace("-", "_").split("_") or name.endswith(part) for part in LOWER_IS_BETTER)


def primary_metric(rows: Iterable[dict]) -> str | None:
    """A lab's headline metric: the first one its jobs report (the job function lists it first)."""
    keys = keys_of(rows, "metrics")
    return keys[0] if keys else None


def best_runs(rows: Iterable[dict], per_lab: int = 3) -> dict[str, dict]:
    """Per lab: its headline metric, whether lower is better, and the ``per_lab`` best rows by it."""
    by_lab: OrderedDict[str, list[dict]] = OrderedDict()
    for r in rows:
        by_lab.setdefault(r.get("lab") or "", []).append(r)
    out = {}
    for lab, lab_rows in by_lab.items():
        metric = primary_metric(lab_rows)
        if metric is None:
            continue
        scored = [r for r in lab_rows if isinstance((r.get("metrics") or {}).get(metric), (int, float))]
        low = lower_is_better(metric)
        scored.sort(key=lambda r: (r["metrics"][metric] if low else -r["metrics"][metric], r.get("id", 0)))
        out[lab] = {"metric": metric, "lower_is_better": low, "rows": scored[:per_lab], "n": len(lab_rows)}
    return out


def flat(rows: list[dict]) -> list[dict]:
    """Rows for a table: one column per field, metric and hyperparameter (a hyperparameter named like a
    metric or a field gets " (setting)" added)."""
    metrics, params = keys_of(rows, "metrics"), keys_of(rows, "params")
    taken = set(metrics) | {"#", "ended", "nickname", "lab", "task", "cell", "end", "seed", "device", "wall time (s)",
                            "epochs"}
    names = {k: (f"{k} (setting)" if k in taken else k) for k in params}
    out = []
    for r in rows:
        line = {"#": r.get("id"), "ended": r.get("recorded_at"), "nickname": r.get("nickname", ""),
                "lab": r.get("lab", ""), "task": r.get("task", ""), "cell": r.get("cell", ""),
                "end": STATE_LABELS.get(r.get("end_state"), r.get("end_state", ""))}
        line.update({k: (r.get("metrics") or {}).get(k) for k in metrics})
        line.update({names[k]: _display((r.get("params") or {}).get(k)) for k in params})
        line.update({"epochs": r.get("epochs"), "seed": r.get("seed"), "device": r.get("device", ""),
                     "wall time (s)": r.get("wall_seconds")})
        out.append(line)
    return out


def _display(value):
    """A table cell holds one type per column: lists and dicts as text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def pooled(rows: Iterable[dict], metric: str, x: str, same_settings: bool = True) -> list[dict]:
    """Mean ± sd of ``metric`` against hyperparameter ``x``, per cell.

    With ``same_settings`` a group holds the runs whose every other hyperparameter (all but ``x`` and the
    seed) is the same too: only the seed differs inside a group, so its spread is the seed's. Without it,
    a group pools every run of one cell at one value of ``x``, whatever the other settings.

    Returns one dict per group: cell, x, settings (the other hyperparameters, or {} when pooling), n (runs
    with a finite metric), mean, sd (sample sd, None for one run), values, and n_missing (runs without
    the metric, e.g. a diverged loss). Groups are sorted by cell, settings and x."""
    groups: OrderedDict[tuple, dict] = OrderedDict()
    for r in rows:
        params = r.get("params") or {}
        if x not in params:
            continue
        xv = params[x]
        other = {k: v for k, v in params.items() if k != x and k != "seed"} if same_settings else {}
        key = (r.get("cell") or "", _hashable(other), _hashable(xv))
        g = groups.setdefault(key, {"cell": r.get("cell") or "", "x": xv, "settings": other, "values": [],
                                    "n_missing": 0, "ids": []})
        value = (r.get("metrics") or {}).get(metric)
        if isinstance(value, (int, float)) and math.isfinite(value):
            g["values"].append(float(value))
        else:
            g["n_missing"] += 1
        g["ids"].append(r.get("id"))
    out = []
    for g in groups.values():
        vals = g["values"]
        g["n"] = len(vals)
        g["mean"] = statistics.fmean(vals) if vals else None
        g["sd"] = statistics.stdev(vals) if len(vals) >= 2 else None
        out.append(g)
    out.sort(key=lambda g: (g["cell"], json.dumps(g["settings"], sort_keys=True, default=str), _sort_key(g["x"])))
    return out


def pooled_runs(groups: Iterable[dict]) -> int:
    """How many runs with a value :func:`pooled`'s groups hold in all."""
    return sum(g["n"] for g in groups)


def _sort_key(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return (0, float(value), "")
        except OverflowError:          # an int beyond a float (10**400) sorts with the infinities
            return (0, math.inf if value > 0 else -math.inf, "")
    return (1, 0.0, json.dumps(value, default=str))


def settings_label(settings: dict, limit: int = 80) -> str:
    """'lr=0.01, layers=2' for a legend (shortened)."""
    text = ", ".join(f"{k}={_cell_text(v)}" for k, v in settings.items())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- CSV -------------------------------------------------------------------------------------------------
def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _cell_value(text: str):
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def to_csv(rows: list[dict]) -> bytes:
    """The rows as CSV (UTF-8): one column per field, then ``param.<name>`` and ``metric.<name>`` columns,
    ready for a spreadsheet. ``recorded_at`` is ISO 8601 UTC."""
    params, metrics = keys_of(rows, "params"), keys_of(rows, "metrics")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(FIELDS) + [f"param.{k}" for k in params] + [f"metric.{k}" for k in metrics])
    for r in rows:
        line = []
        for f in FIELDS:
            v = r.get(f)
            if f == "recorded_at" and isinstance(v, (int, float)):
                seconds, millis = divmod(round(v * 1000), 1000)     # x.9996 s is x+1 s and 0 ms, not x s
                v = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
            line.append(_cell_text(v))
        # an empty cell: the run has no such key; "null" / "NaN": it has one, without a value (a NaN metric)
        line += [(_cell_text(r["params"][k]) if r["params"][k] is not None else "null")
                 if k in (r.get("params") or {}) else "" for k in params]
        line += [(_cell_text(r["metrics"][k]) if r["metrics"][k] is not None else "NaN")
                 if k in (r.get("metrics") or {}) else "" for k in metrics]
        writer.writerow([csv_safe(c) for c in line])
    return buf.getvalue().encode("utf-8")


def csv_safe(text: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: a nickname must not (CSV injection).
    Numbers keep their sign."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def from_csv(blob: bytes | str) -> list[dict]:
    """Rows read back from :func:`to_csv` (types restored: numbers, booleans, lists; empty cells dropped)."""
    import calendar

    text = blob.decode("utf-8") if isinstance(blob, bytes) else blob
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    out = []
    for line in reader:
        row: dict = {"params": {}, "metrics": {}}
        for name, cell in zip(header, line):
            if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r"):
                cell = cell[1:]
            if name.startswith("param."):
                if cell != "":
                    row["params"][name[6:]] = _cell_value(cell)
            elif name.startswith("metric."):
                if cell != "":
                    row["metrics"][name[7:]] = None if cell == "NaN" else float(cell)
            elif name == "recorded_at" and cell:
                stamp, _, frac = cell.rstrip("Z").partition(".")
                row[name] = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))
            elif name in ("id", "seed", "epochs"):
                row[name] = int(cell) if cell else None
            elif name == "wall_seconds":
                row[name] = float(cell) if cell else None
            else:
                row[name] = cell
        out.append(row)
    return out
