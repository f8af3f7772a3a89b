"""The teacher leads the class: the store of the lead and the answers (SQLite and a real PostgreSQL server),
the questions' scales, the answers' figure, and a teacher with three students in AppTest sessions: follow,
follow automatically, locks, a checkpoint answered, revealed, voted again, exported and cleared."""
import csv
import io
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.figures.classroom import answers_figure
from rnnlab.lessons import Question, find_lesson, power_label
from rnnlab.runtime import classroom as C
from rnnlab.runtime import database as D
from rnnlab.runtime import settings as S
from rnnlab.runtime.singletons import drop_singleton

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PASSWORD = "open sesame"
CHECKPOINT = "gradients.survives"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    room = C.Classroom(url)
    room.clear()
    with room.engine.begin() as conn:               # the PostgreSQL server is shared by the module's tests
        conn.execute(D.class_lead.delete())
        conn.execute(D.presence.delete())
    yield url
    C.forget_classrooms()
    D.dispose(url)


# --- the store ---------------------------------------------------------------------------------------------
def test_the_lead_is_published_only_when_it_changes_and_read_once_per_class_for_every_session(db_url):
    room = C.Classroom(db_url)
    room.set_leading("7B", True)
    assert room.publish("7B", "app_pages/gradients.py", "Gradients lab, T = 200", {"gr_T": 200}, {"gr_text": "hi"})
    assert not room.publish("7B", "app_pages/gradients.py", "Gradients lab, T = 200", {"gr_T": 200},
                            {"gr_text": ["hi"]})
    other = C.Classroom(db_url)                      # another server on the same database
    before = other.reads
    for _ in range(30):                              # thirty students polling at once
        lead = other.lead("7B")
    assert other.reads - before == 1
    assert (lead.leading, lead.page, lead.values, lead.params) == (True, "app_pages/gradients.py", {"gr_T": 200},
                                                                   {"gr_text": ["hi"]})
    assert other.lead("8A") == C.Lead(class_code="8A")           # another class sees nothing of it
    room.lock("7B", ["gr_T", "gr_T", "gr_cells"])
    assert other.lead("7B", fresh=True).locked == ("gr_T", "gr_cells")
    room.set_leading("7B", False)
    assert other.lead("7B", fresh=True).locked == ()            # stopping releases every lock


def test_answers_once_per_tab_changeable_until_the_reveal_and_a_revote_keeps_both(db_url):
    room = C.Classroom(db_url)
    assert not room.answer("7B", CHECKPOINT, 1, "s1", "", "LSTM")      # nothing open yet
    room.open_checkpoint("7B", CHECKPOINT)
    assert room.answer("7B", CHECKPOINT, 1, "s1", "Ada", "GRU")
    assert room.answer("7B", CHECKPOINT, 1, "s1", "Ada", "LSTM")       # changed: still one row
    assert room.answer("7B", CHECKPOINT, 1, "s2", "", "tanh RNN")
    assert not room.answer("7B", CHECKPOINT, 2, "s3", "", "LSTM")      # not that vote
    assert room.tally("7B", CHECKPOINT) == {1: ["LSTM", "tanh RNN"]}
    with pytest.raises(ValueError):
        room.reveal("7B")                                               # its answer is not computed yet
    room.set_answer("7B", CHECKPOINT, {"value": "LSTM", "label": "LSTM", "measured": "m"})
    room.reveal("7B")
    assert not room.answer("7B", CHECKPOINT, 1, "s1", "Ada", "GRU")     # revealed: closed
    room.revote("7B")
    assert room.answer("7B", CHECKPOINT, 2, "s1", "Ada", "LSTM")
    assert room.tally("7B", CHECKPOINT) == {1: ["LSTM", "tanh RNN"], 2: ["LSTM"]}
    assert room.my_answers("7B", CHECKPOINT, "s1") == {1: "LSTM", 2: "LSTM"}
    assert room.count("7B") == 3 and room.count("8A") == 0


