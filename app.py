"""rnnlab: an interactive classroom dashboard for recurrent neural networks.

Run with ``streamlit run app.py``. This file only sets up navigation and the sidebar; each page lives
in ``app_pages/`` and all maths lives in the ``rnnlab`` package.

The page folder is deliberately not called ``pages/``: Streamlit treats a ``pages/`` folder beside the
main script as a legacy multipage app, and the first visit to a deep link (``/step_through``) on a fresh
server would then run that page file alone, without this navigation and sidebar.
"""
import streamlit as st

from app_pages.common import sidebar

st.set_page_config(page_title="rnnlab: recurrent networks, step by step", page_icon="🔁", layout="wide")

PAGES = {
    "Start": [
        st.Page("app_pages/home.py", title="What is an RNN?", icon=":material/home:", default=True),
    ],
    "Look inside": [
        st.Page("app_pages/step_through.py", title="Step through an RNN", icon=":material/footprint:"),
        st.Page("app_pages/memory.py", title="Inside the memory", icon=":material/neurology:"),
    ],
    "Labs": [
        st.Page("app_pages/sentiment.py", title="Sentiment lab", icon=":material/sentiment_satisfied:"),
        st.Page("app_pages/gradients.py", title="Gradients lab", icon=":material/trending_down:"),
        st.Page("app_pages/forecast.py", title="Forecasting lab", icon=":material/show_chart:"),
    ],
}

navigation = st.navigation(PAGES)
sidebar()
navigation.run()
