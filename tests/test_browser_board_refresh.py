"""A real browser on the Class board while nothing happens, then while a run lands. Idle, each refresh sends
what any Streamlit run sends and no more (under 2.5 kB), and the board stays drawn (its timer fragment draws
nothing, so it clears nothing); a new run in the database appears at the next refresh; the CSV, made on the
click, holds every run."""
import time

import pytest

from bench.appserver import browser, chromium_available, serve_app, wait_for_app
from rnnlab.runtime import board as B
from rnnlab.runtime import database as D

pytestmark = [pytest.mark.browser]

REFRESH = 0.5


def _run(i: int, nickname: str = "") -> dict:
    return {"recorded_at": time.time(), "lab": "longrange", "task": "adding", "cell": ("RNN", "LSTM")[i % 2],
            "params": {"T": (10, 100)[i % 2], "lr": 0.01}, "seed": i, "end_state": "finished",
            "metrics": {"accuracy": i / 100}, "nickname": nickname or f"s{i}"}


@pytest.fixture(scope="module")
def board_app(tmp_path_factory):
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    data = tmp_path_factory.mktemp("board-data")
    url = f"sqlite:///{data / 'rnnlab.sqlite3'}"           # the server's own database file
    board = B.Board(url)
    for i in range(40):
        board.record(_run(i))
    with serve_app(env={"RNNLAB_DATA": str(data), "RNNLAB_BOARD_REFRESH": str(REFRESH),
                        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}) as app_url:
        yield app_url, board
    D.dispose(url)


def test_an_idle_board_stays_drawn_sends_little_and_shows_a_new_run(board_app, tmp_path):
    app_url, board = board_app
    with browser() as chromium:
        page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
        frames = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
        page.goto(app_url + "/board")
        wait_for_app(page, text="Best runs per lab")
        page.get_by_text("40 of 40 runs").wait_for()

        page.wait_for_timeout(1000)                     # Playwright delivers events while it waits
        frames.clear()
        page.wait_for_timeout(4000)                     # 8 refreshes with nothing new
        refreshes = 4 / REFRESH
        assert len(frames) >= refreshes / 2, "the timer did not run"
        # Streamlit's own floor is ~1.9 kB a run (its session message, a status, an empty block, "finished")
        assert sum(frames) / refreshes < 2500, f"{sum(frames)} bytes in {refreshes:g} idle refreshes"
        # still drawn: the three tables (runs, best runs, the numbers behind the plot) and the plot, not stale
        assert page.locator('[data-testid="stDataFrame"]').count() == 3
        assert page.locator(".js-plotly-plot .main-svg").count() >= 1
        assert page.get_by_text("40 of 40 runs").is_visible()
        assert page.locator('[data-stale="true"]').count() == 0

        board.record(_run(40, nickname="Latecomer"))    # a run lands (another server, another student)
        page.get_by_text("41 of 41 runs").wait_for(timeout=10_000)
        page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text="Latecomer").first.wait_for(
            state="attached", timeout=10_000)

        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name="Download these runs (CSV)").click()
        path = tmp_path / "board.csv"
        download.value.save_as(path)
        rows = B.from_csv(path.read_bytes())
        assert len(rows) == 41 and rows[0]["nickname"] == "Latecomer"
        assert page.locator('[data-testid="stException"]').count() == 0
