"""A real browser, two students: one sets a nickname and trains (the NumPy character model of the "from
scratch" page, the fastest training in the app), the other watches the Class board, which shows the new
run by itself (its live fragment), with the nickname. Then the board at a phone's and a projector's width."""
import pytest

from bench.appserver import SIZES, browser, chromium_available, horizontal_overflow, serve_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url():
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    # a fresh data folder; no reloading of modules that change on disk while the test runs
    with serve_app(env={"RNNLAB_BOARD_REFRESH": "1", "RNNLAB_JOB_WORKERS": "1",
                        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}) as url:
        yield url


NO_OVERFLOW = """() => [document.documentElement, ...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stAppViewContainer"]')].every(e => e.scrollWidth - e.clientWidth <= 1)"""


def _set_nickname(page, name: str) -> None:
    page.locator('[data-testid="stExpandSidebarButton"], '
                 '[data-testid="stSidebarCollapsedControl"] button').first.click()
    box = page.get_by_role("textbox", name="Nickname on the class board (optional)")
    box.fill(name)
    box.press("Enter")
    wait_idle(page, plots=False)


def test_a_run_trained_in_one_browser_appears_on_anothers_board(app_url, tmp_path):
    with browser() as chromium:
        viewer = chromium.new_context(viewport=SIZES["laptop"]).new_page()
        viewer.goto(app_url + "/board")
        viewer.get_by_text("No training has ended yet").wait_for(timeout=60_000)

        student = chromium.new_context(viewport=SIZES["laptop"]).new_page()
        student.goto(app_url + "/scratch?scr_tab=Train+a+character+model&scr_char_steps=100&scr_char_hidden=16")
        student.get_by_role("button", name="▶ Train").wait_for(timeout=60_000)
        wait_idle(student, plots=False)
        _set_nickname(student, "Ada")
        student.get_by_role("button", name="▶ Train").click()
        student.get_by_text("Finished.").wait_for(timeout=120_000)

        # the viewer did nothing: its board's live fragment shows the run
        viewer.get_by_text("1 of 1 runs").wait_for(timeout=30_000)
        viewer.get_by_text("Best runs per lab").wait_for()
        viewer.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        # the table is drawn on a canvas; its cells are also in an accessible (visually hidden) grid
        viewer.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text="Ada").first.wait_for(
            state="attached", timeout=30_000)
        assert viewer.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text="NumPy RNN").count() >= 1
        assert viewer.locator('[data-testid="stException"]').count() == 0
        viewer.screenshot(path=str(tmp_path / "board_laptop.png"))
        # the board reruns itself every second, so it is never idle for long: wait for the layout instead
        for size in ("phone", "projector"):
            viewer.set_viewport_size(SIZES[size])
            try:
                viewer.wait_for_function(NO_OVERFLOW, timeout=30_000)
            except Exception:
                pytest.fail(f"the board is {horizontal_overflow(viewer)} px wider than a {size} screen")
            viewer.screenshot(path=str(tmp_path / f"board_{size}.png"))
