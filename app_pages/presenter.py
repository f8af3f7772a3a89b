"""Presenter mode: the teacher's projected screen (``?present=1``).

On: the introductions and lesson boxes are hidden (:func:`presenting` tells a page), text and figure fonts are
larger for the back row, the navigation stays, and a small "scan to follow" QR code of the page's current
address (its settings included, presenter mode left out) lets every student open exactly what is on the
screen. The switch sits in the sidebar and is kept in the URL, so a teacher can open a page straight in it.
"""
from __future__ import annotations

import functools
import html
from urllib.parse import urlencode, urlsplit

import plotly.graph_objects as go
import streamlit as st

from app_pages import guard

PARAM = "present"          # ?present=1
KEY = "present"            # the sidebar toggle's session key
FIGURE_FONT = 22           # figure text in presenter mode (16 otherwise: rnnlab/figures/style.py)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}

STYLE = """
<style>
/* Presenter mode: larger type for the back row of a classroom. */
[data-testid="stMainBlockContainer"] { font-size: 1.22rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMainBlockContainer"] [data-testid="stWidgetLabel"] p { font-size: 1.22rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] { font-size: 1.05rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.4rem; }
.rnnlab-qr { position: fixed; right: 14px; bottom: 14px; z-index: 999990; background: #fff; padding: 6px 6px 2px;
  border: 1px solid #90a4ae; border-radius: 6px; text-align: center; font: 600 13px/1.3 sans-serif; color: #111; }
.rnnlab-qr img { display: block; }
</style>
"""


def presenting() -> bool:
    """Whether this session shows the presenter's view."""
    return bool(st.session_state.get(KEY, False))


def switch() -> None:
    """The sidebar's toggle, read from the URL on a session's first run and written back to it on every run
    (the navigation drops query parameters when the page changes; the switch keeps the mode on)."""
    if KEY not in st.session_state:
        st.session_state[KEY] = guard.link_flag(PARAM, False, what="presenter mode")
    st.toggle("Presenter mode", key=KEY,
              help="For the projector: hides the introductions and the lesson boxes, enlarges text and figures, "
                   "and shows a QR code that opens this page, with its settings, on a student's phone. "
                   "Kept in the URL as ?present=1.")
    if presenting():
        if st.query_params.get(PARAM) != "1":
            st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def decorate() -> None:
    """In presenter mode: the larger type and the QR code of the page being shown."""
    if not presenting():
        return
    st.html(STYLE)
    url = follow_url()
    if url is None:
        return
    note = ("Scan to follow" if urlsplit(url).hostname not in LOCAL_HOSTS
            else "Open the app by this computer's network address: phones cannot reach localhost")
    # an <img> of an SVG data URI: st.html's sanitiser drops inline <svg> elements
    st.html(f"<div class='rnnlab-qr'><img src='{qr_data_uri(url)}' width='123' height='123' "
            f"alt='QR code of this page: {html.escape(url)}'><div>{note}</div></div>")


def follow_url() -> str | None:
    """The address a student should open: this page with the settings now in the URL, without presenter mode."""
    base = st.context.url
    if not base:
        return None
    return link_for(base, [(k, v) for k in st.query_params for v in st.query_params.get_all(k)])


def link_for(base: str, params: list[tuple[str, str]]) -> str:
    """``base`` with ``params`` as its query, presenter mode left out (students open the normal view)."""
    kept = [(k, v) for k, v in params if k != PARAM]
    return base + ("?" + urlencode(kept) if kept else "")


@functools.lru_cache(maxsize=256)
def qr_data_uri(url: str, scale: int = 3) -> str:
    """A QR code of ``url`` as a ``data:image/svg+xml`` URI, for an <img> (st.html's sanitiser drops inline
    <svg>). segno: pure Python, no image library, an SVG that stays sharp when the projector scales it."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=scale, dark="#111111", light="#ffffff")


def enlarge(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` with the projector's larger fonts (the cached original stays as it was)."""
    big = go.Figure(fig)
    big.update_layout(font_size=FIGURE_FONT, hoverlabel_font_size=FIGURE_FONT)
    return big
