"""Accessible pages (issue #26): every figure carries a text alternative computed from its data.

That axe-core finds no serious or critical WCAG 2.1 A/AA violation on any page, at a laptop's and a projector's
size, is checked on the page loads of tests/test_layout.py (test_page_fits_every_screen; its EXCLUDED list is
empty: the violations axe found, code colours, a switched-off control's label, scrollable boxes without keyboard
focus, are fixed in app_pages/common.py).
"""
from streamlit.testing.v1 import AppTest

from app_pages.common import ROOT
from rnnlab.figures.describe import describe


# --- text alternatives ---------------------------------------------------------------------------------------
def _fig(data, **layout):
    return {"data": data, "layout": layout}


def test_lines_say_where_they_start_end_and_turn():
    fig = _fig([{"type": "scatter", "name": "RNN", "x": [1, 2, 3, 4], "y": [0.5, 2.0, -1.0, 0.25]},
                {"type": "scatter", "name": "LSTM", "x": [1, 2, 3, 4], "y": [1, 1, 1, 1]}],
               title={"text": "Loss"}, xaxis={"title": {"text": "epoch"}}, yaxis={"title": {"text": "loss"}})
    assert describe(fig) == ("Loss (loss against epoch): RNN: from 0.5 at 1 to 0.25 at 4 (highest 2 at 2, lowest -1 "
                             "at 3); LSTM: from 1 at 1 to 1 at 4.")


def test_a_log10_axis_labelled_in_powers_of_ten_is_read_as_exponents():
    """The Gradients lab plots log10 values under labels 10ⁿ: the sentence gives the gradients themselves."""
    fig = _fig([{"type": "scatter", "name": "RNN (tanh)", "x": [1, 50, 100], "y": [-27.6, -13.0, 0.0]}],
               xaxis={"title": {"text": "time step t"}},
               yaxis={"title": {"text": "‖∂L/∂h<sub>t</sub>‖"}, "tickvals": [-30, -15, 0],
                      "ticktext": ["10⁻³⁰", "10⁻¹⁵", "1"]})
    assert describe(fig) == "‖∂L/∂h_t‖ against time step t, log scale: RNN (tanh): from 2.5e-28 at 1 to 1 at 100."


def test_bars_name_the_largest_and_the_smallest():
    fig = _fig([{"type": "bar", "name": "P", "x": ["a", "b", "c"], "y": [0.2, 0.7, 0.1]}])
    assert describe(fig) == "P: 3 bars, the largest 0.7 at 'b', the smallest 0.1 at 'c'."
    one_each = _fig([{"type": "bar", "name": n, "x": [0], "y": [v]} for n, v in (("MLP", 8), ("LSTM", 64))],
                    xaxis={"title": {"text": "steps back"}})
    assert describe(one_each) == "Steps back on the x axis: LSTM 64, MLP 8."


def test_heatmaps_give_their_shape_and_range_and_diagrams_count_their_nodes():
    heat = _fig([{"type": "heatmap", "z": [[0.5, -0.25, 1.0], [0.0, 0.1, 0.2]]}], title={"text": "h"})
    assert describe(heat) == "H: a 2 × 3 heatmap, values from -0.25 to 1."
    boxes = [{"type": "scatter", "mode": "markers+text", "name": n, "x": list(range(k)), "y": [y] * k}
             for n, k, y in (("inputs", 4, 0), ("hidden", 4, 1), ("outputs", 1, 2))]
    assert describe(_fig(boxes, xaxis={"visible": False})) == "A diagram of inputs: 4, hidden: 4, outputs: 1."


def test_a_go_figure_and_gaps_and_legend_only_traces():
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=[0, 1, 2, 3], y=[None, 3.0, float("nan"), 1.0], name="val"),
                     go.Scatter(x=[None], y=[None], name="legend only")])
    fig.update_layout(title_text="<b>Accuracy</b><br>per epoch")
    assert describe(fig) == "Accuracy per epoch: val: from 3 at 1 to 1 at 3."
    assert describe(go.Figure()) == "An empty figure."


def _summaries(at: AppTest) -> dict[str, str]:
    """The screen-reader sentences plot() added, by the figure's key."""
    found = {}
    for el in at.get("html"):
        body = el.proto.body
        if body.startswith('<p class="rnnlab-sr-only"'):
            found[body.split('data-rnnlab-summary="')[1].split('"')[0]] = body
    return found


def _plots():
    """A script drawing one figure with a computed summary, one with its own caption, one with its own hidden
    sentence."""
    from app_pages.common import plot

    fig = {"data": [{"type": "bar", "name": "P", "x": ["a", "b"], "y": [0.25, 0.75]}], "layout": {}}
    plot(fig, key="computed")
    plot(fig, key="captioned", summary="Mostly **b**.", caption=True)
    plot(fig, key="own", summary="Three in four are b.")


def test_plot_adds_the_summary_for_screen_readers_or_as_a_caption():
    at = AppTest.from_function(_plots, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    said = _summaries(at)
    assert set(said) == {"computed", "own"}
    assert "Figure: P: 2 bars, the largest 0.75 at &#x27;b&#x27;, the smallest 0.25 at &#x27;a&#x27;." \
        in said["computed"]
    assert "Figure: Three in four are b." in said["own"]
    assert [c.value for c in at.caption] == ["Mostly **b**."]


def test_a_pages_figure_carries_its_computed_summary():
    """Through AppTest: the Gradients lab's Jacobian plot is followed by its computed sentence."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/gradients.py").run()
    assert not at.exception, [e.value for e in at.exception]
    jac = _summaries(at)["gr_jac"]
    assert "Figure: ‖∂h_T/∂h_t‖_2 against time step t, log scale: RNN (tanh): from " in jac
    assert "LSTM" in jac and "e-" in jac            # a vanished product written out, not its log10

