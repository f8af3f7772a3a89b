"""The Class board's live refresh: every few seconds each open board asks the database one small question
(has a run landed?) and redraws only when the answer changed; what it draws is bounded (the newest runs),
with a caption that says so. Driven through Streamlit's AppTest, with the timer's fragment run by itself as
the browser's timer runs it."""
import functools
import json
import time
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest, local_script_runner

from rnnlab.figures import board as board_figures
from rnnlab.runtime import board as B
from rnnlab.runtime import database as D

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _fill(n: int, lab: str = "longrange") -> None:
    """``n`` runs on the app's board in one transaction (oldest first), cells and settings varied."""
    board = B.shared_board()
    lines = [{"recorded_at": time.time() - n + i, "class_code": "", "lab": lab, "task": "adding",
              "cell": ("RNN", "LSTM", "GRU")[i % 3], "params": {"T": (10, 50, 100)[i % 3], "lr": (0.01, 0.1)[i % 2]},
              "seed": i, "device": "CPU", "wall_seconds": 1.0, "end_state": "finished",
              "metrics": {"accuracy": (i % 10) / 10}, "epochs": 1, "nickname": f"s{i}"} for i in range(n)]
    with board.engine.begin() as conn:
        conn.execute(D.runs.insert(), lines)


@pytest.fixture
def board_page(tmp_path, monkeypatch):
    """The app on its Class board page, over a fresh database; counts the figure builds and version checks."""
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    counts = {"figure": 0, "version": 0}
    build, version = board_figures.pooled_figure, B.Board.version

    def counting_figure(*a, **kw):
        counts["figure"] += 1
        return build(*a, **kw)

    def counting_version(self, *a, **kw):
        counts["version"] += 1
        return version(self, *a, **kw)

    monkeypatch.setattr(board_figures, "pooled_figure", counting_figure)     # the page imports it on each run
    monkeypatch.setattr(B.Board, "version", counting_version)
    at = AppTest.from_file(APP, default_timeout=60)

    def open_board(n_rows: int):
        _fill(n_rows)
        at.run()
        at.switch_page("app_pages/board.py").run()
        assert not at.exception
        return at

    yield open_board, counts
    D.dispose()


def _timer_tick(at: AppTest) -> AppTest:
    """Run the board's timer fragment alone (``key="board_watch"``), as the browser does every few seconds.

    AppTest has no call for this: it asks its script runner for a rerun of that fragment only (Streamlit's
    RerunData.fragment_id_queue). The tree it returns holds what this run sent, nothing else."""
    ids = at._fragment_storage._ids_by_target_key.get("board_watch")
    assert ids, "the board page no longer registers its timer fragment under key 'board_watch'"
    make = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(RerunData, fragment_id_queue=list(ids), is_auto_rerun=True)
    try:
        at.run()
    finally:
        local_script_runner.RerunData = make
    assert not at.exception
    return at


def _captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


def test_an_idle_refresh_asks_one_question_and_resends_nothing(board_page):
    open_board, counts = board_page
    at = open_board(30)
    assert len(at.dataframe[0].value) == 30 and counts["figure"] == 1
    drawn = at.session_state["_board_drawn"]
    for _ in range(3):
        counts["version"] = 0
        _timer_tick(at)
        assert counts["version"] == 1                                    # one small query per refresh
        assert counts["figure"] == 1                                     # no figure rebuilt ...
        assert not at.get("plotly_chart") and not at.dataframe and not at.caption   # ... nothing resent
        assert at.session_state["_board_drawn"] == drawn


