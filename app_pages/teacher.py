"""Teacher: the class's settings behind a password (limits of one training, trainings at once, IMDB,
the class code) and the class board's export and clearing. Students see only the password box."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from app_pages import training
from app_pages.common import escape_md, next_page, tips
from app_pages.lead import clear_form, lead_section
from rnnlab.data.text import IMDB_SIZE_MB
from rnnlab.inputs import readable, shown
from rnnlab.runtime.board import shared_board, to_csv
from rnnlab.runtime.database import database_url, describe_url
from rnnlab.runtime.jobs import cpu_count
from rnnlab.runtime.password_guard import shared_guard  # per client, and no client can reset it
from rnnlab.runtime.settings import (
    BOUNDS,
    env_settings,
    load_settings,
    password_matches,
    reset_settings,
    save_settings,
    stored_settings,
)


def client_key() -> str:
    """Who is guessing: the connection's IP address, or this session where Streamlit does not know it
    (a browser on the server machine itself)."""
    try:
        ip = st.context.ip_address
    except Exception:
        ip = None
    return f"ip:{ip}" if isinstance(ip, str) and ip else f"session:{training.session_id()}"


def teacher_password() -> str | None:
    """``RNNLAB_TEACHER_PASSWORD``, else ``teacher_password`` in .streamlit/secrets.toml."""
    password = os.environ.get("RNNLAB_TEACHER_PASSWORD")
    if password:
        return password
    try:
        value = st.secrets.get("teacher_password")
    except Exception:
        return None
    return str(value) if value else None


def check(attempt: str, password: str) -> None:
    """One try at the password box: the unlock code from the server's log, the password, or a wrong guess."""
    client, exempt = client_key(), st.session_state.get("teacher_exempt", False)
    if shared_guard().try_unlock(client, attempt):
        st.session_state["teacher_exempt"] = True
        st.success("One-time code accepted: this tab is no longer throttled. Now type the teacher's password.")
        return
    wait = 0.0 if exempt else shared_guard().blocked_for(client)
    if wait > 0:
        st.error(f"Too many wrong passwords from this device: try again in {wait:.0f} s. Teacher: the server's "
                 "log (the terminal that runs the app) shows a one-time code that lets you in at once: type it here.")
    elif password_matches(attempt, password):
        st.session_state["teacher_ok"] = True
        st.rerun()
    else:
        shared_guard().failed(client)
        st.error("That is not the teacher's password.")


def login(password: str) -> bool:
    if st.session_state.get("teacher_ok"):
        return True
    with st.form("teacher_login", clear_on_submit=True):
        attempt = st.text_input("Teacher password", type="password", key="teacher_attempt", max_chars=200)
        submitted = st.form_submit_button("Unlock")
    if submitted and not attempt:
        st.warning("Type the teacher's password, then press Unlock.")     # not a wrong guess: nothing counted
    elif submitted:
        check(attempt, password)
    st.caption("This page is for the teacher. Students: nothing here changes what you can do in the labs.")
    return False


def unlocked() -> bool:
    """Is this tab the teacher's? Without a password on the server the page says how to set one; with one,
    it asks for it."""
    password = teacher_password()
    if not password:
        st.info("**These settings are locked: no teacher password is set on this server.**\n\n"
                "To set one, start the app with an environment variable:\n\n"
                "```bash\nRNNLAB_TEACHER_PASSWORD='choose-a-long-one' streamlit run app.py\n```\n\n"
                "or put `teacher_password = \"choose-a-long-one\"` in `.streamlit/secrets.toml` beside app.py. "
                "Until then the class's limits come from environment variables (see the README's "
                "*Classroom set-up*).")
        return False
    return login(password)


def unlocked_header() -> None:
    """That the page is unlocked, and the Lock button."""
    c1, c2 = st.columns([3, 1])
    c1.success("Unlocked for this browser tab. Changes apply to the next training anyone starts, on every app "
               "server sharing this database.")
    if c2.button("Lock this page", key="teacher_lock", width="stretch"):
        st.session_state.pop("teacher_ok", None)
        st.rerun()


