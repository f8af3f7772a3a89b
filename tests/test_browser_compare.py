"""The comparison page in a real browser: every tab fits a laptop, a projector and a phone (no horizontal
scroll, no cut labels), and a link with settings opens with those settings and the views they imply."""
import pytest

from bench.appserver import SIZES, cut_labels, horizontal_overflow, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = {"Memory": "", "Shakespeare": "cmp_tab=Shakespeare", "Speed": "cmp_tab=Speed", "Table": "cmp_tab=Table"}


def _open(chromium, url, size="laptop", query=""):
    return open_page(chromium, f"{url}/compare" + (f"?{query}" if query else ""), SIZES[size],
                     "RNN vs CNN vs MLP vs Transformer")


def _slider(page, label):
    return page.locator('[data-testid="stSlider"]').filter(has=page.get_by_text(label, exact=True)).first.locator(
        '[data-testid="stSliderThumbValue"]').first.inner_text()


def test_every_tab_fits_each_screen(app):
    url, chromium = app
    for size in SIZES:
        for tab, query in TABS.items():
            context, page = _open(chromium, url, size, query)
            try:
                assert page.locator('[data-testid="stException"]').count() == 0, (size, tab)
                assert page.get_by_role("tab", name=tab, exact=True).get_attribute("aria-selected") == "true", \
                    (size, tab)
                assert horizontal_overflow(page) == 0, (size, tab)
                assert cut_labels(page) == [], (size, tab)
                if tab == "Table":      # five columns on a wide screen; one block per row on a phone
                    assert page.locator(".cmp-table").is_visible() == (size != "phone"), size
                    assert page.locator(".cmp-stack").is_visible() == (size == "phone"), size
            finally:
                context.close()


def test_a_link_opens_with_its_settings(app):
    url, chromium = app
    context, page = _open(chromium, url, "projector", "cmp_cell=GRU&cmp_size=50k&cmp_T=128&cmp_steps=800"
                                                       "&cmp_window=16&cmp_layers=5&cmp_context=64")
    try:
        select = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Recurrent cell", exact=True))
        assert select.locator("input").first.input_value() == "GRU"
        got = [_slider(page, label) for label in ("Weights per model", "Sequence length T", "Training steps",
                                                   "MLP window (tokens)", "CNN layers (kernel 2, dilations 1, 2, 4 …)",
                                                   "Transformer context (tokens)")]
        assert got == ["50k", "128", "800", "16", "5", "64"]
        # the views the settings imply, drawn in the bars: receptive field 2^5 = 32
        for text in ("k = 0 … 31", "k = 0 … 15", "k = 0 … 63"):
            assert page.locator(".js-plotly-plot text", has_text=text).count() >= 1, text
    finally:
        context.close()
