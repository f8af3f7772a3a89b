"""Every page of the app at the three classroom sizes, in a real browser.

A laptop (1400×900), a projector (1024×768) and a phone (390×844): no page may scroll sideways, no widget
label or button text may be cut, no exception may show, wide equations scroll inside their own box, and
Plotly's mode bar appears only on hover (diagrams have none). On a phone the navigation, folded into the
sidebar, must close once a page is picked.
"""
import pytest

from app_pages.common import all_pages
from bench.appserver import SIZES, chromium_available, cut_labels, horizontal_overflow, opened, serve_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [p.url_path if not p.default else "" for p in all_pages()]


@pytest.fixture(scope="module")
def app_url():
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    with serve_app(timeout=180) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(app_url):
    from bench.appserver import browser

    with browser() as b:
        yield b


def _problems(page) -> list[str]:
    problems = []
    if page.locator('[data-testid="stException"]').count():
        problems.append("exception: " + page.locator('[data-testid="stException"]').first.inner_text()[:200])
    over = horizontal_overflow(page)
    if over > 0:
        wide = page.evaluate("""() => { const main = document.querySelector('[data-testid="stMain"]');
            const right = main.getBoundingClientRect().right;
            return [...main.querySelectorAll('[data-testid]')].filter(e => e.getBoundingClientRect().right > right + 1)
                .slice(-3).map(e => e.getAttribute('data-testid') + ' ' + """
                             """Math.round(e.getBoundingClientRect().right)); }""")
        problems.append(f"page scrolls sideways by {over} px (widest: {wide})")
    cut = cut_labels(page)
    if cut:
        problems.append(f"cut labels: {cut}")
    stuck = page.evaluate("""() => [...document.querySelectorAll('.katex-display')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 && !/auto|scroll/.test(getComputedStyle(e).overflowX))
        .map(e => e.innerText.slice(0, 40))""")
    if stuck:
        problems.append(f"equations cut without a scroll bar: {stuck}")
    always = page.evaluate("""() => [...document.querySelectorAll('.modebar')]
        .filter(e => !e.classList.contains('modebar--hover')).length""")
    if always:
        problems.append(f"{always} Plotly mode bar(s) shown without hover")
    return problems


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_every_screen(app_url, chromium, path):
    """The page runs once; the window is then set to each size in turn (the layout is the browser's work:
    the server's output does not depend on the width), and every size is checked."""
    with opened(chromium, f"{app_url}/{path}", SIZES["laptop"]) as page:
        assert page.locator("h1").count(), "no title"
        problems = {}
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            wait_idle(page, timeout=120_000)
            found = _problems(page)
            if found:
                problems[f"{size} {SIZES[size]['width']}×{SIZES[size]['height']}"] = found
        assert not problems, f"/{path}: " + " | ".join(f"{k}: {'; '.join(v)}" for k, v in problems.items())


def test_phone_navigation_closes_after_a_choice(app_url, chromium):
    """At 390 px the top navigation folds into the sidebar; after a page is picked it must not stay open."""
    with opened(chromium, app_url, SIZES["phone"]) as page:
        sidebar = page.locator('[data-testid="stSidebar"]')
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getBoundingClientRect().right > 200")
        target = all_pages()[1]
        sidebar.get_by_role("link", name=target.title).click()
        page.get_by_role("heading", name=target.title).first.wait_for(timeout=60_000)
        page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getBoundingClientRect().right <= 1", timeout=10_000)
        assert page.url.rstrip("/").endswith(target.url_path)


def test_an_unknown_link_says_no_such_page(app_url, chromium):
    """A mistyped link shows a short 'No such page' with a link to every page, not a silent redirect home."""
    with opened(chromium, f"{app_url}/no-such-lab", SIZES["laptop"]) as page:
        page.get_by_role("heading", name="No such page").wait_for(timeout=60_000)
        main = page.locator('[data-testid="stMain"]')
        for p in all_pages():
            assert main.get_by_role("link", name=p.title, exact=True).count() == 1, p.title
        assert not page.get_by_role("heading", name=all_pages()[0].title).count()    # not the home page


def test_the_gradients_lab_points_to_the_attention_tab(app_url, chromium):
    """The Gradients lab's pointer to attention opens the Architectures page on its Attention tab."""
    with opened(chromium, f"{app_url}/gradients", SIZES["laptop"]) as page:
        page.get_by_role("link", name="Attention, trained live").click()
        page.get_by_role("heading", name="Architectures").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Attention", selected=True).wait_for(timeout=60_000)
        assert "ar_tab=Attention" in page.url


def test_step_through_bars_are_on_a_projectors_first_screen(app_url, chromium):
    """At 1024×768 the Step-through page's state and gate charts (their whole plotting area, -1 to 1) are on
    the first screen, under the lesson and the controls: the teacher presses Next and the class sees them."""
    with opened(chromium, f"{app_url}/step_through", SIZES["projector"]) as page:
        bottoms = page.evaluate("""() => ['st_state_bars', 'st_gate_bars'].map(k => {
            const area = document.querySelector('.st-key-' + k + ' .nsewdrag');
            const bars = document.querySelectorAll('.st-key-' + k + ' .barlayer .point path').length;
            return area && bars ? area.getBoundingClientRect().bottom : null; })""")
        assert None not in bottoms, "the bars were not drawn"
        assert max(bottoms) <= SIZES["projector"]["height"], f"the charts' plotting areas end at {bottoms} px"
