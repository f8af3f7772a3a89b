"""rnnlab: an interactive classroom dashboard for recurrent neural networks.

Run with ``streamlit run app.py``. This file only sets up navigation and the sidebar; each page lives
in ``pages/`` and all maths lives in the ``rnnlab`` package.
"""
import streamlit as st

from pages.common import sidebar

st.set_page_config(page_title="rnnlab: recurrent networks, step by step", page_icon="🔁", layout="wide")

PAGES = {
    "Start": [
        st.Page("pages/home.py", title="What is an RNN?", icon="🏠", default=True, url_path="home"),
    ],
}

navigation = st.navigation(PAGES)
sidebar()
navigation.run()
