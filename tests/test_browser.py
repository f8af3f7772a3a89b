"""A real browser: `streamlit run app.py` in headless Chromium (bench/appserver.py).

A deep link on a fresh server keeps the navigation; links with settings restore the Home, Step-through and
Inside-the-memory pages in a fresh browser context; Next on the Step-through page redraws only the step.
Every page at the three screen sizes is checked in tests/test_layout.py.
"""
from urllib.parse import urlencode

import pytest

from bench.appserver import SIZES, open_page, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh(chromium):
    """A new browser context (no cookies, no session) per test: what a student opening a shared link gets."""
    contexts = []

    def fresh_page(url: str, size: str = "laptop"):
        context, page = open_page(chromium, url, SIZES[size])
        contexts.append(context)
        assert page.locator('[data-testid="stException"]').count() == 0
        return page

    yield fresh_page
    for c in contexts:
        c.close()


def test_deep_link_on_a_fresh_server_keeps_navigation(app_url, fresh):
    # The first request to this server is a deep link: it must still get the navigation and the sidebar.
    page = fresh(app_url + "/step_through")
    assert page.get_by_role("heading", name="Step through an RNN").count() == 1
    assert page.get_by_text("Look inside").count() >= 1            # the top navigation's sections
    assert page.get_by_text("Page not found").count() == 0
    assert "rnnlab" in page.title()


def test_home_link_restores_its_settings(app_url, fresh):
    page = fresh(f"{app_url}/?{urlencode({'home_cell': 'LSTM', 'home_T': 7})}")
    assert page.locator(".st-key-home_T input[type=range]").get_attribute("aria-valuetext") == "7"
    assert page.locator(".st-key-home_cell input").input_value() == "LSTM"
    assert page.get_by_text("Unrolled over 7 steps").count() == 1


def test_step_through_link_restores_cell_sentence_and_step(app_url, fresh):
    query = {"st_cell": "GRU", "st_hidden": 4, "st_text": "a $5 film, ~~not~~ bad at all", "st_t": 5}
    page = fresh(f"{app_url}/step_through?{urlencode(query)}")
    assert page.locator(".st-key-st_cell input").input_value() == "GRU"
    assert page.locator(".st-key-st_text input").input_value() == query["st_text"]
    main = page.locator('[data-testid="stMain"]')
    # step 5 of the 8 tokens "a $ 5 film , ~ ~ not..." as the tokenizer reads them
    assert "Step 5 of" in main.inner_text()
    assert page.get_by_text("reset-after").count() >= 1            # the GRU's equations say which GRU
    # Next redraws the step view only: the settings above are not re-sent (their elements stay the same)
    marker = page.evaluate("() => { const e = document.querySelector('.st-key-st_cell'); e.dataset.probe = '1';"
                           " return true; }")
    assert marker
    page.get_by_role("button", name="Next ▶").click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('Step 6 of')")
    wait_idle(page)
    assert page.locator(".st-key-st_cell[data-probe='1']").count() == 1
    assert "st_t=6" in page.url


def test_memory_link_restores_text_tab_and_unit(app_url, fresh):
    query = {"mem_text": "not good , not bad , simply wonderful", "mem_tab": "Colour the text", "mem_unit": 3}
    page = fresh(f"{app_url}/memory?{urlencode(query)}")
    assert page.locator(".st-key-mem_text textarea").input_value() == query["mem_text"]
    assert page.locator('[role="tab"][aria-selected="true"]').inner_text().strip() == "Colour the text"
    assert page.locator('span[title*="h[3]"]').count() == 8         # every token coloured by unit 3
    values = page.locator('[data-testid="stMetricValue"]:visible').all_inner_texts()
    assert values[0].strip() == "8"                                  # tokens read


def test_memory_page_on_a_phone_draws_its_prefix_plot(app_url, fresh):
    page = fresh(f"{app_url}/memory", size="phone")
    assert page.locator(".st-key-mem_prefix .main-svg").count() >= 1
    assert page.locator(".st-key-mem_heat_h .main-svg").count() >= 1