def test_a_new_run_reaches_every_open_board_at_its_next_refresh(board_page):
    open_board, counts = board_page
    at = open_board(30)
    B.shared_board().record({"lab": "longrange", "task": "adding", "cell": "GRU", "params": {"T": 100, "lr": 0.1},
                             "seed": 99, "end_state": "finished", "metrics": {"accuracy": 1.0}, "nickname": "Newbie"})
    _timer_tick(at)                                     # the timer sees a new version: the whole board redraws
    table = at.dataframe[0].value
    assert len(table) == 31 and table.iloc[0]["nickname"] == "Newbie"   # newest first
    assert "31 of 31 runs" in _captions(at)
    assert counts["figure"] == 2 and at.get("plotly_chart")
    _timer_tick(at)                                     # and then it is quiet again
    assert counts["figure"] == 2 and not at.dataframe


def test_a_filter_change_redraws_the_board_without_the_timer(board_page):
    open_board, counts = board_page
    at = open_board(30)
    at.toggle(key="board_same").set_value(False).run()
    assert not at.exception and counts["figure"] == 2                  # another view: its own figure
    assert "Other settings are pooled" in _captions(at)
    _timer_tick(at)
    assert counts["figure"] == 2 and not at.get("plotly_chart")


def test_the_board_draws_a_bounded_number_of_runs_and_says_so(board_page, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    deferred = []                                       # the CSV button's data: made when clicked, not drawn
    add = MediaFileManager.add_deferred
    monkeypatch.setattr(MediaFileManager, "add_deferred",
                        lambda self, data, *a, **kw: (deferred.append(data), add(self, data, *a, **kw))[1])
    open_board, counts = board_page
    n = 1200
    at = open_board(n)
    table = at.dataframe[0].value
    assert len(table) == 500 and table.iloc[0]["#"] > table.iloc[-1]["#"]     # the newest 500
    captions = _captions(at)
    assert f"{n:,} of {n:,} runs" in captions
    assert f"The table shows the newest 500 of these runs; the CSV holds all {n:,}." in captions
    assert f"The plot pools the newest 1,000 of this lab's {n:,} runs; the CSV holds them all." in captions
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    dots = sum(len(t["y"]) for t in fig["data"] if t.get("mode") == "markers")
    assert dots == 1000                                                 # one faint dot per plotted run
    assert "1000 runs" in captions.replace(",", "")                     # the groups pool those 1,000
    assert at.get("download_button")[0].proto.deferred_file_id
    csv = B.from_csv(deferred[-1]())                                    # the CSV holds every run
    assert len(csv) == n and {r["id"] for r in csv} == set(range(1, n + 1))


def test_a_board_whose_database_is_down_says_so_once_and_comes_back(board_page, monkeypatch):
    open_board, counts = board_page
    at = open_board(5)
    working = B.Board.version

    def down(self, *a, **kw):
        raise ConnectionError("no database")

    monkeypatch.setattr(B.Board, "version", down)
    _timer_tick(at)                                     # the version changed (to none): redraw with the error
    assert "cannot be reached" in at.error[0].value and not at.dataframe
    _timer_tick(at)                                     # still down: nothing redrawn, no rerun loop
    assert not at.error and not at.dataframe
    monkeypatch.setattr(B.Board, "version", working)
    _timer_tick(at)                                     # back: the board again
    assert not at.error and len(at.dataframe[0].value) == 5


def test_the_pooled_figure_has_one_dot_trace_per_cell():
    rows = [{"cell": cell, "params": {"T": T, "lr": lr}, "metrics": {"accuracy": 0.1 * k}, "id": k}
            for k, (cell, T, lr) in enumerate((c, T, lr) for c in ("RNN", "LSTM") for T in (10, 100)
                                              for lr in (0.1, 0.01, 0.001))]
    groups = B.pooled(rows, "accuracy", "T")
    fig = board_figures.pooled_figure(groups, "accuracy", "T")
    dots = [t for t in fig.data if t.mode == "markers"]
    assert len(groups) == 12 and [t.legendgroup for t in dots] == ["LSTM", "RNN"]
    assert sorted(y for t in dots for y in t.y) == pytest.approx(sorted(0.1 * k for k in range(12)))
    assert len([t for t in fig.data if t.mode == "lines+markers"]) == 6   # one line per cell and settings
