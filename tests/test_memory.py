"""Memory analyses on hand-made arrays, and reading texts with a model."""
import numpy as np
import pytest
import torch

from rnnlab.data.tokenizer import Vocabulary
from rnnlab.figures.memory import activation_heatmap, colored_text_html, symmetric_limit, trajectory_figure
from rnnlab.labs.memory import (
    firing_positions,
    fresh_classifier,
    gate_saturation,
    mean_over_units,
    pca_path,
    read_text,
    saturation_over_time,
    top_units,
)
from rnnlab.nn.models import TextModel, load_text_model, save_text_model


def test_gate_saturation_exact():
    gates = {"f": np.array([[0.05, 0.5, 0.95, 0.99]]), "g": np.array([[-0.9, 0.0, 0.9, 0.5]])}
    sat = gate_saturation(gates)
    assert sat["f"] == (0.25, 0.5)
    assert sat["g"] == (0.25, 0.25)   # tanh candidate mapped to [0, 1]: -0.9 -> 0.05, 0.9 -> 0.95
    np.testing.assert_allclose(saturation_over_time(gates)["f"], [1, 0, 1, 1])


def test_mean_over_units_and_the_colour_range():
    sig = np.array([[0.2, 0.4, 1.0], [0.6, 0.0, 0.5]])
    np.testing.assert_allclose(mean_over_units(sig), [0.4, 0.2, 0.75])
    assert symmetric_limit(np.array([0.3, -0.7, 0.1])) == pytest.approx(0.7)
    assert symmetric_limit(np.array([])) == pytest.approx(1e-6)       # nothing to scale: a tiny floor
    assert symmetric_limit(np.zeros(3)) == pytest.approx(1e-6)
    values = np.array([0.3, -0.7])                                    # the default scale is ± the largest |value|
    assert colored_text_html(["a", "b"], values) == colored_text_html(["a", "b"], values, -0.7, 0.7)
    assert colored_text_html(["a", "b"], values) != colored_text_html(["a", "b"], values, -1.4, 1.4)


def test_pca_path_recovers_a_line():
    t = np.linspace(-1, 1, 20)
    h = np.stack([t, 2 * t, -t])              # (H=3, T=20), all variance along one direction
    coords, share = pca_path(h)
    assert share[0] == pytest.approx(1.0) and share[1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(coords[:, 0]), np.abs(t - t.mean()) * np.sqrt(6), atol=1e-9)


def test_top_units_and_where_they_fire():
    sig = np.zeros((3, 10))
    sig[1, 4:6] = 0.9     # unit 1 fires only on tokens 4-5
    sig[1, 8] = 0.95      # ... and again on token 8
    sig[2, :] = 0.8       # unit 2 is always on: not selective
    best = top_units(sig, 4, 5, k=3)
    assert best[0][0] == 1 and best[0][2] == pytest.approx(0.9)
    assert firing_positions(sig[1], 0.9, exclude=(4, 5)) == [8]


def test_read_text_and_prefix_probabilities_match_the_model():
    vocab = Vocabulary().fit(["a good film , not a bad one"])
    model = fresh_classifier(vocab, "GRU", 8, 8, seed=0)
    r = read_text(model, vocab, "A good film, not a bad one! 😀")
    assert r.tokens[-1] == "😀" and r.unknown[-1]
    assert r.n_unknown == len([t for t in r.tokens if t not in vocab.index]) >= 1
    assert r.every_prefix and r.prefix_spacing == 1
    ids = torch.tensor([r.ids])
    assert r.probability == pytest.approx(torch.sigmoid(model(ids)).item(), abs=1e-6)
    # the probability after word k equals the model run on the first k words
    for k in (1, 4, len(r.ids)):
        assert r.prefix_probabilities[k - 1] == pytest.approx(torch.sigmoid(model(ids[:, :k])).item(), abs=1e-5)
    s = r.signals()
    assert set(s) == {"h", "r", "z", "n"} and s["h"].shape == (8, len(r.tokens))
    with pytest.raises(ValueError, match="nothing to read"):
        read_text(model, vocab, "<br /> ")
    long = read_text(model, vocab, "good " * 50, max_tokens=20)
    assert long.truncated and len(long.tokens) == 20


def _bidirectional(vocab, cell="LSTM", sizes=(5, 3), pooling="last", seed=0):
    from rnnlab.nn.init import seeded
    from rnnlab.nn.models import ClassifierConfig, SentimentClassifier

    config = ClassifierConfig(len(vocab), 4, sizes, cell, bidirectional=True, pooling=pooling)
    return seeded(lambda: SentimentClassifier(config), seed).eval()


