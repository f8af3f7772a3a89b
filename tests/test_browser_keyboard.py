"""Issue 26 on Step through and An RNN from scratch, in a real browser: the presenter's keys work with no widget
clicked first: ← and → step, the space bar plays and pauses, and a key typed in a text box stays there. (That
the step controls and the step they show share the first screen is checked on tests/test_layout.py's page
loads.)"""
import pytest

from bench.appserver import SIZES, opened, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shows(page, text: str) -> None:
    page.wait_for_function("(t) => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)",
                           arg=text, timeout=30_000)
    wait_idle(page)


def _step_label(page) -> str:
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                         ".match(/Step \\d+ of \\d+/)[0]")


def test_step_through_keys(app_url, chromium):
    """Freshly opened, the keys pressed with nothing clicked: → next, ← back, space plays and pauses; a key in
    the sentence box edits the sentence, not the step."""
    with opened(chromium, f"{app_url}/step_through", SIZES["laptop"]) as page:
        page.keyboard.press("ArrowRight")
        _shows(page, "Step 2 of 7")
        page.keyboard.press("ArrowLeft")
        _shows(page, "Step 1 of 7")

        play = page.locator(".st-key-st_play input[type=checkbox]")
        assert not play.is_checked()
        page.keyboard.press(" ")
        page.wait_for_function("() => document.querySelector('.st-key-st_play input').checked", timeout=30_000)
        _shows(page, "Step 2 of 7")                   # Play moves on by itself, one step a second
        page.keyboard.press(" ")
        page.wait_for_function("() => !document.querySelector('.st-key-st_play input').checked", timeout=30_000)
        wait_idle(page)
        before = _step_label(page)

        page.get_by_text("The network: cell").click()            # open the settings, type in the sentence box
        box = page.locator(".st-key-st_text input")
        box.click()
        box.press("End")
        box.press("ArrowLeft")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(800)
        wait_idle(page)
        assert _step_label(page) == before, "→ in the sentence box moved the step"
        assert box.evaluate("e => e.selectionStart") == len(box.input_value()), "→ did not move the caret"


def test_scratch_step_slider_keys(app_url, chromium):
    """An RNN from scratch: → and ← move the forward step's slider with nothing clicked."""
    with opened(chromium, f"{app_url}/scratch", SIZES["projector"]) as page:
        page.wait_for_function("() => document.querySelector('.katex-display')", timeout=30_000)
        page.keyboard.press("ArrowRight")
        _shows(page, "Step 2: the input x_2")
        page.keyboard.press("ArrowLeft")
        _shows(page, "Step 1: the input x_1")
