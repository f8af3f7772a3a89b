"""Batches of sequences: padding, masking, packing, the cost job, word vectors, and the page."""
import numpy as np
import pytest
import torch
from fixtures import open_app_page
from streamlit.testing.v1 import AppTest

from rnnlab.data.tokenizer import Vocabulary
from rnnlab.labs import batching
from rnnlab.labs.batching import (
    BatchError,
    _logits,
    compare_masking,
    fresh_bidirectional,
    make_batch,
    packed_layout,
    padding_cost_job,
    pre_padded,
)
from rnnlab.labs.embeddings import (
    WordError,
    chance_cosine,
    choose_words,
    embedding_table,
    mean_cosine,
    nearest_neighbours,
    project_2d,
    unit_rows,
    word_id,
    word_sentiment,
)
from rnnlab.status import Status

SENTENCES = "a good film\nthe plot is thin but the actors are really good\nbad"


@pytest.fixture(scope="module")
def small():
    vocab = Vocabulary().fit([SENTENCES])
    return fresh_bidirectional(vocab, hidden_size=8, seed=3), vocab


class FakeContext:
    """A job's context without a worker: stops after ``stop_after`` progress reports if set."""

    def __init__(self, stop_after=None, remaining=1e9):
        self.reports, self.stop_after, self._remaining = [], stop_after, remaining

    def phase(self, name, **data):
        pass

    def progress(self, done, total, text=""):
        self.reports.append((done, total, text))

    def should_stop(self):
        return Status.STOPPED if self.stop_after is not None and len(self.reports) >= self.stop_after else None

    def check(self):
        from rnnlab.runtime.jobs import JobStopped
        if self.should_stop():
            raise JobStopped("stopped")

    def remaining(self):
        return self._remaining


# --- the batch ----------------------------------------------------------------------------------------
def test_make_batch_pads_at_the_end_and_marks_unknown_words(small):
    _, vocab = small
    batch = make_batch(SENTENCES + "\nzyzzyva good", vocab)
    assert batch.lengths.tolist() == [3, 10, 1, 2]
    assert batch.ids.shape == (4, 10)
    assert (batch.ids[2, 1:] == 0).all() and (batch.ids[2, :1] != 0).all()
    assert batch.unknown[3] == [True, False] and batch.ids[3, 0] == 1
    assert batch.padding_share == pytest.approx(1 - 16 / 40)
    pre = pre_padded(batch.ids, batch.lengths)
    assert pre[2].tolist() == [0] * 9 + [batch.ids[2, 0].item()]
    assert pre[1].tolist() == batch.ids[1].tolist()


def test_make_batch_bounds_and_messages(small):
    _, vocab = small
    with pytest.raises(BatchError, match="at least one sentence"):
        make_batch("  \n\n", vocab)
    many = make_batch("\n".join(["good"] * 20), vocab, max_sentences=8)
    assert many.size == 8 and "first 8" in many.notes[0]
    long = make_batch(" ".join(["good"] * 100), vocab, max_tokens=40)
    assert long.width == 40 and "cut" in long.notes[0]


