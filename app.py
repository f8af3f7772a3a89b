"""rnnlab: an interactive classroom dashboard for recurrent neural networks.

Run with ``streamlit run app.py``. This file only sets up navigation, the sidebar and the look; each page
lives in ``app_pages/`` and all maths lives in the ``rnnlab`` package.

The page folder is deliberately not called ``pages/``: Streamlit treats a ``pages/`` folder beside the
main script as a legacy multipage app, and the first visit to a deep link (``/step_through``) on a fresh
server would then run that page file alone, without this navigation and sidebar.

Navigation sits at the top of the page, not in the sidebar: on a 1024-pixel projector a sidebar takes a
quarter of the width, and on a phone it stays open over the page after each choice.
"""
import streamlit as st

from app_pages import classbar, classroom, experiment, guard, presenter
from app_pages.common import (
    PAGES,
    not_found,
    page_not_found,
    refreeze_after_imports,
    server_setup,
    sidebar,
    style,
    warm_up_once,
)


def main() -> None:
    st.set_page_config(page_title="rnnlab: recurrent networks, step by step", page_icon="🔁", layout="wide",
                       initial_sidebar_state="collapsed")
    server_setup()
    classroom.install_locks()
    guard.install()              # every link value and sent value checked (rnnlab.inputs)
    warm_up_once()
    style()
    navigation = st.navigation({section: [st.Page(p.path, title=p.title, icon=p.icon, default=p.default)
                                          for p in pages] for section, pages in PAGES.items()}, position="top")
    sidebar()
    presenter.decorate()
    if page_not_found():
        not_found()
    else:
        classbar.before(navigation.url_path)      # the teacher's lead: follow, locks, a checkpoint
        try:
            navigation.run()
            experiment.download(classroom.page_path(navigation.url_path))   # the lab's script, to take home
        finally:
            classroom.after(classroom.page_path(navigation.url_path))   # the leading teacher publishes
    refreeze_after_imports()     # a page's first visit may have imported modules (skipped after st.rerun)


# Streamlit runs this file as ``__main__``. A training worker started with multiprocessing's *spawn* imports
# the parent's main module again under the name ``__mp_main__``: the guard keeps it from running the app.
if __name__ == "__main__":
    main()
