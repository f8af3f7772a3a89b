"""Take the experiment home: on every lab page, a download of "This experiment as a Python script", the page's
current experiment with its settings and seed, written by ``rnnlab.labs.scripts`` (no maths here).

``app.py`` calls :func:`download` once the page has run, so the button sits at the foot of the page and reads
the settings the page's widgets hold after this run.
"""
from __future__ import annotations

import streamlit as st

from app_pages.classroom import current_settings
from app_pages.common import seed
from rnnlab.labs.scripts import file_name, has_script, page_settings, script_for

LABEL = "This experiment as a Python script"


def settings_now(page_path: str) -> dict:
    """The page's settings as a follower gets them (``classroom.current_settings``: the widgets bound to the
    URL and the texts kept in the link), plus the page's other values in the session: a review too long for
    the link, a model chosen in a box the link does not carry."""
    values, _params = current_settings()
    return {**page_settings(page_path, st.session_state), **values}


def download(page_path: str | None) -> None:
    """The download button, on a lab page only (not Home, the Class board or the Teacher page). Writing the
    script is string formatting (about a millisecond); a setting it cannot read leaves the button out rather
    than breaking the page."""
    if not has_script(page_path):
        return
    values, seed_now = settings_now(page_path), seed()
    try:
        text, name = script_for(page_path, values, seed_now), file_name(page_path, values, seed_now)
    except (KeyError, TypeError, ValueError) as err:
        st.caption(f"The script of this experiment could not be written ({type(err).__name__}).")
        return
    st.download_button(LABEL, text, file_name=name, mime="text/x-python", key="exp_download",
                       icon=":material/download:", on_click="ignore",
                       help="A short Python script that redoes this page's experiment (the open tab) with these "
                            "settings and this seed through rnnlab's own functions, prints the numbers shown here and "
                            "draws the figure. Run it with python3 where rnnlab is installed (pip install -e .).")
