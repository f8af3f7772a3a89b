"""Class board: every training the class finished, in one table, with the best runs and pooled plots."""
from __future__ import annotations

import functools
import os

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.common import escape_md, next_page, plot, reset_button, tips
from rnnlab.figures.board import pooled_figure
from rnnlab.runtime.board import (
    MAX_ROWS,
    RECORDED_STATES,
    STATE_LABELS,
    best_runs,
    filter_rows,
    flat,
    keys_of,
    lower_is_better,
    pooled,
    pooled_runs,
    primary_metric,
    runs_per_lab,
    settings_label,
    shared_board,
    to_csv,
    varying_params,
)
from rnnlab.runtime.database import database_url
from rnnlab.runtime.settings import load_settings

REFRESH = float(os.environ.get("RNNLAB_BOARD_REFRESH", 5.0))
TABLE_ROWS = 500        # the table shows the newest 500 runs of the filter: the CSV has them all
PLOT_ROWS = 1000        # the pooled plot: the newest 1,000 runs of its lab (each run is a dot)
ALL = "All labs"
DRAWN = "_board_drawn"  # session key: the (database, class code, version) this tab's board was drawn from


@st.cache_resource(max_entries=8, ttl=600, show_spinner=False)
def _rows(url: str, class_code: str, version: tuple[int, int]) -> list[dict]:
    """The board's rows, read once per change for the whole server (``version`` changes with every row)."""
    return shared_board(url).rows(class_code=class_code, limit=MAX_ROWS)


def intro() -> None:
    """The title, what the board is for and the class code in force (the prompts wait under the board)."""
    st.title("Class board")
    settings = load_settings()
    common.intro("Every training anyone in the class finishes, in any lab, lands here: its settings, its seed and "
                "how it ended. Together the class maps what one student cannot: how accuracy moves with the hidden "
                "size, the sequence length or the learning rate, per cell, and how much of that is just the seed.")
    if settings.class_code:
        st.info(f"Class code: **{escape_md(settings.class_code)}** — the runs below were recorded under it.")


def reading_tips() -> None:
    """How to read the board, one click away under it."""
    tips("Pick a lab and plot its result against a setting the class varied (<b>T</b>, the hidden size, the "
           "learning rate): where does each cell stop working?",
           "The error bars are ± one standard deviation across seeds: when two settings' bars overlap, the seed "
           "moves the result as much as the setting does, and the class has not shown that one is better.",
           "Set a nickname in the sidebar (⚙️, optional) before you train to find your runs here.",
           title="Reading the board")


@st.cache_resource(max_entries=16, ttl=600, show_spinner=False)
def _pooled(url: str, class_code: str, version: tuple[int, int], lab: str, states: tuple[str, ...], metric: str,
            x: str, same: bool, _rows: list[dict]) -> tuple[list[dict], object]:
    """The pooled groups of ``_rows`` (a lab's newest :data:`PLOT_ROWS` runs, named by the other arguments) and
    their figure, built once per change and view for the whole server: when a run lands, 30 boards with the
    same choices share one figure (shared objects: read them, never change them)."""
    groups = pooled(_rows, metric, x, same_settings=same)
    return groups, pooled_figure(groups, metric, x, lower_is_better=lower_is_better(metric))


def _source() -> tuple:
    """(database URL, class code, the board's version): what a board is drawn from. One small query."""
    url, code = database_url(), load_settings().class_code
    return url, code, shared_board(url).version(class_code=code)


@st.fragment(run_every=REFRESH, key="board_watch")
def watch() -> None:
    """Every REFRESH seconds, one small query: has a run landed (or been cleared) since this tab drew its board?
    Only then a full run redraws it. Drawing nothing here keeps the board as it is: a fragment clears only the
    elements it draws itself, and this one draws none (a 5,000-run board is not rebuilt and resent to every
    open tab every few seconds)."""
    try:
        source = _source()
    except Exception:
        source = None
    if source != st.session_state.get(DRAWN):
        st.rerun(scope="app")


@st.fragment
def board_view() -> None:
    """The board. Drawn by a full run of the page (the first one, or :func:`watch`'s) and, alone, when one of
    its own choices changes; it records in the session which version of the board it shows."""
    try:
        url, code, version = source = _source()
        rows = _rows(url, code, version)
    except Exception as err:
        st.session_state[DRAWN] = None
        st.error("The class board's database cannot be reached right now; it will appear here once it can. "
                 f"({escape_md(type(err).__name__)})")
        return
    st.session_state[DRAWN] = source
    if not rows:
        st.info("No training has ended yet. Train a model in any lab: when it ends, it appears here for everyone.")
        return

    labs = sorted({r["lab"] for r in rows})
    c1, c2 = st.columns([1, 2])
    lab = c1.selectbox("Lab", [ALL] + labs, key="board_lab", bind="query-params")
    states = c2.multiselect("How the run ended", list(RECORDED_STATES), default=list(RECORDED_STATES),
                            format_func=STATE_LABELS.get, key="board_states", bind="query-params")
    shown = filter_rows(rows, lab=None if lab == ALL else lab, states=states)
    more = f" (the newest {MAX_ROWS:,} are shown)" if version[0] > len(rows) else ""
    st.caption(f"{len(shown):,} of {version[0]:,} runs{more} · looks for new runs every {REFRESH:g} s · click a "
               "column's title to sort")
    if not shown:
        st.warning("No run matches these filters.")
        return

    runs_table(shown)
    best_table(shown)
    pooled_plot(shown, lab, labs, source, tuple(states))


