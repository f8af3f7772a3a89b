"""Every page through Streamlit's AppTest: it renders with no exception and its widgets redraw it."""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.common import all_pages

# The page files of the app's navigation (the first is the home page).
PAGES = [p.path for p in all_pages()]


def _app(root) -> AppTest:
    return AppTest.from_file(str(root / "app.py"), default_timeout=60)


def figures(at: AppTest) -> list[dict]:
    """The page's Plotly figures as dicts, with Plotly's typed arrays decoded to lists."""
    return [_decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart")]


def _decode(obj):
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                shape = obj["shape"]
                arr = arr.reshape([int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape)
            return arr.tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


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
    cards = [m.value.split(" · ")[0].strip("*") for m in at.markdown if " · " in m.value and m.value.startswith("**")]
    assert cards == ["One-to-one", "One-to-many", "Many-to-one", "Many-to-many (synced)",
                     "Many-to-many (encoder-decoder)", "Bidirectional"]
    assert len(figures(at)) == 1 + 6
    assert any("same cell again" in m.value for m in at.markdown)        # the lesson prompts
    assert at.button(key="home__reset_page")


def _by_title(at: AppTest, prefix: str) -> dict:
    for fig in figures(at):
        title = fig["layout"].get("title", {}).get("text", "")
        if title.startswith(prefix):
            return fig
    raise AssertionError(f"no figure titled {prefix!r}")


def _step(root, **widgets) -> AppTest:
    at = _app(root).run()
    at.switch_page("app_pages/step_through.py").run()
    for key, value in widgets.items():
        kind = "slider" if key in ("st_hidden", "st_t", "st_length") else "selectbox"
        getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_step_page_numbers_equal_the_trace(root):
    from rnnlab.labs.unroll import build_unroll, step_values

    at = _step(root, st_cell="GRU", st_t=3)
    u = build_unroll("GRU", 3, "sentence", text="the movie was not good at all", seed=0)
    v = step_values(u, 2)
    gates = _by_title(at, "Gates at step 3")
    by_name = {trace["meta"]: trace["y"] for trace in gates["data"]}
    for g in ("r", "z", "n"):
        np.testing.assert_allclose(by_name[g], v[g], atol=1e-6)
    state = _by_title(at, "State after step 3")
    np.testing.assert_allclose(state["data"][0]["y"], v["h"], atol=1e-6)
    # the equations carry the same numbers (two decimals): h_3 closes the last line
    assert len(at.latex) == 1                        # one block: typeset in one pass
    last = at.latex[0].value.split(r"\begin{aligned}")[-1]
    assert last.startswith("h_{3}")
    assert all(f"{x:.2f}" in last for x in v["h"])
    assert any("reading **was**" in m.value for m in at.markdown)
    assert any("reset-after" in c.value and "Cho et al. (2014)" in c.value for c in at.caption)


def test_step_page_controls_redraw(root):
    at = _step(root)
    assert len(_by_title(at, "State after step 1")["data"][0]["y"]) == 3
    at.button(key="st_next").click().run()
    assert any("Step 2 of 7" in m.value for m in at.markdown)
    assert at.latex[0].value.count(r"\begin{aligned}") == 6    # LSTM, 3 units: six equations written out
    at.slider(key="st_hidden").set_value(8).run()   # above 4: folded away, as heatmaps
    assert len(_by_title(at, "State after step 2")["data"][0]["y"]) == 8
    assert not at.latex and not any(fig["data"][0]["type"] == "heatmap" for fig in figures(at))
    assert any("8 units" in e.label for e in at.expander)
    at.session_state["st_equations"] = True          # open the expander
    at.run()
    assert at.latex[0].value.count("=") == 6 and any(fig["data"][0]["type"] == "heatmap" for fig in figures(at))
    at.selectbox(key="st_input").set_value("sine").run()
    at.slider(key="st_length").set_value(30).run()
    assert any("of 30" in m.value for m in at.markdown)
    at.selectbox(key="st_input").set_value("sentence").run()
    at.text_input(key="st_text").set_value("🙂 <b></b>").run()
    assert not at.exception
    at.text_input(key="st_text").set_value("   ").run()
    assert at.warning and "no words" in at.warning[0].value
    assert not at.exception


def _memory(root, fresh: bool = True) -> AppTest:
    at = _app(root).run()
    at.switch_page("app_pages/memory.py").run()
    if fresh:
        at.radio(key="mem_source").set_value("Freshly initialised (untrained)").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_memory_page_reads_with_the_shipped_model(root):
    from rnnlab.labs.memory import read_text
    from rnnlab.nn.models import load_text_model

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    at = _memory(root, fresh=False)
    assert at.radio(key="mem_source").value.startswith("Pretrained on IMDB")
    tm = load_text_model(root / "assets" / "sentiment")
    reading = read_text(tm.model, tm.vocab, at.text_area(key="mem_text").value)
    from rnnlab.labs.memory import varying_units

    h = reading.signals()["h"]                        # (units, T): the 16 units that vary most are drawn
    units = varying_units(h, 16)
    fig = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("h:"))
    np.testing.assert_allclose(np.array(fig["data"][0]["z"]), h[units], atol=1e-5)
    assert fig["data"][0]["y"] == [f"unit {u}" for u in units]
    assert fig["layout"]["height"] <= 600
    from rnnlab.labs.calibration import pct
    from rnnlab.labs.memory import read_model

    # the calibrated probability, the Sentiment lab's (issue #25: one probability on every page)
    calibrated = read_model(tm, at.text_area(key="mem_text").value).probability
    assert {m.label: m.value for m in at.metric}["P(positive)"] == pct(calibrated)
    n = h.shape[0]
    at.radio(key="mem_units").set_value(f"all {n}").run()
    fig = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("h:"))
    assert len(fig["data"][0]["y"]) == n and fig["layout"]["height"] <= 600