def running_tips() -> None:
    """How to run the class, one click away under the settings."""
    tips(f"<b>Trainings at once</b>: this server has {cpu_count()} cores; one training per 2 cores keeps every "
           "student's page answering in under a second while the class trains. The others queue, and their pages "
           "show their place and the wait.",
           "Before a lab where all 30 students train, lower the <b>time limit</b>: 30 jobs × the limit ÷ trainings "
           "at once is about the longest the last student waits.",
           "A new <b>class code</b> starts a fresh board for the next class; the old runs stay in the database and "
           "in the export.", title="Running the class")


def settings_section(settings) -> None:
    """The class's settings in one form (each label says when it differs from the server's default), the
    IMDB folder's check, and the way back to the defaults."""
    stored = stored_settings()
    defaults = env_settings()

    def _changed(name: str) -> str:
        return " (changed)" if name in stored else ""

    with st.form("teacher_settings"):
        st.subheader("One training")
        c1, c2, c3 = st.columns(3)
        seconds = c1.number_input("Time limit (s)" + _changed("max_job_seconds"),
                                  *map(float, BOUNDS["max_job_seconds"]), value=float(settings.max_job_seconds),
                                  step=30.0, format="%.0f", key="teacher_seconds",
                                  help="The whole job's wall time: loading data, training and evaluating.")
        epochs = c2.number_input("Most epochs" + _changed("max_epochs"), *map(int, BOUNDS["max_epochs"]),
                                 value=int(settings.max_epochs), step=1, key="teacher_epochs")
        params = c3.number_input("Most weights in a model" + _changed("max_params"), *map(int, BOUNDS["max_params"]),
                                 value=int(settings.max_params), step=100_000, key="teacher_params")
        st.subheader("The server")
        c1, c2, c3 = st.columns(3, vertical_alignment="bottom")   # the toggle level with the number boxes
        per_student = c3.number_input("Trainings per student" + _changed("jobs_per_session"),
                                      *map(int, BOUNDS["jobs_per_session"]), value=int(settings.jobs_per_session),
                                      step=1, key="teacher_per_student",
                                      help="Running or waiting at once, per browser tab. The queue serves students "
                                           "in turn, so one student's extra trainings wait behind everyone's first.")
        workers = c1.number_input("Trainings at once" + _changed("workers"), *map(int, BOUNDS["workers"]),
                                  value=int(settings.workers), step=1, key="teacher_workers",
                                  help=f"This server has {cpu_count()} CPU cores. Each training gets its own "
                                       "process (or a Ray worker); the others wait in a queue. One per 2 cores "
                                       "keeps the pages fast while the class trains.")
        download = c2.toggle(f"Students may start the IMDB download ({IMDB_SIZE_MB} MB)"
                             + _changed("allow_imdb_download"), value=settings.allow_imdb_download,
                             key="teacher_download")
        imdb = st.text_input("IMDB folder on the server (aclImdb/ or imdb_train/test.csv.gz)" + _changed("imdb_path"),
                             value=settings.imdb_path or "", key="teacher_imdb", max_chars=1000,
                             help="A path on this server; students never see it, only whether the full IMDB is "
                                  "there.")
        code = st.text_input("Class code shown on the class board" + _changed("class_code"),
                             value=settings.class_code, key="teacher_code", max_chars=32,
                             help="New runs are recorded under this code and the board shows this code's runs: a "
                                  "new code starts a fresh board without deleting the old one.")
        saved = st.form_submit_button("Save", type="primary")

    problem = text_problem(imdb.strip(), code)
    if problem:
        st.error(problem + (" Nothing was saved." if saved else ""))
    elif saved:
        save({"max_job_seconds": seconds, "max_epochs": epochs, "max_params": params, "workers": workers,
              "jobs_per_session": per_student, "allow_imdb_download": download, "imdb_path": imdb.strip() or None,
              "class_code": code})
    if imdb.strip() and not problem:
        imdb_check(imdb.strip())
    if stored and st.button("Back to the server's defaults", key="teacher_reset",
                            help="Forget the changes made here; the environment's values apply again."):
        reset_settings()
        training.apply_workers()
        st.rerun()
    if stored:
        st.caption("Server defaults (from the environment): "
                   f"{defaults.max_job_seconds:.0f} s, {defaults.max_epochs} epochs, {defaults.max_params:,} "
                   f"weights, {defaults.workers} at once, {defaults.jobs_per_session} per student.")


