"""Architectures: the task generators and their exact limits, the seq2seq model, each architecture's
training (beats chance by a stated margin), and the page through AppTest (Train pressed on every tab)."""
import datetime as dt
import itertools

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from rnnlab.data import seqtasks
from rnnlab.figures import architectures as arch_figures
from rnnlab.labs import architectures as arch
from rnnlab.labs.shapes import ARCHITECTURES
from rnnlab.nn.seq2seq import Seq2SeqConfig, build
from rnnlab.runtime.jobs import JobContext
from rnnlab.status import Status
from rnnlab.train import History


@pytest.fixture(autouse=True)
def one_thread():
    """Train as a job worker does on 2 cores: one torch thread (two threads on a busy machine fight)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def context(max_seconds: float = 600.0):
    """A real JobContext without a worker; the events it sends are kept in ``ctx.sent``."""
    sent = []
    ctx = JobContext(0, sent.append, None, max_seconds)
    ctx.sent = sent
    return ctx


def events(ctx, kind):
    return [m.event for m in ctx.sent if m.tag == "event" and m.event.kind == kind]


# --- the tasks and their limits ---------------------------------------------------------------------------
def test_digit_images_are_seeded_and_the_best_rule_is_the_nearest_glyph():
    x1, y1 = seqtasks.digit_images(300, 0.2, 5)
    x2, y2 = seqtasks.digit_images(300, 0.2, 5)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    clean, _ = seqtasks.digit_images(10, 0.0, 0, digits=range(10))
    assert torch.equal(clean, seqtasks.GLYPHS)
    post = seqtasks.digit_posterior(x1, 0.2)
    assert torch.allclose(post.sum(1), torch.ones(300), atol=1e-5)
    # the most probable digit is the glyph with the fewest flipped pixels
    hamming = (x1[:, None, :] != seqtasks.GLYPHS[None]).sum(-1)
    credit = []
    for k in range(300):
        nearest = (hamming[k] == hamming[k].min()).nonzero().flatten().tolist()
        credit.append((y1[k].item() in nearest) / len(nearest))
    assert seqtasks.bayes_accuracy(x1, y1, 0.2) == pytest.approx(np.mean(credit), abs=1e-6)
    assert seqtasks.bayes_accuracy(*seqtasks.digit_images(500, 0.0, 1), 0.0) == 1.0
    with pytest.raises(ValueError, match="noise"):
        seqtasks.digit_images(3, 0.5, 0)


def test_number_names_have_exact_next_letter_probabilities():
    assert seqtasks.word_distribution(1) == {"one": 0.2, "un": 0.2, "eins": 0.2, "uno": 0.4}
    assert seqtasks.ideal_next_letter(1, "") == {"o": 0.2, "u": 0.6, "e": 0.2}
    assert seqtasks.ideal_next_letter(1, "un") == {"</s>": pytest.approx(1 / 3), "o": pytest.approx(2 / 3)}
    assert seqtasks.ideal_next_letter(1, "x") == {}
    for d in range(10):
        for prefix in ["", "z", "t", "s"]:
            dist = seqtasks.ideal_next_letter(d, prefix)
            assert not dist or sum(dist.values()) == pytest.approx(1.0)
    digits, x, y = seqtasks.number_word_batch(50, 3)
    for d, xi, yi in zip(digits, x, y):
        word = seqtasks.WORD_VOCAB.decode(yi)
        assert word in seqtasks.word_distribution(int(d)) and xi[0] == seqtasks.BOS
        assert seqtasks.WORD_VOCAB.decode(xi[1:]) == word


def test_parity_data_and_the_bit_parser():
    bits, lengths, y = seqtasks.parity_batch(200, 1, 12, 0)
    for b, L, p in zip(bits, lengths, y):
        assert int(b[:L].sum()) % 2 == p and (b[L:] == 0).all()
    bits, lengths, y = seqtasks.parity_test_set(12, per_length=100)
    short = [tuple(b[:3].tolist()) for b, L in zip(bits, lengths) if L == 3]
    assert sorted(short) == sorted(itertools.product([0, 1], repeat=3))      # every string of length 3
    assert (lengths == 12).sum() == 100
    assert seqtasks.parse_bits(" 10 1\n1") == [1, 0, 1, 1]
    for bad, message in (("", "Type"), ("10a1", "Only 0 and 1"), ("1" * 65, "At most 64")):
        with pytest.raises(ValueError, match=message):
            seqtasks.parse_bits(bad)


def test_question_tags_and_the_exact_limit_of_a_left_to_right_reader():
    tags, dist = seqtasks.qa_tags("ab? c. de")
    assert tags == [1, 1, 1, 0, 0, 0, seqtasks.IGNORE, seqtasks.IGNORE, seqtasks.IGNORE]
    assert dist == [2, 1, 0, 2, 1, 0, -1, -1, -1]
    # (marks + half the others) / scored: 2 marks, 4 other scored characters
    assert seqtasks.causal_ceiling(torch.tensor([tags]), torch.tensor([dist])) == pytest.approx((2 + 0.5 * 4) / 6)
    # luck: sentences of 2 and 2 characters before their marks: 1.96 * sqrt(4 + 4) / 2 / 6
    assert seqtasks.causal_band(torch.tensor([tags]), torch.tensor([dist])) == pytest.approx(1.96 * np.sqrt(8) / 2 / 6)
    ids, tags, dist = seqtasks.qa_batch(64, 48, 1)
    assert ids.shape == tags.shape == (64, 48)
    texts = [seqtasks.QA_VOCAB.decode(r) for r in ids]
    assert all(len(t) == 48 for t in texts)
    assert tags.tolist() == [seqtasks.qa_tags(t)[0] for t in texts]
    # the mark of a sentence is a fair coin: half the scored characters are questions
    _, tags, _ = seqtasks.qa_batch(2000, 48, 2)
    assert (tags[tags != seqtasks.IGNORE] == 1).float().mean() == pytest.approx(0.5, abs=0.03)
    assert seqtasks.parse_qa("  Is It?  yes. ") == "is it? yes."
    for bad, message in (("", "Type"), ("hi!", "Only letters"), ("no mark", "End at least"), ("a." * 70, "At most")):
        with pytest.raises(ValueError, match=message):
            seqtasks.parse_qa(bad)


def test_every_date_format_reads_back_to_its_date():
    for text, iso, name in seqtasks.date_pairs(400, 7):
        assert seqtasks.reference_date(text) == (iso, name) or (seqtasks.reference_date(text)[0] == iso), text
        assert len(text) <= seqtasks.DATE_MAX_CHARS and not seqtasks.DATE_VOCAB.unknown(text)
    assert seqtasks.reference_date("11/25/26") == ("2026-11-25", "11/25/26")
    assert seqtasks.reference_date("25.11.1961") == ("1961-11-25", "25.11.2026")
    assert seqtasks.reference_date("Wednesday, 25 November 2026")[0] == "2026-11-25"
    assert seqtasks.reference_date("Tuesday, 25 November 2026") is None          # wrong weekday
    assert seqtasks.reference_date("30 February 2020") is None and seqtasks.reference_date("hello") is None
    assert dt.date(2026, 11, 25).strftime("%A") == "Wednesday"            # the format names are true examples
    for bad, message in (("", "Type a date"), ("25 November 2026 and then some more", "At most"),
                         ("25/11/2026 ☃", "never saw")):
        with pytest.raises(ValueError, match=message):
            seqtasks.parse_date_input(bad)
    assert seqtasks.parse_letters(" Att ention ") == "attention"
    with pytest.raises(ValueError, match="Only the letters"):
        seqtasks.parse_letters("abc1")


# --- the seq2seq model --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell,attention", [("GRU", None), ("GRU", "luong"), ("LSTM", None), ("LSTM", "bahdanau"),
                                            ("GRU", "bahdanau"), ("LSTM", "luong")])
def test_teacher_forcing_on_the_fused_kernel_equals_the_step_by_step_decoder(cell, attention):
    model = build(Seq2SeqConfig(seqtasks.DATE_VOCAB.size, seqtasks.ISO_VOCAB.size, 8, 12, cell, attention), 3).eval()
    pairs = [p[:2] for p in seqtasks.date_pairs(5, 0)]
    src, src_len, dec_in, dec_out = seqtasks.seq2seq_batch("dates", pairs)
    with torch.no_grad():
        fused = model(src, src_len, dec_in)
        stepped = model.run(src, src_len, dec_in=dec_in)
    assert fused.shape == (5, dec_in.shape[1], seqtasks.ISO_VOCAB.size)
    torch.testing.assert_close(fused, stepped.logits, atol=1e-5, rtol=1e-5)
    if attention:
        w = stepped.attention
        assert w.shape == (5, dec_in.shape[1], src.shape[1])
        torch.testing.assert_close(w.sum(-1), torch.ones(5, dec_in.shape[1]))
        pad = torch.arange(src.shape[1])[None, :] >= src_len[:, None]
        assert (w.masked_select(pad[:, None, :].expand_as(w)) == 0).all()     # padding gets no attention
    else:
        assert stepped.attention is None


def test_encoder_reads_each_row_to_its_own_end():
    """A padded row gets the same final state and outputs as the same row alone."""
    for cell in ("GRU", "LSTM"):
        model = build(Seq2SeqConfig(seqtasks.REV_VOCAB.size, seqtasks.REV_VOCAB.size, 8, 10, cell, "luong"), 1).eval()
        pairs = [("abc", "cba"), ("abcdefgh", "hgfedcba")]
        src, src_len, dec_in, _ = seqtasks.seq2seq_batch("reverse", pairs)
        alone = seqtasks.seq2seq_batch("reverse", pairs[:1])
        with torch.no_grad():
            both = model(src, src_len, dec_in)[0, :4]
            one = model(alone[0], alone[1], alone[2])[0]
        torch.testing.assert_close(both, one, atol=1e-5, rtol=1e-5)


def test_greedy_decoding_stops_at_the_end_symbol_and_reads_a_forced_prefix():
    model = build(Seq2SeqConfig(seqtasks.REV_VOCAB.size, seqtasks.REV_VOCAB.size, 8, 16, "GRU", "luong"), 0).eval()
    src, src_len = seqtasks.REV_VOCAB.encode(["abcd"])
    with torch.no_grad():
        free = model.run(src, src_len, max_len=7)
        forced = model.run(src, src_len, max_len=7, forced=torch.tensor([[5, 6]]))
    assert free.tokens.shape[1] <= 7
    if (free.tokens[0] == seqtasks.EOS).any():
        assert free.tokens[0, -1] == seqtasks.EOS
    assert forced.tokens[0, :2].tolist() == [5, 6]


def test_seq2seq_is_built_without_the_global_generator():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    a = build(Seq2SeqConfig(10, 10, 4, 8, "GRU", "bahdanau"), 7)
    b = build(Seq2SeqConfig(10, 10, 4, 8, "GRU", "bahdanau"), 7)
    assert torch.equal(torch.random.get_rng_state(), before)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(p, q), n
    assert "decoder.weight_hh_l0" in dict(a.named_parameters())


def test_a_jobs_status_is_its_worst_trainers():
    from types import SimpleNamespace

    from rnnlab.labs.architectures.training import _status

    def trainers(**runs):
        return {name: SimpleNamespace(history=History(status=s, message=f"{s} msg")) for name, s in runs.items()}

    assert _status(trainers(one=Status.FINISHED)) == (Status.FINISHED, "finished msg")
    status, message = _status(trainers(RNN=Status.STOPPED, GRU=Status.DIVERGED))
    assert status is Status.DIVERGED and message == "RNN: stopped msg · GRU: diverged msg"
    assert _status(trainers(a=Status.EARLY_STOPPED, b=Status.TIME_LIMIT))[0] is Status.TIME_LIMIT
    assert _status(trainers(a=Status.EARLY_STOPPED, b=Status.FINISHED))[0] is Status.EARLY_STOPPED


# --- each architecture learns (fixed seed, a few seconds) ------------------------------------------------------
def test_one_to_one_beats_chance_and_stays_under_the_best_possible():
    ctx = context()
    r = arch.one_to_one_job(ctx, noise=0.15, hidden=32, steps=150, seed=0)
    m = r["metrics"]
    assert r["status"] == Status.FINISHED and r["epochs_completed"] == 1
    assert m["test_acc"] >= 0.10 + 0.70                 # chance + 70 points
    assert m["test_acc"] <= m["best_possible_acc"] + 0.02
    assert int(r["confusion"].sum()) == arch.DIGIT_TEST
    cm = r["confusion"].clone()
    worst = arch.most_confused(cm, k=2)
    cm.fill_diagonal_(-1)
    assert worst[0][2] == int(cm.max()) and cm[worst[0][0], worst[0][1]] == worst[0][2]
    assert events(ctx, "eval") and all("acc" in e.data for e in events(ctx, "eval"))
    net = arch.model_from_result("one_to_one", r)
    x, y = arch.digit_test_set(0.15)
    with torch.no_grad():
        assert float((net(x).argmax(-1) == y).float().mean()) == pytest.approx(m["test_acc"])


def test_one_to_many_writes_real_names():
    r = arch.one_to_many_job(context(), cell="GRU", hidden=64, steps=200, seed=0)
    m = r["metrics"]
    assert m["valid_words"] >= 0.6                       # a random string of letters is never a name
    assert m["nll_per_word"] >= m["entropy_per_word"] - 1e-6   # no model beats the entropy
    model = arch.model_from_result("one_to_many", r)
    greedy = arch.word_samples(model, 4, 0.0, 5, seed=1)
    assert len(set(greedy)) == 1                         # temperature 0: always the same word
    out = arch.write_word(model, 4, 1.0, seed=3)
    assert out["steps"][0]["ideal"] == seqtasks.ideal_next_letter(4, "")
    for s in out["steps"]:
        assert sum(s["probs"].values()) == pytest.approx(1.0, abs=1e-4)


def test_many_to_one_learns_parity():
    r = arch.many_to_one_job(context(), cell="GRU", hidden=32, train_len=8, steps=150, seed=0)
    m = r["metrics"]
    assert m["test_acc_trained_lengths"] >= 0.5 + 0.4    # chance + 40 points
    assert len(r["acc_by_length"]) == 24
    out = arch.read_bits(arch.model_from_result("many_to_one", r), [1, 0, 1, 1])
    assert len(out["p_odd"]) == 4 and out["truth"] == 1


def test_bidirectional_tagger_solves_what_the_unidirectional_cannot():
    r = arch.sync_job(context(), cell="GRU", hidden=24, steps=60, seed=0)
    m = r["metrics"]
    assert m["test_acc_bidirectional"] >= 0.9
    assert m["test_acc_unidirectional"] <= m["causal_ceiling"] + m["causal_band"]
    assert m["test_acc_bidirectional"] >= m["test_acc_unidirectional"] + 0.3
    uni = r["models"]["unidirectional"]["by_distance"]
    assert uni[0] >= 0.9 and max(uni[1:8]) <= 0.6       # right on the mark, a coin before it
    models = {n: arch.model_from_result("sync", r, n) for n in r["models"]}
    out = arch.tag_text(models, "is it? yes.")
    assert set(out["probs"]) == {"unidirectional", "bidirectional"} and len(out["probs"]["bidirectional"]) == 11


@pytest.mark.slow
def test_seq2seq_learns_dates_and_free_running_compounds_errors():
    r = arch.seq2seq_job(context(), task="dates", cell="GRU", hidden=64, steps=300, seed=0)
    m = r["metrics"]
    assert m["test_exact"] >= 0.5                        # a guess is never a whole date
    f = r["forcing"]
    assert len(f["teacher"]) == len(f["free"]) == 11     # 10 symbols and the end
    assert m["free_symbol_error"] >= m["teacher_symbol_error"]
    if f["after_error_count"]:
        assert f["after_error_free"] > f["after_error_teacher"]
    model = arch.model_from_result("seq2seq", r)
    demo = arch.forcing_demo(model, "dates", "Nov 25th, 2026", "2026-11-25", 3, "9")
    assert demo["forced"] == "2029" and demo["mistake"].startswith("2029")


@pytest.mark.slow
def test_attention_beats_the_fixed_context_on_the_longest_inputs():
    r = arch.attention_job(context(), task="reverse", cell="GRU", hidden=64, attention="luong", steps=200, seed=0)
    m = r["metrics"]
    assert m["longest_exact_attention"] >= m["longest_exact_no_attention"] + 0.2
    symbols = {n: p["by_length"]["symbols"][-1] for n, p in r["models"].items()}
    assert symbols["with attention"] >= symbols["without attention"] + 0.2
    model = arch.model_from_result("attention", r, "with attention")
    info = arch.translate(model, "reverse", "attention")
    w = info["attention"]
    assert w.shape == (len(info["symbols"]), 9)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)


# --- figures and the home page's table ------------------------------------------------------------------------
def test_flow_diagram_draws_the_steps_of_the_real_input():
    fig = arch_figures.flow_diagram("many_to_one", list("10110"), ["odd"], {"x": "x: 1 × 5 × 2"})
    inputs = next(t for t in fig.data if t.name == "inputs")
    assert len(inputs.x) == 5 and list(inputs.text) == list("10110")
    outputs = next(t for t in fig.data if t.name == "outputs")
    assert len(outputs.x) == 1
    assert any(a.hovertext == "x: 1 × 5 × 2" for a in fig.layout.annotations)
    long = arch_figures.flow_diagram("sync", list("a" * 30), list("." * 30), {}, bidirectional=True, max_steps=7)
    assert len(next(t for t in long.data if t.name == "inputs").x) == 6      # 3 + … + 3
    assert any(a.text == "…" for a in long.layout.annotations)
    assert any(t.name == "backward" for t in long.data)
    alpha = [0.0] * 7 + [1.0]
    s2s = arch_figures.flow_diagram("seq2seq", list("11/25/26"), list("2026-11-25") + ["</s>"], {}, attention=alpha)
    assert {t.name for t in s2s.data} >= {"encoder", "decoder"}
    arcs = [sh for sh in s2s.layout.shapes if sh.type == "path"]
    assert len(arcs) == 3 and arcs[-1].line.width > arcs[0].line.width    # boxes 1, …, 7, 8; α = 1 at the 8th


def test_the_course_table_points_to_a_live_tab_for_every_row(root):
    at = _page(root)
    table = at.dataframe[0].value
    assert list(table["Type"]) == [a.name for a in ARCHITECTURES]
    assert list(table["Tab"]) == [TABS[a.tab] for a in ARCHITECTURES]
    assert all(table["Trained live here"].str.len() > 10)


# --- the page ----------------------------------------------------------------------------------------------------
TABS = {"one_to_one": "1 → 1", "one_to_many": "1 → many", "many_to_one": "many → 1",
        "sync": "many → many, synced", "seq2seq": "Encoder–decoder", "attention": "Attention"}


def _page(root, **params) -> AppTest:
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page("app_pages/architectures.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_draws_the_student_input_in_every_tab(root):
    from tests.test_app_pages import figures

    at = _page(root, ar_tab=TABS["many_to_one"], ar_3_bits="10110")
    flow = figures(at)[0]
    assert len(next(t for t in flow["data"] if t["name"] == "inputs")["x"]) == 5
    at = _page(root, ar_tab=TABS["seq2seq"], ar_5_date="11/25/26")
    flow = figures(at)[0]
    assert len(next(t for t in flow["data"] if t["name"] == "encoder")["x"]) == 5       # 8 characters: 2 + … + 3
    for tab in TABS.values():
        at = _page(root, ar_tab=tab)
        assert figures(at), tab


@pytest.mark.parametrize("params,message", [
    ({"ar_tab": TABS["many_to_one"], "ar_3_bits": "10201"}, "Only 0 and 1"),
    ({"ar_tab": TABS["sync"], "ar_4_text": "what's this?"}, "Only letters a–z"),
    ({"ar_tab": TABS["seq2seq"], "ar_5_date": "25/11/2026 ☃"}, "never saw"),
    ({"ar_tab": TABS["attention"], "ar_6_letters": "abc$1"}, "Only the letters"),
])
def test_page_explains_bad_input(root, params, message):
    at = _page(root, **params)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.slow
@pytest.mark.parametrize("section", list(TABS))
def test_page_trains_each_architecture_through_the_job_runner(root, section):
    from app_pages import training

    at = _page(root, ar_tab=TABS[section], **{f"ar_{section}_steps": "100"})
    at.button(key=f"ar_{section}_train").click().run()
    job = at.session_state[f"job_arch_{section}"]
    assert job.meta["lab"] == "architectures" and job.meta["total_steps"] == 100
    assert job.meta["params"]["steps"] == 100 and "seed" in job.meta["params"]
    training.wait_for(job, 300)
    assert job.end_state == "finished", (job.end_state, job.error)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    res = job.result
    shown = {m.label: m.value for m in at.metric}
    if section == "one_to_one":
        assert shown["Test accuracy"] == f"{res['metrics']['test_acc']:.1%}"
    elif section == "one_to_many":
        assert shown["Real names at temperature 1"] == f"{res['metrics']['valid_words']:.1%}"
    elif section == "many_to_one":
        assert shown["Test, lengths 1–10"] == f"{res['metrics']['test_acc_trained_lengths']:.1%}"
    elif section == "sync":
        assert shown["Bidirectional, test"] == f"{res['metrics']['test_acc_bidirectional']:.1%}"
        assert shown["Its limit"] == f"{res['metrics']['causal_ceiling']:.1%}"
    elif section == "seq2seq":
        assert shown["Test dates right"] == f"{res['metrics']['test_exact']:.1%}"
        assert any("Teacher forcing vs free running" in s.value for s in at.subheader)
    else:
        assert any("Measured" in m.value for m in at.markdown)
    from tests.test_app_pages import figures

    assert len(figures(at)) >= 3


# --- a real browser at the three classroom sizes ----------------------------------------------------------------
def _fits(page, where: str) -> None:
    from bench.appserver import cut_labels, horizontal_overflow

    assert page.locator('[data-testid="stException"]').count() == 0, where
    assert horizontal_overflow(page) <= 0, f"{where}: the page scrolls sideways"
    assert cut_labels(page) == [], where


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("size", ["laptop", "projector", "phone"])
def test_every_tab_fits_every_size_in_a_browser(app, size):
    from bench.appserver import SIZES, wait_for_app, wait_idle

    url, chromium = app
    page = chromium.new_page(viewport=SIZES[size])
    try:
        page.goto(f"{url}/architectures", wait_until="domcontentloaded")
        wait_for_app(page)
        for tab in TABS.values():
            page.get_by_role("tab", name=tab, exact=True).click()
            page.get_by_role("tab", name=tab, exact=True, selected=True).wait_for(timeout=30_000)
            wait_idle(page)
            _fits(page, f"{tab} at {size}")
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_link_restores_the_tab_and_the_input_and_a_trained_view_fits_a_phone(app):
    from urllib.parse import urlencode

    from bench.appserver import SIZES, wait_for_app, wait_idle

    url, chromium = app
    query = urlencode({"ar_tab": TABS["many_to_one"], "ar_3_bits": "10110", "ar_many_to_one_steps": 100})
    page = chromium.new_page(viewport=SIZES["phone"])
    try:
        page.goto(f"{url}/architectures?{query}", wait_until="domcontentloaded")
        wait_for_app(page)
        page.get_by_role("tab", name=TABS["many_to_one"], exact=True, selected=True).wait_for(timeout=30_000)
        assert page.get_by_label("Your bit string", exact=True).input_value() == "10110"
        page.get_by_role("button", name="▶ Train").click()
        page.get_by_text("Trained (").first.wait_for(timeout=300_000)
        wait_idle(page, 120_000)
        assert page.get_by_text("Your string:").count() == 1
        _fits(page, "many → 1 trained, phone")
    finally:
        page.close()


def test_total_params_adds_every_model_s_weights():
    models = {"a": torch.nn.Linear(3, 4), "b": torch.nn.GRU(2, 5), "c": torch.nn.Embedding(7, 2)}
    expected = (3 * 4 + 4) + 3 * (5 * 2 + 5 * 5 + 5 + 5) + 7 * 2
    assert arch.total_params(models.values()) == expected == 16 + 135 + 14
    assert arch.total_params([]) == 0


# --- statements the page makes (issue #25's read of every sentence) -----------------------------------------------
def test_many_to_one_says_what_each_model_reads(root):
    """The parity net answers from its last state; the Sentiment lab's models pool every step's output (the page
    said both read only the last state)."""
    from rnnlab.labs.sentiment.recipes import PRESETS, Recipe

    at = _page(root, ar_tab=TABS["many_to_one"])
    text = " ".join(m.value for m in at.markdown)
    assert "last hidden state only" in text and "max and mean" in text and "as for the course's" not in text
    assert Recipe().pooling == PRESETS["shipped"].pooling == "maxmean"
    model = arch.build_model("many_to_one", {"cell": "GRU", "hidden": 8}, 0)
    bits = torch.tensor([[1, 0, 1, 1, 0]])
    with torch.no_grad():
        torch.testing.assert_close(model(bits, torch.tensor([5])), model.running(bits)[:, -1])


def test_the_numbers_in_the_first_tab_are_computed(root):
    at = _page(root)
    captions = " ".join(c.value for c in at.caption)
    assert f"scored on the {arch.DIGIT_TEST:,} test images" in captions
    assert f"({seqtasks.PIXELS} pixels in a row)" in captions
    assert at.slider(key="ar_1_noise").help.startswith(f"Each of the {seqtasks.PIXELS} pixels")
    assert arch.glyph_distance(3, 3) == 0
    apart = int((seqtasks.GLYPHS[3] != seqtasks.GLYPHS[8]).sum())
    assert arch.glyph_distance(3, 8) == arch.glyph_distance(8, 3) == apart > 0


def test_the_seq2seq_tabs_quote_their_test_set_and_formats(root):
    at = _page(root, ar_tab=TABS["seq2seq"])
    text = " ".join(m.value for m in at.markdown)
    assert f"in one of {len(seqtasks.DATE_FORMATS)} ways" in text and "read again at every output step" in text
    at = _page(root, ar_tab=TABS["attention"])
    text = " ".join(m.value for m in at.markdown)
    assert f"({seqtasks.REV_MIN} to {seqtasks.REV_MAX})" in text


@pytest.mark.parametrize("key,tab,message", [
    ("ar_3_bits", "many_to_one", "Type a string of 0s and 1s"),
    ("ar_4_text", "sync", "Type a few short sentences"),
    ("ar_5_date", "seq2seq", "Type a date"),
    ("ar_6_letters", "attention", "Type a few letters"),
])
def test_zero_width_only_text_is_refused_like_an_empty_box(root, key, tab, message):
    """Issue 29: a box of invisible characters (zero-width space, a lone combining mark) was refused as an
    unknown character ("found '\\u200b'") here and as empty text elsewhere; every box now follows
    rnnlab.inputs.readable and answers it as the empty box."""
    at = _page(root, ar_tab=TABS[tab], **{key: "\u200b\u0301"})
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert not any("found" in e.value for e in at.error)
