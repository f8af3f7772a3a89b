"""Connectivity: the gradient's bars against autograd and finite differences for every cell, integrated
gradients' completeness, the averaged curve, the top-5 guesses, the sentiment model's gradient per word and its
comparison with occlusion, the figures' data, and both pages' views through AppTest."""
import math

import numpy as np
import pytest
import torch
from fixtures import open_app_page
from streamlit.testing.v1 import AppTest
from test_app_pages import figures

from rnnlab.data.chars import CharVocab, shakespeare
from rnnlab.figures.connectivity import (
    connectivity_bars,
    influence_curves,
    top_guesses_table,
    word_gradient_bars,
)
from rnnlab.labs import connectivity as conn
from rnnlab.labs.connectivity import (
    _logit_from_vectors,
    average_connectivity,
    average_job,
    average_positions,
    char_connectivity,
    compare_explanations,
    passage_states,
    ranks,
    shipped_cell,
    spearman,
    top_guesses,
    word_gradients,
)
from rnnlab.nn.charlm import CharLM, CharLMConfig, save_charlm
from rnnlab.nn.init import seeded
from rnnlab.nn.models import ClassifierConfig, SentimentClassifier, TextModel

CELLS = ("RNN", "LSTM", "GRU")
VOCAB = CharVocab("abcdefghij .\n")
V = len(VOCAB)


def tiny(cell="LSTM", hidden=16, layers=2, embed=8, vocab=V, seed=0) -> CharLM:
    return seeded(lambda: CharLM(CharLMConfig(vocab, cell, hidden, layers, embed)), seed).eval()


def passage(n=60, seed=1) -> torch.Tensor:
    return torch.randint(0, len(VOCAB), (n,), generator=torch.Generator().manual_seed(seed))


def autograd_bars(model: CharLM, ids: torch.Tensor, t: int) -> np.ndarray:
    """‖∂ log p(ids[t+1]) / ∂ x_s‖ for every s ≤ t, the passage read whole from a zero state (no window, no
    state held fixed): index k is the character t − k."""
    e = model.embedding(ids.view(1, -1)).detach().requires_grad_(True)
    out, _ = model.rnn(e)
    lp = torch.log_softmax(model.head(out[0, t]), dim=-1)[ids[t + 1]]
    (g,) = torch.autograd.grad(lp, e)
    return g[0, :t + 1].norm(dim=-1).flip(0).double().numpy()


