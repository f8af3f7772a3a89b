"""Issue #26, part 1: at a projector's 1024×768 and a laptop's 1400×900, a freshly opened lab shows its main
control and that control's result on the first screen, with no scrolling (Debian Chromium through
Playwright): the review box and P(positive), the T slider and the gradient-flow plot, the series choice and
its plot."""
import pytest

from bench.appserver import SIZES, browser, chromium_available, opened, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: page path, its title, then (name, CSS selector) of the control and of its result
PAGES = {
    "sentiment": ("Sentiment lab", ("the review box", ".st-key-sent_text"),
                  ("P(positive)", '[data-testid="stMetric"]:has-text("P(positive)")')),
    "gradients": ("Gradients lab", ("the T slider", ".st-key-gr_T"), ("the gradient-flow plot", ".st-key-gr_flow")),
    "forecast": ("Forecasting lab", ("the series choice", ".st-key-fc_series"),
                 ("the series plot", ".st-key-fc_series_plot")),
}


@pytest.fixture(scope="module")
def chromium():
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    with serve_app(env={"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}) as url, browser() as b:
        b.app_url = url
        yield b


def _box(page, selector: str) -> dict:
    el = page.locator(selector).first
    el.wait_for(timeout=60_000)
    box = el.bounding_box()
    assert box is not None, f"{selector} is not drawn"
    return {"top": round(box["y"]), "bottom": round(box["y"] + box["height"])}


@pytest.mark.parametrize("size", ["projector", "laptop"])
@pytest.mark.parametrize("path", list(PAGES))
def test_the_control_and_its_result_share_the_first_screen(chromium, path, size):
    title, (control_name, control), (result_name, result) = PAGES[path]
    height = SIZES[size]["height"]
    with opened(chromium, f"{chromium.app_url}/{path}", SIZES[size], title) as page:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
        c, r = _box(page, control), _box(page, result)
        where = (f"{path} at {SIZES[size]['width']}×{height}: {control_name} at y {c['top']}–{c['bottom']}, "
                 f"{result_name} at y {r['top']}–{r['bottom']}")
        print(where)
        assert c["bottom"] <= height and r["bottom"] <= height, where