# --- masking --------------------------------------------------------------------------------------------
def test_masked_bidirectional_equals_each_sentence_alone_and_unmasked_does_not(small):
    model, vocab = small
    batch = make_batch(SENTENCES, vocab)
    cmp = compare_masking(model, batch)
    rnn = model.rnns[0]
    for b, n in enumerate(batch.lengths.tolist()):                     # independent reference: one at a time
        _, (h_n, _) = rnn(model.embedding(batch.ids[b:b + 1, :n]))
        np.testing.assert_allclose(cmp.final_alone[b], h_n[:, 0].detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(cmp.final_masked, cmp.final_alone, atol=1e-5)
    np.testing.assert_allclose(cmp.prob_masked, cmp.prob_alone, atol=1e-5)
    gaps = cmp.final_gap("unmasked")                                   # (B, directions)
    padded = batch.lengths < batch.width
    assert (gaps[padded.numpy()] > 1e-3).all()                         # both directions' final states move
    assert (gaps[~padded.numpy()] < 1e-5).all()                        # the full-length row does not
    fwd, bwd = cmp.token_diff["forward"], cmp.token_diff["backward"]
    assert np.nanmax(fwd) < 1e-5                                       # forward outputs at the words: exact
    assert (np.nanmin(bwd[padded.numpy()], axis=1) > 1e-4).all()       # backward read the pads first
    assert np.isnan(fwd[2, 1:]).all()                                  # nothing past a sentence's end
    worst = max(abs(float(u) - float(a)) for u, a in zip(cmp.prob_unmasked, cmp.prob_alone))
    assert cmp.largest_prob_change() == pytest.approx(worst)
    for which, final in (("unmasked", cmp.final_unmasked), ("masked", cmp.final_masked)):
        expected = max(abs(float(x) - float(y)) for x, y in zip(final.ravel(), cmp.final_alone.ravel()))
        assert cmp.largest_gap(which) == pytest.approx(expected)


def test_pre_padding_moves_the_damage_to_the_forward_direction(small):
    model, vocab = small
    batch = make_batch(SENTENCES, vocab)
    cmp = compare_masking(model, batch, padding="pre")
    padded = (batch.lengths < batch.width).numpy()
    assert (np.nanmin(cmp.token_diff["forward"][padded], axis=1) > 1e-4).all()
    assert np.nanmax(cmp.token_diff["backward"]) < 1e-5
    np.testing.assert_allclose(cmp.final_masked, cmp.final_alone, atol=1e-5)


def test_the_shipped_model_in_the_masking_comparison(root):
    from rnnlab.nn.models import load_text_model

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    tm = load_text_model(root / "assets" / "sentiment")
    batch = make_batch("a wonderful film\nterrible\ni loved every minute of it and would watch it again", tm.vocab)
    cmp = compare_masking(tm.model, batch)
    np.testing.assert_allclose(cmp.prob_masked, cmp.prob_alone, atol=1e-5)
    assert (cmp.final_gap("unmasked")[:2] > 1e-3).all()


# --- packing --------------------------------------------------------------------------------------------
def test_packed_layout_batch_sizes_and_order():
    lay = packed_layout([5, 2, 3])
    assert lay.batch_sizes == [3, 3, 2, 1, 1]
    assert lay.sorted_indices == [0, 2, 1]
    assert lay.order[:3] == [(0, 0), (2, 0), (1, 0)] and lay.order[-2:] == [(0, 3), (0, 4)]
    assert lay.packed_steps == 10 == len(lay.order)
    # batch_sizes[t] = how many sentences are longer than t
    lengths = [7, 1, 4, 4, 2]
    lay = packed_layout(lengths)
    assert lay.batch_sizes == [sum(n > t for n in lengths) for t in range(7)]


def test_cost_forward_packs_exactly_when_asked(small):
    model, vocab = small
    model.eval()
    batch = make_batch(SENTENCES, vocab)
    with torch.no_grad():
        packed = _logits(model, batch.ids, batch.lengths)
        alone = torch.cat([_logits(model, batch.ids[b:b + 1, :n], None) for b, n in enumerate(batch.lengths.tolist())])
        padded = _logits(model, batch.ids, None)
    np.testing.assert_allclose(packed.numpy(), alone.numpy(), atol=1e-5)
    assert not np.allclose(padded.numpy(), alone.numpy(), atol=1e-4)


@pytest.fixture
def tiny_config(monkeypatch):
    monkeypatch.setitem(batching.COST_CONFIGS, "tiny", dict(label="tiny", batch=4, seq_len=12, embed=8, hidden=8,
                                                            layers=2, vocab=50, rounds=2))


@pytest.mark.slow
def test_padding_cost_job_times_both_ways(tiny_config):
    res = padding_cost_job(FakeContext(), config="tiny", lengths="mixed", seed=1)
    assert res["status"] == Status.FINISHED
    assert len(res["times"]["padded"]) == len(res["times"]["packed"]) == 2
    assert res["median"]["padded"] == pytest.approx(float(np.median(res["times"]["padded"])))
    assert res["ratio"] == pytest.approx(res["median"]["packed"] / res["median"]["padded"])
    assert max(res["lengths"]) == 12 and min(res["lengths"]) >= 1 and res["padding_share"] > 0
    equal = padding_cost_job(FakeContext(), config="tiny", lengths="equal")
    assert equal["lengths"] == [12] * 4 and equal["padding_share"] == 0.0


@pytest.mark.slow
def test_padding_cost_job_keeps_what_it_measured_when_stopped(tiny_config):
    res = padding_cost_job(FakeContext(stop_after=4), config="tiny")     # warm-up + 1 round, then stop
    assert res["status"] == Status.STOPPED and len(res["times"]["packed"]) == 1 and "stopped" in res["message"]
    with pytest.raises(Exception, match="stopped"):
        padding_cost_job(FakeContext(stop_after=1), config="tiny")      # stopped during the warm-up
    res = padding_cost_job(FakeContext(remaining=-1.0), config="tiny")  # no time for a second round
    assert res["status"] == Status.TIME_LIMIT and len(res["times"]["packed"]) == 1
    with pytest.raises(ValueError, match="unknown"):
        padding_cost_job(FakeContext(), config="huge")


# --- embeddings -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def embedded():
    words = ["good", "great", "bad", "awful", "movie", "film", "plot", "fine"]
    vocab = Vocabulary().fit([" ".join(words)])
    model = fresh_bidirectional(vocab, seed=0)
    return model, vocab


def test_nearest_neighbours_are_the_highest_cosines(embedded):
    model, vocab = embedded
    table = model.embedding.weight.detach().numpy()[:len(vocab)]
    unit = unit_rows(embedding_table(model, vocab))
    nbrs = nearest_neighbours(unit, vocab, "Good", k=4)
    q = table[vocab.index["good"]]
    direct = {w: float(table[i] @ q / (np.linalg.norm(table[i]) * np.linalg.norm(q)))
              for w, i in vocab.index.items() if i >= 2 and w != "good"}
    expected = sorted(direct, key=direct.get, reverse=True)[:4]
    assert [n.word for n in nbrs] == expected
    for n in nbrs:
        assert n.cosine == pytest.approx(direct[n.word], abs=1e-6)
        assert n.rank_in_vocab == vocab.index[n.word] - 1
    among = nearest_neighbours(unit, vocab, "good", k=1, among=3)      # only the 3 most frequent words
    assert vocab.index[among[0].word] - 1 <= 4
    assert -1 <= chance_cosine(unit, 3) <= 1
    assert mean_cosine(nbrs) == pytest.approx(sum(direct[w] for w in expected) / 4, abs=1e-6)


@pytest.mark.parametrize("word,message", [("zyzzyva", "not in the model's vocabulary"), ("good film", "One word"),
                                          ("   ", "Type a word")])
def test_unknown_words_get_a_clear_message(embedded, word, message):
    model, vocab = embedded
    with pytest.raises(WordError, match=message):
        word_id(vocab, word, len(vocab))


@pytest.mark.parametrize("word", ["\u200b\u200b", "\u0301", " \u2060 ", "\x00"])
def test_zero_width_or_combining_only_word_is_refused_like_an_empty_one(embedded, word):
    """Issue 29: a word of a lone combining mark was looked up (and called unknown) rather than refused as no
    word; every box follows rnnlab.inputs.readable. The map's words leave such a token out too."""
    model, vocab = embedded
    with pytest.raises(WordError, match="Type a word"):
        word_id(vocab, word, len(vocab))
    assert choose_words(f"good {word} bad", vocab, len(vocab)).unknown == []


def test_an_unknown_word_is_quoted_short(embedded):
    """Issue 29: the message quoted a 10^6-character word whole."""
    model, vocab = embedded
    with pytest.raises(WordError) as err:
        word_id(vocab, "q" * 10**6, len(vocab))
    assert len(str(err.value)) < 300 and "1,000,000 characters" in str(err.value)


def test_choose_words_and_word_sentiment(embedded):
    model, vocab = embedded
    chosen = choose_words("good, bad good zyzzyva $x$ film", vocab, len(vocab), max_words=3)
    assert chosen.words == ["good", "bad", "film"] and chosen.unknown == ["zyzzyva", "x"]
    probs = word_sentiment(model, chosen.ids)
    with torch.no_grad():
        direct = [torch.sigmoid(model(torch.tensor([[i]]))).item() for i in chosen.ids]
    np.testing.assert_allclose(probs, direct, atol=1e-6)


def test_project_2d_is_pca():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    coords, explained = project_2d(X)
    Xc = X - X.mean(axis=0)
    vals, vecs = np.linalg.eigh(Xc.T @ Xc)
    top = vecs[:, ::-1][:, :2]
    np.testing.assert_allclose(np.abs(coords), np.abs(Xc @ top), atol=1e-9)
    np.testing.assert_allclose(explained, vals[::-1][:2] / vals.sum(), atol=1e-12)
    with pytest.raises(WordError, match="two words"):
        project_2d(X[:1])


# --- the page -------------------------------------------------------------------------------------------
def _page(root, **state) -> AppTest:
    return open_app_page(root, "app_pages/batches.py", **state)


def test_page_shows_the_batch_and_the_masking_table(root):
    at = _page(root, bat_text="a great film\nawful $x$ ~~y~~ <b>z</b>")
    table = at.dataframe[0].value
    assert list(table["tokens"]) == [3, 10] and list(table["pads"]) == [7, 0]   # $ x $ ~ ~ y ~ ~ z: tags gone
    assert list(table["P(pos) alone"]) == list(table["with lengths="])
    assert float(at.metric[0].value) < 1e-5
    tensor = next(h.proto.body for h in at.get("html") if "token and its id" in h.proto.body)
    assert tensor.count("pad<br><small>0</small>") == 7 and "<b>z</b>" not in tensor


def test_grids_escape_tokens_and_mark_pads_and_unknown_words():
    from rnnlab.figures.batching import direction_gap_html, packed_layout_html, padded_batch_html

    grid = padded_batch_html([["a", "<", "&"], ["b"]], [[5, 6, 1], [7]], [[False, False, True], [False]], 3, "pre")
    assert "&lt;<br>" in grid and "&amp;<br>" in grid and "<<br>" not in grid
    assert grid.count("pad<br><small>0</small>") == 2
    row1 = grid.split("row 1 (1)")[1]
    assert row1.index("pad<br>") < row1.index("b<br><small>7</small>")   # pre-padding: pads first
    assert grid.count("#ffcc80") == 1                                    # one unknown word
    lay = packed_layout([3, 1])
    packed = packed_layout_html(lay.lengths, lay.batch_sizes, lay.sorted_indices, lay.order)
    assert [packed.count(f">{k}</td>") for k in range(4)] == [1, 1, 1, 1]
    gaps = direction_gap_html({"forward": np.array([[0.0, 0.5], [0.25, np.nan]])}, [["x", "y"], ["z"]])
    assert "0.50" in gaps and "0.25" in gaps and "nan" not in gaps


def test_page_packing_and_embeddings_tabs(root):
    at = _page(root, bat_tab="Packing", bat_text="one two three\nfour\nfive six")
    assert "tensor([3, 2, 1])" in at.code[0].value
    at = _page(root, bat_tab="Embeddings", bat_word="xyzzyq")
    if (root / "assets" / "sentiment" / "model.pt").exists():
        assert any("not in the model's vocabulary" in w.value for w in at.warning)
        at = _page(root, bat_tab="Embeddings", bat_word="good", bat_k=5)
        assert len(at.dataframe[0].value) == 5
    else:
        assert any("not installed" in i.value for i in at.info)


def test_page_explains_an_empty_batch(root):
    at = _page(root, bat_text="  \n ")
    assert any("at least one sentence" in w.value for w in at.warning)


@pytest.mark.slow
def test_page_measures_the_cost_through_the_job_runner(root):
    at = _page(root, bat_tab="What it costs")
    at.button(key="bat_cost_run").click().run()
    job = at.session_state["bat_cost_job"]
    assert job.wait(180) and job.end_state == "finished", job.error
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    res = job.result
    assert res["config_name"] == "small" and len(res["times"]["packed"]) == batching.COST_CONFIGS["small"]["rounds"]
    assert at.metric[0].value == f"{res['median']['padded']:.3g} s"
    assert at.metric[2].value == f"{res['ratio']:.2f}×"


def test_a_unidirectional_model_only_changes_its_final_state_with_pads_at_the_end(small):
    from rnnlab.nn.init import seeded
    from rnnlab.nn.models import ClassifierConfig, SentimentClassifier

    _, vocab = small
    model = seeded(lambda: SentimentClassifier(ClassifierConfig(len(vocab), 8, (8,), "GRU")), 1).eval()
    batch = make_batch(SENTENCES, vocab)
    cmp = compare_masking(model, batch)
    assert list(cmp.token_diff) == ["forward"] and cmp.final_alone.shape == (3, 1, 8)
    assert np.nanmax(cmp.token_diff["forward"]) < 1e-5
    padded = (batch.lengths < batch.width).numpy()
    assert (cmp.final_gap("unmasked")[padded] > 1e-3).all()
    np.testing.assert_allclose(cmp.prob_masked, cmp.prob_alone, atol=1e-5)


def test_a_word_alone_has_the_sentiment_labs_probability(root):
    """Issue #25: one probability on every page. The Embeddings tab's "P(positive) alone" is the calibrated
    probability the Sentiment lab and Inside the memory give the same one-word review."""
    from rnnlab.labs.embeddings import word_sentiment
    from rnnlab.labs.sentiment import calibrated, predict, temperature
    from rnnlab.nn.models import load_text_model

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    tm = load_text_model(root / "assets" / "sentiment")
    assert temperature(tm) != 1.0                     # otherwise this test could not tell the two apart
    for word in ("movie", "good", "awful"):
        p = word_sentiment(calibrated(tm), [tm.vocab.index[word]])[0]
        assert p == pytest.approx(predict(tm, word), abs=1e-6)
        raw = word_sentiment(tm.model, [tm.vocab.index[word]])[0]
        assert abs(np.log(p / (1 - p)) - np.log(raw / (1 - raw))) > 0.1    # the raw log-odds differ: T matters


@pytest.mark.parametrize("text,left_out", [("\u200b\u200b", None), ("\u0301\u0301", None), ("\x00\x01", None),
                                           ("a film\n\u200b\n\u0301\n<br />\nbad", 3)])
def test_zero_width_only_sentence_lines_are_no_sentences(text, left_out, small):
    """Issue 29: a line of lone combining marks was a sentence of one token here, while the Sentiment lab refuses
    such text, and lines of zero-width spaces were dropped without a word. make_batch follows
    rnnlab.inputs.readable and says how many lines it left out."""
    _, vocab = small
    if left_out is None:
        with pytest.raises(BatchError, match="at least one sentence"):
            make_batch(text, vocab)
        return
    batch = make_batch(text, vocab)
    assert batch.sentences == ["a film", "bad"]
    assert batch.notes == ["3 lines with no word in them are left out (invisible characters or markup only)."]


def test_page_refuses_an_invisible_batch_cuts_a_huge_one_and_says_when_there_is_no_padding(root):
    """Issue 29: bat_text of zero-width characters and combining marks is refused like an empty box; a
    10^6-character text put in the session before the box took 37 s (cut to the box's 600 characters now, with
    a word); one sentence (the stated minimum) has no padding, and the page says why masking changes nothing."""
    import time

    at = _page(root, bat_text="\u200b\n\u0301\u0301")
    assert any("at least one sentence" in w.value for w in at.warning)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/batches.py")
    at.session_state["bat_text"] = "word " * 200_000
    start = time.perf_counter()
    at.run()
    assert time.perf_counter() - start < 5 and not at.exception
    assert any("only the first 600 are read" in i.value for i in at.warning)   # the input guard says it, for every box
    assert len(at.session_state["bat_text"]) == 600
    at = _page(root, bat_text="a good film")
    assert any("One sentence needs no padding" in i.value for i in at.info)
