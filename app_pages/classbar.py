"""The class bar's entry points: :func:`before` runs before every page (a follow or reveal to apply, the
locked values, the bar), and :func:`poll`, the fragment that asks every few seconds what the teacher leads.
The student's side is drawn by ``app_pages.classroom``, the teacher's by ``app_pages.lead``."""
from __future__ import annotations

import contextlib

import streamlit as st

from app_pages import training
from app_pages.classroom import (
    ABSENT,
    AUTO_KEPT,
    DRAWN,
    FOLLOWED,
    LOCKED,
    PENDING,
    REVEALED,
    after,
    apply_request,
    checkpoint_part,
    class_code,
    follow_bar,
    follow_request,
    is_teacher,
    locks_for,
    page_path,
    reveal_request,
    room,
    signature,
    with_teacher,
)
from app_pages.lead import teacher_bar
from rnnlab.runtime.classroom import POLL_SECONDS


def before(url_path: str) -> None:
    """Before the page runs: apply a follow or reveal asked for, enforce the locked values, draw the bar
    (a fragment that polls) and the checkpoint's question or answer."""
    path = page_path(url_path)
    request = st.session_state.pop(PENDING, None)
    if request:
        apply_request(request, path)
    lead = room().lead(class_code())
    locked = locks_for(lead, path)
    st.session_state[LOCKED] = locked
    for k in locked:
        if k in lead.values and st.session_state.get(k) != lead.values[k]:
            with contextlib.suppress(Exception):
                st.session_state[k] = lead.values[k]
    st.session_state[DRAWN] = signature(lead, path)
    poll(path)
    if not is_teacher():
        checkpoint_part(lead, path)


@st.fragment(run_every=POLL_SECONDS)
def poll(path: str | None) -> None:
    """Every few seconds: what the teacher leads (this server's shared copy), this tab's sign of life, and
    the bar; the whole page reruns only when it must change."""
    code = class_code()
    teacher = is_teacher()
    if teacher:
        if not st.session_state.get(ABSENT):     # polled as a student before the password: not one now
            st.session_state[ABSENT] = True
            with contextlib.suppress(Exception):
                room().absent(code, training.session_id())
        after(path)                              # a change inside a page's fragment reached no full run
    else:                                        # the teacher is not counted among the class present
        with contextlib.suppress(Exception):
            room().seen(code, training.session_id())
    lead = room().lead(code)
    request = None
    # a reveal applies the lesson's settings on every page, the teacher's projector too (and the class follows)
    if lead.revealed and lead.checkpoint and st.session_state.get(REVEALED) != (lead.checkpoint, lead.round):
        st.session_state[REVEALED] = (lead.checkpoint, lead.round)
        request = reveal_request(lead)
    elif not teacher and lead.leading and st.session_state.get(AUTO_KEPT) and \
            st.session_state.get(FOLLOWED) != lead.version:
        st.session_state[FOLLOWED] = lead.version
        if not with_teacher(lead, path):
            request = follow_request(lead)
    if request is not None:
        st.session_state[PENDING] = request
        st.rerun(scope="app")
    if teacher:
        teacher_bar(lead, path)
        return
    if st.session_state.get(DRAWN) != signature(lead, path):
        st.rerun(scope="app")
    if lead.leading and lead.page:
        follow_bar(lead, path)
