"""The teacher's side of leading the class: the bar on every page while leading (the class present, a
checkpoint to ask from the page, the controls to lock, the answers coming in live, Reveal, Re-vote), and the
Teacher page's section (the "Lead the class" switch, any checkpoint to ask, the answers' export and clearing).

A checkpoint's true answer is computed by its lesson's check in a training worker (``checkpoint_job``: the
server's own threads never seed the global generators), once per server, and kept in the database with the
checkpoint until the reveal.
"""
from __future__ import annotations

import streamlit as st

from app_pages import training
from app_pages.classroom import (
    class_code,
    current_settings,
    lesson_page_name,
    page_title,
    room,
    tally_figure,
)
from app_pages.common import escape_md, plot
from rnnlab.figures.classroom import vote_name
from rnnlab.lessons import checkpoint_job, checkpoints, find_lesson, page_lessons, page_script
from rnnlab.runtime.classroom import Lead, to_csv
from rnnlab.runtime.singletons import process_singleton

ANSWER_JOB = "class_answer_job"     # the teacher's job computing the open checkpoint's answer
SWITCH = "teacher_lead"


def computed() -> dict:
    """Answers computed on this server, by lesson key (deterministic: seed 0, the page's defaults)."""
    return process_singleton("checkpoint-answers", dict)


def ask(key: str) -> None:
    """Open a checkpoint for the class and start computing its answer (students never see it before the
    reveal)."""
    room().open_checkpoint(class_code(), key)
    compute_answer(key)


def compute_answer(key: str) -> None:
    """The answer of the open checkpoint: this server's, if it computed it before, else a job's."""
    if key in computed():
        room().set_answer(class_code(), key, computed()[key])
        return
    training.submit(ANSWER_JOB, checkpoint_job, {"key": key}, seed=0,
                    meta={"board": False, "lab": "checkpoint", "task": key})


def collect_answer(lead: Lead) -> str | None:
    """Store the answer once its job has ended; a message while it runs or if it failed."""
    if lead.answer is not None or not lead.checkpoint:
        return None
    job = training.current(ANSWER_JOB)
    if lead.checkpoint in computed() or job is None or (job.kwargs or {}).get("key") != lead.checkpoint:
        compute_answer(lead.checkpoint)  # this tab never started it (another server's teacher, a restart)
        return None if lead.checkpoint in computed() else "Computing the answer…"
    if job.running:
        job.heartbeat()                 # this fragment is the job's watcher: without a sign of life it stops
        return "Computing the answer (the lesson's own check, at the page's defaults)…"
    answer = (job.result or {}).get("answer")
    if not answer:
        return f"The answer could not be computed ({job.end_label}): {escape_md(str(job.error or ''))[:300]}"
    computed()[lead.checkpoint] = answer
    room().set_answer(lead.class_code, lead.checkpoint, answer)
    return None


# --- the bar on every page, while leading ---------------------------------------------------------------------
def teacher_bar(lead: Lead, path: str | None) -> None:
    """Inside the polling fragment: what the students see, who is here, and the open checkpoint live."""
    page = lesson_page_name(path) if path else None
    asks = [le for le in page_lessons(page) if le.question is not None] if page else []
    if not (lead.leading or lead.checkpoint or asks):
        return
    present = room().present(lead.class_code)
    bar = st.container(key="class_teacher")   # common.STYLE keeps it clear of the fixed top header
    c1, c2, c3 = bar.columns([5, 2, 2], vertical_alignment="center")
    where = f"students see *{escape_md(lead.label or page_title(lead.page))}*" if lead.page else \
        "open a page: students will see it"
    c1.markdown((f":material/co_present: **Leading the class**: {where}. " if lead.leading else
                 ":material/co_present: Not leading (switch it on at the Teacher page). ")
                + f"{present} student tab{'s' if present != 1 else ''} open now.")
    if lead.checkpoint:
        with bar:
            live_panel(lead)
        return
    if asks:
        with c2.popover("Ask the class", icon=":material/quiz:", width="stretch"):
            for le in asks:
                if st.button(le.question.text, key=f"class_ask_{le.key}", width="stretch"):
                    ask(le.key)
                    st.rerun(scope="app")
    if lead.leading:
        locks_popover(lead, c3)


def locks_popover(lead: Lead, where) -> None:
    """Lock some of this page's settings for the class (they render disabled on the students' pages)."""
    values, _ = current_settings()
    keys = [k for k in values if k != "seed"]
    with where.popover(f"Locks ({len(lead.locked)})" if lead.locked else "Lock controls", icon=":material/lock:",
                       width="stretch"):
        chosen = st.multiselect("Students may not change", keys, default=[k for k in lead.locked if k in keys],
                                format_func=lambda k: k.split("_", 1)[-1], key="class_lock_keys",
                                help="Locked controls show your value and render disabled on the students' pages "
                                     "while you lead; release them when the class may explore.")
        a, b = st.columns(2)
        if a.button("Lock", key="class_lock", type="primary", width="stretch"):
            room().lock(lead.class_code, chosen)
            st.rerun(scope="app")
        if b.button("Release all", key="class_unlock", width="stretch", disabled=not lead.locked):
            room().lock(lead.class_code, [])
            st.rerun(scope="app")


