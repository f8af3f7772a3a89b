"""The corpus search (issue #28, part 2): on small corpora and small models, the index's answers equal a brute-force
search; the stored states are the models' own; the cache is reused by digest and bounded; the meta-data tracks on
hand-made examples; and the "Search the corpus" tab of Inside the memory through AppTest."""
import gzip

import numpy as np
import pytest
import torch

from rnnlab.data.chars import CharVocab
from rnnlab.data.tokenizer import Vocabulary, tokenize
from rnnlab.labs import corpus_search as cs
from rnnlab.labs.corpus_search import index as index_mod
from rnnlab.labs.corpus_search import pos
from rnnlab.nn.charlm import CharLM, CharLMConfig, save_charlm
from rnnlab.nn.init import seeded
from rnnlab.nn.models import ClassifierConfig, SentimentClassifier, TextModel, save_text_model
from rnnlab.runtime.jobs import JobContext, JobStopped

TEXTS = ["The film was great. The acting was great too, and I loved the ending!",
         "A dull, boring film. I did not like it: the plot was thin and the acting was poor.",
         "Great music, great cast. Not a dull minute!", "It's the worst film I have seen; don't watch it.",
         "Wonderful. Simply wonderful.", "The ending was boring but the start was great."]
PLAY = ("FIRST CITIZEN:\nBefore we proceed any further, hear me speak.\n\nALL:\nSpeak, speak.\n\n"
        "FIRST CITIZEN:\nYou are all resolved rather to die than to famish?\n\nALL:\nResolved. resolved.\n\n"
        "MENENIUS:\nWhat work's, my countrymen, in hand? \"Where go you\" with bats and clubs?\n")


def tiny_text_model(bidirectional=True, cell="LSTM", seed=0) -> TextModel:
    vocab = Vocabulary().fit(TEXTS)
    config = ClassifierConfig(vocab_size=len(vocab), embed_dim=8, hidden_sizes=(6,), cell=cell,
                              bidirectional=bidirectional, pooling="maxmean")
    return TextModel("tiny", seeded(lambda: SentimentClassifier(config), seed).eval(), vocab)


def tiny_charlm(seed=0, cell="LSTM") -> tuple[CharLM, CharVocab]:
    vocab = CharVocab.from_text(PLAY + "xyz")
    config = CharLMConfig(vocab_size=len(vocab), cell=cell, hidden_size=10, num_layers=2, embed_size=6)
    return seeded(lambda: CharLM(config), seed).eval(), vocab


def ctx():
    class Flag:
        value = 0

    return JobContext(1, lambda message: None, Flag(), max_seconds=120)


@pytest.fixture
def words_index(tmp_path):
    tm = tiny_text_model()
    info = cs.build_index(tm.model, tm.vocab, cs.words_corpus(TEXTS), tmp_path / "w")
    return cs.Index(tmp_path / "w"), tm, info


@pytest.fixture
def chars_index(tmp_path):
    model, vocab = tiny_charlm()
    corpus = cs.chars_corpus(PLAY, before="xyz " * 5)
    cs.build_index(model, vocab, corpus, tmp_path / "c")
    return cs.Index(tmp_path / "c"), model, vocab


# --- the answers ----------------------------------------------------------------------------------------
def _same(a: cs.Result, b: cs.Result) -> None:
    assert [(m.start, m.end, m.hits, m.extras, m.strength) for m in a.matches] == \
        [(m.start, m.end, m.hits, m.extras, m.strength) for m in b.matches]
    assert (a.windows, a.full, a.exact) == (b.windows, b.full, b.exact)
    np.testing.assert_array_equal(a.selected, b.selected)
    np.testing.assert_array_equal(a.off, b.off)


