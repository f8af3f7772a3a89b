"""The teacher's settings: environment defaults, changes stored in the database and seen by every server,
checks, reset; and the Teacher page: locked without the password, and a change that reaches the next job."""
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.runtime import database as D
from rnnlab.runtime import settings as S

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A fresh, empty app data folder for each test."""
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    for name in ("RNNLAB_MAX_EPOCHS", "RNNLAB_MAX_JOB_SECONDS", "RNNLAB_MAX_PARAMS", "RNNLAB_JOB_WORKERS",
                 "RNNLAB_CLASS_CODE", "RNNLAB_TEACHER_PASSWORD", "RNNLAB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    S.invalidate()
    yield tmp_path
    S.invalidate()
    D.dispose()


def test_defaults_come_from_the_environment_and_reading_creates_nothing(data, monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_EPOCHS", "7")
    monkeypatch.setenv("RNNLAB_CLASS_CODE", "2B")
    s = S.load_settings()
    assert s.max_epochs == 7 and s.class_code == "2B" and s.max_job_seconds == 300
    assert S.stored_settings() == {} and S.explicit_workers() is None
    assert not (data / "rnnlab.sqlite3").exists()


def test_a_teachers_change_is_stored_wins_over_the_environment_and_survives_a_restart(data, monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_EPOCHS", "7")
    s = S.save_settings({"max_epochs": 3, "max_job_seconds": 60, "workers": 2, "class_code": " 2B\u200b ",
                         "imdb_path": "", "allow_imdb_download": True})
    assert (s.max_epochs, s.max_job_seconds, s.workers, s.class_code) == (3, 60.0, 2, "2B")
    assert s.imdb_path is None and s.allow_imdb_download is True
    assert s.limits().max_epochs == 3 and S.explicit_workers() == 2
    D.dispose()                      # a new server process: nothing cached
    S.invalidate()
    assert S.load_settings().max_epochs == 3
    assert S.reset_settings(["max_epochs"]).max_epochs == 7          # back to the environment's value
    assert S.load_settings().max_job_seconds == 60
    assert S.reset_settings().max_job_seconds == 300


def test_bad_values_are_refused_with_a_message(data):
    with pytest.raises(ValueError, match="between 1 and 1,000"):
        S.save_settings({"max_epochs": 0})
    with pytest.raises(ValueError, match="must be a number"):
        S.save_settings({"max_params": "lots"})
    with pytest.raises(ValueError, match="no setting"):
        S.save_settings({"admin": True})
    assert S.save_settings({"class_code": "x" * 100}).class_code == "x" * 32
    assert S.load_settings().max_epochs == 20


def test_another_server_sees_a_change_within_the_cache_time(data, monkeypatch):
    monkeypatch.setattr(S, "CACHE_SECONDS", 0.3)
    S.save_settings({"max_epochs": 4})
    assert S.load_settings().max_epochs == 4
    import sqlalchemy as sa

    other = sa.create_engine(D.database_url())          # a second app server writing the same database
    with other.begin() as conn:
        conn.execute(D.settings.update().where(D.settings.c.key == "max_epochs").values(value=9))
    other.dispose()
    assert S.load_settings().max_epochs == 4            # cached: reading is cheap on every submission
    end = time.monotonic() + 5
    while S.load_settings().max_epochs != 9:
        assert time.monotonic() < end
        time.sleep(0.05)


def test_passwords_and_the_throttle():
    assert S.password_matches("s3cret", "s3cret")
    assert not S.password_matches("s3cre", "s3cret") and not S.password_matches("", "") \
        and not S.password_matches("x", None)
    t = S.Throttle(limit=2, window=60)
    t.failed()
    assert t.blocked_for() == 0
    t.failed()
    assert 0 < t.blocked_for() <= 60


# --- the Teacher page ------------------------------------------------------------------------------------
def _teacher(secrets=None):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    at.run()
    at.switch_page("app_pages/teacher.py").run()
    assert not at.exception
    return at


def _main_inputs(at):
    """Every input widget outside the sidebar."""
    side = ({id(w) for w in at.sidebar.text_input} | {id(w) for w in at.sidebar.number_input}
            | {id(w) for w in at.sidebar.toggle})
    widgets = list(at.number_input) + list(at.text_input) + list(at.toggle) + list(at.checkbox) + list(at.radio)
    return [w for w in widgets if id(w) not in side]


def test_without_a_password_the_page_is_locked_and_says_how_to_set_one(data):
    at = _teacher()
    assert "no teacher password is set" in at.info[0].value
    assert "RNNLAB_TEACHER_PASSWORD" in at.info[0].value and "secrets.toml" in at.info[0].value
    assert _main_inputs(at) == [] and len(at.button) == 0


def test_with_a_password_students_see_only_the_password_box(data, monkeypatch):
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "open sesame")
    at = _teacher()
    assert [w.label for w in _main_inputs(at)] == ["Teacher password"]
    at.text_input(key="teacher_attempt").input("guess")
    at.button[0].click().run()
    assert "not the teacher's password" in at.error[0].value
    assert [w.label for w in _main_inputs(at)] == ["Teacher password"]        # still nothing to see or change
    assert S.stored_settings() == {}


@pytest.mark.slow
def test_a_limit_changed_by_the_teacher_applies_to_the_next_job(data):
    from app_pages import training
    from rnnlab.runtime.jobs import LocalRunner

    at = _teacher(secrets={"teacher_password": "from secrets.toml"})
    at.text_input(key="teacher_attempt").input("from secrets.toml")
    at.button[0].click().run()
    assert not at.exception and at.number_input(key="teacher_epochs").value == 20
    at.number_input(key="teacher_epochs").set_value(3)
    at.number_input(key="teacher_params").set_value(50_000)
    at.text_input(key="teacher_code").input("Class 2B")
    at.button(key="FormSubmitter:teacher_settings-Save").click().run()
    assert not at.exception and "Saved" in at.success[-1].value
    assert S.load_settings().class_code == "Class 2B"
    # the next job: the page-side check, and the limits the worker gets
    assert "limit of 3" in training.check_limits(epochs=5) and training.check_limits(epochs=3) is None
    assert "50,000" in training.check_limits(params=60_000)
    r = LocalRunner(workers=1, threads=1)
    try:
        job = r.submit("jobfns:limits", limits=training.limits())
        assert job.wait(60) and job.result["max_epochs"] == 3 and job.result["max_params"] == 50_000
    finally:
        r.shutdown()
    # unlocked for this tab only: a new session sees the password box again
    assert [w.label for w in _main_inputs(_teacher(secrets={"teacher_password": "x"}))] == ["Teacher password"]


def _unlocked(monkeypatch):
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "open sesame")
    at = _teacher()
    at.text_input(key="teacher_attempt").input("open sesame")
    at.button[0].click().run()
    assert not at.exception and at.number_input(key="teacher_epochs").value == 20
    return at


def test_an_empty_password_is_no_wrong_guess(data, monkeypatch):
    """Issue 29: pressing Unlock with an empty box counted as a wrong password towards the throttle."""
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "open sesame")
    at = _teacher()
    at.button[0].click().run()
    assert not at.exception and not at.error and "Type the teacher's password" in at.warning[0].value


def test_an_invisible_class_code_and_an_unreadable_imdb_folder_are_refused(data, monkeypatch):
    """Issue 29: a class code of zero-width characters or lone accents was saved as no class code without a word;
    an IMDB folder whose name is too long for the file system (or ~nouser/…) raised OSError on the page, and
    once saved broke every page that looks for IMDB."""
    at = _unlocked(monkeypatch)
    for code in ("\u200b\u200b", "\u0301\u0301"):
        at.text_input(key="teacher_code").input(code)
        at.button(key="FormSubmitter:teacher_settings-Save").click().run()
        assert not at.exception and "has no visible character" in at.error[0].value
        assert "Nothing was saved" in at.error[0].value and S.stored_settings() == {}
    at.text_input(key="teacher_code").input("2B")
    for folder in ("x" * 1000, "~nosuchuser29/imdb"):
        at.text_input(key="teacher_imdb").input(folder)
        at.button(key="FormSubmitter:teacher_settings-Save").click().run()
        assert not at.exception and "cannot be looked at on this server" in at.error[0].value, folder
        assert S.stored_settings() == {}
    at.text_input(key="teacher_imdb").input("")
    at.button(key="FormSubmitter:teacher_settings-Save").click().run()
    assert not at.exception and S.load_settings().class_code == "2B"


@pytest.mark.parametrize("raw", ["\u00b2", "1e999", "ten", "nan", "0", "\u2460"])
def test_a_typo_in_a_numeric_environment_variable_is_ignored_with_a_warning_naming_it(raw, data, monkeypatch,
                                                                                       capsys):
    """issue 29: RNNLAB_MAX_EPOCHS="²" (or "1e999", "ten") made env_settings call int() and raise, and every page
    with it. Each unusable value (or one outside the setting's range, as 0) is now ignored: the default applies
    and the server's log names the variable, once."""
    from rnnlab import inputs

    monkeypatch.setattr(inputs, "_warned", set())          # each value is said once per process
    names = ("RNNLAB_MAX_JOB_SECONDS", "RNNLAB_MAX_EPOCHS", "RNNLAB_MAX_PARAMS", "RNNLAB_JOB_WORKERS",
             "RNNLAB_JOBS_PER_STUDENT")
    for name in names:
        monkeypatch.setenv(name, raw)
    s = S.load_settings()
    assert (s.max_job_seconds, s.max_epochs, s.max_params, s.jobs_per_session) == (300, 20, 3_000_000, 2)
    assert s.workers >= 1 and S.explicit_workers() is None
    log = capsys.readouterr().err
    assert all(f"ignoring {name}" in log for name in names), log
    S.invalidate()
    S.load_settings()
    assert "RNNLAB_MAX_EPOCHS" not in capsys.readouterr().err          # said once, not on every load
    monkeypatch.setenv("RNNLAB_MAX_EPOCHS", "12")                     # a good value still applies
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "3")
    monkeypatch.setenv("RNNLAB_MAX_JOB_SECONDS", "90.5")
    s = S.load_settings()
    assert (s.max_epochs, s.workers, s.max_job_seconds) == (12, 3, 90.5) and S.explicit_workers() == 3