def save(values: dict) -> None:
    """Store the form's values (a value out of bounds: an error, nothing stored) and apply the number of
    trainings at once to the running job runner."""
    try:
        now = save_settings(values)
    except ValueError as err:
        st.error(escape_md(str(err)))
    else:
        running = training.apply_workers()
        st.success(f"Saved. The next training gets at most {now.max_job_seconds:.0f} s and {now.max_epochs} epochs"
                   + (f"; {running} run at once." if running is not None else "."))


def path_problem(folder: str) -> str | None:
    """Why the IMDB folder typed cannot be looked at on this server (a name too long for the file system, an
    unknown ~user, a NUL character), or None. Such a path, once saved, would break every page that looks for
    IMDB."""
    from rnnlab.data.text import folder_problem

    problem = folder_problem(folder)
    return f"The IMDB folder cannot be looked at on this server ({escape_md(problem)})." if problem else None


def text_problem(imdb: str, code: str) -> str | None:
    """What is wrong with the form's texts, or None: the IMDB folder, and a class code typed with nothing
    readable (spaces, zero-width or other invisible characters only: it would be saved as no class code)."""
    if imdb and (problem := path_problem(imdb)):
        return problem
    if code and not readable(code):
        return (f"The class code {escape_md(shown(code))} has no visible character: type letters or digits, or "
                "leave it empty for no class code.")
    return None


def imdb_check(folder: str) -> None:
    """Whether the IMDB reviews are in the folder the teacher typed."""
    from rnnlab.data.text import find_imdb

    found = find_imdb([Path(folder)])
    if found is not None and Path(folder).expanduser() == found:
        st.caption("✓ IMDB found in that folder.")
    else:
        st.warning("No IMDB in that folder (expected aclImdb/train/pos or imdb_train.csv(.gz) + imdb_test.csv(.gz)).")


def board_section(settings) -> None:
    """How many runs the board holds, their export, and clearing them (this class code's or all)."""
    st.subheader("The class board")
    board = shared_board()
    n_code = board.version(class_code=settings.class_code)[0]
    n_all = board.version()[0]
    st.markdown(f"{n_code:,} runs under the current class code"
                + (f" ({escape_md(settings.class_code)})" if settings.class_code else " (none)")
                + f", {n_all:,} in the database.")
    if n_all:
        st.download_button("Export every run (CSV)", to_csv(board.rows(limit=1_000_000)),
                           file_name="class_board_all.csv", mime="text/csv", key="teacher_export")
        clear_form("teacher", ("the current class code's runs", "every run in the database"), "Clear the board",
                   "runs", lambda everything: board.clear(None if everything else settings.class_code))
    if "teacher_flash" in st.session_state:
        st.success(st.session_state.pop("teacher_flash"))


def where_section() -> None:
    """Where the database and the trainings are, and what the job runner holds now."""
    st.subheader("Where things run")
    address = os.environ.get("RNNLAB_RAY_ADDRESS", "").strip()
    lines = [f"- Database: {escape_md(describe_url(database_url()))}"]
    if address and "ray" not in training.RUNNER_NOTE:
        lines.append(f"- Trainings: on the Ray cluster at {escape_md(address)}")
    elif address:
        lines.append(f"- Trainings: on this server — the Ray cluster at {escape_md(address)} could not be used "
                     f"({escape_md(training.RUNNER_NOTE['ray'][:300])})")
    else:
        lines.append(f"- Trainings: worker processes on this server ({cpu_count()} CPU cores)")
    r = training.started_runner()
    if r is not None:
        kept = len(r.jobs()) - len(r.active())
        lines.append(f"- Now: {len(r.active())} training(s) running or queued, at most {r.n_workers} at once; "
                     f"{kept} ended one(s) kept in memory (a tab's newest {training.KEEP_ENDED}, until "
                     f"{training.KEEP_MINUTES:g} min after it closes)")
    st.markdown("\n".join(lines))


st.title("Teacher")
if unlocked():
    settings = load_settings()
    unlocked_header()
    settings_section(settings)
    board_section(settings)
    lead_section()
    where_section()
    running_tips()     # under the settings: the form's Save button stays on a projector's first screen
next_page("app_pages/teacher.py")
