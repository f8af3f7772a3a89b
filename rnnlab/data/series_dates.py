"""Dates in an uploaded CSV (:mod:`rnnlab.data.series` reads the rest): date styles told apart, day-first
against month-first decided from the data, UTC offsets converted, and every cell that is not a usable date
reported with its line number, instead of vanishing silently. Dates pandas cannot hold (outside the years
1677 to 2262, in nanoseconds) are reported as such, not read as something else."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


def _row_list(rows, first_row: int, limit: int = 3) -> str:
    rows = [int(r) + first_row for r in rows[:limit]]
    return ", ".join(f"{r:,}" for r in rows)


# --- dates --------------------------------------------------------------------------------------------
_DATE_STYLES = [("2020-01-31", re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")),
                ("31/01/2020", re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}")),
                ("31.01.2020", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}")),
                ("31-01-2020", re.compile(r"^\d{1,2}-\d{1,2}-\d{4}")),
                ("2020/01/31", re.compile(r"^\d{4}/\d{1,2}/\d{1,2}"))]
_TZ = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}")


_ISO = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_NUMERIC_DMY = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}")


#: the dates a time axis can hold: pandas' nanosecond timestamps (about 1677-09-22 to 2262-04-11)
FIRST_DATE, LAST_DATE = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _parse(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    """Dates from text (unreadable: NaT), offsets converted to UTC, returned without a time zone; and which
    cells hold a real date outside ``FIRST_DATE``..``LAST_DATE`` (also NaT: the time axis cannot hold them).

    Each style is read on its own: year-first dates as ISO 8601 (``dayfirst`` must never touch them:
    dateutil would read 2020-02-01 as 2 January), numeric day/month dates with ``dayfirst``, and the
    rest (written-out months) by dateutil."""
    text = text.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    outside = pd.Series(False, index=text.index)
    filled = text.notna() & (text != "")
    iso = filled & text.str.contains(_ISO, na=False)
    dmy = filled & ~iso & text.str.contains(_NUMERIC_DMY, na=False)
    rest = filled & ~iso & ~dmy
    groups = [(iso, dict(format="ISO8601"), text.str.replace("/", "-", n=2)),
              (dmy, dict(format="mixed", dayfirst=dayfirst), text),
              (rest, dict(format="mixed"), text)]
    for mask, kw, source in groups:
        if mask.any():
            parsed = pd.to_datetime(source[mask], errors="coerce", utc=True, **kw).dt.tz_convert(None)
            far = parsed.notna() & ((parsed < FIRST_DATE) | (parsed > LAST_DATE))
            outside[mask] = far
            out[mask] = parsed.mask(far).astype("datetime64[ns]")
    return out, outside


def _looks_like_time(col: pd.Series) -> bool:
    text = col.dropna().astype(str).str.strip()
    text = text[text != ""].head(500)
    if len(text) == 0:
        return False
    times, outside = _parse(text, True)
    return bool((times.notna() | outside).mean() >= 0.9)


@dataclass
class TimeColumn:
    times: pd.Series                 # datetime64 (NaT where unreadable)
    notes: list[str]
    ambiguous: bool                  # dates such as 03/04/2020: day or month first cannot be told from the data
    dayfirst: bool


def parse_times(col: pd.Series, dayfirst: bool | None = None, first_row: int = 2) -> TimeColumn:
    """Read a date column and say what was uncertain: mixed date styles, day-first vs month-first (decided
    from the data where a day above 12 shows it, else ``dayfirst`` or day-first), mixed UTC offsets
    (converted to UTC), and cells that are not dates."""
    notes = []
    text = col.astype("string").str.strip()
    filled = text.notna() & (text != "")
    styles = {name: int(text[filled].str.contains(rx).sum()) for name, rx in _DATE_STYLES}
    used = {k: v for k, v in styles.items() if v}
    if len(used) > 1:
        notes.append("The time column mixes date styles (" + ", ".join(f"{v:,} like {k}" for k, v in used.items())
                     + "): check that the order below is right.")
    dm = text[filled].str.extract(_DAY_MONTH).dropna().astype(int)
    day_first_seen = bool((dm[0] > 12).any()) if len(dm) else False
    month_first_seen = bool((dm[1] > 12).any()) if len(dm) else False
    ambiguous = False
    if dayfirst is None:
        if day_first_seen and month_first_seen:
            dayfirst = int((dm[0] > 12).sum()) >= int((dm[1] > 12).sum())
            notes.append("Some dates only make sense day first and others only month first: read as "
                         f"{'day' if dayfirst else 'month'} first. Check the column.")
        elif day_first_seen or month_first_seen:
            dayfirst = day_first_seen
        else:
            ambiguous = len(dm) > 0
            dayfirst = True
            if ambiguous:
                example = text[filled][text[filled].str.contains(_NUMERIC_DMY)].iloc[0]
                notes.append(f"Dates such as {example} could be day first or month first (no day above 12 "
                             "tells): read day first.")
    if filled.any() and text[filled].str.contains(_TZ, na=False).any():
        offsets = text[filled].str.extract(r"(Z|[+-]\d{2}:?\d{2})$")[0].fillna("none").str.replace(":", "")
        if offsets.replace({"Z": "+0000"}).nunique() > 1:
            notes.append("The times carry different UTC offsets (time zones): all converted to UTC.")
    times, outside = _parse(text.where(filled), dayfirst)
    if outside.any():
        idx = np.flatnonzero(outside.to_numpy())
        examples = ", ".join(repr(str(v))[:30] for v in col[outside].head(3))
        notes.append(f"{len(idx):,} date{'s are' if len(idx) > 1 else ' is'} outside the years this lab's time "
                     f"axis can hold ({FIRST_DATE:%Y-%m-%d} to {LAST_DATE:%Y-%m-%d}) ({examples}; line "
                     f"{_row_list(idx, first_row)}): {'those rows are' if len(idx) > 1 else 'that row is'} left out. "
                     "To keep them, choose (row order) as the time column.")
    bad = filled & times.isna() & ~outside
    if bad.any():
        idx = np.flatnonzero(bad.to_numpy())
        examples = ", ".join(repr(str(v))[:30] for v in col[bad].head(3))
        rows = "those rows are" if len(idx) > 1 else "that row is"
        notes.append(f"{len(idx):,} time value{'s' if len(idx) > 1 else ''} could not be read as a date "
                     f"({examples}; line {_row_list(idx, first_row)}): {rows} left out.")
    return TimeColumn(times, notes, ambiguous, dayfirst)
