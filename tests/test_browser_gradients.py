"""The Gradients lab in a real browser (Debian Chromium through Playwright): it fits a laptop, a projector
and a phone with no horizontal scroll and no cut labels, and a link with settings restores them."""
from urllib.parse import parse_qs, urlparse

import pytest

from bench.appserver import (
    SIZES,
    browser,
    chromium_available,
    cut_labels,
    horizontal_overflow,
    open_page,
    serve_app,
    wait_for_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = ["Gradient flow", "Clipping", "Truncated BPTT", "Long-range tasks"]


@pytest.fixture(scope="module")
def app_url():
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    with serve_app() as url:
        yield url


@pytest.fixture(scope="module")
def chromium(app_url):
    with browser() as b:
        yield b


def _open(chromium, url: str, size: str):
    context, page = open_page(chromium, url, SIZES[size], "Gradients lab", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return context, page


@pytest.mark.parametrize("size", ["laptop", "projector", "phone"])
def test_every_tab_fits_the_screen(app_url, chromium, size):
    context, page = _open(chromium, f"{app_url}/gradients", size)
    try:
        for tab in TABS:
            button = page.get_by_role("tab", name=tab)
            button.click()
            page.wait_for_function("b => b.getAttribute('aria-selected') === 'true'", arg=button.element_handle())
            wait_for_app(page, "Gradients lab")
            assert page.locator('[data-testid="stException"]').count() == 0, tab
            assert horizontal_overflow(page) == 0, f"{tab} scrolls sideways at {size}"
            assert cut_labels(page) == [], f"{tab} cuts labels at {size}"
    finally:
        context.close()


def test_a_link_restores_the_settings(app_url, chromium):
    link = (f"{app_url}/gradients?gr_T=300&gr_hidden=16&gr_fbias=0.0&gr_cells=LSTM&gr_cells=GRU"
            "&gr_input=typed+sentence&gr_text=one+two+three&gr_tab=Gradient+flow")
    context, page = _open(chromium, link, "laptop")
    try:
        def slider_value(label: str) -> str:
            box = page.locator('[data-testid="stSlider"]', has_text=label)
            return box.locator('[data-testid="stSliderThumbValue"]').first.inner_text()

        assert slider_value("Sequence length T") == "300"
        assert slider_value("LSTM forget-gate bias") == "0.00"
        assert slider_value("Hidden size") == "16"
        assert page.get_by_text("3 tokens").count() >= 1           # the typed sentence is read
        legend = page.eval_on_selector_all(".js-plotly-plot .legendtext", "els => els.map(e => e.textContent)")
        assert "LSTM" in legend and "GRU" in legend and "RNN (tanh)" not in legend
        # moving a control writes it back into the URL
        page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => new URL(location.href).searchParams.get('gr_T') === '301'")
        params = parse_qs(urlparse(page.url).query)
        assert params["gr_hidden"] == ["16"] and params["gr_cells"] == ["LSTM", "GRU"]
    finally:
        context.close()
