"""The teacher leads two students in a real browser (issue #27): three browser contexts on one server (the
teacher and student A at a laptop's size, student B on a phone). The students see where the teacher is and
follow (A with one click, B automatically); the teacher asks a checkpoint from the Teacher page; both answer
it on the Gradients lab; the teacher sees the answers arrive live, waits for the answer computed in a worker
and reveals it; each student then sees the computed answer, a ✓ or ✗ beside their own, the class's histogram
and the explanation, and no page shows an error.

The AppTest version of this flow is tests/test_classroom.py; this one catches what only a browser shows: a
setting changed inside a fragment (AppTest reruns the whole script), the polling's timing, the top
navigation, and what the fixed header hides.

A fault in the app that the test can step around is written down, stepped around so that every later step
is still checked, and reported at the end as an expected failure naming each fault; once they are fixed the
test simply passes."""
import re

import pytest

from bench.appserver import SIZES, chromium_available, open_page, serve_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "open sesame"
CHECKPOINT = "gradients.survives"
ARRIVE = 60_000          # the bar polls every POLL_SECONDS (3 s) and reads a copy at most CACHE_SECONDS old
PUBLISHED = 12_000       # a change the teacher makes reaches the bar within a few polls
COMPUTE = 120_000        # the checkpoint's answer is computed by a job in a freshly spawned training worker
PICKS = {"A": "LSTM", "B": "GRU"}
TRUTH = "LSTM"           # what the lesson's own check computes (tests/test_checkpoints.py recomputes it)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A server of its own, with the teacher's password, one training worker and a fresh data folder
    (conftest's ``chromium`` fixture starts the browser once this is up)."""
    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    data = tmp_path_factory.mktemp("classroom-data")
    env = {"RNNLAB_TEACHER_PASSWORD": PASSWORD, "RNNLAB_DATA": str(data), "RNNLAB_JOB_WORKERS": "1",
           "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    with serve_app(env=env, timeout=180, log=data / "server.log") as url:
        url.log = data / "server.log"
        yield url


@pytest.fixture(scope="module")
def lesson():
    """What the students will see, taken from the app itself: the lab's title, the lesson and its question."""
    from app_pages.common import all_pages
    from rnnlab.lessons import find_lesson, page_script

    page, found = find_lesson(CHECKPOINT)
    titles = {p.path: p.title for p in all_pages()}
    return {"title": titles[page_script(page)], "lesson": found, "T": found.settings["gr_T"],
            "tab": found.settings["gr_tab"], "teacher": titles["app_pages/teacher.py"]}


# --- what a person sees ---------------------------------------------------------------------------------------
def _sees(where, pattern: str, timeout: float = ARRIVE) -> None:
    """Wait until a text matching ``pattern`` is shown in ``where`` (a page or a part of it)."""
    where.get_by_text(re.compile(pattern)).first.wait_for(timeout=timeout)


def _shows(page, pattern: str, timeout: float) -> bool:
    """Whether a text matching ``pattern`` appears within ``timeout`` ms."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        _sees(page, pattern, timeout)
    except PlaywrightTimeout:
        return False
    return True


def _count(page, pattern: str, at_least: int) -> int:
    """The number a text on the page shows (``pattern``'s group 1), once it is at least ``at_least``."""
    page.wait_for_function("([p, n]) => { const m = document.body.innerText.match(new RegExp(p)); "
                           "return m !== null && Number(m[1]) >= n; }", arg=[pattern, at_least], timeout=ARRIVE)
    return int(re.search(pattern, page.locator("body").inner_text()).group(1))


_COVERED_JS = """e => {
    const r = e.getBoundingClientRect(), header = document.querySelector('[data-testid="stHeader"]');
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return (header !== null && r.top < header.getBoundingClientRect().bottom - 1) || !(hit && e.contains(hit));
}"""


def _covered(locator) -> bool:
    """Whether, scrolled into view, the element is still partly under the fixed header (or under anything
    else at its centre): a person can neither read nor press it there."""
    locator.scroll_into_view_if_needed(timeout=ARRIVE)
    return locator.evaluate(_COVERED_JS)


def _no_error(pages: dict) -> None:
    for who, page in pages.items():
        assert page.locator('[data-testid="stException"]').count() == 0, f"{who}: a Streamlit exception box"
        assert "Traceback" not in page.locator("body").inner_text(), f"{who}: a traceback"


def _on_the_lab(page, lesson: dict) -> None:
    """The Gradients lab is open with the lesson's T."""
    from playwright.sync_api import expect

    page.get_by_role("heading", name=lesson["title"]).first.wait_for(timeout=ARRIVE)
    expect(_slider(page, "Sequence length T")).to_have_value(str(lesson["T"]), timeout=ARRIVE)


def _evidence(pages: dict, tmp_path, log) -> str:
    """Screenshots of every page, the start of its text and the server's last lines, for the failure
    message."""
    shots = []
    for who, page in pages.items():
        path = tmp_path / f"{who}.png"
        try:
            page.screenshot(path=str(path))
            shots.append(f"{path}: {page.locator('body').inner_text()[:800]!r}")
        except Exception as e:                    # a page that crashed: say so, keep the others
            shots.append(f"{who}: no screenshot ({e})")
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    return "screenshots: " + ", ".join(shots) + "\nserver log:\n" + tail


# --- what a person does --------------------------------------------------------------------------------------
def _press(locator, bugs: dict, what: str, keyboard: tuple | None = None) -> None:
    """Click as a person would; if the header covers the element, write the fault down and use the keyboard
    instead (``keyboard``: the element to focus and the key; a button by default), so the later steps are
    still checked."""
    locator.wait_for(timeout=ARRIVE)
    if not _covered(locator):
        locator.click()
        return
    bugs.setdefault("covered", f"{what} is drawn under the fixed top header (the main area's padding-top 2.2rem "
                               "in common.STYLE is less than the header's height), so a person can neither read "
                               "nor click it")
    target, key = keyboard or (locator, "Enter")
    target.focus()
    target.press(key)


def _go(page, section: str, title: str) -> None:
    """Open a page from the top navigation (a click keeps the tab's session: the teacher stays unlocked,
    which a typed URL would not)."""
    page.locator('[data-testid="stTopNavSection"]', has_text=section).click()
    page.get_by_role("menuitem", name=title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=ARRIVE)
    wait_idle(page, timeout=ARRIVE)


def _switch_on(page, name: str, bugs: dict) -> None:
    from playwright.sync_api import expect

    switch = page.get_by_role("switch", name=name, exact=True)
    switch.wait_for(state="attached", timeout=ARRIVE)
    _press(page.locator("label", has=switch), bugs, f"the switch {name!r}",    # the input itself is hidden
           keyboard=(switch, "Space"))
    expect(switch).to_be_checked(timeout=ARRIVE)


def _slider(page, label: str):
    return page.locator('[data-testid="stSlider"]', has_text=label).locator('input[type="range"]').first


def _set_slider(page, label: str, target: int) -> None:
    """Move a slider with the keyboard, as a person without a mouse would: PageUp/PageDown for big steps,
    then the arrows."""
    thumb = _slider(page, label)
    thumb.focus()
    for _ in range(40):
        gap = target - int(thumb.input_value())
        if not gap:
            return
        key = ("PageUp" if gap > 0 else "PageDown") if abs(gap) > 60 else ("ArrowRight" if gap > 0 else "ArrowLeft")
        page.keyboard.press(key)
    raise AssertionError(f"{label} stuck at {thumb.input_value()}, not {target}")


def _open_list(page, box) -> None:
    """Open a selectbox's list from the keyboard. On the Teacher page the first try after the page is drawn
    is sometimes ignored (headless Chromium; a click as well as a key): try again, as a person would."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        box.press("ArrowDown")
        try:
            page.get_by_role("option").first.wait_for(timeout=3_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the selectbox's list did not open")


def _answer(page, question, choice: str) -> None:
    """Pick an answer in the checkpoint's form and send it; the page says what was sent."""
    form = page.locator('[data-testid="stForm"]', has_text="Predict before you look")
    form.wait_for(timeout=ARRIVE)
    assert question.text in form.inner_text()
    form.locator('[data-testid="stRadioOption"]').filter(has_text=re.compile(rf"^\s*{re.escape(choice)}\s*$")).click()
    form.get_by_role("button", name="Send my answer").click()
    _sees(page, rf"Sent: {re.escape(choice)}\b")


# --- the lesson ---------------------------------------------------------------------------------------------
def test_the_teacher_leads_two_students_through_a_checkpoint(app_url, chromium, lesson, tmp_path):
    """The whole lesson; a fault stepped around is collected in ``bugs`` and reported as an expected failure
    once every later step has passed."""
    contexts, pages, bugs = [], {}, {}
    try:
        for who, size, path in (("teacher", "laptop", "/teacher"), ("A", "laptop", ""), ("B", "phone", "")):
            context, pages[who] = open_page(chromium, app_url + path, SIZES[size], timeout=180_000)
            contexts.append(context)
        _lead(pages["teacher"], lesson, bugs)
        _follow(pages, lesson, bugs)
        _ask_and_answer(pages, lesson)
        _reveal(pages, lesson, bugs)
    except Exception as e:
        raise AssertionError(f"{e}\nfaults seen before: {list(bugs.values())}\n"
                             f"{_evidence(pages, tmp_path, app_url.log)}") from e
    finally:
        for context in contexts:
            context.close()
    if bugs:
        pytest.xfail(" | ".join(bugs.values()))


def _lead(teacher, lesson: dict, bugs: dict) -> None:
    """Step 1: the teacher unlocks, leads, and sets T = 200 on the Gradients lab."""
    teacher.get_by_label("Teacher password").fill(PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    _switch_on(teacher, "Lead the class: students see where I am and can follow", bugs)
    _go(teacher, "Labs", lesson["title"])
    _set_slider(teacher, "Sequence length T", lesson["T"])
    _on_the_lab(teacher, lesson)
    published = rf"Leading the class: students see {lesson['title']}, T = {lesson['T']}\b"
    if not _shows(teacher, published, PUBLISHED):
        bugs["fragment"] = (f"the teacher's T = {lesson['T']}, set with the slider, was not published within "
                            f"{PUBLISHED / 1000:.0f} s: the slider lives in a fragment (gradients.flow_section) "
                            "and classroom.after() runs only after a full run of app.py, never after a "
                            "fragment's rerun (stepped around: the teacher switched tabs and back, a full run)")
        teacher.get_by_role("tab", name="Clipping").click()
        wait_idle(teacher, timeout=ARRIVE)
        teacher.get_by_role("tab", name=lesson["tab"]).click()
        _on_the_lab(teacher, lesson)
        _sees(teacher, published)
    present = _count(teacher, r"(\d+) student tabs? open now", at_least=2)
    if present != 2:
        bugs["present"] = (f"with 2 students open the teacher's bar says {present} student tabs: the teacher's "
                           "own tab, which polled on the password box before the unlock, counts among the "
                           "present for PRESENT_SECONDS")


def _follow(pages: dict, lesson: dict, bugs: dict) -> None:
    """Step 2: both students see where the teacher is; A follows with a click, B automatically."""
    a, b = pages["A"], pages["B"]
    where = rf"The teacher is on {lesson['title']}, T = {lesson['T']}\b"
    for who in ("A", "B"):
        _sees(pages[who], where)
        if _covered(pages[who].get_by_text(re.compile(where)).first):
            bugs.setdefault("covered", "the bar's sentence 'The teacher is on …' is drawn under the fixed top "
                                       "header (the main area's padding-top 2.2rem in common.STYLE is less than "
                                       f"the header's height): student {who} cannot read it")
    _press(a.get_by_role("button", name="Follow", exact=True), bugs, "the bar's Follow button")
    _on_the_lab(a, lesson)
    _sees(a, rf"You are with the teacher on {lesson['title']}, T = {lesson['T']}\b")
    _switch_on(b, "Follow automatically", bugs)
    _on_the_lab(b, lesson)
    _sees(b, "You are with the teacher on")
    _no_error(pages)


def _ask_and_answer(pages: dict, lesson: dict) -> None:
    """Steps 3-4: the checkpoint asked from the Teacher page; both students answer it on the lab."""
    from playwright.sync_api import expect

    teacher = pages["teacher"]
    question = lesson["lesson"].question
    assert set(PICKS.values()) <= set(question.choices)
    _go(teacher, "Class", lesson["teacher"])
    option = f"{lesson['title']}: {question.text}"
    box = teacher.get_by_role("combobox", name="Ask the class a checkpoint")
    _open_list(teacher, box)
    teacher.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)
    wait_idle(teacher, timeout=ARRIVE)
    teacher.get_by_role("button", name="Ask", exact=True).click()
    _sees(teacher, "A checkpoint is open")
    for who, choice in PICKS.items():
        _answer(pages[who], question, choice)
    _sees(teacher, rf"\b{len(PICKS)} answers from \d+ student tabs open")


def _reveal(pages: dict, lesson: dict, bugs: dict) -> None:
    """Steps 5-6: Reveal once the answer is computed; each student sees it beside their own and the class's."""
    from playwright.sync_api import expect

    reveal = pages["teacher"].get_by_role("button", name="Reveal", exact=True)
    expect(reveal).to_be_enabled(timeout=COMPUTE)
    _press(reveal, bugs, "the teacher's Reveal button")
    for who, mark in (("A", "✓"), ("B", "✗")):
        panel = pages[who].locator(".st-key-class_reveal")
        _sees(panel, rf"Computed here, now: {TRUTH}\b")
        _sees(panel, rf"Your answer: {re.escape(PICKS[who])} {mark}")
        _sees(panel, rf"Why: {re.escape(lesson['lesson'].explain[:30])}")
        panel.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=ARRIVE)      # the class's histogram
        _on_the_lab(pages[who], lesson)                 # the reveal applied the lesson's settings
    for page in pages.values():
        wait_idle(page, timeout=ARRIVE)
    _no_error(pages)
