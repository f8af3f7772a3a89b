"""The class follows the teacher, as a student sees it: the bar that says where the teacher is (one click to
follow, or automatically), the controls the teacher locked rendered disabled, and a checkpoint's question, then
its revealed answer beside the class's. Also what both sides share: the class's lead read from the database
(``rnnlab.runtime.classroom``, one read per class and server, shared by every session), the settings a leading
teacher publishes, and the follow and reveal requests.

``app.py`` calls :func:`install_locks` once and :func:`after` once the page ran; ``app_pages.classbar`` runs
before the page and polls; ``app_pages.lead`` draws the teacher's side.
"""
from __future__ import annotations

import contextlib
import functools
import json

import streamlit as st

from app_pages import guard, training
from app_pages.common import all_pages, escape_md, plot
from rnnlab.figures.classroom import answers_figure, vote_name
from rnnlab.lessons import PAGE_MODULES, find_lesson, page_defaults, page_script
from rnnlab.runtime.board import clean_nickname
from rnnlab.runtime.classroom import Lead, shared_classroom
from rnnlab.runtime.settings import load_settings
from rnnlab.runtime.singletons import process_singleton

PENDING = "_class_pending"      # a follow or a reveal to apply before the page runs
LOCKED = "_class_locked"        # the widget keys locked for this session in this run
DRAWN = "_class_drawn"          # what the last full run drew (a change reruns the page)
FOLLOWED = "_class_followed"    # the teacher's state this session last followed automatically
REVEALED = "_class_revealed"    # the (checkpoint, vote) whose reveal this session applied
MINE = "_class_mine"            # this session's answers: (checkpoint, vote) -> answer
ABSENT = "_class_absent"        # this teacher's tab is no longer counted among the students present
TEACHER_PAGE = "app_pages/teacher.py"   # never published: students would follow to a password box
AUTO = "class_auto"             # the student's own switch: follow automatically…
AUTO_KEPT = "_class_auto"       # …kept outside the widget (a widget's state is dropped when a page switch skips it)
#: widget functions whose ``key`` the teacher can lock (each takes ``disabled``)
LOCKABLE = ("slider", "select_slider", "selectbox", "multiselect", "radio", "toggle", "checkbox", "number_input",
            "text_input", "text_area", "segmented_control", "pills")


# --- who and where ----------------------------------------------------------------------------------------
def class_code() -> str:
    return load_settings().class_code


def room():
    return shared_classroom()


def is_teacher() -> bool:
    """This tab unlocked the Teacher page: it leads when the class is led, and is never locked."""
    return bool(st.session_state.get("teacher_ok"))


def page_title(path: str) -> str:
    return next((p.title for p in all_pages() if p.path == path), path)


def page_path(url_path: str) -> str | None:
    """The registry path of a page from its URL path (``"gradients"`` → ``"app_pages/gradients.py"``)."""
    return next((p.path for p in all_pages() if p.url_path == url_path or (not url_path and p.default)), None)


def lesson_page_name(path: str) -> str | None:
    """The ``rnnlab.lessons`` module of a page script, if it has lessons."""
    return next((m for m in PAGE_MODULES if page_script(m) == path), None)


# --- locks ------------------------------------------------------------------------------------------------
def _lockable(method):
    @functools.wraps(method)
    def widget(self, *args, **kwargs):
        key = kwargs.get("key")
        if key is not None:
            with contextlib.suppress(Exception):        # outside a script run there is no session: no locks
                if key in st.session_state.get(LOCKED, ()):
                    kwargs["disabled"] = True
        return method(self, *args, **kwargs)
    widget.__rnnlab_lockable__ = True
    return widget