def live_panel(lead: Lead) -> None:
    """The open checkpoint: its question, the answers against the tabs present, the histogram of every vote
    so far, and the buttons that reveal, vote again or close."""
    found = find_lesson(lead.checkpoint)
    if found is None:
        room().close_checkpoint(lead.class_code)
        return
    page, lesson = found
    waiting = collect_answer(lead)
    tally = room().tally(lead.class_code, lead.checkpoint)
    n = len(tally.get(lead.round, []))
    with st.container(border=True, key="class_live"):
        state = "revealed" if lead.revealed else "open"
        st.markdown(f":material/quiz: **{escape_md(lesson.question.text)}** ({escape_md(page_title(page_script(page)))}"
                    f"; {vote_name(lead.round).lower()}, {state}): **{n}** answer{'s' if n != 1 else ''} from "
                    f"{room().present(lead.class_code)} student tabs open.")
        plot(tally_figure(lead, lesson, height=210), key="class_live_tally", toolbar=False)   # room for the page
        if waiting:
            st.caption(waiting)
        elif lead.revealed and lead.answer:
            st.caption(f"Computed: **{escape_md(lead.answer.get('label', ''))}**. "
                       f"{escape_md(lead.answer.get('measured', ''))[:400]}")
        a, b, c = st.columns(3)
        if a.button("Reveal", key="class_reveal_btn", type="primary", width="stretch",
                    disabled=lead.revealed or lead.answer is None,
                    help="Every student's page applies the lesson's settings and shows the computed answer beside "
                         "their own and the class's."):
            room().reveal(lead.class_code)
            st.rerun(scope="app")
        if b.button("Vote again", key="class_revote", width="stretch",
                    help="After discussion: a new vote; the answers of every vote are kept and shown side by side."):
            room().revote(lead.class_code)
            st.rerun(scope="app")
        if c.button("Close", key="class_close", width="stretch", help="Hide the question from every page."):
            room().close_checkpoint(lead.class_code)
            st.rerun(scope="app")


# --- the Teacher page's section ------------------------------------------------------------------------------
def _switched() -> None:
    room().set_leading(class_code(), bool(st.session_state.get(SWITCH)))


def lead_section() -> None:
    """"Lead the class": the switch, a checkpoint of any page to ask, and the answers' export and clearing."""
    st.subheader("Lead the class")
    code = class_code()
    lead = room().lead(code, fresh=True)
    if SWITCH not in st.session_state:
        st.session_state[SWITCH] = lead.leading
    st.toggle("Lead the class: students see where I am and can follow", key=SWITCH, on_change=_switched,
              help="While on, every student's page shows a bar with your page and settings and a Follow button "
                   "(or follows you by itself, if the student chose so). Lock controls and ask checkpoints from "
                   "the bar at the top of each page.")
    st.caption("Students may always wander off and come back. Your page is not published while you are here, "
               "on the Teacher page.")
    options = {le.key: f"{page_title(page_script(p))}: {le.question.text}" for p, le in checkpoints()}
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    key = c1.selectbox("Ask the class a checkpoint (predict, then reveal)", list(options),
                       format_func=options.get, key="teacher_checkpoint")
    if c2.button("Ask", key="teacher_ask", width="stretch", disabled=bool(lead.checkpoint) and not lead.revealed):
        ask(key)
        st.rerun()
    if lead.checkpoint:
        st.caption("A checkpoint is open: see the bar at the top of the page for its answers, Reveal and Close.")
    answers_section(code)


def answers_section(code: str) -> None:
    """How many answers are stored, their CSV export, and clearing them."""
    n_code, n_all = room().count(code), room().count()
    st.markdown(f"{n_code:,} checkpoint answers under the current class code, {n_all:,} in the database.")
    if not n_all:
        return
    st.download_button("Export every checkpoint answer (CSV)", to_csv(room().rows()), file_name="checkpoints.csv",
                       mime="text/csv", key="teacher_answers_export")
    clear_form("teacher_answers", ("the current class code's answers", "every answer in the database"),
               "Clear the answers", "checkpoint answers", lambda everything: room().clear(None if everything else code))


def clear_form(key: str, choices: tuple[str, str], button: str, noun: str, clear) -> None:
    """A form that deletes this class code's rows or all of them (``clear(everything)`` returns how many),
    only once its box is ticked; the count is shown after the rerun (``teacher_flash``)."""
    prefix = "teacher" if key == "teacher" else key
    with st.form(f"{key}_clear"):
        which = st.radio("Clear", list(choices), key=f"{prefix}_which")
        sure = st.checkbox("Yes, delete them (this cannot be undone)", key=f"{prefix}_sure")
        if st.form_submit_button(button):
            if not sure:
                st.warning("Tick the box to confirm.")
            else:
                gone = clear(which == choices[1])
                st.session_state["teacher_flash"] = f"Deleted {gone:,} {noun}."
                st.rerun()
