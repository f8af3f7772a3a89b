"""The Forecasting lab in a real browser: a link restores every setting in a fresh context, the page's own
settings go into its link, and the page fits a laptop, a projector and a phone (no horizontal scroll, no
cut labels), before and after a training."""
import re
from urllib.parse import parse_qs, urlparse

import pytest

from bench.appserver import SIZES, cut_labels, horizontal_overflow, open_page, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LINK = {"fc_series": "Mackey-Glass chaos", "fc_tau": "20", "fc_every": "6", "fc_window": "20", "fc_horizon": "5",
        "fc_strategy": "recursive", "fc_cell": "LSTM", "fc_sizes": "16, 8", "fc_lr": "0.01", "fc_seeds": "2"}


def _open(chromium, url, size="laptop", query=""):
    return open_page(chromium, f"{url}/forecast" + (f"?{query}" if query else ""), SIZES[size], "Forecasting lab")


def _widget(page, testid, label):
    return page.locator(f'[data-testid="{testid}"]').filter(has=page.get_by_text(label, exact=True)).first


def _slider(page, label):
    return _widget(page, "stSlider", label).locator('[data-testid="stSliderThumbValue"]').first.inner_text()


def _settings(page) -> dict:
    return {"series": _widget(page, "stSelectbox", "Series").locator("input").input_value(),
            "cell": _widget(page, "stSelectbox", "Cell").locator("input").input_value(),
            "sizes": _widget(page, "stTextInput", "Hidden sizes (one per layer)").locator("input").input_value(),
            "tau": _slider(page, "Delay τ (chaotic above 16.8)"), "every": _slider(page, "Sample every … time units"),
            "window": _slider(page, "Input window"), "horizon": _slider(page, "Horizon (steps ahead)"),
            "lr": _slider(page, "Learning rate"), "seeds": _slider(page, "Seeds"),
            "recursive": _widget(page, "stRadio", "Multi-step strategy").locator(
                "input[type=radio]").nth(1).is_checked()}


EXPECTED = {"series": "Mackey-Glass chaos", "cell": "LSTM", "sizes": "16, 8", "tau": "20", "every": "6",
            "window": "20", "horizon": "5", "lr": "0.01", "seeds": "2", "recursive": True}


def test_a_link_opens_with_its_settings_in_a_fresh_context(app):
    url, chromium = app
    query = "&".join(f"{k}={v.replace(' ', '+').replace(',', '%2C')}" for k, v in LINK.items())
    context, page = _open(chromium, url, query=query)
    try:
        assert _settings(page) == EXPECTED
        assert page.get_by_text("Mackey-Glass (τ=20, every 6 time units)").count() >= 1     # the series drawn
    finally:
        context.close()


def test_the_pages_settings_go_into_its_link(app):
    url, chromium = app
    context, page = _open(chromium, url)
    try:
        page.get_by_role("button", name="Chaos: the GRU wins").click()
        page.wait_for_function("() => location.search.includes('fc_every=6')", timeout=60_000)
        wait_for_app(page, "Mackey-Glass (τ=17, every 6 time units)", timeout=60_000)
        sizes = _widget(page, "stTextInput", "Hidden sizes (one per layer)").locator("input")
        sizes.fill("16, 8")
        sizes.press("Enter")
        page.wait_for_function("() => location.search.includes('fc_sizes=')", timeout=60_000)
        link = page.url
    finally:
        context.close()
    params = {k: v[-1] for k, v in parse_qs(urlparse(link).query).items()}
    assert params["fc_series"] == "Mackey-Glass chaos" and params["fc_every"] == "6" and params["fc_sizes"] == "16, 8"
    assert (params["fc_window"], params["fc_horizon"]) == ("20", "5")
    context, page = _open(chromium, url, query=urlparse(link).query)
    try:
        got = _settings(page)
        assert (got["series"], got["every"], got["window"], got["horizon"], got["sizes"]) == (
            "Mackey-Glass chaos", "6", "20", "5", "16, 8")
    finally:
        context.close()


def test_the_page_fits_each_screen(app):
    url, chromium = app
    for size in SIZES:
        context, page = _open(chromium, url, size)
        try:
            assert page.locator('[data-testid="stException"]').count() == 0, size
            assert horizontal_overflow(page) == 0, size
            assert cut_labels(page) == [], size
        finally:
            context.close()


def test_results_fit_a_phone(app):
    url, chromium = app
    context, page = _open(chromium, url, "phone", "fc_n=300&fc_epochs=1&fc_sizes=4&fc_seeds=1")
    try:
        page.get_by_role("button", name=re.compile("Train")).click()
        page.get_by_text("Test metrics", exact=True).wait_for(timeout=240_000)
        wait_for_app(page, "Test part: 1 step ahead", timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert horizontal_overflow(page) == 0
        assert cut_labels(page) == []
    finally:
        context.close()
