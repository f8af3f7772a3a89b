"""Presenter mode (``?present=1``): the URL round trip, what it hides and enlarges, and its QR code."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from streamlit.testing.v1 import AppTest

from app_pages import presenter

ROOT = Path(__file__).resolve().parents[1]


def _open(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():           # in the URL from the first run on, as a link opens the app
        at.query_params[k] = v
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _lesson_boxes(at: AppTest) -> int:
    return sum(e.label.startswith("What to notice") for e in at.expander)


def _fonts(at: AppTest) -> list[int]:
    return [json.loads(c.proto.spec)["layout"]["font"]["size"] for c in at.get("plotly_chart")]


def test_a_link_with_present_1_opens_the_presenters_view_and_the_switch_writes_the_url():
    at = _open("app_pages/gradients.py", present="1")
    assert at.toggle(key="present").value is True
    assert _lesson_boxes(at) == 0 and not [b for b in at.button if (b.key or "").startswith("_lesson_")]
    assert set(_fonts(at)) == {presenter.FIGURE_FONT}
    assert at.query_params["present"] in ("1", ["1"])
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params
    assert _lesson_boxes(at) == 1 and presenter.FIGURE_FONT not in _fonts(at)
    at.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] in ("1", ["1"]) and _lesson_boxes(at) == 0


def test_without_the_parameter_the_page_is_the_students_view():
    at = _open("app_pages/gradients.py")
    assert at.toggle(key="present").value is False and _lesson_boxes(at) == 1
    assert "present" not in at.query_params


def test_presenter_mode_stays_on_when_the_teacher_changes_page():
    at = _open("app_pages/gradients.py", present="1")
    at.switch_page("app_pages/sentiment.py").run()
    assert not at.exception
    assert at.toggle(key="present").value is True and at.query_params["present"] in ("1", ["1"])
    assert _lesson_boxes(at) == 0


def test_the_follow_link_keeps_the_settings_and_drops_presenter_mode():
    url = presenter.link_for("http://10.0.0.5:8501/gradients",
                             [("gr_T", "200"), ("present", "1"), ("gr_cells", "LSTM"), ("gr_cells", "GRU")])
    assert url == "http://10.0.0.5:8501/gradients?gr_T=200&gr_cells=LSTM&gr_cells=GRU"
    assert presenter.link_for("http://10.0.0.5:8501/", [("present", "1")]) == "http://10.0.0.5:8501/"


def test_the_qr_code_encodes_the_follow_link():
    import segno

    url = "http://10.0.0.5:8501/gradients?gr_T=200"
    uri = presenter.qr_data_uri(url)
    assert uri.startswith("data:image/svg+xml") and "svg" in unquote(uri)
    # the same symbol segno makes for the link (its modules, not just "some SVG")
    assert uri == segno.make(url, error="m").svg_data_uri(scale=3, dark="#111111", light="#ffffff")
    assert presenter.qr_data_uri(url + "0") != uri