def test_presence_export_with_the_formula_guard_and_clearing(db_url):
    room = C.Classroom(db_url)
    assert room.seen("7B", "s1") and not room.seen("7B", "s1")          # at most every SEEN_SECONDS
    room.seen("7B", "s2")
    room.seen("8A", "s3")
    assert room.present("7B") == 2
    room.open_checkpoint("7B", CHECKPOINT)
    room.answer("7B", CHECKPOINT, 1, "s1", "=HYPERLINK(\"x\")", "LSTM")
    room.open_checkpoint("8A", CHECKPOINT)
    room.answer("8A", CHECKPOINT, 1, "s3", "+1", "GRU")
    rows = list(csv.reader(io.StringIO(C.to_csv(room.rows()).decode())))
    assert rows[0] == list(C.FIELDS) and len(rows) == 3
    assert rows[1][4] == "'=HYPERLINK(\"x\")" and rows[2][4] == "+1"      # a formula quoted; a number kept
    assert rows[1][6].endswith("+00:00")
    assert room.clear("7B") == 1 and room.count() == 1
    assert room.clear() == 1 and room.count() == 0


# --- questions and their figure ----------------------------------------------------------------------------
def test_a_numeric_question_is_a_log_scale_and_answers_are_checked():
    q = Question("How much?", low=1e-6, high=1e2)
    assert q.options()[0] == 1e-6 and q.options()[-1] == 100.0 and len(q.options()) == 9
    assert q.bucket(3.1e-4) == "10⁻⁴" and q.bucket(0.7) == "1" and q.bucket(1e-30) == "10⁻⁶"
    assert [q.parse(x) for x in ("1e-3", "nan", "inf", "-1", "²", "1e9")] == [1e-3, None, None, None, None, None]
    assert q.distance(1e-4, 1e-2) == pytest.approx(2)
    c = Question("Which?", choices=("RNN", "LSTM"))
    assert c.parse("LSTM") == "LSTM" and c.parse("lstm") is None and c.parse(None) is None
    assert power_label(3.1e-4) == "3.1×10⁻⁴" and power_label(1e6) == "10⁶" and power_label(2.03) == "2.03"
    with pytest.raises(ValueError):
        Question("Bad?", low=10, high=1)


def test_the_answers_figure_counts_every_vote_and_marks_the_computed_answer():
    fig = answers_figure(["RNN", "LSTM", "GRU"], {1: ["LSTM", "GRU", "GRU"], 2: ["LSTM", "LSTM", "GRU"]},
                         truth="LSTM", mine="GRU")
    assert [list(t.y) for t in fig.data] == [[0, 1, 2], [0, 2, 1]]
    assert [t.name for t in fig.data] == ["First vote (3)", "After discussion (3)"]
    assert fig.layout.shapes[0].x0 == 0.5 and fig.layout.shapes[0].x1 == 1.5       # the LSTM bar, shaded
    assert "computed" in fig.layout.xaxis.ticktext[1] and "(you)" in fig.layout.xaxis.ticktext[2]
    assert not answers_figure(["a"], {1: []}).layout.shapes


# --- a teacher and three students -------------------------------------------------------------------------
@pytest.fixture
def app_db(db_url, tmp_path, monkeypatch):
    from app_pages import training

    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("RNNLAB_DATABASE_URL", db_url)
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", PASSWORD)
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "1")
    S.invalidate()
    drop_singleton("teacher-password-guard")
    drop_singleton("checkpoint-answers")             # the answer is computed by its job, not remembered
    training.reset_runner()
    yield db_url
    training.reset_runner()
    drop_singleton("teacher-password-guard")
    S.invalidate()
    C.forget_classrooms()


def _tab(page=None):
    at = AppTest.from_file(APP, default_timeout=90).run()
    if page:
        at.switch_page(page).run()
        at._page_hash = ""       # AppTest would stay on that page; the app's own switch_page must move it
    assert not at.exception, at.exception
    return at


def _teacher():
    at = _tab("app_pages/teacher.py")
    at.text_input(key="teacher_attempt").input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["teacher_ok"] and not at.exception
    return at


def _text(at) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "warning") for e in getattr(at, kind))


