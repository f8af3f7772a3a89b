"""Every lab page's experiment as a Python script to take home (issue #28; TensorFlow Playground's oldest
request, "export the experiment as code").

A script reads top to bottom: its imports, the page's settings as named constants, the lab calls the page
makes, the numbers the page shows printed with the page's own labels and formats, and the page's main figure
drawn with Plotly (``--html PATH`` writes it to a file instead). It uses rnnlab's public API only, never
Streamlit.

:func:`script_for` turns a page's settings (its widget keys and values, as ``st.session_state`` holds them) and
the seed into the script's text; one module per page holds that page's defaults and templates. The open tab
(``gr_tab``, ...) picks the experiment; a tab whose experiment is a live training gives a script that runs that
training at the page's settings.
"""
from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the pages that are labs, in the course's order: each has a module here (Home, Class board, Teacher have none)
PAGES = ("step_through", "memory", "scratch", "architectures", "batches", "sentiment", "gradients", "forecast",
         "textgen", "compare")


#: each lab page's widget-key prefix (docs/ARCHITECTURE.md, section 5)
PREFIXES = {"step_through": "st_", "memory": "mem_", "scratch": "scr_", "architectures": "ar_", "batches": "bat_",
            "sentiment": "sent_", "gradients": "gr_", "forecast": "fc_", "textgen": "tg_", "compare": "cmp_"}


def page_name(page: str) -> str:
    """``"app_pages/gradients.py"``, ``"gradients"`` -> ``"gradients"``."""
    return Path(page).stem


def has_script(page: str | None) -> bool:
    return page is not None and page_name(page) in PAGES and _module(page) is not None


def _module(page: str):
    name = page_name(page)
    if name not in PAGES:
        raise KeyError(f"no script for page {page!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:       # a page whose module is not written yet
        if err.name == f"{__name__}.{name}":
            return None
        raise


def script_for(page: str, settings: Mapping[str, Any] | None, seed: int) -> str:
    """The script of ``page``'s current experiment: ``settings`` are its widgets' values by key (missing keys
    take the page's defaults), ``seed`` the sidebar's."""
    module = _module(page)
    if module is None:
        raise KeyError(f"no script for page {page!r} yet")
    return module.script(module.settings(settings), int(seed), file_name(page, settings, seed))


def file_name(page: str, settings: Mapping[str, Any] | None, seed: int = 0) -> str:
    """What the download is called: ``rnnlab_gradients_T200.py`` (the page, then its main settings)."""
    module = _module(page)
    tag = module.tag(module.settings(settings)) if module is not None else ""
    tag = re.sub(r"[^A-Za-z0-9]+", "_", tag).strip("_")
    seed_part = f"_seed{int(seed)}" if int(seed) else ""
    return f"rnnlab_{page_name(page)}" + (f"_{tag}" if tag else "") + seed_part + ".py"


def page_settings(page: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of ``page`` in a session's state: its keys (by the page's prefix) whose values are plain
    data (a widget's value, a text), not the page's models, jobs or figures."""
    prefix = PREFIXES[page_name(page)]
    return {k: v for k, v in state.items() if isinstance(k, str) and k.startswith(prefix) and _plain(v)}


def _plain(v: Any) -> bool:
    if not isinstance(v, str | int | float | bool | list | tuple | type(None)):
        return False
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True
