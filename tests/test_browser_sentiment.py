"""The Sentiment lab in a real browser (Debian Chromium through Playwright): two students at once, one
training while the other types a review; a link with settings restores them; the page fits a laptop, a
projector and a phone."""
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

TABS = ["Word by word", "Key words", "What if…", "Calibration"]
NEGATION = "I would not say this film is bad. It is not boring at all, and the acting is not without charm."


@pytest.fixture(scope="module")
def app_url():
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    # no file watcher: a source file edited during the run must not reload the job runner's module under it
    with serve_app(env={"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(app_url):
    with browser() as b:
        yield b


def _open(chromium, url: str, size: str = "laptop"):
    context, page = open_page(chromium, url, SIZES[size], "Sentiment lab", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return context, page


def _metric(page, label: str):
    return page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')


def _type_review(page, text: str) -> None:
    box = page.get_by_label("Your review")
    box.fill(text)
    box.press("Control+Enter")          # Streamlit takes a text area's value on Ctrl+Enter (or on blur)


@pytest.mark.parametrize("size", ["laptop", "projector", "phone"])
def test_every_tab_fits_the_screen(app_url, chromium, size):
    context, page = _open(chromium, f"{app_url}/sentiment?sent_example=Negation", size)
    try:
        for tab in TABS:
            button = page.get_by_role("tab", name=tab)
            button.click()
            page.wait_for_function("b => b.getAttribute('aria-selected') === 'true'", arg=button.element_handle())
            wait_for_app(page, "Sentiment lab")
            assert page.locator('[data-testid="stException"]').count() == 0, tab
            assert horizontal_overflow(page) == 0, f"{tab} scrolls sideways at {size}"
            assert cut_labels(page) == [], f"{tab} cuts labels at {size}"
    finally:
        context.close()


def test_one_student_trains_while_another_reads_a_review(app_url, chromium):
    # A trains the live recipe on the compact subset (the default data) ...
    trainer, a = _open(chromium, f"{app_url}/sentiment?sent_subset=50")
    reader, b = _open(chromium, f"{app_url}/sentiment")
    try:
        a.get_by_role("button", name="▶ Start training").click()
        a.get_by_text("Training… step").first.wait_for(timeout=300_000)   # a fresh worker process starts first
        # ... while B types a review and gets the prediction, before A's training has ended
        _type_review(b, "What a dreadful, boring waste of time. The worst film of the year.")
        b.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                     .some(e => e.innerText.includes('negative'))""", timeout=30_000)
        assert a.get_by_role("button", name="■ Stop").count() == 1          # A is still training
        assert b.locator('[data-testid="stException"]').count() == 0
        # A stops: the run ends as "stopped by the user", scored on a bounded sample of the test reviews
        a.get_by_role("button", name="■ Stop").click()
        a.get_by_text("Stopped by the user").first.wait_for(timeout=120_000)
        wait_for_app(a, "Sentiment lab")
        assert a.locator('[data-testid="stException"]').count() == 0
        banner = a.locator('[data-testid="stAlert"]', has_text="Stopped by the user").first.inner_text()
        assert "random sample of 2,000 of the 5,000 test reviews" in banner or "test reviews scored before" in banner, \
            banner
    finally:
        trainer.close()
        reader.close()


def test_a_link_restores_the_settings(app_url, chromium):
    link = (f"{app_url}/sentiment?sent_example=Negation&sent_tab=Key+words&sent_subset=40"
            "&sent_preset=Guide+%C2%A78%3A+Keras+BiLSTM+64%E2%86%9232&sent_epochs_guide_keras=2")
    context, page = _open(chromium, link)
    try:
        assert page.get_by_label("Your review").input_value() == NEGATION
        tab = page.get_by_role("tab", name="Key words")
        assert tab.get_attribute("aria-selected") == "true"
        assert page.get_by_text("Occlusion: each word is removed").count() == 1      # the tab's content is drawn
        assert page.get_by_role("combobox", name="Recipe").input_value() == "Guide §8: Keras BiLSTM 64→32"
        page.get_by_text("Settings", exact=True).click()
        subset = page.locator('[data-testid="stSlider"]', has_text="Training reviews used (%)")
        assert subset.locator('[data-testid="stSliderThumbValue"]').first.inner_text() == "40"
        epochs = page.locator('[data-testid="stSlider"]', has_text="Epochs")
        assert epochs.locator('[data-testid="stSliderThumbValue"]').first.inner_text() == "2"
        # a typed review goes into the link too (bounded in length)
        _type_review(page, "A quiet, moving film.")
        page.wait_for_function("() => new URL(location.href).searchParams.get('sent_text') === 'A quiet, moving film.'")
        params = parse_qs(urlparse(page.url).query)
        assert params["sent_tab"] == ["Key words"] and params["sent_subset"] == ["40"]
    finally:
        context.close()