def runs_table(shown: list[dict]) -> None:
    """The filtered runs, newest first (the table holds TABLE_ROWS of them, the CSV all)."""
    table = pd.DataFrame(flat(shown[:TABLE_ROWS]))
    table["ended"] = pd.to_datetime(table["ended"], unit="s", utc=True).dt.tz_convert(None)
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 400),
                 column_config={"ended": st.column_config.DatetimeColumn("ended (UTC)", format="HH:mm:ss"),
                                "wall time (s)": st.column_config.NumberColumn(format="%.1f")})
    if len(shown) > TABLE_ROWS:
        st.caption(f"The table shows the newest {TABLE_ROWS} of these runs; the CSV holds all {len(shown):,}.")
    # the CSV is made when it is clicked (in its own thread), not at every redraw of every board
    st.download_button("Download these runs (CSV)", functools.partial(to_csv, shown),
                       file_name="class_board.csv", mime="text/csv", key="board_csv",
                       help="One line per run: its settings as param.* columns, its results as metric.* columns.")


def best_table(shown: list[dict]) -> None:
    """Each lab's three best runs by its headline metric."""
    st.subheader("Best runs per lab")
    best = best_runs(shown, per_lab=3)
    lines = []
    for lab_name, b in best.items():
        for rank, r in enumerate(b["rows"], 1):
            lines.append({"lab": lab_name, "rank": rank,
                          "metric": b["metric"] + (" ↓" if b["lower_is_better"] else " ↑"),
                          "value": r["metrics"][b["metric"]], "nickname": r.get("nickname", ""), "cell": r["cell"],
                          "settings": settings_label(r["params"], 120), "seed": r["seed"]})
    if lines:
        st.dataframe(pd.DataFrame(lines), hide_index=True, width="stretch")
        st.caption("Each lab's headline metric is the first its trainings report; ↑ higher is better, ↓ lower.")


def pooled_plot(shown: list[dict], lab: str, labs: list[str], source: tuple,
                states: tuple[str, ...]) -> None:
    """A metric against a setting, for one lab: its newest PLOT_ROWS runs (``shown`` is newest first);
    ``source`` and ``states`` name the figure for :func:`_pooled`."""
    st.subheader("Pooled: a metric against a setting")
    if lab == ALL:
        counts = runs_per_lab(shown, labs)
        choices = sorted((n for n in labs if counts[n]), key=lambda n: -counts[n])   # the busiest lab first
        lab = st.selectbox("Lab to plot", choices, key="board_plot_lab", bind="query-params",
                           help="Settings differ from lab to lab: plot one at a time.")
    everything = filter_rows(shown, lab=lab)
    rows = everything[:PLOT_ROWS]
    metrics, params = keys_of(rows, "metrics"), keys_of(rows, "params")
    if not metrics or not params:
        st.info("These runs have no metric or no setting to plot yet.")
        return
    # settings that vary make the interesting x axes: put them first
    varying = varying_params(rows, params)
    c1, c2 = st.columns(2)
    metric = c1.selectbox("Metric", metrics, index=metrics.index(primary_metric(rows)), key="board_metric",
                          bind="query-params")
    x = c2.selectbox("Against", varying + [p for p in params if p not in varying], key="board_x", bind="query-params")
    same = st.toggle("Only pool runs whose other settings are the same", value=True, key="board_same",
                     bind="query-params",
                     help="On: a point is the mean over runs that differ only in their seed. Off: a point pools "
                          "every run of that cell at that value, whatever its other settings.")
    groups, fig = _pooled(*source, lab, states, metric, x, same, rows)
    plot(fig, key="board_pooled")
    if len(everything) > len(rows):
        st.caption(f"The plot pools the newest {len(rows):,} of this lab's {len(everything):,} runs; the CSV "
                   "holds them all.")
    n_runs = pooled_runs(groups)
    st.caption(f"{len(groups)} group{'s' if len(groups) != 1 else ''} from {n_runs} run{'s' if n_runs != 1 else ''}. "
               "A big dot is the mean of a group, its bar ± one standard deviation across the group's runs "
               "(no bar: one run only); faint dots are single runs. "
               + ("A line joins points whose other settings are all the same." if same else
                  "Other settings are pooled: a difference may come from them, not from the setting on the x axis."))
    with st.expander("The numbers behind the plot"):
        st.dataframe(pd.DataFrame([{"cell": g["cell"], x: str(g["x"]), "runs": g["n"], "mean": g["mean"],
                                    "sd": g["sd"], "without a value": g["n_missing"],
                                    "other settings": settings_label(g["settings"], 200)} for g in groups]),
                     hide_index=True, width="stretch")


intro()
board_view()     # the filters and the table on the first screen; the tips and the reset button under them
watch()          # after the board: in a full run it finds the version just drawn
reading_tips()
reset_button("board_")
next_page("app_pages/board.py")