def test_memory_page_heatmaps_equal_the_trace(root):
    from rnnlab.data.tokenizer import Vocabulary, tokenize
    from rnnlab.labs.memory import fresh_classifier, read_text

    at = _memory(root)
    text = at.text_area(key="mem_text").value
    vocab = Vocabulary().fit([" ".join(tokenize(text))])
    reading = read_text(fresh_classifier(vocab, "LSTM", 16, 32, seed=0), vocab, text)
    sig = reading.signals()
    at.multiselect[0].set_value(["h", "c", "f"]).run()
    order = [int(u.split()[1]) for u in next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("h:"))
             ["data"][0]["y"]]
    assert sorted(order) == list(range(16))           # 16 units: all of them, the most varying first
    for name in ("h", "c", "f"):
        fig = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(f"{name}:"))
        np.testing.assert_allclose(np.array(fig["data"][0]["z"]), sig[name][order], atol=1e-6)
        assert len(fig["data"][0]["x"]) == len(reading.tokens)


def test_memory_page_widgets_change_the_drawing(root):
    at = _memory(root)
    heat = [f for f in figures(at) if f["data"][0]["type"] == "heatmap"]
    assert len(heat) == 2 and len(heat[0]["data"][0]["y"]) == 16       # h and c first; the gates on request
    at.selectbox(key="mem_cell").set_value("GRU").run()
    at.slider(key="mem_hidden").set_value(8).run()
    heat = [f for f in figures(at) if f["data"][0]["type"] == "heatmap"]
    assert [f["layout"]["title"]["text"][0] for f in heat] == ["h", "z"] and len(heat[0]["data"][0]["y"]) == 8
    at.multiselect[0].set_value(["h", "r", "z", "n"]).run()              # a GRU has no c
    assert len([f for f in figures(at) if f["data"][0]["type"] == "heatmap"]) == 4
    at.session_state["mem_tab"] = "Colour the text"                     # tabs are lazy: open one
    at.run()
    assert not [f for f in figures(at) if f["data"][0]["type"] == "heatmap"]
    coloured = [h for h in at.get("html") if "background:rgb" in h.proto.body]
    assert len(coloured) == 1
    at.slider(key="mem_unit").set_value(5).run()
    assert [h for h in at.get("html") if "background:rgb" in h.proto.body][0].proto.body != coloured[0].proto.body
    at.session_state["mem_tab"] = "Find units"
    at.run()
    table = at.dataframe[0].value
    assert len(table) == 5 and "also fires on" in table.columns
    assert not at.exception


def test_memory_page_reads_a_2000_token_review_with_the_pretrained_model(root):
    """The bidirectional shipped model on a review of about 2,000 tokens: no exception, a bounded set of prefixes
    re-read (said on the page), the heatmaps drawn over the whole text."""
    from rnnlab.labs.memory import MAX_PREFIXES, PREFIX_BUDGET

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    at = _memory(root, fresh=False)
    review = " ".join(["the plot was slow but the acting was wonderful and the ending moved me ."] * 140)
    at.text_area(key="mem_text").set_value(review).run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert any("evenly spaced tokens" in c.value for c in at.caption)
    prefix = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("P(positive) after"))
    x = prefix["data"][0]["x"]
    T = prefix["layout"]["xaxis"]["range"][1] - 0.5                      # the tokens read
    assert T >= 1_900 and x[-1] == T                                     # the whole review, up to its last token
    assert len(x) <= MAX_PREFIXES and sum(x) <= PREFIX_BUDGET * 1.1      # the prefixes re-read stay bounded


@pytest.mark.parametrize("text", ["", "<br /><br />", "😀" * 3, "これは素晴らしい映画です",
                                  "<script>alert(1)</script> ok", "great " * 2500])
def test_memory_page_odd_text_never_crashes(root, text):
    at = _memory(root)
    at.text_area(key="mem_text").set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]
    assert figures(at) or at.warning


# The Sentiment lab's page tests are in tests/test_sentiment_page.py.
