"""The Text generation page in a real browser: it fits a laptop, a projector and a phone (no horizontal
scroll, no cut labels) on each tab, freshly opened at 1024×768 and 1400×900 its prompt and its sample share the
first screen (issue #26), and a link with settings opens with those settings."""
import pytest

from bench.appserver import SIZES, cut_labels, horizontal_overflow, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = {"Generate": "", "Train live": "tg_tab=Train+live", "Inside the model": "tg_tab=Inside+the+model"}


def _open(chromium, url, size="laptop", query=""):
    return open_page(chromium, f"{url}/textgen" + (f"?{query}" if query else ""), SIZES[size], "Text generation",
                     plots=False)


def _widget(page, testid, label):
    return page.locator(f'[data-testid="{testid}"]').filter(has=page.get_by_text(label, exact=True)).first


def _slider(page, label):
    return _widget(page, "stSlider", label).locator('[data-testid="stSliderThumbValue"]').first.inner_text()


FIRST_SCREEN = ("projector", "laptop")     # issue #26: the prompt and the sample on the first screen
SAMPLE = '[data-testid="stHtml"]:has(span[title*="under the model"])'


def _first_screen(page, size: str) -> None:
    """The prompt box and the generated sample lie within the window's height, the page not scrolled."""
    height = SIZES[size]["height"]
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
    prompt = page.locator(".st-key-tg_prompt").first.bounding_box()
    page.locator(SAMPLE).first.wait_for(timeout=60_000)
    sample = page.locator(SAMPLE).first.bounding_box()
    span = lambda b: f"y {b['y']:.0f}–{b['y'] + b['height']:.0f}"  # noqa: E731
    where = f"at {SIZES[size]['width']}×{height}: the prompt at {span(prompt)}, the sample at {span(sample)}"
    print(where)
    assert prompt["y"] + prompt["height"] <= height and sample["y"] + sample["height"] <= height, where


def test_the_page_fits_each_screen_on_each_tab(app):
    url, chromium = app
    for size in SIZES:
        for tab, query in TABS.items():
            context, page = _open(chromium, url, size, query)
            try:
                assert page.locator('[data-testid="stException"]').count() == 0, (size, tab)
                assert page.get_by_role("tab", name=tab).get_attribute("aria-selected") == "true", (size, tab)
                model = page.get_by_text("No character model yet").count() == 0
                if tab == "Generate" and size in FIRST_SCREEN and model:
                    _first_screen(page, size)
                assert horizontal_overflow(page) == 0, (size, tab)
                assert cut_labels(page) == [], (size, tab)
            finally:
                context.close()


def test_a_link_opens_with_its_generation_settings(app):
    url, chromium = app
    context, page = _open(chromium, url, query="tg_temp=0.2&tg_topk=5&tg_len=100&tg_prompt=KING%3A%0A&tg_draw=3")
    try:
        assert (_slider(page, "Temperature"), _slider(page, "Top-k"), _slider(page, "Characters")) == \
            ("0.2", "5", "100")
        assert _widget(page, "stTextArea", "Prompt: the model reads this, then goes on").locator(
            "textarea").input_value() == "KING:\n"
        if page.get_by_text("No character model yet").count() == 0:          # a model to generate with
            assert page.locator("span[title*='under the model']").count() == 100
    finally:
        context.close()


def test_a_link_opens_the_training_settings(app):
    url, chromium = app
    context, page = _open(chromium, url, query="tg_tab=Train+live&tg_cell=GRU&tg_hidden=128&tg_layers=2&tg_seq=64"
                                               "&tg_bptt=32&tg_lr=0.005&tg_secs=60")
    try:
        assert _widget(page, "stSelectbox", "Cell").locator("input").input_value() == "GRU"
        got = [_slider(page, label) for label in ("Hidden units", "Layers", "Sequence length",
                                                  "Truncated BPTT length", "Learning rate (Adam)",
                                                  "Training time (s)")]
        assert got == ["128", "2", "64", "32", "0.005", "60"]
    finally:
        context.close()
