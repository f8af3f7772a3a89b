"""Lessons as data: every "What to notice" prompt of every page, with the check that shows it happens.

A :class:`Lesson` holds the prompt a student reads, the settings it asks for (widget keys of the page and
their values, the same keys the page binds to the URL), what the student should observe stated as a
predicate on the lab's own computation (:attr:`Lesson.check`), and the one-line explanation the page reveals
after. ``tests/test_lessons.py`` runs every check at the page's defaults: a lesson whose effect does not
happen is a failing test, not a teacher embarrassed in front of thirty students.

Each page's lessons live in a module of this package named after the page (``rnnlab.lessons.gradients``),
which holds ``PAGE`` (the page script), ``DEFAULTS`` (the page's widget defaults its checks rely on; a test
compares them with the page) and ``LESSONS``. No Streamlit here: the page draws them with
``app_pages.common.lessons``.
"""
from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

#: The modules of this package, one per page with "What to notice" prompts, in the course's order.
PAGE_MODULES = ("home", "step_through", "memory", "scratch", "architectures", "batches", "sentiment",
                "gradients", "forecast", "textgen", "compare")


@dataclass(frozen=True)
class Finding:
    """What a lesson's check measured: whether the promised effect happened, and the numbers, in words."""
    holds: bool
    measured: str

    def __bool__(self) -> bool:
        return self.holds


@dataclass(frozen=True)
class Lesson:
    """One "What to notice" prompt.

    ``prompt`` is the text the page shows (HTML allowed: <b>, <i>, <code>); ``settings`` the widget values it
    asks for (``{"gr_T": 200}``), applied by the page's "Show me" button and written into its link;
    ``observe`` the effect in words, which ``check`` tests; ``explain`` the one line revealed after.
    ``check`` runs the lab's own computation at the page's defaults with ``settings`` applied and returns a
    :class:`Finding`. ``slow`` marks a check that trains a model (seconds, not milliseconds). ``link`` gives
    the URL form of a setting whose widget shows its options through a ``format_func``: a widget bound to the
    URL writes and reads the label it shows, not the value (``{"bat_pad": "at the start (Keras' default)"}``).
    """
    key: str
    prompt: str
    settings: Mapping[str, Any]
    observe: str
    explain: str
    check: Callable[[], Finding] = field(repr=False, compare=False)
    slow: bool = False
    link: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "link", MappingProxyType(dict(self.link)))

    def run(self) -> Finding:
        """The check, as the page would get it: as the page's job runs in its worker (the process's generators
        seeded with the job's seed 0 for dropout and shuffling, one thread: two threads on a busy core are many
        times slower), with the caller's generators and thread count left as they were."""
        with as_a_job(0):
            return self.check()

    def query(self) -> str:
        """The settings as a URL query string (``gr_T=200&gr_cells=LSTM&gr_cells=GRU``), in the form a widget
        bound to the URL reads: a list as repeated keys, a boolean as ``true``/``false``."""
        return urlencode([(k, self.link[k] if k in self.link else url_value(v)) for k, vs in self.settings.items()
                          for v in (vs if isinstance(vs, list | tuple) else [vs])])


@contextmanager
def as_a_job(seed: int, threads: int = 1):
    """Inside: the global generators seeded as a job's worker seeds them (``seed_everything``), ``threads``
    torch threads; afterwards everything as it was, so a check's numbers do not depend on what ran before."""
    import numpy as np
    import torch

    from ..runtime.device import seed_everything

    saved = random.getstate(), np.random.get_state(), torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        seed_everything(seed)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_num_threads(saved[2])


def job_context(job_id: int = 1, max_seconds: float = 600.0):
    """The context a check hands the page's job function when it runs it in this process: its events go
    nowhere, nothing stops it but ``max_seconds``."""
    from ..runtime.jobs import JobContext  # only the training checks need the job runtime

    return JobContext(job_id, lambda _m: None, None, max_seconds)


def url_value(v: Any) -> str:
    """A setting as a widget bound to the URL writes it (a float keeps its ``.0``, as ``str`` writes it)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def page_lessons(page: str) -> tuple[Lesson, ...]:
    """The lessons of one page (``"gradients"``), in the order the page shows them."""
    return tuple(_module(page).LESSONS)


def page_defaults(page: str) -> Mapping[str, Any]:
    """The widget defaults a page's lesson checks rely on (compared with the page's widgets by a test)."""
    return _module(page).DEFAULTS


def page_script(page: str) -> str:
    return _module(page).PAGE


def all_lessons() -> list[tuple[str, Lesson]]:
    """Every lesson of every page, as ``(page, lesson)``."""
    return [(p, lesson) for p in PAGE_MODULES for lesson in page_lessons(p)]


def _module(page: str):
    if page not in PAGE_MODULES:
        raise KeyError(f"no lessons for page {page!r}")
    return importlib.import_module(f"{__name__}.{page}")