@pytest.mark.parametrize("which", ["words", "chars"])
def test_index_answers_equal_a_brute_force_search(which, words_index, chars_index):
    index = words_index[0] if which == "words" else chars_index[0]
    rng = np.random.default_rng(1)
    asked = 0
    for _ in range(40):
        length = int(rng.integers(1, 5))
        start = int(rng.integers(0, len(index.tokens) - length))
        if index.text_end[start] < start + length:
            continue
        threshold = float(rng.choice([0.05, 0.1, 0.2, 0.3]))
        on = cs.units_on(index.acts, start, start + length, threshold)
        units = None if rng.random() < 0.5 or len(on) < 2 else tuple(int(u) for u in on[: len(on) // 2 + 1])
        q = cs.Query(start, start + length, threshold, units, k=int(rng.integers(1, 8)))
        fast, slow = cs.search(index, q), cs.brute_force(index.acts, index.bounds, q)
        _same(fast, slow)
        assert all(m.end <= q.start or m.start >= q.end for m in fast.matches)        # never the selection
        assert all(a.end <= b.start or b.end <= a.start for a in fast.matches for b in fast.matches if a is not b)
        asked += len(fast.selected) > 0
    assert asked >= 10


def test_window_and_equals_a_loop():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2 ** 63, size=(40, 3), dtype=np.uint64)
    for length in range(1, 12):
        fast = cs.window_and(bits, length)
        slow = np.array([np.bitwise_and.reduce(bits[s:s + length], axis=0) for s in range(40 - length + 1)])
        np.testing.assert_array_equal(fast, slow)


def test_the_score_ranks_the_exact_pattern_first():
    """Hand-made states: units 0 and 1 on over the selection, unit 2 off; a window with 0 and 1 on beats one
    where unit 2 is on too, which beats one with only unit 0 on."""
    acts = np.zeros((12, 3), dtype=np.int8)
    acts[0:2, :2] = 100              # the selection [0, 2): units 0, 1 on; unit 2 off
    acts[3:5, :] = 100               # all three on: one extra
    acts[6:8, 0] = 100               # only unit 0
    acts[9:11, :2] = 90              # the pattern exactly, a little weaker
    result = cs.search(None, cs.Query(0, 2, 0.5), acts=acts, bounds=np.array([0, 12]))
    assert result.selected.tolist() == [0, 1] and result.off.tolist() == [2]
    assert [m.start for m in result.matches][:3] == [9, 3, 6]
    assert [m.score(2) for m in result.matches][:3] == [1.0, 0.5, 0.5]
    assert result.matches[0].mean_activation(2) == pytest.approx(90 / 127)
    assert result.exact == 1 and result.full == 2


def test_windows_never_cross_from_one_text_into_the_next():
    acts = np.full((10, 2), 100, dtype=np.int8)
    result = cs.search(None, cs.Query(0, 3, 0.5, k=10), acts=acts, bounds=np.array([0, 4, 10]))
    assert [(m.start, m.text) for m in result.matches] == [(4, 1), (7, 1)]
    assert result.windows == 4         # text 0: both windows overlap the selection; text 1: starts 4..7


# --- the states are the models' own -----------------------------------------------------------------------
@pytest.mark.parametrize("bidirectional", [True, False])
def test_stored_states_are_the_traced_states(tmp_path, bidirectional):
    from rnnlab.labs.memory import read_text

    tm = tiny_text_model(bidirectional)
    corpus = cs.words_corpus(TEXTS)
    cs.build_index(tm.model, tm.vocab, corpus, tmp_path / "i")
    index = cs.Index(tmp_path / "i")
    for k, text in enumerate(TEXTS):
        reading = read_text(tm.model, tm.vocab, text)
        h = np.concatenate([reading.signals(0, d)["h"] for d in reading.directions(0)], axis=0).T
        a, b = index.bounds[k], index.bounds[k + 1]
        assert index.tokens[a:b] == tokenize(text)
        np.testing.assert_allclose(index.acts[a:b] / 127, h, atol=0.5 / 127 + 1e-5)


def test_character_streams_read_their_warm_up_then_their_own_characters(chars_index):
    index, model, vocab = chars_index
    before = "xyz " * 5
    full = vocab.encode(before + PLAY)
    with torch.no_grad():
        h_all, _ = model.rnn(model.embedding(full[None]))
    # the first stream reads the text right after the warm-up: exactly the model's states over it
    w = len(before)
    n = max(1, min(index_mod.STREAMS, len(PLAY) // max(w, 64)))
    length = -(-len(PLAY) // n)
    np.testing.assert_allclose(index.acts[:length] / 127, h_all[0, w:w + length].numpy(), atol=0.5 / 127 + 1e-5)
    # every later stream: the model run on its own warm-up and characters, from a zero state
    for b in range(1, n):
        piece = full[b * length: b * length + w + length]
        with torch.no_grad():
            h, _ = model.rnn(model.embedding(piece[None]))
        got = index.acts[b * length: min((b + 1) * length, len(PLAY))] / 127
        np.testing.assert_allclose(got, h[0, w:w + len(got)].numpy(), atol=0.5 / 127 + 1e-5)


def test_a_character_model_cannot_read_words(tmp_path):
    model, vocab = tiny_charlm()
    with pytest.raises(ValueError, match="reads words"):
        cs.build_index(model, vocab, cs.words_corpus(TEXTS), tmp_path / "x")


# --- the cache ------------------------------------------------------------------------------------------
def test_the_job_builds_once_per_digest_and_reuses_the_index(tmp_path):
    tm = tiny_text_model()
    save_text_model(tm, tmp_path / "model")
    spec = {"name": "words", "texts": TEXTS}
    root = tmp_path / "cache"
    first = cs.corpus_index_job(ctx(), "sentiment", str(tmp_path / "model"), spec, "tiny", str(root))
    assert first["message"].startswith("Index built") and cs.index_info(first["folder"])["tokens"] > 50
    stamp = (root / first["folder"]).joinpath("acts.npy").stat().st_mtime_ns
    again = cs.corpus_index_job(ctx(), "sentiment", str(tmp_path / "model"), spec, "tiny", str(root))
    assert again["folder"] == first["folder"] and again["message"] == "The index was already built."
    assert (root / first["folder"]).joinpath("acts.npy").stat().st_mtime_ns == stamp
    assert cs.index_path("sentiment", tmp_path / "model", spec, root) == root / first["folder"]
    with torch.no_grad():                             # another model (one weight changed): another index
        tm.model.rnns[0].weight_hh_l0[0, 0] += 0.5
    save_text_model(tm, tmp_path / "model2")
    other = cs.corpus_index_job(ctx(), "sentiment", str(tmp_path / "model2"), spec, "tiny", str(root))
    assert other["folder"] != first["folder"]
    assert sorted(p.name for p in root.iterdir()) == sorted([first["folder"].split("/")[-1],
                                                             other["folder"].split("/")[-1]])


def test_the_job_builds_a_character_index(tmp_path):
    model, vocab = tiny_charlm(cell="GRU")
    save_charlm(model, vocab, tmp_path / "char")
    spec = {"name": "chars", "text": PLAY, "before": "xyz " * 3}
    done = cs.corpus_index_job(ctx(), "charlm", str(tmp_path / "char"), spec, "tiny GRU", str(tmp_path / "cache"))
    info = cs.index_info(done["folder"])
    assert (info["kind"], info["cell"], info["units"], info["tokens"], info["warmup"]) == ("chars", "GRU", 10,
                                                                                           len(PLAY), 12)
    index = cs.Index(done["folder"])
    assert "".join(index.tokens) == PLAY and index.pieces[0][2].startswith("FIRST CITIZEN")


def test_a_stopped_build_leaves_nothing(tmp_path):
    tm = tiny_text_model()
    save_text_model(tm, tmp_path / "model")

    class Flag:
        value = 1                                      # Stop pressed before the reading

    stopped = JobContext(1, lambda m: None, Flag(), max_seconds=60)
    with pytest.raises(JobStopped):
        cs.corpus_index_job(stopped, "sentiment", str(tmp_path / "model"), {"name": "words", "texts": TEXTS}, "",
                            str(tmp_path / "cache"))
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_the_index_is_bounded_in_bytes_and_in_number(tmp_path, monkeypatch):
    tm = tiny_text_model()
    monkeypatch.setattr(index_mod, "MAX_INDEX_BYTES", 12 * 40)       # 40 tokens of 12 units
    info = cs.build_index(tm.model, tm.vocab, cs.words_corpus(TEXTS), tmp_path / "root" / "a")
    assert info["bytes"] <= 12 * 40 and info["cut_from"] > info["tokens"]
    assert cs.Index(tmp_path / "root" / "a").acts.shape == (info["tokens"], 12)
    for k in range(cs.MAX_INDEXES + 2):                                 # more indexes than the cache keeps
        cs.build_index(tm.model, tm.vocab, cs.words_corpus(TEXTS[:k + 1]), tmp_path / "root" / f"b{k}")
    kept = [p.name for p in (tmp_path / "root").iterdir()]
    assert len(kept) == cs.MAX_INDEXES and f"b{cs.MAX_INDEXES + 1}" in kept and "a" not in kept


def test_the_packed_bits_are_the_threshold_test():
    rng = np.random.default_rng(0)
    acts = rng.integers(-127, 128, size=(50, 70)).astype(np.int8)
    bits = cs.pack_bits(acts, 40, rows=16)
    unpacked = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, :70]
    np.testing.assert_array_equal(unpacked.astype(bool), acts >= 40)
    assert cs.level(0.3) == 38 and cs.level(0.0) == 1


# --- meta-data ------------------------------------------------------------------------------------------
def test_character_tracks_on_a_hand_made_play():
    text = 'ROMEO:\nSay "yes" now.\n'
    tracks = cs.tracks(cs.CHARS, list(text), None)
    assert tracks["speaker name"][:6].tolist() == [1] * 6 and tracks["speaker name"][7:].sum() == 0
    assert tracks["position in the line"][[0, 5, 6, 7, 8]].tolist() == [1, 6, 0, 1, 2]
    quoted = "".join(c for c, q in zip(text, tracks["inside quotes or brackets"]) if q)
    assert quoted == '"yes"'


def test_the_pieces_of_a_play_are_its_speeches():
    corpus = cs.chars_corpus(PLAY)
    titles = [t for _, _, t in corpus.pieces]
    assert titles[0].startswith("FIRST CITIZEN (2 lines") and titles[1].startswith("ALL (2 lines")
    a, b, _ = corpus.pieces[1]
    assert "".join(corpus.tokens[a:b]) == "ALL:\nSpeak, speak."


def test_part_of_speech_helpers():
    assert pos.pieces("didn't") == ["did", "n't"] and pos.pieces("It's") == ["It", "'s"]
    assert pos.pieces("rock'n'roll") == ["rock", "'n'roll"] and pos.pieces("film") == ["film"]
    assert [pos.penn_letter(t) for t in ("NNS", "VBD", "JJR", "WRB", "PRP$", "DT", "IN", "CD", "CC", "TO", ",",
                                          "NNP-PERS", "UH")] == list("NVJRPDAMCT.NX")
    assert pos.cased_tokens("I saw <br />Paris, didn't I?") == ["I", "saw", "Paris", ",", "didn't", "I", "?"]
    fake = {"I": "PRP", "did": "VBD", "n't": "RB", "like": "VB", "it": "PRP", "'s": "VBZ", "bad": "JJ", "'": "VBD"}
    seen = []

    def tagger(words):
        seen.append(words)
        return [fake.get(w, "NN") for w in words]

    assert pos.tag_letters(["I", "didn't", "like", "'", "it's", "bad", "!"], tagger) == "PVV.PJ."
    assert seen == [["I", "did", "n't", "like", "'", "it", "'s", "bad", "!"]]


def test_shipped_tags_line_up_with_the_reviews_or_are_refused(monkeypatch, tmp_path):
    lines = pos.shipped_lines()
    if lines is None:
        pytest.skip("no shipped tags")
    from rnnlab.data.text import load_compact_imdb

    texts = load_compact_imdb()["test"].texts
    assert len(lines) == len(texts)
    token_lists = [tokenize(t) for t in texts[:300]]
    tags = pos.imdb_tags(token_lists)
    assert tags is not None and [len(t) for t in tags] == [len(t) for t in token_lists]
    assert set("".join(tags)) <= set(pos.TAG_NAMES)
    assert pos.imdb_tags([["one", "token", "too", "many"] + token_lists[0]]) is None
    # the tags of a plain sentence of the corpus, read by eye
    k = next(i for i, t in enumerate(token_lists) if t[:3] == ["this", "movie", "is"]) if any(
        t[:3] == ["this", "movie", "is"] for t in token_lists) else None
    if k is not None:
        assert tags[k][:3] == "DNV"
    monkeypatch.setattr(pos, "ASSET", tmp_path / "none.txt.gz")
    pos.shipped_lines.cache_clear()
    try:
        assert pos.imdb_tags(token_lists) is None
    finally:
        pos.shipped_lines.cache_clear()


def test_views_summarise_and_agree(words_index, tmp_path):
    index, _, _ = words_index
    gz = {"tokens": index.tokens, "bounds": index.bounds.tolist(), "pieces": index.pieces,
          "pos": "".join("N" if t.isalpha() else "." for t in index.tokens)}
    import json

    (index.folder / "tokens.json.gz").write_bytes(gzip.compress(json.dumps(gz).encode()))
    tagged = cs.Index(index.folder)
    start = tagged.tokens.index("great")
    result = cs.search(tagged, cs.Query(start, start + 2, 0.05))
    rows = cs.match_views(tagged, result, cs.POS_TRACK)
    assert rows[0].label == "selection" and rows[0].summary == " ".join(
        "NOUN" if t.isalpha() else "." for t in tagged.tokens[start:start + 2])
    agree = cs.agreement(rows)
    assert agree == (sum(r.key == rows[0].key for r in rows[1:]), len(rows) - 1)
    assert rows[0].tokens[rows[0].span[0]:rows[0].span[1]] == tagged.tokens[start:start + 2]
    text = cs.context_text(rows[0], cs.WORDS)
    assert "[" + " ".join(tagged.tokens[start:start + 2]) + "]" in text
    assert cs.where(tagged, start, start + 2).startswith("text 1, tokens")


def test_where_and_the_default_stretch_on_characters(chars_index):
    index = chars_index[0]
    assert cs.where(index, 0, 3) == "line 1, column 1"
    second = "".join(index.tokens).index("Before")
    assert cs.where(index, second + 3, second + 5) == "line 2, column 4"
    lo, hi = cs.default_stretch(index, 0)
    assert "".join(index.tokens[lo:hi + 1]) == "FIRST CITIZEN"
    assert cs.default_piece(index) == 0
    model, vocab = chars_index[1], chars_index[2]
    cs.build_index(model, vocab, cs.chars_corpus("o.\n\n" + PLAY), index.folder.parent / "mid")
    mid = cs.Index(index.folder.parent / "mid")                      # starting inside a speech, as the corpus does
    assert cs.default_piece(mid) == 1 and mid.pieces[1][2].startswith("FIRST CITIZEN")


def test_the_figures_carry_the_rows(words_index, chars_index):
    from rnnlab.figures.corpus_search import matches_figure, units_figure
    from rnnlab.figures.fast import validated

    for index, track in ((words_index[0], None), (chars_index[0], "speaker name")):
        start = 2
        result = cs.search(index, cs.Query(start, start + 3, 0.05))
        rows = cs.match_views(index, result, track)
        fig = validated(matches_figure(rows, index.kind, track, len(result.selected)))
        assert len(fig.data) == (2 if track else 1) and len(fig.layout.shapes) == len(rows)
        assert len(fig.data[0].z) == 2 * len(rows)
        validated(units_figure(rows[1] if len(rows) > 1 else rows[0], result.selected.tolist(), index.kind))


# --- the page -------------------------------------------------------------------------------------------
def test_the_search_tab_builds_nothing_until_asked_then_searches(root, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    import app_pages.corpus as page

    tm = tiny_text_model()
    save_text_model(tm, tmp_path / "model")
    model = cs.SearchModel("Tiny model on six reviews", "sentiment", tmp_path / "model", {"name": "words",
                                                                                          "texts": TEXTS})
    monkeypatch.setattr(page, "MODELS", {"tiny": model})
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/memory.py").run()
    at.session_state["mem_tab"] = "Search the corpus"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="mem_cs_build") and any("once" in i.value for i in at.info)
    cs.corpus_index_job(ctx(), "sentiment", str(model.folder), model.corpus, model.label)   # what the button runs
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("kept on this server's disk" in c.value for c in at.caption)
    at.slider(key="mem_cs_thr").set_value(0.05).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert "Units searched for" in metrics and metrics["Search time"].endswith("ms")
    table = at.dataframe[0].value
    assert table["match"].iloc[0] == "selection" and len(table) >= 2
    at.slider(key="mem_cs_thr").set_value(0.1).run()
    assert not at.exception, [e.value for e in at.exception]
    on = [m.value for m in at.metric if m.label == "Units searched for"]
    before = int(metrics["Units searched for"].split(" of ")[1].split()[0])
    assert not on or int(on[0].split(" of ")[1].split()[0]) <= before          # a higher θ: fewer units on
