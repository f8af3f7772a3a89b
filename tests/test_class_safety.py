"""One student cannot disrupt the class: a ``clear_cache`` message from any client leaves the job runner,
its workers and the password throttle as they were; wrong passwords from students never lock the teacher
out; a student over the per-student cap is told so on the page."""
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.runtime import database as D
from rnnlab.runtime import settings as S
from rnnlab.runtime.password_guard import PasswordGuard, shared_guard
from rnnlab.runtime.singletons import drop_singleton

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "1")
    for name in ("RNNLAB_DATABASE_URL", "RNNLAB_RAY_ADDRESS", "RNNLAB_JOBS_PER_STUDENT"):
        monkeypatch.delenv(name, raising=False)
    S.invalidate()
    drop_singleton("teacher-password-guard")
    yield tmp_path
    drop_singleton("teacher-password-guard")
    S.invalidate()
    D.dispose()


def clear_cache_message():
    """What Streamlit's server does for any client's ``BackMsg.clear_cache`` (AppSession's handler)."""
    from streamlit.runtime import caching

    caching.cache_data.clear()
    caching.cache_resource.clear()


def _teacher_tab():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/teacher.py").run()
    assert not at.exception
    return at


def _try(at, text):
    at.text_input(key="teacher_attempt").input(text)
    at.button[0].click().run()
    assert not at.exception
    return " ".join(e.value for e in at.error) + " ".join(s.value for s in at.success)


# --- the password ------------------------------------------------------------------------------------------
def test_ten_wrong_passwords_from_student_tabs_do_not_stop_the_teacher(data, monkeypatch):
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "open sesame")
    for _ in range(2):                       # two students, each guessing until blocked
        student = _teacher_tab()
        for _ in range(10):
            assert "not the teacher's password" in _try(student, "guess")
        assert "Too many wrong passwords from this device" in _try(student, "open sesame")
    teacher = _teacher_tab()
    _try(teacher, "open sesame")
    assert teacher.session_state["teacher_ok"]
    assert teacher.number_input(key="teacher_epochs").value == 20      # the settings are open


def test_students_behind_one_address_are_throttled_together_and_the_log_code_lets_the_teacher_in():
    said = []
    guard = PasswordGuard(per_client=3, window=60, server_limit=100, log=said.append)
    for _ in range(3):
        guard.failed("ip:10.0.0.9")
    assert guard.blocked_for("ip:10.0.0.9") > 0 and guard.blocked_for("ip:10.0.0.10") == 0
    assert len(said) == 1 and "one-time code" in said[0]
    code = guard.unlock_code()
    assert code in said[0] and len(code) == 11
    assert not guard.try_unlock("ip:10.0.0.9", "WRONG-CODE1")
    assert guard.try_unlock("ip:10.0.0.9", code.lower())          # typed by hand: case does not matter
    assert guard.blocked_for("ip:10.0.0.9") == 0
    assert not guard.try_unlock("ip:10.0.0.9", code)               # used up
    assert guard.unlock_code() != code and len(said) == 2           # a new one, in the log


def test_a_server_wide_ceiling_slows_guessing_from_many_machines_and_the_code_still_opens():
    guard = PasswordGuard(per_client=10, window=60, server_limit=5, log=lambda _: None)
    for k in range(5):
        guard.failed(f"ip:10.0.0.{k}")
    assert guard.blocked_for("ip:10.0.1.1") > 0
    assert guard.try_unlock("ip:10.0.1.1", guard.unlock_code())


def test_memory_for_guessers_is_bounded():
    guard = PasswordGuard(max_clients=50, log=lambda _: None)
    for k in range(500):
        guard.failed(f"session:{k}")
    assert len(guard._clients) == 50 and guard.wrong_count("session:499") == 1


def test_the_unlock_code_works_on_the_page_while_the_tab_is_blocked(data, monkeypatch):
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "open sesame")
    at = _teacher_tab()
    for _ in range(10):
        _try(at, "guess")
    assert "Too many wrong passwords" in _try(at, "open sesame")
    code = shared_guard().unlock_code()
    assert "One-time code accepted" in _try(at, code)
    _try(at, "open sesame")
    assert at.session_state["teacher_ok"]