# --- the character model -------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_bars_are_the_norms_of_the_gradient_autograd_computes(cell):
    model, ids = tiny(cell), passage()
    for t, back in ((40, 25), (10, 200), (0, 5)):
        c = char_connectivity(model, VOCAB, ids, t, back)
        expected = autograd_bars(model, ids, t)[:c.back + 1]
        assert c.back == min(back, t) and len(c.values) == c.back + 1
        np.testing.assert_allclose(c.values, expected, rtol=1e-4, atol=1e-7)
        assert c.chars[0] == VOCAB.chars[int(ids[t])] and c.target == VOCAB.chars[int(ids[t + 1])]
        with torch.no_grad():
            logits, _ = model(ids[:t + 1].view(1, -1))
        assert c.p_target == pytest.approx(float(torch.softmax(logits[0, -1], -1)[ids[t + 1]]), rel=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_states_read_once_give_the_same_bars_as_rereading_the_passage(cell):
    model, ids = tiny(cell), passage()
    states = passage_states(model, ids, every=7)
    assert len(states["states"]) == 9 and isinstance(states["states"][0], tuple) == (cell == "LSTM")
    for method, t in (("gradient", 50), ("integrated gradients", 50), ("gradient", 27), ("gradient", 8)):
        a = char_connectivity(model, VOCAB, ids, t, 20, method)
        b = char_connectivity(model, VOCAB, ids, t, 20, method, states=states)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(average_connectivity(model, ids, 15, 5).mean,
                               average_connectivity(model, ids, 15, 5, states=states).mean, rtol=1e-4)


@pytest.mark.parametrize("cell", CELLS)
def test_bars_match_finite_differences_on_a_two_unit_model(cell):
    """Central differences of log p along each coordinate of each input vector, in float64."""
    model = tiny(cell, hidden=2, layers=1, embed=2).double()
    ids, t = passage(12, seed=3), 9
    c = char_connectivity(model, VOCAB, ids, t, back=6)
    e0 = model.embedding(ids.view(1, -1)).detach()

    @torch.no_grad()
    def f(e):
        out, _ = model.rnn(e)
        return float(torch.log_softmax(model.head(out[0, t]), -1)[ids[t + 1]])

    h = 1e-6
    for k in range(c.back + 1):
        grad = []
        for d in range(2):
            up, down = e0.clone(), e0.clone()
            up[0, t - k, d] += h
            down[0, t - k, d] -= h
            grad.append((f(up) - f(down)) / (2 * h))
        assert c.values[k] == pytest.approx(math.hypot(*grad), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("cell", CELLS)
def test_integrated_gradients_add_up_to_the_change_of_log_p(cell):
    model, ids = tiny(cell), passage()
    c = char_connectivity(model, VOCAB, ids, 45, back=30, method="integrated gradients", steps=32)
    assert c.back == conn.IG_BACK == 20
    assert c.method == "integrated gradients" and c.signed is not None
    np.testing.assert_allclose(c.values, np.abs(c.signed))
    assert float(c.signed.sum()) == pytest.approx(c.gap, rel=0.02, abs=1e-4)
    # the gap is log p with the real vectors minus log p with the last 21 vectors zeroed, the rest read as they are
    e = model.embedding(ids[:46].view(1, -1)).detach()
    zeroed = e.clone()
    zeroed[0, 25:46] = 0
    with torch.no_grad():
        lp = [float(torch.log_softmax(model.head(model.rnn(v)[0][0, -1]), -1)[ids[46]]) for v in (e, zeroed)]
    assert c.gap == pytest.approx(lp[0] - lp[1], rel=1e-4, abs=1e-6)


def test_a_bad_position_or_method_is_refused():
    model, ids = tiny(), passage(10)
    with pytest.raises(ValueError, match="position"):
        char_connectivity(model, VOCAB, ids, 9)
    with pytest.raises(ValueError, match="method"):
        char_connectivity(model, VOCAB, ids, 3, method="saliency")
    with pytest.raises(ValueError, match="two characters"):
        char_connectivity(model, VOCAB, ids[:1], 0)


@pytest.mark.parametrize("cell", CELLS)
def test_the_averaged_curve_is_the_mean_of_each_positions_bars_scaled_to_one(cell):
    model, ids = tiny(cell), passage(80)
    avg = average_connectivity(model, ids, back=20, count=6, chunk=4)
    assert avg.positions == average_positions(80, 20, 6) and avg.positions[0] == 20 and avg.positions[-1] == 78
    rows = []
    for t in avg.positions:
        bars = autograd_bars(model, ids, t)[:21]
        rows.append(bars / bars.sum())
    np.testing.assert_allclose(avg.mean, np.mean(rows, axis=0), rtol=1e-4)
    assert avg.mean.sum() == pytest.approx(1.0)
    assert 0 <= avg.reach(0.9) <= 20 and avg.beyond(20) == 0.0


def test_top_guesses_are_the_top_of_the_softmax():
    model, ids = tiny("GRU"), passage(30)
    top = top_guesses(model, VOCAB, ids, k=5)
    with torch.no_grad():
        p = torch.softmax(model(ids.view(1, -1))[0][0], -1).double()
    best = p.topk(5)
    np.testing.assert_allclose(top.probs, best.values.numpy(), rtol=1e-5)
    assert top.guesses == [[VOCAB.chars[j] for j in row] for row in best.indices.tolist()]
    np.testing.assert_allclose(top.p_next, p[torch.arange(29), ids[1:]].numpy(), rtol=1e-5)
    expected_rank = [int((p[t] > p[t, ids[t + 1]]).sum()) + 1 for t in range(29)]
    assert top.rank_next.tolist() == expected_rank
    assert top.hit_rate(5) == pytest.approx(np.mean(np.array(expected_rank) <= 5))
    assert top.surprise == pytest.approx(float(-np.log(top.p_next).mean()))


def test_the_average_job_measures_each_saved_model(tmp_path):
    from rnnlab.runtime.jobs import JobContext
    from rnnlab.status import Status

    model, ids = tiny("RNN"), passage(70)
    save_charlm(model, VOCAB, tmp_path / "rnn")
    sent = []
    folders = {"RNN": str(tmp_path / "rnn"), "GRU": str(tmp_path / "none")}
    res = average_job(JobContext(1, sent.append, None, max_seconds=60), folders, VOCAB.decode(ids), back=20, count=5)
    assert res["status"] == Status.FINISHED and list(res["curves"]) == ["RNN"]
    stored = shipped_cell("RNN", {"RNN": tmp_path / "rnn"})[0]          # its weights as saved (float16)
    expected = average_connectivity(stored, ids, 20, 5)
    np.testing.assert_allclose(res["curves"]["RNN"]["mean"], expected.mean, rtol=1e-5)
    assert conn.AverageConnectivity.from_dict(res["curves"]["RNN"]).positions == expected.positions


def test_a_missing_folder_is_none_and_a_saved_model_loads(tmp_path):
    model = tiny("GRU")
    save_charlm(model, VOCAB, tmp_path / "gru", meta={"val_loss": 2.0})
    folders = {"GRU": tmp_path / "gru", "RNN": tmp_path / "rnn"}
    assert shipped_cell("RNN", folders) is None
    loaded, vocab, meta = shipped_cell("GRU", folders)
    assert loaded.cell == "GRU" and vocab == VOCAB and meta["val_loss"] == 2.0


# --- the sentiment model ----------------------------------------------------------------------------------
def tiny_text_model(bidirectional=True, pooling="maxmean", cell="LSTM") -> TextModel:
    from rnnlab.data.tokenizer import Vocabulary

    vocab = Vocabulary().fit(["the film was not good at all . bad"])
    config = ClassifierConfig(len(vocab), 8, (6,), cell, bidirectional, pooling=pooling)
    model = seeded(lambda: SentimentClassifier(config), 0).eval()
    return TextModel("tiny", model, vocab)


@pytest.mark.parametrize("bidirectional,pooling,cell", [(True, "maxmean", "LSTM"), (False, "last", "GRU"),
                                                        (True, "last", "RNN")])
def test_word_gradients_are_the_gradient_of_the_logit_per_word_vector(bidirectional, pooling, cell):
    tm = tiny_text_model(bidirectional, pooling, cell)
    text = "The film was not good at all. Not bad."
    wg = word_gradients(tm, text)
    ids = torch.tensor([tm.vocab.ids(wg.tokens)])
    e = tm.model.embedding(ids).detach().requires_grad_(True)
    z = _logit_from_vectors(tm.model, e)[0]
    (g,) = torch.autograd.grad(z, e)
    with torch.no_grad():
        direct = float(tm.model(ids)[0])                        # the model's own forward, from the ids
    assert float(z.detach()) == pytest.approx(direct, rel=1e-5) and wg.logit == pytest.approx(direct, rel=1e-5)
    np.testing.assert_allclose(wg.norms, g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-8)


def test_ranks_and_spearman():
    assert ranks(np.array([0.1, 3.0, 2.0, 2.0])).tolist() == [4, 1, 2.5, 2.5]
    assert spearman(np.array([1, 2, 3.0]), np.array([10, 20, 30.0])) == pytest.approx(1.0)
    assert spearman(np.array([1, 2, 3.0]), np.array([3, 2, 1.0])) == pytest.approx(-1.0)
    assert math.isnan(spearman(np.array([1, 1, 1.0]), np.array([1, 2, 3.0])))


def test_the_comparison_names_words_one_ranks_high_and_the_other_not():
    tokens = ["the", "film", "was", "not", "good", ",", "but", "the", "cast", "shines", "."]
    grad = np.array([0.1, 0.2, 0.1, 5.0, 3.0, 9.0, 0.3, 0.1, 0.2, 0.4, 9.0])
    occl = np.array([0.0, 0.1, 0.0, -0.2, 2.0, 0.0, 0.3, 0.05, 0.2, 1.5, 0.0])
    a = compare_explanations(tokens, grad, occl, top=2)
    assert a.n == 9                                            # punctuation left out
    assert a.both == ["good"]
    assert [w for w, _, _ in a.gradient_only] == ["not"] and a.gradient_only[0][1] == 1
    assert a.occlusion_only == []
    s = a.sentence()
    assert f"ρ = {a.rho:+.2f}" in s and "“good”" in s and "“not” (1st against" in s
    same = compare_explanations(tokens, np.abs(occl) + 1, occl)
    assert same.rho == pytest.approx(1.0) and "close agreement" in same.sentence()
    grouped = compare_explanations(tokens, grad, np.repeat(occl[::2], 2)[:len(tokens)], span=2, top=2)
    assert grouped.n == 5                                      # (the film) (was not) (good ,) (but the) (cast shines)
    assert grouped.both == ["good"] and [w for w, _, _ in grouped.gradient_only] == ["was not"]
    assert "Too few" in compare_explanations(["good"], np.ones(1), np.ones(1)).sentence()


# --- figures -----------------------------------------------------------------------------------------------
def test_the_bars_figure_draws_each_model_on_its_own_row_oldest_first():
    ids = passage()
    panels = [{"label": cell, "cell": cell, "conn": char_connectivity(tiny(cell), VOCAB, ids, 40, 20)}
              for cell in CELLS]
    fig = connectivity_bars(panels, shown=10)
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert len(bars) == 3
    for tr, p in zip(bars, panels):
        c = p["conn"]
        assert list(tr.x) == list(range(31, 41))                # 9 back .. 0 back
        np.testing.assert_allclose(tr.y, c.values[9::-1])
    stars = [tr for tr in fig.data if tr.type == "scatter"]
    assert [list(s.x) for s in stars] == [[41]] * 3 and stars[0].text[0] == VOCAB.chars[int(ids[41])].replace(" ", "␣")
    assert fig.layout.xaxis.ticktext[-1].startswith("→")


def test_the_curves_the_table_and_the_word_bars_carry_the_numbers():
    model, ids = tiny(), passage(60)
    avg = average_connectivity(model, ids, back=10, count=4)
    fig = influence_curves([{"label": "LSTM", "cell": "LSTM", "avg": avg}])
    np.testing.assert_allclose(fig.data[0].y, avg.mean)
    assert fig.layout.yaxis.type == "log"
    top = top_guesses(model, VOCAB, ids)
    table = top_guesses_table(top, 5, 15, mark=10)
    np.testing.assert_allclose(np.array(table.data[0].z), top.probs[5:15].T)
    assert list(table.data[0].x) == list(range(5, 15))
    came = [(r, t) for r in range(5) for t in range(5, 15) if top.guesses[t][r] == top.chars[t + 1]]
    for r, t in came:
        assert table.data[0].text[r][t - 5].startswith("<b>")
    bars = word_gradient_bars(["good", "film"], np.array([2.0, 1.0]), np.array([-0.5, 0.25]))
    np.testing.assert_allclose(bars.data[0].y, [1.0, 0.5])
    np.testing.assert_allclose(bars.data[1].y, [1.0, 0.5])
    np.testing.assert_allclose(bars.data[1].customdata, [0.5, 0.25])


# --- the pages ------------------------------------------------------------------------------------------
@pytest.fixture
def small_cells(tmp_path, monkeypatch):
    """Small LSTM and GRU models of tiny-shakespeare's alphabet in place of the shipped ones; no RNN."""
    from app_pages.connectivity import _cell_model

    vocab = shakespeare().vocab
    folders = {}
    for cell in CELLS:
        folders[cell] = tmp_path / f"shakespeare_{cell.lower()}"
        if cell != "RNN":
            save_charlm(tiny(cell, vocab=len(vocab)), vocab, folders[cell],
                        meta={"val_loss": 3.25, "params": 1234, "recipe": {"num_layers": 2, "hidden_size": 16}})
    monkeypatch.setattr(conn, "SHIPPED_CELLS", folders)
    _cell_model.clear()
    yield folders
    _cell_model.clear()


def _textgen(root, **state) -> AppTest:
    return open_app_page(root, "app_pages/textgen.py", **state)


def test_the_text_generation_view_draws_each_cell_present_and_names_the_missing(root, small_cells):
    at = _textgen(root, tg_tab="Connectivity", tg_conn_t=50, tg_conn_shown=20)
    assert any("tanh RNN" in i.value and "shakespeare_rnn" in i.value for i in at.info)
    figs = {f["data"][0]["type"]: f for f in figures(at)}
    bars = [tr for tr in figs["bar"]["data"] if tr["type"] == "bar"]
    assert len(bars) == 2 and "validation loss 3.250" in str(figs["bar"]["layout"])
    caption = next(c.value for c in at.caption if "★" in c.value)
    assert "LSTM: p = " in caption and "GRU: p = " in caption
    assert any("first guess is right" in c.value for c in at.caption)
    at.session_state["tg_conn_method"] = "integrated gradients"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("add up to" in c.value for c in at.caption)
    at.button(key="tg_conn_measure").click().run()             # the averaged curve: a job on the worker
    job = at.session_state["conn_avg_job"]
    assert job.meta["board"] is False and job.meta["cells"] == ["LSTM", "GRU"]
    assert job.wait(150) and job.end_state == "finished", job.error
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    caption = next(c.value for c in at.caption if "90% of the influence within" in c.value)
    assert "LSTM:" in caption and "GRU:" in caption
    curves = next(f for f in figures(at) if f["layout"].get("yaxis", {}).get("type") == "log")
    assert [tr["name"] for tr in curves["data"]] == ["LSTM", "GRU"]
    fresh = _textgen(root, tg_tab="Connectivity", tg_conn_t=50, tg_conn_shown=20)   # another session: at once
    assert any("90% of the influence within" in c.value for c in fresh.caption)


def test_the_sample_passage_waits_for_a_sample(root, small_cells):
    at = _textgen(root, tg_tab="Connectivity", tg_conn_source="The last generated sample")
    assert any("No sample yet" in i.value for i in at.info)


def test_the_key_words_tab_sets_the_gradient_beside_occlusion(root):
    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped sentiment model")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/sentiment.py").run()
    at.session_state["sent_tab"] = "Key words"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Spearman ρ" in c.value for c in at.caption)
    assert any("‖∂ logit / ∂ word vector‖" in str(f["data"]) for f in figures(at))


@pytest.mark.browser
@pytest.mark.slow
def test_the_connectivity_tab_fits_each_screen(app):
    """In a real browser at laptop, projector and phone sizes: no horizontal scroll and no clipped label."""
    from bench.appserver import SIZES, cut_labels, horizontal_overflow, open_page

    url, chromium = app
    for size in SIZES:
        context, page = open_page(chromium, f"{url}/textgen?tg_tab=Connectivity", SIZES[size], "Text generation")
        try:
            assert page.locator('[data-testid="stException"]').count() == 0, size
            assert page.get_by_role("tab", name="Connectivity").get_attribute("aria-selected") == "true", size
            assert horizontal_overflow(page) == 0, size
            assert cut_labels(page) == [], size
        finally:
            context.close()
