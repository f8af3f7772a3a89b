"""The step-through data and equations equal the trace and the cell equations."""
import re

import numpy as np
import pytest
import torch

from rnnlab.figures.style import COLORS
from rnnlab.labs.equations import step_equations
from rnnlab.labs.unroll import build_unroll, gate_weights, history, make_sequence, step_values


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("cell", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("kind", ["sentence", "sine"])
def test_step_values_follow_the_equations(cell, kind):
    u = build_unroll(cell, 4, kind, text="the plot was not bad at all", length=12, seed=3)
    w = gate_weights(u)
    for t in range(u.steps):
        v = step_values(u, t)
        x, hp = v["x"], v["h_prev"]
        if cell.startswith("RNN"):
            a = w["h"]["W"] @ x + w["h"]["U"] @ hp + w["h"]["b"]
            np.testing.assert_allclose(v["pre_h"], a, atol=1e-5)
            np.testing.assert_allclose(v["h"], np.maximum(a, 0) if cell == "RNN_RELU" else np.tanh(a), atol=1e-5)
        elif cell == "LSTM":
            g = {k: w[k]["W"] @ x + w[k]["U"] @ hp + w[k]["b"] for k in "ifgo"}
            i, f, gg, o = sigmoid(g["i"]), sigmoid(g["f"]), np.tanh(g["g"]), sigmoid(g["o"])
            np.testing.assert_allclose(v["f"], f, atol=1e-5)
            np.testing.assert_allclose(v["c"], f * v["c_prev"] + i * gg, atol=1e-5)
            np.testing.assert_allclose(v["h"], o * np.tanh(v["c"]), atol=1e-5)
        else:
            r = sigmoid(w["r"]["W"] @ x + w["r"]["U"] @ hp + w["r"]["b"])
            z = sigmoid(w["z"]["W"] @ x + w["z"]["U"] @ hp + w["z"]["b"])
            n = np.tanh(w["n"]["W"] @ x + w["n"]["b"] + r * (w["n"]["U"] @ hp + w["n"]["b_hn"]))
            np.testing.assert_allclose(v["h"], (1 - z) * n + z * hp, atol=1e-5)
        if t:
            np.testing.assert_allclose(hp, step_values(u, t - 1)["h"])
    torch.testing.assert_close(torch.from_numpy(history(u, u.steps - 1)["h"]), u.trace[0].h[0])


def _numbers(latex: str) -> list[float]:
    return [float(s) for s in re.findall(r"-?\d+\.\d+", latex)]


def test_equations_show_the_step_numbers():
    u = build_unroll("LSTM", 3, "sentence", text="a fine film", seed=1)
    v = step_values(u, 1)
    lines = step_equations("LSTM", gate_weights(u), v, 2)
    assert len(lines) == 6 and lines[0].startswith(r"\begin{aligned}i_{2}")
    # the last vector written in the h line is h_2, rounded to two decimals
    np.testing.assert_allclose(_numbers(lines[-1])[-3:], np.round(v["h"], 2), atol=0.006)
    np.testing.assert_allclose(_numbers(lines[4])[-3:], np.round(v["c"], 2), atol=0.006)
    assert len(step_equations("GRU", gate_weights(build_unroll("GRU", 3)),
                              step_values(build_unroll("GRU", 3), 0), 1)) == 4
    symbolic = step_equations("RNN_TANH", {}, {}, 5, numbers=False)
    assert symbolic == [r"h_{5} = \tanh\left(W\,x_{5} + U\,h_{4} + b\right)"]


def test_sequences_and_bad_input():
    np.testing.assert_allclose(make_sequence("sine", 4)[:, 0], [0, 1, 0, -1], atol=1e-6)
    assert set(np.unique(make_sequence("square wave", 8))) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="no words"):
        build_unroll("LSTM", 3, "sentence", text="  <br/>  ")
    u = build_unroll("GRU", 2, "sentence", text="word " * 500)
    assert u.steps == 200  # capped
    with pytest.raises(IndexError):
        step_values(u, 200)