# --- clear_cache between two trainings ------------------------------------------------------------------------
TRAINER = """
import streamlit as st

from app_pages import training

if __name__ == "__main__":   # spawn re-runs __main__ in each worker (as __mp_main__): only the real run submits
    job = training.submit("k", "jobfns:count", {"n": 2})
    training.wait_for(job, 90)
    r = training.runner()
    st.session_state["runner"] = id(r)
    st.session_state["pids"] = sorted(w.process.pid for w in r._workers)
    st.write(f"ended: {job.state}")
"""


@pytest.fixture
def app_jobs():
    """The app's job module with no runner yet; its runner is shut down afterwards."""
    from app_pages import training

    training.reset_runner()
    yield training
    training.reset_runner()


def _session(tmp_path, text):
    """A new AppTest session of the script ``text`` (each call: another browser tab), run once."""
    script = tmp_path / "script.py"
    script.write_text(text)
    return AppTest.from_file(str(script), default_timeout=120).run()


@pytest.mark.slow
def test_a_clear_cache_message_leaves_one_runner_one_worker_pool_and_the_throttle_count(data, tmp_path, app_jobs):
    first = _session(tmp_path, TRAINER)
    assert not first.exception and first.markdown[0].value == "ended: finished"
    shared_guard().failed("ip:10.1.1.1")
    shared_guard().failed("ip:10.1.1.1")
    clear_cache_message()
    second = _session(tmp_path, TRAINER)
    assert not second.exception and second.markdown[0].value == "ended: finished"
    assert second.session_state["runner"] == first.session_state["runner"]      # the same runner
    assert second.session_state["pids"] == first.session_state["pids"]          # the same worker process
    assert app_jobs.runner().workers_alive == 1
    assert shared_guard().wrong_count("ip:10.1.1.1") == 2                       # the count survived
    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == os.getpid()]
    assert sum(_is_worker(p) for p in children) == 1                             # no second pool


def _parent(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _is_worker(pid: str) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --- the cap on a page ------------------------------------------------------------------------------------------
CAPPED = """
import streamlit as st

from app_pages import training

if __name__ == "__main__":
    for key in ("a", "b", "c"):
        training.submit(key, "jobfns:phases", {"seconds": 30})
    st.write("submitted: " + ",".join(k for k in "abc" if training.current(k) is not None))
    for key in "abc":
        if training.current(key) is not None:
            training.current(key).stop()
"""


@pytest.mark.slow
def test_a_student_over_the_cap_is_told_on_the_page(data, tmp_path, monkeypatch, app_jobs):
    monkeypatch.setenv("RNNLAB_JOBS_PER_STUDENT", "2")
    at = _session(tmp_path, CAPPED)
    assert not at.exception and at.markdown[0].value == "submitted: a,b"
    assert "2 trainings running or waiting" in at.warning[0].value
    assert "limit per student" in at.warning[0].value


# --- a class opening Text generation at once ---------------------------------------------------------------------
def test_sessions_with_the_same_settings_share_one_writing_of_the_sample(data, monkeypatch):
    import streamlit as st

    from rnnlab.nn import charlm

    calls = []
    real = charlm.generate

    def counted(*args, **kwargs):
        calls.append(args[2:5])
        yield from real(*args, **kwargs)

    monkeypatch.setattr(charlm, "generate", counted)
    st.cache_data.clear()
    texts = []
    for _ in range(3):                               # three students open the page with its defaults
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page("app_pages/textgen.py").run()
        assert not at.exception
        texts.append(at.session_state["tg_generated"]["steps"])
    assert len(calls) == 1 and texts[0] == texts[1] == texts[2]
    at.button(key="tg_again").click().run()          # another sample: written anew, for this student
    assert len(calls) == 2 and at.session_state["tg_generated"]["steps"] != texts[0]