def test_the_teacher_leads_three_students_follow_and_locked_controls_are_disabled(app_db):
    teacher = _teacher()
    teacher.toggle(key="teacher_lead").set_value(True).run()
    teacher.switch_page("app_pages/gradients.py").run()
    teacher._page_hash = ""
    teacher.slider(key="gr_T").set_value(200).run()
    assert not teacher.exception
    students = [_tab(), _tab("app_pages/step_through.py"), _tab("app_pages/gradients.py")]
    for s in students:
        assert "The teacher is on *Gradients lab, T = 200*" in _text(s)
    a, b, c = students
    a.button(key="class_follow").click().run()                   # one click: the page and the settings
    assert a.slider(key="gr_T").value == 200 and "You are with the teacher" in _text(a)
    b.toggle(key="class_auto").set_value(True).run()             # follows by itself from now on
    assert b.slider(key="gr_T").value == 200
    b.slider(key="gr_T").set_value(50).run()                     # wanders off: allowed
    assert b.slider(key="gr_T").value == 50
    teacher.selectbox(key="gr_init").set_value("orthogonal").run()
    b.run()                                                      # its next poll: the teacher moved
    assert b.slider(key="gr_T").value == 200 and b.selectbox(key="gr_init").value == "orthogonal"
    assert c.slider(key="gr_T").value == 100                      # not following: left alone

    teacher.multiselect(key="class_lock_keys").set_value(["gr_T"]).run()
    teacher.button(key="class_lock").click().run()
    assert not teacher.exception and not teacher.slider(key="gr_T").disabled      # never the teacher's
    c.run()
    assert c.slider(key="gr_T").disabled and c.slider(key="gr_T").value == 200    # locked at the teacher's value
    assert not c.selectbox(key="gr_init").disabled and "Locked by the teacher for now: T" in _text(c)
    a.switch_page("app_pages/memory.py").run()                   # wandering off is always allowed
    assert not a.exception and "The teacher is on" in _text(a)
    teacher.button(key="class_unlock").click().run()
    c.run()
    assert not c.slider(key="gr_T").disabled
    c.slider(key="gr_T").set_value(30).run()
    assert c.slider(key="gr_T").value == 30


def _answer(s, value, nickname=None):
    if nickname is not None:
        s.text_input(key="nickname").input(nickname)
    radio = s.radio(key=f"class_answer_{s.session_state['_class_drawn'][1]}")
    radio.set_value(value)
    send = [b for b in s.button if (b.key or "").startswith("FormSubmitter:class_question_")]
    send[0].click().run()
    assert not s.exception


def _wait_for_the_answer(teacher, seconds=120):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        teacher.run()
        if not teacher.button(key="class_reveal_btn").disabled:
            return
        time.sleep(1)
    raise AssertionError("the checkpoint's answer was not computed: " + _text(teacher))


