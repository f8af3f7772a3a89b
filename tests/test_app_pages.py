"""Every page through Streamlit's AppTest: it renders with no exception and its widgets redraw it."""
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

# The page files, read from app.py's navigation (the first is the home page).
PAGES = re.findall(r'st\.Page\("(app_pages/[^"]+)"', (Path(__file__).resolve().parents[1] / "app.py").read_text())


def _app(root) -> AppTest:
    return AppTest.from_file(str(root / "app.py"), default_timeout=60)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(root, page):
    at = _app(root).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{page} has no title"


def test_sidebar_shows_device_and_seed(root):
    at = _app(root).run()
    assert any("Device:" in m.value for m in at.sidebar.markdown)
    assert at.sidebar.number_input(key="seed").value == 0


def test_home_diagram_follows_the_controls(root):
    at = _app(root).run()
    diagram = figures(at)[0]
    hidden = next(t for t in diagram["data"] if t["name"] == "hidden")
    assert len(hidden["x"]) == 4
    at.slider(key="home_T").set_value(8).run()
    diagram = figures(at)[0]
    hidden = next(t for t in diagram["data"] if t["name"] == "hidden")
    assert len(hidden["x"]) == 8
    labels = [a.get("text") for a in diagram["layout"]["annotations"]]
    assert labels.count("<b>W</b>") == labels.count("<b>U</b>") == labels.count("<b>V</b>") == 8
    at.selectbox(key="home_cell").set_value("LSTM").run()
    labels = [a.get("text") for a in figures(at)[0]["layout"]["annotations"]]
    assert "<b>c</b>" in labels
    at.radio(key="home_view").set_value("Folded loop").run()
    hidden = next(t for t in figures(at)[0]["data"] if t["name"] == "hidden")
    assert len(hidden["x"]) == 1 and hidden["text"] == ["LSTM"]
    assert not at.exception


def test_home_lists_every_architecture_type(root):
    at = _app(root).run()
    table = at.dataframe[0].value
    assert list(table["Type"]) == ["One-to-one", "One-to-many", "Many-to-one", "Many-to-many (synced)",
                                   "Many-to-many (encoder-decoder)", "Bidirectional"]
    assert len(figures(at)) == 1 + 6
