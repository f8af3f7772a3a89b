"""Text generation: the character data, the character model (truncated BPTT with a carried state,
evaluation, sampling), training, the live job, the unit finder, the shipped model and the page."""
import copy
import dataclasses
import json
import math
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import open_app_page
from streamlit.testing.v1 import AppTest

from rnnlab.data.chars import (
    MAX_VOCAB,
    TRAIN_FRACTION,
    UNKNOWN,
    CharVocab,
    StreamBatches,
    eval_streams,
    random_windows,
    read_user_text,
    shakespeare,
    shakespeare_text,
    split_text,
    user_corpus,
)
from rnnlab.data.text import DataError
from rnnlab.labs.textgen import (
    PRESETS,
    SHIPPED,
    CharRecipe,
    check_recipe,
    correlations,
    feature_values,
    find_units,
    fit_to_text,
    lr_schedule,
    mean_surprise,
    model_from_result,
    recipe_from,
    textgen_job,
    train_charlm,
    unit_report,
)
from rnnlab.nn.charlm import (
    CharLM,
    CharLMConfig,
    as_stored,
    charlm_params,
    count_params,
    evaluate,
    generate,
    greedy,
    int8_writer,
    load_charlm,
    pack_weights,
    sample_next,
    sampling_probs,
    save_charlm,
    tbptt_loss,
    unpack_weights,
)
from rnnlab.nn.init import seeded
from rnnlab.runtime.jobs import JobContext
from rnnlab.status import Status


def tiny(cell="LSTM", hidden=16, layers=2, vocab=12, seed=0, dropout=0.0) -> CharLM:
    return seeded(lambda: CharLM(CharLMConfig(vocab, cell, hidden, layers, 8, dropout)), seed)


# --- data ----------------------------------------------------------------------------------------------
def test_shakespeare_is_shipped_and_split_90_10():
    text = shakespeare_text()
    c = shakespeare()
    assert len(text) == 1_115_394 and len(c.vocab) == 65
    assert len(c.train) == int(len(text) * TRAIN_FRACTION) == 1_003_854 and len(c.val) == 111_540
    assert c.train_text + c.val_text == text
    assert c.vocab.decode(c.val[:40]) == text[1_003_854:1_003_894]


def test_vocab_encodes_decodes_and_caps_rare_characters():
    v = CharVocab.from_text("hello world")
    assert v.decode(v.encode("hello")) == "hello"
    assert v.unknown("hex!") == ["x", "!"]
    assert v.decode(v.encode("hex!", unknown="drop")) == "he"
    with pytest.raises(DataError, match="not in the vocabulary"):
        v.encode("x", unknown="error")
    many = "".join(chr(0x4E00 + i) * (1000 - i) for i in range(400))   # 400 distinct, by falling frequency
    capped = CharVocab.from_text(many)
    assert len(capped) == MAX_VOCAB and capped.chars[-1] == UNKNOWN
    assert chr(0x4E00) in capped.index and chr(0x4E00 + 399) not in capped.index
    assert capped.decode(capped.encode(chr(0x4E00 + 399))) == UNKNOWN


def test_user_text_is_checked_and_cleaned():
    good = ("To be, or not to be: that is the question.\r\n" * 60)
    text = read_user_text(b"\xef\xbb\xbf" + good.encode())
    assert "\r" not in text and text.startswith("To be") and len(text) == len(good) - 60
    assert read_user_text("cafe\u0301 \x00\x07ok\t\n" * 300).startswith("café ok\t\n")   # NFC, controls dropped
    with pytest.raises(DataError, match="not UTF-8"):
        read_user_text("é".encode("latin-1") * 3000)
    with pytest.raises(DataError, match="at least 2,000"):
        read_user_text("too short")
    with pytest.raises(DataError, match="limit"):
        read_user_text(b"a" * 6_000_000)
    with pytest.raises(DataError, match="limit"):
        read_user_text("a" * 3_000_000)
    corpus = user_corpus("$x$ ~~y~~ <b>" * 400)
    assert corpus.train_text + corpus.val_text == "$x$ ~~y~~ <b>" * 400
    assert len(corpus.val_text) == 520                            # the last 10% of 5,200 characters


def test_stream_batches_carry_on_where_the_last_window_ended():
    ids = torch.arange(10_000) % 97
    b = StreamBatches(ids, batch_size=4, seq_len=50, seed=3)
    x0, y0, r0 = b(0)
    x1, y1, r1 = b(1)
    assert x0.shape == y0.shape == (4, 50) and r0 and not r1
    assert torch.equal(y0[:, :-1], x0[:, 1:])                    # y is x shifted by one character
    assert torch.equal(x1[:, 0], y0[:, -1])                      # window 1 continues window 0, row by row
    stream = ids[:4 * b.stream_len].view(4, -1)
    assert all(torch.equal(x0[r], stream[r, b._offset:b._offset + 50]) for r in range(4))
    assert b(len(b))[2]                                          # a new pass starts with a reset
    assert torch.equal(StreamBatches(ids, 4, 50, seed=3)(7)[0], b(7)[0])   # the same seed, the same windows
    with pytest.raises(DataError, match="too few"):
        StreamBatches(torch.arange(100), 8, 50)


