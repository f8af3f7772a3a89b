"""The course pages in a real browser at the three classroom sizes: every tab renders without an exception,
the page never scrolls sideways, no label is cut, and a link with settings opens the page as it was."""
from urllib.parse import urlencode

import numpy as np
import pytest

from bench.appserver import SIZES, cut_labels, horizontal_overflow, wait_for_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: page url path -> its tabs (each is opened in turn)
COURSE_PAGES = {
    "scratch": ["Forward pass", "Backpropagation by hand", "Gradient check", "The same in torch.nn.RNN",
                "Train a character model"],
    "batches": ["Padding and masking", "Packing", "What it costs", "Embeddings"],
}


def _check(page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    assert horizontal_overflow(page) <= 0, f"{where}: the page scrolls sideways"
    assert cut_labels(page) == [], where


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("path", list(COURSE_PAGES))
def test_course_page_fits_every_size(app, path, size):
    url, chromium = app
    page = chromium.new_page(viewport=SIZES[size])
    try:
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        wait_for_app(page)
        for tab in COURSE_PAGES[path]:
            page.get_by_role("tab", name=tab).click()
            page.get_by_role("tab", name=tab, selected=True).wait_for(timeout=30_000)
            wait_idle(page)
            _check(page, f"{path} / {tab} at {size}")
    finally:
        page.close()


def test_a_link_restores_the_scratch_page(app):
    from rnnlab.labs.scratch import course_example

    url, chromium = app
    query = urlencode({"scr_seed": 3, "scr_hidden": 2, "scr_inputs": "1, 0", "scr_targets": "1, 1",
                       "scr_tab": "Forward pass"})
    page = chromium.new_page(viewport=SIZES["projector"])
    try:
        page.goto(f"{url}/scratch?{query}", wait_until="domcontentloaded")
        wait_for_app(page)
        ex = course_example(3, 2, 2, seed=3, inputs=[1, 0], targets=[1, 1])
        printed = page.locator('[data-testid="stCode"]').nth(1).inner_text()
        for t, h in enumerate(ex.H, 1):
            assert f"step {t}: h = {np.round(h, 3)}" in printed
        assert page.get_by_label("Hidden size").input_value() == "2"
        _check(page, "scratch link")
    finally:
        page.close()


def test_a_link_restores_the_batches_page(app):
    url, chromium = app
    query = urlencode({"bat_tab": "Packing", "bat_text": "one two three\nfour\nfive six"})
    page = chromium.new_page(viewport=SIZES["phone"])
    try:
        page.goto(f"{url}/batches?{query}", wait_until="domcontentloaded")
        wait_for_app(page, plots=False)
        page.get_by_text("packed.batch_sizes").first.wait_for(timeout=30_000)
        assert "tensor([3, 2, 1])" in page.locator('[data-testid="stCode"]').first.inner_text()
        _check(page, "batches link")
    finally:
        page.close()
