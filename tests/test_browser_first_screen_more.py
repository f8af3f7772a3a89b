"""The first screen of the other pages (issue #26, part 1): on a projector (1024×768) and a laptop (1400×900), a
freshly opened page shows its main control and that control's result without scrolling.

One app server; each page is opened once, measured at the laptop's size, then at the projector's (the window
resized: the layout is the browser's work). A figure counts by its plotting area, as in tests/test_layout.py
(the token labels under a heatmap may fall below the fold); any other result by its whole box.
"""
import pytest

from bench.appserver import SIZES, chromium_available, opened, serve_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "first-screen-test-password"
#: page path: (what the student works, what it shows); selectors of the first visible element of each
FIRST_SCREEN = {
    "": ((".st-key-home_T", ".st-key-home_cell"), (".st-key-home_diagram .nsewdrag",)),
    "memory": ((".st-key-mem_text",), (".st-key-mem_heat_h .nsewdrag",)),
    "architectures": ((".st-key-ar_1_digit", ".st-key-ar_1_noise"), (".st-key-ar_1_flow .nsewdrag",)),
    "batches": ((".st-key-bat_text",), (".st-key-bat_padded",)),
    # before any training the Train button's result area holds its prompt, and the lineup's views follow
    "compare": ((".st-key-cmp_train",), (".st-key-cmp_views .nsewdrag",)),
    "board": ((".st-key-board_lab", ".st-key-board_states"), ('[data-testid="stDataFrame"]',)),
    "teacher": ((".st-key-teacher_attempt",), ('[data-testid="stFormSubmitButton"]',)),
}
#: the Teacher page once unlocked: the settings form, from its first field to its Save button
UNLOCKED = ((".st-key-teacher_seconds",), ('[data-testid="stFormSubmitButton"]',))

BOXES = """(sels) => sels.map(s => {
    const e = [...document.querySelectorAll(s)].find(e => e.getClientRects().length);
    if (!e) return [s, null, null];
    const r = e.getBoundingClientRect();
    return [s, Math.round(r.top), Math.round(r.bottom)]; })"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    from rnnlab.runtime.board import Board

    data = tmp_path_factory.mktemp("data")
    board = Board(f"sqlite:///{data / 'rnnlab.sqlite3'}")      # a board with runs: its table is drawn
    for k in range(12):
        board.record({"lab": "longrange", "task": "adding", "cell": "LSTM", "params": {"T": 10 * (k % 4 + 1)},
                      "seed": k, "device": "CPU", "wall_seconds": 3.5, "end_state": "finished",
                      "metrics": {"accuracy": 0.5 + k / 30}, "epochs": 2, "nickname": "", "class_code": ""})
    # the board does not redraw itself while it is measured (its watch every 600 s, not 5)
    env = {"RNNLAB_DATA": str(data), "RNNLAB_TEACHER_PASSWORD": PASSWORD, "RNNLAB_BOARD_REFRESH": "600",
           "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    with serve_app(env=env, timeout=180) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(app_url):
    from bench.appserver import browser

    with browser() as b:
        yield b


def _off_screen(page, targets, size: str) -> list[str]:
    """Each control and result not wholly within the first ``size`` screen, with its y's."""
    page.set_viewport_size(SIZES[size])
    wait_idle(page, timeout=120_000)
    height = SIZES[size]["height"]
    boxes = page.evaluate(BOXES, [*targets[0], *targets[1]])
    return [f"{size} {SIZES[size]['width']}×{height}: {s} " + ("missing" if top is None else f"at y {top}–{bottom}")
            for s, top, bottom in boxes if top is None or top < 0 or bottom > height]


@pytest.mark.parametrize("path", list(FIRST_SCREEN))
def test_the_control_and_its_result_share_the_first_screen(app_url, chromium, path):
    with opened(chromium, f"{app_url}/{path}", SIZES["laptop"]) as page:
        problems = [p for size in ("laptop", "projector") for p in _off_screen(page, FIRST_SCREEN[path], size)]
        if path == "teacher":
            page.get_by_label("Teacher password").fill(PASSWORD)
            page.get_by_role("button", name="Unlock").click()
            page.get_by_role("button", name="Save").wait_for(timeout=60_000)
            problems += [f"unlocked: {p}" for size in ("laptop", "projector")
                         for p in _off_screen(page, UNLOCKED, size)]
    assert not problems, f"/{path}: " + "; ".join(problems)