def test_bidirectional_prefix_probabilities(tmp_path):
    vocab = Vocabulary().fit(["one two three four"])
    model = _bidirectional(vocab)
    r = read_text(model, vocab, "one two three four")
    assert r.every_prefix and list(r.prefix_positions) == [0, 1, 2, 3]
    ids = torch.tensor([r.ids])
    for k in (1, 3):
        assert r.prefix_probabilities[k - 1] == pytest.approx(torch.sigmoid(model(ids[:, :k])).item(), abs=1e-5)
    assert r.directions(1) == ["forward", "backward"]
    save_text_model(TextModel("bi", model, vocab, 10, {"acc": 0.5}), tmp_path / "m")
    back = load_text_model(tmp_path / "m")
    assert back.maxlen == 10 and back.meta == {"acc": 0.5}
    assert torch.equal(back.model(ids), model(ids))


def test_figures_carry_the_data_and_escape_html():
    sig = np.arange(6.0).reshape(2, 3) / 10
    fig = activation_heatmap(sig, ["a", "b", "a"], "h", start=5)
    assert list(fig.data[0].x) == ["5 a", "6 b", "7 a"]
    np.testing.assert_allclose(fig.data[0].z, sig)
    html = colored_text_html(["<script>", "ok"], np.array([0.5, -0.5]), -1, 1)
    assert "<script>" not in html and "&lt;script&gt;" in html
    coords, share = pca_path(np.random.default_rng(0).normal(size=(4, 5)))
    fig = trajectory_figure(coords, list("abcde"), share)
    np.testing.assert_allclose(fig.data[0].x, coords[:, 0])


@pytest.mark.parametrize("cell,sizes,pooling", [("LSTM", (6,), "maxmean"), ("GRU", (5, 3), "last"),
                                                ("RNN_RELU", (4, 4), "maxmean")])
def test_bidirectional_prefixes_are_exact_on_any_positions(cell, sizes, pooling):
    """Only the first layer's forward half is shared between prefixes: every other number is re-read."""
    vocab = Vocabulary().fit([f"w{k}" for k in range(40)])
    model = _bidirectional(vocab, cell, sizes, pooling, seed=2)
    ids = torch.randint(1, len(vocab), (1, 23), generator=torch.Generator().manual_seed(0))
    positions = [22, 0, 5, 13, 7]                      # any order, answered in that order
    got = model.prefix_probabilities(ids, positions, chunk=2)
    want = torch.stack([torch.sigmoid(model(ids[:, :k + 1]))[0] for k in positions])
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="positions"):
        model.prefix_probabilities(ids, [23])


def test_long_bidirectional_text_reads_a_bounded_set_of_prefixes():
    from rnnlab.labs.memory import MAX_PREFIXES, PREFIX_BUDGET, prefix_positions

    assert list(prefix_positions(10, True)) == list(range(10))
    assert len(prefix_positions(5000, False)) == 5000          # unidirectional: one pass gives them all
    for T in (300, 500, 1000, 2000, 5000):
        pos = prefix_positions(T, True)
        assert len(pos) <= MAX_PREFIXES and pos[0] == 0 and pos[-1] == T - 1
        assert (pos + 1).sum() <= 1.1 * PREFIX_BUDGET or len(pos) == 8     # the tokens re-read stay bounded
        gaps = np.diff(pos)
        assert gaps.max() - gaps.min() <= 1                     # evenly spaced
    assert len(prefix_positions(500, True)) == 64 and len(prefix_positions(2000, True)) == 32
    vocab = Vocabulary().fit([f"w{k}" for k in range(40)])
    model = _bidirectional(vocab, "GRU", (4,), "maxmean")
    r = read_text(model, vocab, " ".join(f"w{k % 40}" for k in range(300)))
    assert not r.every_prefix and len(r.prefix_positions) == len(r.prefix_probabilities) == 64
    ids = torch.tensor([r.ids])
    for j in (0, 17, -1):
        k = int(r.prefix_positions[j])
        assert r.prefix_probabilities[j] == pytest.approx(torch.sigmoid(model(ids[:, :k + 1])).item(), abs=1e-5)
    assert r.prefix_probabilities[-1] == pytest.approx(r.probability, abs=1e-5)
    positions = [int(p) for p in r.prefix_positions]
    assert r.prefix_spacing == max(b - a for a, b in zip(positions, positions[1:]))


def test_model_digest_follows_the_weights_not_the_object():
    from rnnlab.labs.memory import model_digest

    vocab = Vocabulary().fit(["a b c"])
    a, b = fresh_classifier(vocab, "LSTM", 8, 8, seed=0), fresh_classifier(vocab, "LSTM", 8, 8, seed=0)
    assert a is not b and model_digest(a) == model_digest(b)
    assert model_digest(fresh_classifier(vocab, "LSTM", 8, 8, seed=1)) != model_digest(a)
    before = model_digest(a)
    with torch.no_grad():
        a.head[-1].bias.add_(1.0)                              # changed in place: a new digest
    assert model_digest(a) != before