def _patch_widgets() -> bool:
    """Every widget that takes a ``key`` renders disabled while the teacher locks that key for the class.
    (Streamlit has no switch for that: each widget function learns it here, once per process, instead of
    every page passing ``disabled=`` to each of its hundreds of widgets.)"""
    from streamlit.delta_generator import DeltaGenerator

    for name in LOCKABLE:
        method = getattr(DeltaGenerator, name)
        if not getattr(method, "__rnnlab_lockable__", False):
            method = _lockable(method)
            setattr(DeltaGenerator, name, method)
        setattr(st, name, functools.partial(method, st._main))
    return True


def install_locks() -> None:
    process_singleton("class-widget-locks", _patch_widgets)


def locks_for(lead: Lead, path: str | None) -> frozenset[str]:
    """The keys locked for a student on ``path``: the teacher's, while leading, on the teacher's page."""
    if not lead.leading or lead.page != path or is_teacher():
        return frozenset()
    return frozenset(lead.locked)


# --- the teacher's settings, as published -------------------------------------------------------------------
def _jsonable(v) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return isinstance(v, str | int | float | bool | list | type(None))


def bound_keys() -> list[str]:
    """The widget keys bound to the URL on the page being shown and in the sidebar (``bind="query-params"``):
    the settings every page already keeps in its link."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        hashes = {ctx.page_script_hash, ctx.pages_manager.main_script_hash}
        return [k for k, b in guard.query_state()._bindings_by_param.items() if b.script_hash in hashes]
    except Exception:                               # another Streamlit: the URL's own keys
        return [k for k in st.query_params if k in st.session_state]


def current_settings() -> tuple[dict, dict]:
    """This session's settings as a follower needs them: the bound widgets' values (typed), and the other
    URL parameters (texts a page keeps in its link, as strings)."""
    values = {k: st.session_state[k] for k in bound_keys() if k in st.session_state and _jsonable(st.session_state[k])}
    for k in st.query_params:
        if k in st.session_state and k not in values and _jsonable(st.session_state[k]):
            values[k] = st.session_state[k]
    params = {k: st.query_params.get_all(k) for k in st.query_params if k not in values and k != "present"}
    return values, params


def describe_settings(path: str, values: dict) -> str:
    """"Gradients lab, T = 200": the page and the settings (at most three) that differ from its defaults."""
    page = lesson_page_name(path)
    defaults = page_defaults(page) if page else {}
    changed = [(k, v) for k, v in values.items() if k in defaults and defaults[k] != v and not k.endswith("_tab")]
    tabs = [v for k, v in values.items() if k.endswith("_tab") and isinstance(v, str) and defaults.get(k) != v]
    words = [f"{k.split('_', 1)[-1]} = {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in changed[:3]]
    parts = [page_title(path)] + ([f"tab {tabs[0]}"] if tabs else []) + [w[:40] for w in words]
    return ", ".join(parts)


def after(path: str | None) -> None:
    """The leading teacher's page and settings, published when they changed (a click that changed nothing
    writes nothing). Called after each full run and at each poll: a widget inside a page's fragment reruns
    only that fragment, and its new value must be published too."""
    if path is None or path == TEACHER_PAGE or not is_teacher():
        return
    with contextlib.suppress(Exception):          # the page must never fail for a publishing error
        if not room().lead(class_code()).leading:
            return
        values, params = current_settings()
        room().publish(class_code(), path, describe_settings(path, values), values, params)


# --- applying a follow or a reveal ------------------------------------------------------------------------------
def follow_request(lead: Lead) -> dict:
    return {"page": lead.page, "values": dict(lead.values), "params": dict(lead.params)}


def reveal_request(lead: Lead) -> dict | None:
    found = find_lesson(lead.checkpoint)
    if found is None:
        return None
    page, lesson = found
    return {"page": page_script(page), "values": {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in lesson.settings.items()}, "params": {}}


def apply_request(request: dict, path: str | None) -> None:
    """Set the widgets' values, then open the page (its other URL parameters with it)."""
    for k, v in request.get("values", {}).items():
        with contextlib.suppress(Exception):      # a key Streamlit will not let us set (none expected)
            st.session_state[k] = v
    target = request.get("page") or path
    if target is None:
        return
    try:
        st.switch_page(target, query_params=request.get("params") or {})
    except st.errors.StreamlitAPIException:
        st.rerun()


