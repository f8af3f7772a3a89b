"""The Sentiment lab through Streamlit's AppTest: what a student sees for odd reviews, explanations in
log-odds, the what-if templates, settings from the URL, the compact data, and a live training run."""
import numpy as np
import pytest
from fixtures import csv_bytes
from streamlit.testing.v1 import AppTest
from test_app_pages import figures

PAGE = "app_pages/sentiment.py"
NEGATION = "I would not say this film is bad. It is not boring at all, and the acting is not without charm."


@pytest.fixture(scope="module")
def shipped(root):
    from rnnlab.nn.models import load_text_model

    if not (root / "assets" / "sentiment" / "model.pt").exists():
        pytest.skip("no shipped model")
    return load_text_model(root / "assets" / "sentiment")


def _page(root, **query) -> AppTest:
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _tab(at: AppTest, label: str) -> AppTest:
    at.session_state["sent_tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning] + \
        [i.value for i in at.info] + [e.value for e in at.error]


def _metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def test_markdown_and_latex_characters_in_a_review_are_shown_as_typed(root, shipped):
    review = "I paid $5 and $10 for this ~~great~~ **film** with_underscores <b>bold</b> # not a heading"
    at = _page(root)
    at.text_area(key="sent_text").set_value(review).run()
    at = _tab(at, "Key words")
    assert _metrics(at)["Prediction"]
    for text in _texts(at):   # every $ and ~ that reaches markdown is escaped: no LaTeX, no strike-through
        assert text.count("$") == text.count("\\$"), text
        assert text.count("~") == text.count("\\~"), text
    caption = next(c.value for c in at.caption if c.value.startswith("Occlusion"))
    assert "Strongest: “" in caption


def test_a_review_of_unknown_words_gets_no_confident_prediction(root, shipped):
    at = _page(root)
    at.text_area(key="sent_text").set_value("Zorblaxian quindlefrump wibbertastic").run()
    assert "P(positive)" not in _metrics(at)
    warning = " ".join(w.value for w in at.warning)
    assert "No prediction" in warning and "none of which it knows" in warning and "zorblaxian" in warning
    at.text_area(key="sent_text").set_value("Zorblaxian quindlefrump wibbertastic great").run()
    assert "P(positive)" in _metrics(at)
    assert any("knows only 1 of the 4 words" in w.value for w in at.warning)


@pytest.mark.parametrize("review", ["\u200b\u200c\u200d\u2060\ufeff", "", "   <br />  ", "!!! ??? ..."])
def test_empty_and_invisible_reviews_get_a_clear_message(root, review, shipped):
    at = _page(root)
    at.text_area(key="sent_text").set_value(review).run()
    assert not at.exception
    assert "P(positive)" not in _metrics(at)
    assert any("no word to read" in w.value or "No prediction" in w.value for w in at.warning)


def test_zero_width_characters_do_not_split_words(root, shipped):
    at = _page(root)
    at.text_area(key="sent_text").set_value("A won\u200bderful, bril\u200dliant film.").run()
    plain = _metrics(at)
    at.text_area(key="sent_text").set_value("A wonderful, brilliant film.").run()
    assert _metrics(at) == plain and not at.warning


def test_a_huge_review_is_cut_on_the_server_with_a_message(root, shipped):
    at = _page(root)
    at.session_state["sent_text"] = "great " * 20_000        # 120,000 characters: past the box's limit
    at.run()
    assert any("a longer text is cut there" in w.value for w in at.warning)
    assert _metrics(at)["Prediction"].endswith("positive")


def test_importance_in_log_odds_on_a_saturated_negation(root, shipped):
    from rnnlab.labs.sentiment import importance

    at = _page(root, sent_example="Negation")
    assert at.text_area(key="sent_text").value == NEGATION
    at = _tab(at, "Key words")
    bars = next(f for f in figures(at) if f["data"][0]["type"] == "bar")
    imp = importance(shipped, NEGATION)
    assert abs(imp.logit) > 5                                  # saturated: P(positive) pinned near 0 or 1
    shown = np.array(bars["data"][0]["x"])
    assert np.abs(shown).max() > 1.0                           # yet words move the log-odds by more than 1
    np.testing.assert_allclose(sorted(np.abs(shown)), sorted(np.abs(imp.logodds))[-len(shown):], atol=1e-4)


def test_each_what_if_template(root, shipped):
    from rnnlab.labs.explain import TEMPLATES, suggest
    from rnnlab.labs.sentiment import compare

    review = "Beautiful photography and a great soundtrack, but the story is a terrible letdown."
    at = _page(root)
    at.text_area(key="sent_text").set_value(review).run()
    at = _tab(at, "What if…")
    menu = at.radio(key="sent_whatif")
    edits = suggest(review, per_kind=3)
    assert {e.kind for e in edits} == set(TEMPLATES)
    for kind in TEMPLATES:
        edit = next(e for e in edits if e.kind == kind)
        at.radio(key="sent_whatif").set_value(f"{TEMPLATES[kind]}: {edit.label}").run()
        assert at.text_area(key="sent_edit").value == edit.text
        d = compare(shipped, review, edit.text)
        m = _metrics(at)
        p = d["p_edited"]
        assert m["Edited"] == (f"{p:.1%}" if 0.001 <= p <= 0.999 else "> 99.9%" if p > 0.5 else "< 0.1%") + " positive"
        assert m["Change in log-odds"] == f"{d['d_logodds']:+.2f}"
    assert menu.options[-1].startswith("✏️")
    # typing an own edit keeps it; a new review refills the box (one box per session, not one per review)
    at.text_area(key="sent_edit").set_value("The story is a wonderful surprise.").run()
    assert at.text_area(key="sent_edit").value == "The story is a wonderful surprise."
    at.text_area(key="sent_text").set_value("It is good.").run()
    assert at.text_area(key="sent_edit").value == "It is not good."
    assert sorted(k for k in at.session_state if str(k).startswith("sent_edit")) == ["sent_edit", "sent_edit_for"]


def test_settings_come_back_from_a_link(root, shipped):
    at = _page(root, sent_example="Negation", sent_text="It is not bad at all.", sent_tab="What if…",
               sent_preset="Guide §8: Keras BiLSTM 64→32", sent_epochs_guide_keras="2", sent_subset="40",
               sent_lr_guide_keras="0.003", sent_source="Upload a CSV (text,label)")
    assert at.selectbox(key="sent_example").value == "Negation"
    assert at.text_area(key="sent_text").value == "It is not bad at all."
    assert at.session_state["sent_tab"] == "What if…" and at.radio(key="sent_whatif")
    assert at.selectbox(key="sent_preset").value == "guide_keras"
    assert at.slider(key="sent_epochs_guide_keras").value == 2
    assert at.select_slider(key="sent_lr_guide_keras").value == 0.003
    assert at.slider(key="sent_subset").value == 40
    assert at.radio(key="sent_source").value == "upload"
    at.button(key="sent_reset_page").click().run()               # and the reset puts every default back
    assert at.selectbox(key="sent_preset").value == "fast" and at.slider(key="sent_subset").value == 100
    assert at.radio(key="sent_source").value == "compact"


def test_a_students_own_edit_comes_back_from_a_link(root, shipped):
    from app_pages.sentiment import OWN_EDIT
    from rnnlab.labs.sentiment import compare

    review, own = "It is not bad at all.", "It is bad, all of it."
    at = _page(root, sent_text=review, sent_tab="What if…", sent_whatif=OWN_EDIT, sent_edit=own)
    assert at.radio(key="sent_whatif").value == OWN_EDIT
    assert at.text_area(key="sent_edit").value == own
    assert _metrics(at)["Change in log-odds"] == f"{compare(shipped, review, own)['d_logodds']:+.2f}"
    at.radio(key="sent_whatif").set_value(at.radio(key="sent_whatif").options[0]).run()
    assert at.text_area(key="sent_edit").value != own                  # a ready-made edit replaces it


def test_the_compact_subset_is_the_default_data_and_balanced(root):
    from rnnlab.data.text import load_compact_imdb

    at = _page(root)
    assert at.radio(key="sent_source").value == "compact"
    data = load_compact_imdb()
    caption = next(c.value for c in at.caption if "label-balanced" in c.value)
    assert f"{len(data['train']):,} to train on" in caption and f"{len(data['test']):,} unseen" in caption
    assert data["train"].positive_fraction == data["test"].positive_fraction == 0.5
    assert "Maas et al. 2011" in caption
    assert not [t for t in at.text_input if "folder" in t.label.lower()]    # no server path for students to type


def test_a_malformed_csv_is_refused(root):
    at = _page(root)
    at.radio(key="sent_source").set_value("upload").run()
    at.file_uploader(key="sent_upload").upload("bad.csv", b"title,score\nx,1\n", "text/csv").run()
    assert not at.exception
    assert any("'text' and a 'label'" in e.value for e in at.error)
    assert at.button(key="sent_start").disabled


def test_limits_are_checked_before_a_job_is_submitted(root, monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_PARAMS", "1000")
    at = _page(root)
    at.button(key="sent_start").click().run()
    assert any("over this class's limit" in e.value for e in at.error)
    assert "sent_job" not in at.session_state


@pytest.mark.slow
def test_pressing_train_runs_a_job_to_the_end_and_offers_the_model(root):
    from app_pages.training import wait_for
    from rnnlab.labs.sentiment import trajectory

    at = _page(root)
    at.radio(key="sent_source").set_value("upload").run()
    at.file_uploader(key="sent_upload").upload("reviews.csv", csv_bytes(800), "text/csv").run()
    at.text_input(key="sent_sizes_fast").set_value("abc").run()
    assert any("Hidden sizes" in e.value for e in at.error) and at.button(key="sent_start").disabled
    at.text_input(key="sent_sizes_fast").set_value("16").run()
    at.select_slider(key="sent_embed_fast").set_value(16).run()
    at.slider(key="sent_epochs_fast").set_value(8).run()
    assert not at.button(key="sent_start").disabled, [e.value for e in at.error]
    at.button(key="sent_start").click().run()
    assert "sent_job" in at.session_state, [e.value for e in list(at.error) + list(at.warning)]
    job = at.session_state["sent_job"]
    assert job.meta["lab"] == "sentiment" and job.meta["params"]["hidden_sizes"] == [16]
    wait_for(job, timeout=240)
    at.run()
    assert not at.exception and job.error is None, job.error
    assert job.end_state in ("finished", "early_stopped")
    assert any(s.value.startswith("**Finished.**") or s.value.startswith("**Early-stopped.**")
               for s in list(at.success) + list(at.info))
    m = _metrics(at)
    assert (float(m["Test accuracy"].rstrip("%")) > 80
            and m["Reviews read"] == f"{job.result['metrics']['reviews_seen']:,}")
    curves = next(f for f in figures(at) if f["layout"].get("annotations", [{}])[0].get("text") == "Loss")
    assert curves["data"][0]["x"][-1] == job.result["metrics"]["reviews_seen"]     # against reviews read
    assert any("weights" in c.value and "vocabulary" in c.value for c in at.caption)   # what the download holds
    at.button(key="sent_use").click().run()
    assert at.selectbox(key="sent_model").value.startswith("Trained this session")
    at.text_area(key="sent_text").set_value("superb and moving, I loved it").run()
    assert _metrics(at)["Prediction"].endswith("positive")
    tm = at.session_state["text_models"][at.selectbox(key="sent_model").value]
    tr = trajectory(tm, "superb and moving, I loved it")
    traj = next(f for f in figures(at) if f["layout"]["yaxis"].get("title", {}).get("text") == "P(positive)")
    np.testing.assert_allclose(traj["data"][0]["y"], tr.probs, atol=1e-6)


def test_the_sentiment_lab_and_inside_the_memory_show_the_same_probability(root, shipped):
    """The same model and text give the same P(positive) on both pages (both calibrated), and both say so."""
    from rnnlab.labs.memory import DEFAULT_REVIEW

    at = _page(root, sent_text=DEFAULT_REVIEW)
    assert at.text_area(key="sent_text").value == DEFAULT_REVIEW
    p_sentiment = _metrics(at)["P(positive)"]
    assert any("P(positive) is calibrated" in c.value for c in at.caption)
    at.switch_page("app_pages/memory.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area(key="mem_text").value == DEFAULT_REVIEW
    assert _metrics(at)["P(positive)"] == p_sentiment
    assert any("P(positive) is calibrated" in c.value for c in at.caption)


def test_the_lessons_measure_what_they_promise(shipped):
    """Regressions of issue #25: the training lesson no longer says clipping rescues lr = 1 (Adam), and the
    Negation lessons are measured on the page's own example."""
    from rnnlab.lessons import page_lessons
    from rnnlab.lessons.sentiment import NEGATION as MEASURED

    assert MEASURED == NEGATION
    lessons = {le.key: le for le in page_lessons("sentiment")}
    assert "clipping off" not in lessons["sentiment.diverge"].prompt
    assert "clipping is on" in lessons["sentiment.diverge"].prompt
    for key in ("sentiment.key_words", "sentiment.what_if"):
        finding = lessons[key].run()
        assert finding.holds, finding.measured


@pytest.mark.parametrize(("limits", "said"), [({"max_epochs": 1}, "Epochs: 1, the class's limit"),
                                              ({"max_job_seconds": 10}, "Time limit: 10 s, the class's limit")])
def test_the_train_panel_opens_at_the_teachers_smallest_limits(root, tmp_path, monkeypatch, limits, said):
    """Issue 29: a teacher's limit of 1 epoch or 10 s made a slider from 1 to 1 (or 10 to 10), and the page
    raised StreamlitInvalidMinMaxError; the fixed value is now said in a caption."""
    from rnnlab.runtime import settings as S

    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    S.invalidate()
    S.save_settings(limits)
    try:
        at = _page(root)
        assert not at.exception, [e.value for e in at.exception]
        assert any(said in c.value for c in at.caption), [c.value for c in at.caption]
    finally:
        S.invalidate()


def test_an_upload_too_small_to_train_on_is_refused_before_train(root):
    """Issue 29: a 2-review CSV passed the page's check (Train enabled) and the job then failed with "Too few
    training reviews"; the page now refuses it with the numbers, and the size it asks for trains."""
    from rnnlab.data.text import TextDataset
    from rnnlab.labs.sentiment import upload_too_small

    def rows(n: int) -> bytes:
        return ("text,label\n" + "".join(f'"review {i} was {"great" if i % 2 else "awful"}",{i % 2}\n'
                                         for i in range(n))).encode()

    from fixtures import open_app_page

    at = open_app_page(root, PAGE, sent_source="upload")
    at.file_uploader(key="sent_upload").upload("two.csv", rows(2), "text/csv").run()
    assert any("2 labelled rows are too few" in e.value and "at least 15 rows" in e.value for e in at.error)
    assert at.button(key="sent_start").disabled
    at.file_uploader(key="sent_upload").upload("fifteen.csv", rows(15), "text/csv").run()
    assert not at.error and not at.button(key="sent_start").disabled
    ds = TextDataset([f"r{i}" for i in range(15)], np.arange(15) % 2)
    assert all(upload_too_small(ds, seed) is None for seed in range(20))


def test_the_pretrained_models_recipe_opens_its_settings():
    """Issue 29 (found by tests/test_bad_input.py): choosing the recipe "The pretrained model's recipe" raised
    ValueError ("0.002 is not in iterable"): its learning rate was not one of the slider's steps."""
    import badinput as B

    at = B.open_page(PAGE, state={"sent_preset": "shipped"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="sent_lr_shipped").value == 0.002


@pytest.mark.parametrize("text", ["\x97\x88", "\x00\x1b", "\u200b \u0301"])
def test_control_characters_alone_are_no_review(text):
    """Issue 29: C0/C1 control characters were read as two punctuation tokens and given a prediction; the
    one readable-text rule (rnnlab.inputs.readable) makes them no review, as zero-width ones are."""
    import badinput as B

    at = B.open_page(PAGE, state={"sent_text": text})
    assert not at.exception
    assert any("no word to read" in w.value for w in at.warning), [w.value for w in at.warning]