def test_varying_units_puts_the_busiest_first():
    from rnnlab.labs.memory import varying_units

    sig = np.zeros((5, 20))
    sig[3] = np.sin(np.arange(20))          # varies most
    sig[1] = 0.1 * np.sin(np.arange(20))
    sig[4] = 0.9                            # always on: does not vary
    assert list(varying_units(sig, 2)) == [3, 1]


def test_memory_figures_are_valid_and_labels_never_overlap():
    from rnnlab.figures.fast import validated
    from rnnlab.figures.memory import heatmap_height, label_subset, prefix_figure

    rng = np.random.default_rng(0)
    big = rng.normal(size=(128, 250))
    fig = validated(activation_heatmap(big[[5, 9]], [f"w{k}" for k in range(250)], "h", 0, units=[5, 9]))
    assert list(fig.data[0].y) == ["unit 5", "unit 9"]
    assert heatmap_height(16) < heatmap_height(128) == heatmap_height(1000) <= 600       # bounded
    fig = validated(prefix_figure(np.array([0, 31, 63]), np.array([0.2, 0.6, 0.9]), ["a"] * 64, False))
    assert list(fig.data[0].x) == [1, 32, 64] and "3 of 64" in fig.layout.title.text
    coords = np.cumsum(rng.normal(size=(2000, 2)), axis=0)
    kept = label_subset(coords, limit=30, width=0.1, height=0.06)
    assert 0 in kept and 1999 in kept and len(kept) <= 30
    span = coords.max(axis=0) - coords.min(axis=0)
    norm = (coords - coords.min(axis=0)) / span
    for i in kept:
        for j in kept:
            if i < j:
                assert abs(norm[i, 0] - norm[j, 0]) >= 0.1 or abs(norm[i, 1] - norm[j, 1]) >= 0.06
    fig = validated(trajectory_figure(coords, [f"w{k}" for k in range(2000)], np.array([0.5, 0.2])))
    assert sum(bool(t) for t in fig.data[0].text) == len(kept)
    assert fig.layout.legend.y < 0 and fig.data[0].marker.colorbar.title.text == "token #"   # legend under the plot


def test_memory_reads_the_calibrated_probability_of_the_sentiment_lab(root):
    """One model, one probability (issue #25): Inside the memory divides the logit by the model's temperature,
    as the Sentiment lab does; the signals inside are the model's own."""
    from rnnlab.labs.memory import DEFAULT_REVIEW, read_model
    from rnnlab.labs.sentiment import read, temperature
    from rnnlab.labs.sentiment.reading import load_shipped

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    tm = load_shipped()
    assert temperature(tm) != 1.0
    r, raw = read_model(tm, DEFAULT_REVIEW), read_text(tm.model, tm.vocab, DEFAULT_REVIEW)
    assert r.probability == pytest.approx(read(tm, DEFAULT_REVIEW).prob, abs=1e-6)
    assert r.prefix_probabilities[-1] == pytest.approx(r.probability, abs=1e-5)
    assert abs(r.probability - raw.probability) > 1e-3       # the raw sigmoid would differ
    np.testing.assert_allclose(r.signals()["h"], raw.signals()["h"])


def test_saturation_legend_states_the_bounds_for_gates_and_for_the_candidates():
    """The tanh candidates g, n count as shut below 2·0.1 − 1 = −0.8 (they live in [−1, 1]): the legend says so."""
    from rnnlab.figures.memory import saturation_bars

    names = [t.name for t in saturation_bars({"i": (0.2, 0.1), "g": (0.3, 0.2)}).data]
    assert names == ["shut: below 0.1 (g, n: -0.8)", "open: above 0.9 (g, n: 0.8)"]


@pytest.mark.parametrize("text", ["\x97\x88", "\x00\x1b\x7f"])
def test_control_characters_alone_are_nothing_to_read(text):
    """Issue 29 (found by tests/test_bad_input.py): a text of C0/C1 control characters was read as tokens,
    with heatmaps and no word of warning; the one readable-text rule makes it nothing to read, on the page
    too."""
    import badinput as B

    from rnnlab.labs.memory import fresh_text_model, read_text

    tm = fresh_text_model(("a", "film"), "LSTM", 8, 0)
    with pytest.raises(ValueError, match="nothing to read"):
        read_text(tm.model, tm.vocab, text)
    at = B.open_page("app_pages/memory.py", state={"mem_text": text})
    assert not at.exception
    assert any("nothing to read" in w.value for w in at.warning), [w.value for w in at.warning]