def with_teacher(lead: Lead, path: str | None) -> bool:
    """Is this session on the teacher's page with the teacher's settings?"""
    return lead.page == path and all(st.session_state.get(k) == v for k, v in lead.values.items())


def signature(lead: Lead, path: str | None) -> tuple:
    """What the full page draws from the lead: a change reruns the page."""
    return lead.checkpoint, lead.round, lead.revealed, locks_for(lead, path)


def _auto_changed() -> None:
    st.session_state[AUTO_KEPT] = bool(st.session_state.get(AUTO))
    st.session_state.pop(FOLLOWED, None)          # switched on: follow the teacher now


def follow_bar(lead: Lead, path: str | None) -> None:
    """Where the teacher is, and one click to go there (or the switch to follow automatically)."""
    here = with_teacher(lead, path)
    bar = st.container(key="class_bar")       # common.STYLE keeps it clear of the fixed top header
    c1, c2, c3 = bar.columns([5, 2, 2], vertical_alignment="center")
    where = escape_md(lead.label or page_title(lead.page))
    c1.markdown(f":material/co_present: You are with the teacher on *{where}*." if here else
                 f":material/co_present: The teacher is on *{where}*.")
    if not here and c2.button("Follow", key="class_follow", type="primary", width="stretch",
                              help="Open the teacher's page with the teacher's settings. You can wander off and "
                                   "come back at any time."):
        st.session_state[FOLLOWED] = lead.version
        st.session_state[PENDING] = follow_request(lead)
        st.rerun(scope="app")
    if AUTO not in st.session_state:
        st.session_state[AUTO] = bool(st.session_state.get(AUTO_KEPT, False))
    c3.toggle("Follow automatically", key=AUTO, on_change=_auto_changed,
              help="Go wherever the teacher goes, with the teacher's settings, each time the teacher moves. You can "
                   "still wander off in between.")
    locked = locks_for(lead, path)
    if locked:
        bar.caption("Locked by the teacher for now: " + ", ".join(sorted(k.split("_", 1)[-1] for k in locked)) + ".")


# --- checkpoints, as a student sees them ---------------------------------------------------------------------
def checkpoint_part(lead: Lead, path: str | None) -> None:
    """The open question (on its page), or, once revealed, the computed answer beside the class's."""
    found = find_lesson(lead.checkpoint) if lead.checkpoint else None
    if found is None:
        return
    page, lesson = found
    where = page_script(page)
    # the first thing on the page when no bar is drawn above it: then it must clear the fixed top header
    with st.container(key="class_checkpoint" if lead.leading and lead.page else "class_checkpoint_top"):
        _checkpoint(lead, lesson, where, path)


def _checkpoint(lead: Lead, lesson, where: str, path: str | None) -> None:
    if lead.revealed:
        reveal_panel(lead, lesson)
    elif lead.asking and where != path:
        c1, c2 = st.columns([5, 2], vertical_alignment="center")
        c1.markdown(f":material/quiz: The teacher asks a question on *{escape_md(page_title(where))}*.")
        if c2.button("Go there", key="class_go", type="primary", width="stretch"):
            st.session_state[PENDING] = {"page": where, "values": {}, "params": {}}
            st.rerun()
    elif lead.asking:
        question_panel(lead, lesson)


def my_answer(lead: Lead) -> str | None:
    """This tab's answer to the open vote (read from the database once, then kept in the session)."""
    mine = st.session_state.setdefault(MINE, {})
    key = (lead.checkpoint, lead.round)
    if key not in mine:
        mine[key] = room().my_answers(class_code(), lead.checkpoint, training.session_id()).get(lead.round)
    return mine[key]