def test_random_windows_and_eval_streams():
    ids = torch.arange(1000)
    x, y = random_windows(ids, 8, 20, torch.Generator().manual_seed(0))
    assert x.shape == (8, 20) and torch.equal(y, x + 1)
    rows = eval_streams(ids, 7)
    assert rows.shape == (7, 142) and torch.equal(rows.reshape(-1), ids[:994])


# --- the model -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_parameter_count_formula(cell):
    cfg = CharLMConfig(65, cell, 48, 3, 16)
    assert charlm_params(cfg) == count_params(CharLM(cfg))


def test_truncated_bptt_keeps_the_loss_and_cuts_the_gradient():
    model = tiny()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 12, (3, 24), generator=g), torch.randint(0, 12, (3, 24), generator=g)
    grads = {}
    for k in (None, 6):
        model.zero_grad()
        loss, state = tbptt_loss(model, x, y, bptt=k)
        loss.backward()
        grads[k] = (loss.item(), model.rnn.weight_hh_l0.grad.clone())
        assert not state[0].requires_grad                     # the state handed on is cut from the graph
    assert grads[None][0] == pytest.approx(grads[6][0], abs=1e-6)     # the same forward pass
    assert not torch.allclose(grads[None][1], grads[6][1])           # a shorter backward pass


def test_evaluation_with_a_carried_state_equals_one_pass():
    model = tiny()
    ids = torch.randint(0, 12, (301,), generator=torch.Generator().manual_seed(1))
    got = evaluate(model, ids, n_streams=1, window=37)                # 300 predictions in 9 windows
    with torch.no_grad():
        logits, _ = model(ids[:-1].view(1, -1))
        ref = torch.nn.functional.cross_entropy(logits[0], ids[1:]).item()
    assert got["chars"] == 300 and got["loss"] == pytest.approx(ref, abs=1e-5)
    assert got["bpc"] == pytest.approx(ref / math.log(2), abs=1e-5)


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_dropconnect_drops_recurrent_weights_only_while_training(cell):
    """Weight drop = the plain layer run with a randomly masked W_hh (same mask at every step); gradients
    reach the raw weights; in eval mode the model is the plain one; off, training is unchanged."""
    from rnnlab.nn.charlm import dropconnect_forward

    model = seeded(lambda: CharLM(CharLMConfig(20, cell, 12, 2, 8, weight_drop=0.5)), 0).train()
    x = torch.randint(0, 20, (3, 9), generator=torch.Generator().manual_seed(1))
    e = model.embedding(x)
    with torch.random.fork_rng():
        torch.manual_seed(5)
        out, _ = dropconnect_forward(model.rnn, e, None, 0.5)
        torch.manual_seed(5)
        masked = {n: torch.nn.functional.dropout(w, 0.5) for n, w in model.rnn.named_parameters()
                  if n.startswith("weight_hh")}
    reference = seeded(lambda: CharLM(CharLMConfig(20, cell, 12, 2, 8)), 0).train()
    with torch.no_grad():
        for n, w in masked.items():
            getattr(reference.rnn, n).copy_(w)
    torch.testing.assert_close(out, reference.rnn(e)[0], atol=1e-5, rtol=1e-5)
    assert all(float((w == 0).float().mean()) > 0.3 for w in masked.values())   # about half of W_hh dropped
    out.sum().backward()
    assert model.rnn.weight_hh_l0.grad is not None and model.rnn.weight_hh_l0.grad.abs().sum() > 0
    model.eval()                                                                 # eval: all weights, no noise
    plain = seeded(lambda: CharLM(CharLMConfig(20, cell, 12, 2, 8)), 0).eval()
    torch.testing.assert_close(model(x)[0], plain(x)[0])
    model.train()
    model.config.weight_drop = 0.0
    with torch.random.fork_rng():
        torch.manual_seed(3)
        a = model(x)[0]
        torch.manual_seed(3)
        b = plain.train()(x)[0]
    torch.testing.assert_close(a, b)


def test_locked_embedding_dropout_keeps_one_mask_along_the_window():
    model = seeded(lambda: CharLM(CharLMConfig(20, "LSTM", 12, 1, 64, embed_dropout=0.5)), 0).train()
    x = torch.zeros(4, 30, dtype=torch.long)                       # the same character at every step
    seen = {}
    model.rnn.register_forward_pre_hook(lambda m, inp: seen.update(x=inp[0]) or None)
    model(x)
    e = seen["x"]                                                  # (4, 30, 64): what the recurrence reads
    assert torch.equal(e, e[:, :1].expand_as(e))                   # one mask per stream, held along the window
    zero = (e[:, 0] == 0).float().mean()
    assert 0.3 < float(zero) < 0.7 and not torch.equal(e[0, 0], e[1, 0])