def test_seeded_builds_are_identical_across_threads_while_the_global_rng_is_used():
    """Issue 9 part 5: eight sessions building seed 5 at once all get seed 5's weights, while another
    thread keeps re-seeding and drawing from torch's global generator."""
    import threading

    from rnnlab.data.tokenizer import Vocabulary
    from rnnlab.labs.memory import fresh_classifier

    vocab = Vocabulary().fit(["a fine film , not a bad one at all"])

    def build():
        u = build_unroll("LSTM", 4, "sentence", text="a fine film", seed=5, init="xavier")
        m = fresh_classifier(vocab, "GRU", 8, 8, seed=5)
        return ([p.detach().clone() for p in u.layer.parameters()] + [p.detach().clone() for p in m.parameters()],
                u.trace[0].h.clone())

    ref_params, ref_h = build()
    stop = threading.Event()
    mismatches, errors = [], []

    def noise():
        k = 0
        while not stop.is_set():
            torch.manual_seed(k)
            torch.randn(64)
            torch.nn.Linear(8, 8)       # a module built the ordinary way draws from the global generator
            k += 1

    def student():
        try:
            for _ in range(10):
                params, h = build()
                if not (all(torch.equal(a, b) for a, b in zip(params, ref_params)) and torch.equal(h, ref_h)):
                    mismatches.append(1)
        except Exception as err:
            errors.append(err)

    noisy = threading.Thread(target=noise)
    noisy.start()
    threads = [threading.Thread(target=student) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    noisy.join()
    assert not errors, errors
    assert not mismatches, f"{len(mismatches)} of {8 * 10} builds differed from the reference"
    # and the seed matters: another seed gives other weights
    other = build_unroll("LSTM", 4, "sentence", text="a fine film", seed=6, init="xavier")
    assert not torch.equal(other.layer.weight_hh_l0, ref_params[1])


def test_recurrent_scales_name_spectral_radius_and_singular_value():
    from rnnlab.labs.unroll import recurrent_scales

    u = build_unroll("RNN_TANH", 4, "sine", length=5, seed=0, spectral_radius=0.9)
    rho, sigma = recurrent_scales(u)["h"]
    U = u.layer.weight_hh_l0.detach().double()
    assert rho == pytest.approx(0.9, rel=1e-5)
    assert rho == pytest.approx(torch.linalg.eigvals(U).abs().max().item(), rel=1e-9)
    assert sigma == pytest.approx(torch.linalg.svdvals(U)[0].item(), rel=1e-9) and sigma >= rho


def test_step_figures_are_valid_plotly_and_carry_the_numbers():
    """The step figures skip Plotly's validation for speed (rnnlab.figures.fast): validate them here."""
    from rnnlab.figures.diagrams import architecture_diagram, unrolled_diagram
    from rnnlab.figures.fast import validated
    from rnnlab.figures.steps import MAX_LINES, shown_units, state_history, vector_bars, weight_heatmaps
    from rnnlab.labs.shapes import ARCHITECTURES

    u = build_unroll("LSTM", 16, "sentence", text="the plot was not bad at all , really", seed=2)
    v = step_values(u, 3)
    gates = validated(vector_bars({g: v[g] for g in "ifgo"}, title="Gates"))
    assert [t.meta for t in gates.data] == list("ifgo")
    np.testing.assert_allclose(gates.data[1].y, v["f"], rtol=1e-6)
    full = history(u, u.steps - 1)
    units = shown_units(full)
    assert len(units) == MAX_LINES
    # the 8 drawn are those whose h varies most over the whole sequence
    spread = full["h"].std(axis=0)
    assert spread[units].min() >= np.delete(spread, units).max()
    hist = validated(state_history(history(u, 3), u.labels, 3, units))
    assert len([t for t in hist.data if t.showlegend]) == MAX_LINES          # one legend entry per unit
    assert hist.layout.xaxis.dtick == 1 and hist.layout.xaxis.tickformat == "d"   # whole time steps
    np.testing.assert_allclose(hist.data[0].y, full["h"][:4, units[0]], rtol=1e-6)
    with pytest.raises(ValueError):
        state_history(full, u.labels, u.steps - 1, list(range(16)))
    w = gate_weights(u)["f"]
    heat = validated(weight_heatmaps({"W_f": w["W"], "U_f": w["U"], "b_f": w["b"]}))
    np.testing.assert_allclose(heat.data[1].z, w["U"], rtol=1e-6)
    diagram = validated(unrolled_diagram(6, "LSTM", highlight=3, first=1, input_labels=u.labels[1:7], outputs=False))
    hidden = next(t for t in diagram.data if t.name == "hidden")
    assert list(hidden.text) == ["h₂", "h₃", "h₄", "h₅", "h₆", "h₇"]
    boxes = [s for s in diagram.layout.shapes if s.type == "rect"]
    assert sum(s.fillcolor == COLORS["highlight"] for s in boxes) == 1      # step 4 highlighted
    for arch in ARCHITECTURES:
        validated(architecture_diagram(arch))
    validated(unrolled_diagram(4, "GRU", folded=True))


def test_spectral_radius_two_flips_a_unit_at_every_word_instead_of_pinning_all_at_one():
    """The old prompt asked whether ρ = 2 'pins every unit at ±1': on the page's sentence it does not. One
    unit flips sign at every word (U's largest eigenvalue is negative), most values stay inside ±0.9; what
    ρ changes is the memory: a change to the first word is gone from the last h at 0.5, not at 2.0."""
    from rnnlab.labs.unroll import DEFAULT_SENTENCE
    from rnnlab.lessons.step_through import _first_word_left

    low, high = (build_unroll("RNN_TANH", 3, "sentence", text=DEFAULT_SENTENCE, seed=0, spectral_radius=r)
                 for r in (0.5, 2.0))
    h = history(high, high.steps - 1)["h"]
    assert (np.abs(h) > 0.9).mean() < 0.5
    assert np.all(np.sign(h[1:]) != np.sign(h[:-1]), axis=0).any()
    eig = np.linalg.eigvals(gate_weights(high)["h"]["U"].astype(float))
    assert eig[np.argmax(np.abs(eig))].real < 0
    assert _first_word_left(low) < 0.01 < 0.5 < _first_word_left(high)


def test_gate_bars_name_gates_and_the_candidate_apart():
    """The legend said "i (input)" next to the input x, and the candidates g and n sat in "Gates" unnamed."""
    from rnnlab.figures.steps import vector_bars

    for cell, names in (("LSTM", ["i (input gate)", "f (forget gate)", "g (candidate)", "o (output gate)"]),
                        ("GRU", ["r (reset gate)", "z (update gate)", "n (candidate)"])):
        u = build_unroll(cell, 3)
        v = step_values(u, 0)
        assert [tr.name for tr in vector_bars({g: v[g] for g in u.gate_names}).data] == names


def test_step_page_names_only_the_weights_it_draws(root):
    """The diagram on Step through has no output: its caption names W and U, not V; the gate chart's title
    names the candidate."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/step_through.py").run()
    assert not at.exception, [e.value for e in at.exception]
    diagram = next(c.value for c in at.caption if c.value.startswith("The orange cell"))
    assert "W and U" in diagram and "V" not in diagram
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Gates at step 1 (and the candidate g)" in spec for spec in titles)


# --- issue 29: what a student types, or a link carries --------------------------------------------------------
@pytest.mark.parametrize("text", ["\u200b\u200b", "\u0301\u0301", " \u2060\u00ad ", ""])
def test_zero_width_or_combining_only_sentence_is_refused_like_an_empty_one(text):
    """Issue 29: a sentence of lone combining marks was read as a word (tokenize keeps marks inside a word);
    Step through follows rnnlab.inputs.readable, as the Sentiment lab does, and refuses it as empty."""
    with pytest.raises(ValueError, match="no words"):
        build_unroll("RNN_TANH", 3, "sentence", text=text)
    assert build_unroll("RNN_TANH", 3, "sentence", text="e\u0301\u0301 \u202eabc").labels == ["é\u0301", "abc"]


def test_relu_blowup_names_what_overflowed_at_which_step_and_why():
    """Issue 29: relu with U's spectral radius 2 over a long sentence: h passes a million, then float32's
    largest number (inf, then nan). blowup() says when, and how fast against radius × slope."""
    from rnnlab.labs.unroll import FLOAT32_MAX, LARGE, blowup, drawable, finite_step

    u = build_unroll("RNN_RELU", 16, "sentence", text="word " * 200, init="identity", spectral_radius=2.0)
    b = blowup(u)
    h = history(u, u.steps - 1)["h"].astype(np.float64)
    size = np.where(np.isfinite(h), np.abs(h), np.inf).max(axis=1)
    assert size[b.large_step - 2] < LARGE <= size[b.large_step - 1]
    assert np.isfinite(size[b.overflow_step - 2]) and not np.isfinite(size[b.overflow_step - 1])
    assert b.per_step == pytest.approx(2.0, rel=1e-5) and 1.5 < b.growth <= 2.01
    assert b.largest <= FLOAT32_MAX
    assert finite_step(step_values(u, b.overflow_step - 2)) and not finite_step(step_values(u, b.overflow_step - 1))
    assert np.isnan(drawable({"h": h})["h"][-1]).any()
    # large but finite: no overflow step; bounded cells never blow up
    grown = blowup(build_unroll("RNN_RELU", 3, "sentence", text="word " * 200, spectral_radius=1.5))
    assert grown.overflow_step is None and LARGE <= grown.largest < FLOAT32_MAX
    for cell in ("RNN_TANH", "LSTM", "GRU"):
        assert blowup(build_unroll(cell, 16, "sentence", text="word " * 200, init="identity",
                                   spectral_radius=2.0)) is None


def _step_page(root, params=None, **state):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page("app_pages/step_through.py")
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_step_page_explains_a_relu_overflow_with_spectral_radius_2(root):
    """Issue 29: relu, spectral radius 2, 200 words: the page showed h = [nan, ...] and 39-digit numbers without
    a word. It now says what overflowed, at which step, and why (radius times relu's slope), writes large
    numbers in e-notation, and draws nothing it cannot."""
    state = dict(st_text="a " * 200, st_radius="2.0", st_cell="RNN (relu)", st_hidden=3)    # 200 words, 400 characters
    at = _step_page(root, st_t=200, **state)
    note = next(w.value for w in at.warning if "overflowed" in w.value)
    assert "at step 31" in note and "at step 199" in note
    assert "spectral radius 2.0 times relu's slope 1" in note and "2.0× a step" in note
    assert any("At step 200 h holds numbers float32 cannot" in w.value for w in at.warning)
    assert not [c for c in at.get("plotly_chart") if "State after step" in c.proto.spec]
    assert not any(r"\begin{bmatrix}" in x.value for x in at.latex)       # no numbers written out
    at.session_state["st_t"] = 100
    at.run()
    line = next(m.value for m in at.markdown if "**h_99**" in m.value)
    assert "e+19" in line and not re.search(r"\d{12}", line)
    assert any("At step 100 the numbers are too large" in c.value for c in at.caption)


@pytest.mark.parametrize("raw,message", [("²", "not a number"), ("nan", "not a number"), ("0", "outside"),
                                         ("50", "this input has 7 steps")])
def test_step_link_parameter_st_t_is_read_by_the_guard(root, raw, message):
    """Issue 29: ?st_t= was parsed with int() in the page (``²`` silently became step 1); it is read by
    guard.link_number now, and a step past the end of the input is clamped with a word."""
    at = _step_page(root, {"st_t": raw})
    shown = [w.value for w in at.warning] + [i.value for i in at.info]
    assert any(message in m for m in shown), shown
    assert at.session_state["st_t"] == (7 if raw == "50" else 1)


def test_step_page_shows_typed_markup_as_typed_and_cuts_a_million_characters(root):
    """Issue 29: the token in the "Input x_t" code span was markdown-escaped, so a full stop showed as ``\\.``
    and ``$`` as ``\\$``; a 10^6-character sentence put in the session before the box (past its 500) took
    16 s (the downloadable script split it into lines). Tokens are shown as typed, and the sentence is cut to
    its first 500 characters, with a word, before the box reads it."""
    at = _step_page(root, st_text="$x$ a`b <b>x</b> =cmd().")
    lines = []
    for t in range(1, 13):
        at.session_state["st_t"] = t
        at.run()
        lines.append(next(m.value for m in at.markdown if m.value.startswith("**Input x_")))
    assert [line.split(": ", 1)[1].split(" → ")[0] for line in lines[:3]] == ["`$`", "`x`", "`$`"]
    assert "`` ` ``" in lines[4] and "`.`" in lines[-1] and not any("\\" in line for line in lines)
    import time

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/step_through.py")
    at.session_state["st_text"] = "x" * 10**6     # (Streamlit cuts what a client sends to max_chars itself)
    start = time.perf_counter()
    at.run()
    assert time.perf_counter() - start < 5 and not at.exception
    assert any("only the first 500 are read" in i.value for i in at.warning)   # the input guard says it, for every box
    assert at.session_state["st_text"] == "x" * 500


def test_equation_numbers_of_3_4e38_inf_and_nan_are_written_as_powers_of_ten_and_symbols():
    """Issue 29: num() wrote f"{v:.2f}", so a relu state of 3.4e38 filled the Step-through equations with
    39-digit numbers. From 1e4 on a number is a power of ten in LaTeX; inf and NaN are \\infty and \\text{nan}."""
    from rnnlab.labs.equations import matrix, num

    assert num(3.4e38) == r"3.4\times10^{38}" and num(np.float32(-3.4e38)) == r"-3.4\times10^{38}"
    assert num(12345.6) == r"1.2\times10^{4}" and num(9999.99) == "9999.99" and num(-0.0001) == "0.00"
    assert num(float("inf")) == r"\infty" and num(-np.inf) == r"-\infty" and num(np.nan) == r"\text{nan}"
    assert matrix(np.array([0.5, np.inf, 1e20])) == r"\begin{bmatrix}0.50 \\ \infty \\ 1.0\times10^{20}\end{bmatrix}"
    u = build_unroll("RNN_RELU", 3, "sentence", text="a fine film", seed=1)
    v = dict(step_values(u, 1), h=np.array([3.4e38, np.inf, np.nan]))
    line = step_equations("RNN_RELU", gate_weights(u), v, 2)[0]
    assert r"3.4\times10^{38}" in line and r"\infty" in line and r"\text{nan}" in line
    assert not re.search(r"\d{6}", line)                                     # no long runs of digits


def test_state_bars_of_an_overflowed_state_mark_inf_and_nan_and_keep_a_finite_axis():
    """Issue 29: vector_bars wrote .2f labels (39 digits for 3.4e38) and its axis range became inf/NaN when a
    relu state overflowed. Now a non-finite value is a gap labelled inf/-inf/nan, the axis spans the finite
    values, big ones read 3.4e38, and the figure is valid Plotly."""
    from rnnlab.figures.fast import validated
    from rnnlab.figures.steps import MAX_MARKS, vector_bars

    fig = validated(vector_bars({"h": np.array([0.5, np.inf, -np.inf, np.nan]),
                                 "c": np.array([3.4e38, 2.0, -0.001, 1.0])}, title="State"))
    low, high = fig.layout.yaxis.range
    assert np.isfinite([low, high]).all() and high >= 3.4e38 and low < 0
    assert [a.text for a in fig.layout.annotations] == ["inf", "-inf", "nan"]
    assert list(fig.data[1].text) == ["3.4e38", "2.00", "0.00", "1.00"] and fig.data[0].text[1] == ""
    assert fig.data[1].customdata[0] == "3.400e38" and "%{customdata}" in fig.data[1].hovertemplate
    many = validated(vector_bars({"h": np.full(64, np.inf)}))         # a whole state overflowed: one note
    assert len(many.layout.annotations) == 1 and "64 values of h are infinite or NaN" in many.layout.annotations[0].text
    assert MAX_MARKS < 64 and np.isfinite(many.layout.yaxis.range).all()