def test_a_checkpoint_is_answered_once_revealed_with_the_class_voted_again_exported_and_cleared(app_db):
    question = find_lesson(CHECKPOINT)[1].question
    teacher = _teacher()
    teacher.toggle(key="teacher_lead").set_value(True).run()
    teacher.selectbox(key="teacher_checkpoint").set_value(CHECKPOINT).run()
    teacher.button(key="teacher_ask").click().run()
    assert not teacher.exception
    students = [_tab("app_pages/gradients.py") for _ in range(3)] + [_tab("app_pages/home.py")]
    for s in students[:3]:
        assert question.text in _text(s) and any("class_question_1" in (b.key or "") for b in s.button)
        assert not any("class_tally" in str(p.proto) for p in s.get("plotly_chart"))     # no result before
    away = students[3]
    assert "The teacher asks a question on *Gradients lab*" in _text(away)
    away.button(key="class_go").click().run()
    assert away.slider(key="gr_T") is not None and question.text in _text(away)

    a, b, c = students[:3]
    _answer(a, "GRU", nickname="=cmd()")
    _answer(a, "LSTM")                                            # changed: still one answer
    _answer(b, "RNN (tanh)")
    _answer(c, "LSTM")
    assert "Sent: **LSTM**" in _text(a), _text(a)
    room = C.shared_classroom()
    assert room.tally("", CHECKPOINT) == {1: ["LSTM", "RNN (tanh)", "LSTM"]}
    teacher.run()
    assert "**3** answers" in _text(teacher)
    live = [p for p in teacher.get("plotly_chart")]
    assert live

    _wait_for_the_answer(teacher)
    teacher.button(key="class_reveal_btn").click().run()
    assert not teacher.exception
    truth = room.lead("", fresh=True).answer
    assert truth["value"] == "LSTM" and "T = 200" in truth["measured"]
    for s, mine in ((a, "✓"), (b, "✗")):
        s.run()
        s.run()                                                   # the reveal applied: the lesson's page and settings
        assert not s.exception
        text = _text(s)
        assert "Computed here, now: **LSTM**" in text and mine in text
        assert s.slider(key="gr_T").value == 200 and s.session_state["gr_tab"] == "Gradient flow"
        assert find_lesson(CHECKPOINT)[1].explain[:40] in text
    assert not room.answer("", CHECKPOINT, 1, "late", "", "GRU")

    teacher.run()
    teacher.button(key="class_revote").click().run()
    b.run()
    _answer(b, "LSTM")
    teacher.run()
    teacher.button(key="class_reveal_btn").click().run()
    b.run()
    b.run()
    figs = [p for p in b.get("plotly_chart")]
    assert any("After discussion" in str(p.proto.spec) for p in figs)
    assert room.tally("", CHECKPOINT) == {1: ["LSTM", "RNN (tanh)", "LSTM"], 2: ["LSTM"]}

    teacher.switch_page("app_pages/teacher.py").run()
    assert "4 checkpoint answers under the current class code" in _text(teacher)
    blob = teacher.get("download_button")
    assert blob
    rows = list(csv.reader(io.StringIO(C.to_csv(room.rows()).decode())))
    assert len(rows) == 5 and "'=cmd()" in [r[4] for r in rows]
    teacher.radio(key="teacher_answers_which").set_value("the current class code's answers")
    teacher.checkbox(key="teacher_answers_sure").check()
    teacher.get("form")  # the clear form
    teacher.button(key="FormSubmitter:teacher_answers_clear-Clear the answers").click().run()
    assert "Deleted 4 checkpoint answers" in _text(teacher) + " ".join(x.value for x in teacher.success)
    assert room.count() == 0


def test_a_locked_value_holds_even_if_a_client_sends_another_and_every_widget_kind_can_be_locked(app_db):
    room = C.shared_classroom()
    room.set_leading("", True)
    room.publish("", "app_pages/gradients.py", "Gradients lab, T = 200",
                 {"gr_T": 200, "gr_cells": ["LSTM"], "gr_skip": True, "gr_init": "orthogonal"}, {})
    room.lock("", ["gr_T", "gr_cells", "gr_skip", "gr_init"])
    s = _tab("app_pages/gradients.py")
    assert s.slider(key="gr_T").value == 200 and s.slider(key="gr_T").disabled
    assert s.multiselect(key="gr_cells").disabled and s.multiselect(key="gr_cells").value == ["LSTM"]
    assert s.toggle(key="gr_skip").disabled and s.selectbox(key="gr_init").disabled
    s.session_state["gr_T"] = 30            # what a client could send for the slider, disabled or not
    s.run()
    assert s.slider(key="gr_T").value == 200
    room.set_leading("", False)             # stopping releases them
    s.run()
    assert not s.slider(key="gr_T").disabled and not s.multiselect(key="gr_cells").disabled


def test_a_numeric_checkpoint_is_guessed_on_a_log_scale_and_told_how_far_off(app_db):
    key = "gradients.forget_bias"
    lesson = find_lesson(key)[1]
    room = C.shared_classroom()
    room.open_checkpoint("", key)
    s = _tab("app_pages/gradients.py")
    guess = s.select_slider(key="class_answer_1")
    assert guess.options[0] == "10⁻⁴⁰" and guess.options[-1] == "1"
    guess.set_value(1e-30)
    [b for b in s.button if (b.key or "").startswith("FormSubmitter:class_question_")][0].click().run()
    assert room.tally("", key) == {1: ["1e-30"]}
    from rnnlab.lessons import computed_answer

    answer = computed_answer(key)
    room.reveal("", answer)
    s.run()
    s.run()
    text = _text(s)
    off = abs(-30 - __import__("math").log10(answer["value"]))
    assert f"Computed here, now: **{lesson.question.label(answer['value'])}**" in text.replace("\\", "")
    assert f"{off:.1f} orders of magnitude away" in text
    assert s.slider(key="gr_T").value == 100 and s.slider(key="gr_fbias").value == 0.0    # the lesson's settings