def test_a_models_caption_says_how_long_and_where_it_trained():
    from rnnlab.labs.textgen import trained_how

    gpu = {"minutes": 2.4, "device": "CUDA: NVIDIA H200"}
    assert trained_how(gpu) == "2.4 minutes on CUDA: NVIDIA H200"
    assert trained_how({"minutes": 11.04, "device": "CPU (2 threads)", "init": gpu}) == \
        "2.4 minutes on CUDA: NVIDIA H200, then 11.0 minutes on CPU (2 threads)"
    assert trained_how({"minutes": 3}) == "3.0 minutes (device not recorded)"


def test_temperature_towards_zero_is_greedy_decoding():
    logits = torch.randn(50, 30, generator=torch.Generator().manual_seed(0))
    ids, probs = sample_next(logits, temperature=1e-4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(ids, logits.argmax(-1))
    assert torch.equal(sampling_probs(logits, 0.0).argmax(-1), logits.argmax(-1))
    model, vocab = tiny(vocab=12), CharVocab("abcdefghij \n")
    text = greedy(model, vocab, "abc", 40)
    assert "".join(s.char for s in generate(model, vocab, "abc", 40, temperature=1e-3, seed=5)) == text
    assert "".join(s.char for s in generate(model, vocab, "abc", 40, temperature=1e-3, seed=9)) == text


def test_top_k_never_draws_outside_the_k_likeliest():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2000, 40, generator=g)
    for k in (1, 3, 7):
        ids, probs = sample_next(logits, temperature=2.0, top_k=k, generator=g)   # hot: tails get mass
        top = logits.topk(k, dim=-1).indices
        assert (top == ids[:, None]).any(-1).all()
        assert ((probs > 0).sum(-1) == k).all() and torch.allclose(probs.sum(-1), torch.ones(2000))
    ids, _ = sample_next(logits, temperature=2.0, generator=g)
    assert not (logits.topk(3, dim=-1).indices == ids[:, None]).any(-1).all()      # without top-k it does


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_writing_step_by_step_equals_reading_the_whole_text(cell):
    """Generation feeds one character at a time through ``CharLM.step`` (the layer's step-by-step loop,
    faster than the fused kernel there): the same numbers as ``forward`` over the whole text."""
    model = tiny(cell=cell).eval()
    ids = torch.randint(0, 12, (2, 9), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        whole, _ = model(ids)
        first, state = model(ids[:, :4])
        parts = [first]
        for t in range(4, 9):
            out, state = model.step(ids[:, t:t + 1], state)
            parts.append(out)
    assert torch.allclose(torch.cat(parts, dim=1), whole, atol=1e-5)


def test_generate_reports_the_model_probability_of_each_character():
    model, vocab = tiny(vocab=12), CharVocab("abcdefghij \n")
    steps = list(generate(model, vocab, "ab", 5, temperature=0.7, top_k=4, seed=2))
    text = "ab" + "".join(s.char for s in steps)
    with torch.no_grad():
        logits, _ = model(vocab.encode(text).view(1, -1))
    for t, s in enumerate(steps):
        row = logits[0, 1 + t]
        i = vocab.index[s.char]
        assert s.p == pytest.approx(float(torch.softmax(row, -1)[i]), abs=1e-5)
        assert s.p_sampled == pytest.approx(float(sampling_probs(row, 0.7, 4)[i]), abs=1e-5)
        assert s.top[0][0] == vocab.chars[int(row.argmax())]


def _teacher_forced_kl(model, ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """KL(float32 model || int8 writer) of the next-character distribution after each of ``ids`` (1-D)."""
    writer = int8_writer(model)
    assert writer is not None
    with torch.no_grad():
        exact, _ = model(ids.view(1, -1))
        first, state = model(ids[:1].view(1, -1))
        state, fast = writer.start(state), [first[0, -1]]
        for t in range(1, len(ids)):
            logits, state = writer.step(int(ids[t]), state)
            fast.append(logits)
    lp, lq = (torch.log_softmax(x / temperature, -1) for x in (exact[0], torch.stack(fast)))
    return (lp.exp() * (lp - lq)).sum(-1)


def test_a_large_lstm_writes_through_int8_products_with_the_float_models_distributions():
    """Issue 26: a large LSTM on the CPU writes through int8 matrix products; the next-character
    distributions stay within 0.01 nats of the float32 model's, a seed writes the same text every time,
    ``fast=False`` is the float32 step, and a model whose weights change gets a new writer."""
    model, vocab = tiny(hidden=512, layers=2, vocab=12), CharVocab("abcdefghij \n")
    assert int8_writer(tiny(hidden=128)) is None and int8_writer(tiny(cell="GRU", hidden=512)) is None
    ids = torch.randint(0, 12, (400,), generator=torch.Generator().manual_seed(3))
    kl = _teacher_forced_kl(model.eval(), ids)
    assert float(kl.mean()) < 0.01, float(kl.mean())
    text = lambda **kw: "".join(s.char for s in generate(model, vocab, "abc", 60, 0.8, seed=7, **kw))  # noqa: E731
    assert text() == text() and text(fast=False) == text(fast=False)
    steps = list(generate(model, vocab, "ab", 5, temperature=0.7, top_k=4, seed=2))
    with torch.no_grad():
        logits, _ = model(vocab.encode("ab" + "".join(s.char for s in steps)).view(1, -1))
    for t, s in enumerate(steps):          # the probabilities reported are the model's, to int8 precision
        assert s.p == pytest.approx(float(torch.softmax(logits[0, 1 + t], -1)[vocab.index[s.char]]), abs=2e-3)
    before = int8_writer(model)
    assert int8_writer(model) is before
    with torch.no_grad():
        model.head.bias.add_(1.0)
    assert int8_writer(model) is not before


def test_the_shipped_model_writes_through_int8_within_001_nats_of_float32():
    """On 2,000 held-out characters of tiny-shakespeare, read in float32 and by the int8 writer: the mean KL
    divergence of the next-character distributions is under 0.01 nats at the page's temperatures."""
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    model, vocab, _ = load_charlm(SHIPPED)
    ids = vocab.encode(shakespeare().val_text[:2000], unknown="drop")
    for temperature in (1.0, 0.8):
        assert float(_teacher_forced_kl(model, ids, temperature).mean()) < 0.01


def test_saved_model_loads_back_in_float16(tmp_path):
    model, vocab = tiny(hidden=32), CharVocab("abcdefghij \n")
    save_charlm(model, vocab, tmp_path, meta={"val_loss": 1.0})
    back, vocab2, meta = load_charlm(tmp_path)
    assert vocab2 == vocab and meta == {"val_loss": 1.0}
    assert all(v.dtype == torch.float16 for v in torch.load(tmp_path / "model.pt", weights_only=True).values())
    x = vocab.encode("abc def\nghij" * 3).view(1, -1)
    with torch.no_grad():
        assert torch.allclose(model(x)[0], back(x)[0], atol=2e-2)


def test_int8_weights_round_each_row_to_127_steps_and_halve_the_file(tmp_path):
    model, vocab = tiny(hidden=64), CharVocab("abcdefghij \n")
    with torch.no_grad():
        model.rnn.weight_hh_l0[3] = 0.0                             # a row of zeros stays zeros
    packed = pack_weights(model.state_dict(), "int8")
    w = model.rnn.weight_hh_l0.detach()
    q, scale = packed["rnn.weight_hh_l0"], packed["rnn.weight_hh_l0.int8_scale"]
    assert q.dtype == torch.int8 and scale.shape == (w.shape[0], 1)
    assert q.abs().amax(dim=1)[[0, 1, 2, 4]].eq(127).all()        # each row's largest weight maps to ±127
    back = unpack_weights(packed)
    assert (back["rnn.weight_hh_l0"] - w).abs().le(scale / 2 + 1e-7).all() and back["rnn.weight_hh_l0"][3].eq(0).all()
    assert packed["rnn.bias_hh_l0"].dtype == torch.float16           # vectors stay float16
    save_charlm(model, vocab, tmp_path / "h", weights="float16")
    save_charlm(model, vocab, tmp_path / "q", weights="int8")
    assert (tmp_path / "q" / "model.pt").stat().st_size < 0.62 * (tmp_path / "h" / "model.pt").stat().st_size
    loaded = load_charlm(tmp_path / "q")[0]
    stored = as_stored(copy.deepcopy(model), "int8")
    ids = vocab.encode("abc def\nghij" * 20)
    assert evaluate(loaded, ids)["loss"] == pytest.approx(evaluate(stored, ids)["loss"], abs=1e-6)
    assert abs(evaluate(loaded, ids)["loss"] - evaluate(model, ids)["loss"]) < 1e-2
    with pytest.raises(ValueError, match="weights must be"):
        pack_weights(model.state_dict(), "int4")


def test_train_charlm_command_measures_the_weights_it_stores(tmp_path):
    text = shakespeare_text()[:20_000]
    (tmp_path / "play.txt").write_text(text, encoding="utf-8")
    cmd = [sys.executable, "-m", "rnnlab", "train-charlm", "--data", str(tmp_path / "play.txt"), "--hidden-size", "32",
           "--num-layers", "1", "--batch-size", "8", "--seq-len", "32", "--max-steps", "30", "--eval-every", "10",
           "--lr", "2e-2", "--threads", "1", "--precision", "fp32", "--skip-units", "--weights", "int8",
           "--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    model, vocab, meta = load_charlm(tmp_path / "out")
    info = json.loads((tmp_path / "out" / "config.json").read_text())
    assert info["weights"] == "int8" and meta["steps"] == 30
    assert torch.load(tmp_path / "out" / "model.pt", weights_only=True)["head.weight"].dtype == torch.int8
    got = evaluate(model, split_text(text, "play.txt", vocab=vocab).val)
    # recorded to 4 decimals; the float32 weights score about 1.5e-4 apart here, so this tells them apart
    assert got["chars"] == meta["val_chars"] and got["loss"] == pytest.approx(meta["val_loss"], abs=6e-5)


# --- training ------------------------------------------------------------------------------------------
def test_loss_falls_below_a_stated_value_in_a_few_seconds():
    """On 20,000 characters of Shakespeare a small LSTM gets under 2.3 nats per character in 150 steps
    (2.09 measured; about 2 s on a quiet core): well below the 3.3 of the character frequencies alone (a model that
    ignores context) and the ln 65 = 4.17 of a blind guess."""
    corpus = split_text(shakespeare_text()[:20_000], "small")
    freq = np.array(list(Counter(corpus.train_text).values()), float)
    unigram = float(-(freq / freq.sum() * np.log(freq / freq.sum())).sum())
    recipe = CharRecipe(hidden_size=64, embed_size=16, batch_size=16, seq_len=32, lr=2e-2, seconds=None,
                        max_steps=150, eval_every=50, eval_chars=None, sample_every=0)
    run = train_charlm(recipe, corpus, seed=0)
    assert run.history.status == Status.FINISHED and len(run.history.steps) == 150
    assert unigram > 3.2 and run.val["loss"] < 2.3, (unigram, run.val)
    assert [e["step"] for e in run.history.evals] == [50, 100, 150]
    assert run.history.evals[-1]["loss"] < run.history.evals[0]["loss"]


def test_cosine_schedule_follows_whichever_budget_ends_first():
    f = lr_schedule(CharRecipe(seconds=100.0, max_steps=1000, min_lr_frac=0.1))
    assert f(0, 0.0) == pytest.approx(1.0)
    assert f(500, 10.0) == pytest.approx(0.55)               # steps are further along: half way
    assert f(100, 50.0) == pytest.approx(0.55)               # time is further along
    assert f(5000, 500.0) == pytest.approx(0.1)
    assert lr_schedule(CharRecipe(schedule="constant")) is None


def _ctx(seconds=60.0):
    sent = []
    return JobContext(1, sent.append, None, max_seconds=seconds), sent


def test_live_job_trains_streams_samples_and_returns_a_usable_model():
    ctx, sent = _ctx(600)              # limits far away: the run ends after its 60 steps
    text = shakespeare_text()[:20_000]
    recipe = CharRecipe(hidden_size=32, batch_size=8, seq_len=32, seconds=500.0, max_steps=60, eval_every=20,
                        eval_chars=1000, sample_every=0.2, sample_length=40).to_dict()
    res = textgen_job(ctx, recipe=recipe, text=text, seed=1)
    kinds = Counter(msg.event.kind for msg in sent)
    assert kinds["step"] == 60 and kinds["eval"] == 3 and kinds["sample"] >= 1
    assert [m.event.data["name"] for m in sent if m.event.kind == "phase"] == ["loading data", "training", "evaluating"]
    sample = next(m.event for m in sent if m.event.kind == "sample")
    assert sample.step == 1 and len(sample.data["text"]) == 40
    assert res["status"] == Status.FINISHED and res["metrics"]["val_chars"] > 1900 and res["metrics"]["steps"] == 60
    assert 0 < res["metrics"]["val_loss"] < math.log(len(res["vocab"])) + 0.1
    model, vocab = model_from_result(res)
    assert vocab.decode(vocab.encode("First")) == "First"
    corpus = split_text(text, "x")
    assert evaluate(model, corpus.val)["loss"] == pytest.approx(res["metrics"]["val_loss"], abs=1e-4)
    assert res["metrics"]["precision"] == "fp32"                    # CharRecipe's default


def test_live_job_in_bf16_learns_and_reports_it():
    ctx, _ = _ctx(600)
    text = shakespeare_text()[:20_000]
    recipe = CharRecipe(hidden_size=32, batch_size=8, seq_len=32, seconds=500.0, max_steps=60, eval_every=30,
                        eval_chars=1000, sample_every=0, precision="bf16").to_dict()
    res = textgen_job(ctx, recipe=recipe, text=text, seed=1)
    assert res["status"] == Status.FINISHED and res["metrics"]["precision"] == "bf16"
    assert res["metrics"]["val_loss"] < math.log(len(res["vocab"])) - 0.5   # it learned
    assert all(v.dtype == torch.float32 for v in res["state_dict"].values())
    assert recipe_from("live").precision == "auto"                  # the page's default follows the CPU


def test_live_job_refuses_bad_settings_and_bad_text():
    with pytest.raises(ValueError, match="hidden size"):
        textgen_job(_ctx()[0], recipe=CharRecipe(hidden_size=5000).to_dict())
    with pytest.raises(ValueError, match="learning rate"):
        textgen_job(_ctx()[0], recipe=CharRecipe(lr=float("nan")).to_dict())
    with pytest.raises(ValueError, match="precision"):
        textgen_job(_ctx()[0], recipe=CharRecipe(precision="fp8").to_dict())
    with pytest.raises(DataError, match="at least"):
        textgen_job(_ctx()[0], recipe=CharRecipe().to_dict(), text="too short")
    check_recipe(recipe_from("live"))
    check_recipe(recipe_from("shipped"))


# --- interpretable units -------------------------------------------------------------------------------
def test_features_of_a_play():
    text = 'GREMIO:\nGood (morrow), "sir".'
    f = feature_values(text)
    assert list(f["position in the line"][:9]) == [1, 2, 3, 4, 5, 6, 7, 0, 1]
    assert list(f["speaker name"][:8]) == [1] * 7 + [0]
    assert f["upper case"].sum() == 7 and f["start of a word"].sum() == 4
    inside = "".join(ch for ch, v in zip(text, f["inside quotes or brackets"]) if v)
    assert inside == '(morrow)"sir"'


def test_unit_finder_finds_a_unit_planted_to_track_upper_case():
    """Unit 5 of a tanh RNN is wired to read one embedding dimension that is +3 on capitals and -3 elsewhere,
    and nothing else: h5 = tanh(±3). The finder must name it for 'upper case', with r close to 1."""
    text = shakespeare().val_text[:3000]
    vocab = CharVocab.from_text(text)
    model = seeded(lambda: CharLM(CharLMConfig(len(vocab), "RNN", 16, 1, 4)), 0)
    with torch.no_grad():
        model.embedding.weight[:, 0] = torch.tensor([3.0 if c.isupper() else -3.0 for c in vocab.chars])
        model.rnn.weight_ih_l0[5] = torch.tensor([1.0, 0, 0, 0])
        model.rnn.weight_hh_l0[5] = 0.0
        model.rnn.bias_ih_l0[5] = model.rnn.bias_hh_l0[5] = 0.0
        model.rnn.weight_ih_l0[:, 0][torch.arange(16) != 5] = 0.0     # no other unit sees that dimension
    report = unit_report(model, vocab, text, streams=4, warmup=10)
    best = next(r for r in report["rows"] if r["feature"] == "upper case")
    assert (best["signal"], best["unit"]) == ("h0", 5) and best["r"] > 0.99
    control = next(r for r in report["control"] if r["feature"] == "upper case")
    assert abs(control["r"]) < 0.9                                     # random weights find no such unit
    assert report["chars"] == 3000 - 4 * 10


def test_correlations_and_constant_features():
    sig = np.stack([np.arange(10.0), -np.arange(10.0), np.ones(10)], 1)
    r = correlations(sig, np.arange(10.0) * 2 + 1)
    assert np.allclose(r, [1, -1, 0])
    rows = find_units({"h0": sig}, "abcdefghij", top=2)
    # every other feature is constant over "abcdefghij" (all letters, no capitals, no colon, no quotes)
    assert {r["feature"] for r in rows} == {"position in the line", "start of a word"}
    assert [(r["unit"], round(r["r"], 6)) for r in rows[:2]] in ([(0, 1.0), (1, -1.0)], [(1, -1.0), (0, 1.0)])


# --- the shipped model ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_shipped_model_validation_loss_is_remeasured(shared_data):
    """The shipped model's validation loss on the last 10% of the development copy of tiny-shakespeare
    (byte-identical to the shipped one) is the one recorded beside it, and within the issue's 1.40."""
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    text = (shared_data / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    assert text == shakespeare_text()
    model, vocab, meta = load_charlm(SHIPPED)
    assert Path(SHIPPED / "model.pt").stat().st_size < 10e6
    corpus = split_text(text, "tiny-shakespeare", vocab=vocab)
    got = evaluate(model, corpus.val)
    assert got["chars"] == meta["val_chars"]
    assert got["loss"] == pytest.approx(meta["val_loss"], abs=2e-3)
    assert got["loss"] <= 1.40                                   # the target, nats per character
    units = json.loads((SHIPPED / "units.json").read_text())
    from rnnlab.labs.memory import model_digest
    assert units["digest"] == model_digest(model)


# --- the page ------------------------------------------------------------------------------------------
def _page(root, **state) -> AppTest:
    return open_app_page(root, "app_pages/textgen.py", **state)


def _html(at) -> list[str]:
    return [el.proto.body for el in at.get("html")]


def test_page_generates_greedy_text_equal_to_the_model(root):
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    at = _page(root, tg_temp=0.0, tg_len=50, tg_prompt="KING:\n")
    model, vocab, _ = load_charlm(SHIPPED)
    expected = greedy(model, vocab, "KING:\n", 50)
    steps = at.session_state["tg_generated"]["steps"]
    assert "".join(s["char"] for s in steps) == expected
    assert any("under the model" in h for h in _html(at))
    at.session_state["tg_prompt"] = "<script>alert(1)</script> $x$"
    at.run()
    assert not at.exception
    shown = [h for h in _html(at) if "under the model" in h]          # the generated text's element
    assert len(shown) == 1 and "<script>" not in shown[0] and "&lt;script&gt;alert(1)" in shown[0]


def test_page_unit_finder_uses_the_measured_report(root):
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    at = _page(root, tg_tab="Inside the model", tg_feature="position in the line")
    units = json.loads((SHIPPED / "units.json").read_text())
    best = next(r for r in units["rows"] if r["feature"] == "position in the line")
    table = at.dataframe[0].value
    first = table[table["feature"] == "position in the line"].iloc[0]
    assert first["r"] == pytest.approx(best["r"], abs=1e-3) and f"#{best['unit']}" in first["unit"]
    assert any("background" in h and "⏎" in h for h in _html(at))


def test_page_says_the_shipped_models_held_out_share_and_what_it_was_used_for(root):
    """The caption's shares come from the model's record (not a typed 90%), and it says the held-out part
    chose the checkpoint kept (its loss is measured on the text that picked the weights)."""
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    at = _page(root, tg_len=50)
    _, _, meta = load_charlm(SHIPPED)
    caption = next(c.value for c in at.caption if "tiny-shakespeare" in c.value and "units per layer" in c.value)
    share = meta["train_fraction"]
    assert f"first {share:.0%} of" in caption and f"last {1 - share:.0%}" in caption
    assert "checkpoint" in caption and f"{meta['val_loss']:.3f} nats per character" in caption


def test_lesson_measures_of_repetition_and_invented_words():
    from rnnlab.lessons.textgen import invented, repeated

    assert repeated("abcdefghij" * 3) > 0.5 and repeated("the quick brown fox jumps") == 0
    assert invented("the king") == 0 and invented("the kingz qwrtx") == pytest.approx(2 / 3)


def test_page_refuses_a_text_too_short_with_a_clear_message(root):
    at = _page(root, tg_tab="Train live", tg_data="Your own text", tg_paste="only a few words ~~x~~ $y$")
    assert any("at least 2,000" in w.value for w in at.warning)
    assert all(b.key != "tg_train" for b in at.button)            # nothing to train on: no Train button


@pytest.mark.slow
def test_page_trains_live_through_the_job_runner(root):
    at = _page(root, tg_tab="Train live", tg_hidden=32, tg_seq=32, tg_bptt=16, tg_secs=30)
    at.button(key="tg_train").click().run()
    job = at.session_state["textgen_job"]
    assert job.meta["lab"] == "textgen" and job.meta["params"]["bptt"] == 16 and job.meta["cell"] == "LSTM"
    deadline = time.monotonic() + 60          # the shortest choice is 30 s: stop once a sample and an eval came
    while not (job.of_kind("sample") and job.of_kind("eval")) and job.end_state is None and time.monotonic() < deadline:
        job.heartbeat()
        time.sleep(0.2)
    job.stop()
    assert job.wait(150) and job.end_state in ("finished", "time_limit", "stopped"), job.error
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert job.of_kind("sample") and job.of_kind("eval")
    assert 0 < job.result["metrics"]["val_loss"] < math.log(65)
    assert any(m.label == "Validation loss" for m in at.metric)
    assert any(k.startswith("Trained here") for k in at.session_state["textgen_models"])


def test_mean_surprise_is_the_mean_of_minus_log_p():
    probs = [0.5, 0.25, 1.0, 0.0]                                  # p = 0 is floored at 1e-12
    steps = [{"char": "a", "p": p} for p in probs]
    expected = (np.log(2) + np.log(4) + 0.0 + 12 * np.log(10)) / 4
    assert mean_surprise(steps) == pytest.approx(expected)
    assert mean_surprise(steps[:3]) == pytest.approx(np.log(8) / 3)
    assert mean_surprise([]) == 0.0


@pytest.mark.parametrize("raw, draw", [("²", 0), ("①", 0), ("٣", 3), ("12", 12), ("-4", 0), ("9" * 30, 0),
                                       ("nan", 0), ("1.5", 0)])
def test_a_sample_number_in_the_link_that_is_not_a_plain_number_opens_the_first_sample(root, raw, draw):
    """Issue 29: ``str.isdigit`` accepts "²" and "①", which ``int`` refuses (an uncaught ValueError on the
    Generate tab); decimal digits of any script are a number (guard.link_number), anything else, or a number
    outside 0..10⁶, opens the first sample and the page says why."""
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.query_params["tg_draw"] = raw
    at.run()
    at.switch_page("app_pages/textgen.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["tg_draw"] == draw
    refused = [w.value for w in at.warning if "sample number" in w.value]
    assert bool(refused) == (raw not in ("٣", "12")), refused


# --- issue 29: what a student types --------------------------------------------------------------------
def test_zero_width_only_own_text_is_refused_like_an_empty_one():
    """Issue 29: 2,500 zero-width spaces passed the 2,000-character minimum (a one-character alphabet, "ln 1 =
    0.00"); invisible characters are no text (rnnlab.inputs.readable) and do not count towards the minimum."""
    for invisible in ("\u200b" * 2500, "\u202e\u200e" * 1500, b"\x00" * 3000, ("\u200b" * 3000).encode()):
        with pytest.raises(DataError, match="no letters, digits or punctuation"):
            read_user_text(invisible)
    with pytest.raises(DataError, match="1,100 characters \\(invisible characters not counted\\)"):
        read_user_text("a\u200b" * 1100)


def test_own_text_at_the_stated_minimum_trains_with_the_pages_defaults():
    """Issue 29: a 2,000-character text (the stated minimum) leaves 1,800 to train on, too few for the page's
    32 streams of 128-character windows: Train failed with "too few for 32 streams". The recipe is fitted
    to the text (fewer streams; shorter windows only if one stream is still too short) and the job trains.
    The page's data layout (batch, sequence and BPTT lengths); a small model, a few steps, to stay fast."""
    text = shakespeare_text()[:2000]
    live = PRESETS["live"]
    fitted, note = fit_to_text(live, int(len(text) * TRAIN_FRACTION))
    assert fitted.batch_size < live.batch_size and fitted.seq_len == live.seq_len and "1,800 characters" in note
    assert fit_to_text(live, 1_000_000) == (live, None)
    tiny_fit, note = fit_to_text(live, 60)                          # shorter than one window: shorter windows
    assert tiny_fit.batch_size == 1 and tiny_fit.seq_len == 58 and "windows of 58" in note
    recipe = dataclasses.replace(live, hidden_size=32, max_steps=3, sample_every=0).to_dict()
    res = textgen_job(_ctx(600)[0], recipe=recipe, text=text, seed=0)
    assert res["status"] == Status.FINISHED and res["metrics"]["steps"] == 3
    assert res["recipe"]["batch_size"] == fitted.batch_size and math.isfinite(res["metrics"]["val_loss"])


def test_page_says_how_it_reads_an_own_text_at_the_minimum_and_offers_train(root):
    """Issue 29: the page adapts the streams to a short own text, says so, and keeps the Train button."""
    text = shakespeare_text()[:2000]
    at = _page(root, tg_tab="Train live", tg_data="Your own text", tg_paste=text)
    assert any("1,800 characters to train on" in i.value and "13 streams" in i.value for i in at.info)
    assert any(b.key == "tg_train" for b in at.button) and not at.button(key="tg_train").disabled


@pytest.mark.parametrize("paste, upload, message", [
    ("\u200b" * 2500, None, "no letters, digits or punctuation"),
    ("", ("empty.txt", b""), "The file is empty"),
    ("", ("bin.txt", b"\xff\xfe\x00"), "not UTF-8"),
    ("", ("latin.txt", "café naïve ".encode("latin-1") * 300), "not UTF-8"),
], ids=["zero-width-paste", "empty-upload", "binary-upload", "latin1-upload"])
def test_zero_width_binary_latin1_and_empty_own_texts_get_a_message_and_no_train_button(root, paste, upload,
                                                                                         message):
    """Issue 29: an own text that cannot be used (pasted or uploaded) is answered by a message, never trained."""
    at = _page(root, tg_tab="Train live", tg_data="Your own text", tg_paste=paste)
    if upload:
        at.file_uploader(key="tg_upload").upload(upload[0], upload[1], "text/plain").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(message in w.value.replace("\\", "") for w in at.warning), [w.value for w in at.warning]
    assert all(b.key != "tg_train" for b in at.button)


def test_a_direction_mark_in_the_prompt_does_not_reverse_the_sample(root):
    """Issue 29: a prompt with U+202E (right-to-left override) or zero-width spaces: the model skips them and
    says so; the grey prompt is shown without them (left in the page, U+202E reversed the generated text)."""
    if not (SHIPPED / "model.pt").exists():
        pytest.skip("no shipped character model")
    at = _page(root, tg_len=50, tg_prompt="\u202eKING:\u200b")
    assert not at.exception
    sample = next(h for h in _html(at) if "under the model" in h)
    assert "\u202e" not in sample and "\u200b" not in sample and "KING:" in sample
    assert any("skipped" in c.value and "u202e" in c.value for c in at.caption)
    at.session_state["tg_prompt"] = "①②"                          # readable, but nothing the model knows
    at.run()
    assert any("starts from a new line" in c.value for c in at.caption)
    for nothing in ("", "  \n", "\u200b\u200b"):                  # nothing readable: said, not just skipped
        at.session_state["tg_prompt"] = nothing
        at.run()
        assert not at.exception and any("No prompt to read" in i.value for i in at.info)


def test_inside_the_model_says_when_a_models_held_out_text_is_too_short(root):
    """Issue 29: a model trained on a short own text (200 held-out characters) was told "its held-out text is
    no longer in this session"; the page says how short it is and what length of text would do."""
    vocab = CharVocab.from_text("abc ")
    entry = {"model": tiny(vocab=len(vocab)), "vocab": vocab, "meta": {}, "val_text": "abc " * 50}
    at = _page(root, tg_tab="Inside the model", textgen_models={"Trained here: tiny": entry})
    at.selectbox(key="tg_imodel").set_value("Trained here: tiny").run()
    assert not at.exception
    assert any("has only 200 characters" in i.value and "10,000 characters" in i.value for i in at.info)