def question_panel(lead: Lead, lesson) -> None:
    """The question, the student's answer (once; changeable until the reveal), and no result yet. A form:
    picking an option costs nothing until the answer is sent."""
    q = lesson.question
    mine = my_answer(lead)
    parsed = q.parse(mine) if mine is not None else None
    options = q.options()
    key = f"class_answer_{lead.round}"
    if key not in st.session_state and parsed is not None:      # back on the page: the answer sent before
        st.session_state[key] = parsed if not q.numeric else min(options, key=lambda o: q.distance(o, parsed))
    with st.form(f"class_question_{lead.round}", border=True):
        st.markdown(f":material/quiz: **Predict before you look** ({vote_name(lead.round).lower()}): "
                    f"{escape_md(q.text)}")
        if q.numeric:
            choice = st.select_slider("Your guess (log scale: each step is 10 times the last)", options,
                                      value=options[len(options) // 2], format_func=q.label, key=key)
        else:
            choice = st.radio("Your answer", options, index=None, key=key, horizontal=True)
        sent = st.form_submit_button("Send my answer", type="primary")   # one label: a click is never lost
    if sent and (choice is None or q.parse(str(choice)) is None):
        st.warning("Pick an answer first.")
    elif sent:
        if room().answer(class_code(), lead.checkpoint, lead.round, training.session_id(),
                         clean_nickname(st.session_state.get("nickname", "")), str(choice)):
            st.session_state[MINE][(lead.checkpoint, lead.round)] = mine = str(choice)
        else:
            st.warning("This vote has just closed: the teacher revealed it or began a new one.")
    if mine is not None and q.parse(mine) is not None:
        st.caption(f"Sent: **{escape_md(q.label(q.parse(mine)))}**. You can change it until the teacher reveals the "
                   "answer; nobody sees the class's answers before that.")
    else:
        st.caption("Nobody sees the class's answers before the teacher reveals them.")


def tally_figure(lead: Lead, lesson, mine: str | None = None, height: int = 260):
    """The class's answers to ``lead``'s checkpoint, every vote so far, bucketed for the question."""
    q = lesson.question
    rounds = {r: [q.bucket(p) for p in (q.parse(a) for a in given) if p is not None]
              for r, given in room().tally(lead.class_code, lead.checkpoint).items()}
    truth = q.bucket(lead.answer["value"]) if lead.revealed and lead.answer else None
    parsed = q.parse(mine) if mine is not None else None
    return answers_figure(q.buckets(), rounds, truth=truth, mine=q.bucket(parsed) if parsed is not None else None,
                          height=height)


def reveal_panel(lead: Lead, lesson) -> None:
    """The computed answer, the student's own, the class's distribution (every vote) and the explanation."""
    q, answer = lesson.question, lead.answer or {}
    mine = my_answer(lead)
    parsed = q.parse(mine) if mine is not None else None
    with st.container(border=True, key="class_reveal"):
        st.markdown(f":material/lightbulb: **{escape_md(q.text)}**")
        c1, c2 = st.columns([2, 3])
        truth = q.parse(answer.get("value"))
        c1.markdown(f"Computed here, now: **{escape_md(q.label(truth)) if truth is not None else 'unknown'}**")
        if parsed is None:
            c1.caption("You did not answer this vote.")
        elif q.numeric and truth is not None:
            off = q.distance(parsed, truth)
            c1.markdown(f"Your guess: **{escape_md(q.label(parsed))}**, "
                        + ("right within a factor of 3." if off < 0.5 else f"{off:.1f} orders of magnitude away."))
        else:
            c1.markdown(f"Your answer: **{escape_md(str(parsed))}** " + ("✓" if parsed == truth else "✗"))
        c1.caption(escape_md(answer.get("measured", ""))[:600])
        c1.markdown(f"**Why:** {lesson.explain}")
        with c2:
            plot(tally_figure(lead, lesson, mine), key=f"class_tally_{lead.round}", toolbar=False)
        st.caption("This page now shows the lesson's settings: look for it above or below.")
