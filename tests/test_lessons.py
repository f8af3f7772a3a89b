"""Every "What to notice" prompt is a lesson that happens (``rnnlab.lessons``).

For each lesson of each page: its check holds at the page's defaults (the effect the prompt promises is
there, measured by the lab's own computation); its "Show me" button and its link set the page's widgets to
the lesson's settings; and the defaults the checks assume are the page's own.
"""
from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.lessons import (
    PAGE_MODULES,
    Finding,
    Lesson,
    all_lessons,
    page_defaults,
    page_lessons,
    page_script,
    url_value,
)

ROOT = Path(__file__).resolve().parents[1]
LESSONS = all_lessons()


def _marks(lesson: Lesson):
    return [pytest.mark.slow] if lesson.slow else []


@pytest.mark.parametrize("page, lesson", [pytest.param(p, le, id=le.key, marks=_marks(le)) for p, le in LESSONS])
def test_lesson_happens_at_the_page_defaults(page, lesson):
    finding = lesson.run()
    assert isinstance(finding, Finding)
    assert finding.holds, f"{lesson.key}: expected {lesson.observe}; measured {finding.measured}"


def _widget_values(at: AppTest) -> dict:
    """Every keyed widget's value on the page (tabs included), by key."""
    out = {}
    for kind in ("slider", "select_slider", "selectbox", "multiselect", "radio", "number_input", "text_input",
                 "text_area", "checkbox", "toggle", "segmented_control", "pills", "tabs"):
        for w in at.get(kind):
            key = getattr(w, "key", None)
            if key and not key.startswith("_"):
                out[key] = w.value
    # A tab bar's choice (``st.tabs(key=…)``) is not a widget AppTest lists: its value is in session state.
    for key in at.session_state:
        if key.endswith("_tab") and key not in out:
            out[key] = at.session_state[key]
    return out


def _same(a, b) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(a - b) < 1e-9
    return a == b


def _open(script: str, params: dict | None = None) -> AppTest:
    """The app opened on ``script``, with ``params`` in the URL as a link would carry them."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    home = script == "app_pages/home.py"
    if not home:
        at.run()
    for key, value in (params or {}).items():
        at.query_params[key] = [url_value(v) for v in value] if isinstance(value, list | tuple) else url_value(value)
    at.run() if home else at.switch_page(script).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGE_MODULES)
def test_lesson_defaults_are_the_page_defaults_and_show_me_applies_each_lesson(page):
    at = _open(page_script(page))
    values = _widget_values(at)
    for key, default in page_defaults(page).items():
        assert key in values, f"{page}: the lessons assume a widget {key!r} the page does not draw"
        assert _same(values[key], default), f"{page}: {key} is {values[key]!r} on the page, {default!r} in the lessons"
    for lesson in page_lessons(page):
        if not lesson.settings:
            continue
        tabs = {k: v for k, v in lesson.settings.items() if k.endswith("_tab")}
        if any(values.get(k) != v for k, v in tabs.items()):
            # a tab's own lesson box is drawn only while that tab is open: open the page there, as a link would
            at = _open(page_script(page), tabs)
        at.button(key=f"_lesson_{lesson.key}").click().run()
        assert not at.exception, [e.value for e in at.exception]
        values = _widget_values(at)
        for key, want in lesson.settings.items():
            assert _same(values.get(key), want), f"{lesson.key}: Show me left {key} at {values.get(key)!r}"


@pytest.mark.parametrize("page, lesson", [pytest.param(p, le, id=le.key) for p, le in LESSONS if le.settings])
def test_lesson_link_opens_the_page_with_its_settings(page, lesson):
    link = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(lesson.query()).items()}   # the lesson's link
    values = _widget_values(_open(page_script(page), link))
    for key, want in lesson.settings.items():
        assert _same(values.get(key), want), f"{lesson.key}: the link left {key} at {values.get(key)!r}"


def test_every_page_with_prompts_shows_them_as_lessons():
    """No page keeps a hand-written "What to notice" list (the old ``lesson()`` is gone; the Class board and the
    Teacher page have how-to ``tips()``); every page in ``PAGE_MODULES`` calls ``lessons(page)``."""
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        plain = [c for c in calls if c.func.id == "lesson"]
        structured = [c for c in calls if c.func.id == "lessons"]
        assert not plain, f"{path.name}:{plain[0].lineno} has an untested prompt box"
        if structured:
            assert path.stem in PAGE_MODULES and page_script(path.stem) == f"app_pages/{path.name}"


def test_every_lesson_is_complete_and_keys_are_unique():
    keys = [le.key for _, le in LESSONS]
    assert len(keys) == len(set(keys))
    for page in PAGE_MODULES:
        assert len(page_lessons(page)) >= 1, page
    for _, le in LESSONS:
        assert le.prompt and le.observe and le.explain and callable(le.check), le.key
