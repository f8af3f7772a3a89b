"""Lessons as data: every "What to notice" prompt of every page, with the check that shows it happens.

A :class:`Lesson` holds the prompt a student reads, the settings it asks for (widget keys of the page and
their values, the same keys the page binds to the URL), what the student should observe stated as a
predicate on the lab's own computation (:attr:`Lesson.check`), and the one-line explanation the page reveals
after. ``tests/test_lessons.py`` runs every check at the page's defaults: a lesson whose effect does not
happen is a failing test, not a teacher embarrassed in front of thirty students.

A lesson may carry a :class:`Question`, a *checkpoint*: the class predicts before it looks (multiple choice, or
a positive number guessed on a log scale), and its check computes the true answer (:attr:`Finding.value`),
which the teacher reveals beside the class's answers.

Each page's lessons live in a module of this package named after the page (``rnnlab.lessons.gradients``),
which holds ``PAGE`` (the page script), ``DEFAULTS`` (the page's widget defaults its checks rely on; a test
compares them with the page) and ``LESSONS``. No Streamlit here: the page draws them with
``app_pages.common.lessons``.
"""
from __future__ import annotations

import importlib
import math
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
    """What a lesson's check measured: whether the promised effect happened, and the numbers, in words;
    ``value``: the computed answer to the lesson's :class:`Question` (one of its choices, or a number)."""
    holds: bool
    measured: str
    value: str | float | None = None

    def __bool__(self) -> bool:
        return self.holds


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_label(x: float) -> str:
    """A positive number as a power of ten: ``1e-4`` → "10⁻⁴", ``3.2e-4`` → "3.2×10⁻⁴" (two figures)."""
    if not (isinstance(x, int | float) and math.isfinite(x) and x > 0):
        return str(x)
    e = math.floor(math.log10(x) + 1e-9)
    m = x / 10 ** e
    if round(m, 1) >= 10:
        e, m = e + 1, m / 10
    if -2 <= e <= 3:
        return f"{x:.2g}" if e < 0 else f"{x:,.3g}" if e < 2 else f"{x:,.0f}"
    power = f"10{str(e).translate(SUPERSCRIPT)}"
    return power if abs(m - 1) < 0.05 else f"{m:.2g}×{power}"


@dataclass(frozen=True)
class Question:
    """A checkpoint: what the class predicts before it looks.

    With ``choices``, multiple choice; without, a positive number guessed on a log scale from ``low`` to
    ``high`` (powers of ten), ``per_decade`` options per power of ten. The true answer is computed by the
    lesson's check (:attr:`Finding.value`), never typed in."""
    text: str
    choices: tuple[str, ...] = ()
    low: float = 1e-6
    high: float = 1e6
    per_decade: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices and not (0 < self.low < self.high and self.per_decade >= 1):
            raise ValueError(f"a numeric question needs 0 < low < high: {self.text!r}")

    @property
    def numeric(self) -> bool:
        return not self.choices

    def options(self) -> list:
        """What a student picks from: the choices, or the log-spaced grid from ``low`` to ``high``."""
        if not self.numeric:
            return list(self.choices)
        a, b = (round(math.log10(v) * self.per_decade) for v in (self.low, self.high))
        return [float(f"{10 ** (k / self.per_decade):.3g}") for k in range(a, b + 1)]

    def label(self, value) -> str:
        return power_label(value) if self.numeric else str(value)

    def parse(self, text) -> str | float | None:
        """An answer as stored or sent (text), checked: a choice of this question, or a finite number in
        range; None for anything else."""
        if not self.numeric:
            return text if isinstance(text, str) and text in self.choices else None
        try:
            x = float(text)
        except (TypeError, ValueError):
            return None
        return x if math.isfinite(x) and self.low / 10 <= x <= self.high * 10 else None

    def bucket(self, value) -> str:
        """The histogram bar an answer falls in: the choice, or the nearest option of the grid (log scale)."""
        if not self.numeric:
            return str(value)
        k = round(math.log10(max(float(value), 1e-300)) * self.per_decade)
        grid = self.options()
        lo = round(math.log10(grid[0]) * self.per_decade)
        return self.label(grid[min(max(k - lo, 0), len(grid) - 1)])

    def buckets(self) -> list[str]:
        return [self.label(v) for v in self.options()]

    def distance(self, mine, truth) -> float:
        """How far an answer is from the truth: 0 or 1 for a choice; orders of magnitude for a number."""
        if not self.numeric:
            return 0.0 if mine == truth else 1.0
        return abs(math.log10(float(mine)) - math.log10(float(truth)))


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
    ``question``: the checkpoint the teacher may ask before the class looks; ``check`` then computes its answer.
    """
    key: str
    prompt: str
    settings: Mapping[str, Any]
    observe: str
    explain: str
    check: Callable[[], Finding] = field(repr=False, compare=False)
    slow: bool = False
    link: Mapping[str, str] = field(default_factory=dict)
    question: Question | None = None

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


def checkpoints() -> list[tuple[str, Lesson]]:
    """Every lesson that carries a :class:`Question`, as ``(page, lesson)``, in the course's order."""
    return [(p, lesson) for p, lesson in all_lessons() if lesson.question is not None]


def find_lesson(key: str) -> tuple[str, Lesson] | None:
    """The page and lesson of a lesson key (``"gradients.survives"``), or None."""
    page = key.split(".", 1)[0]
    if page not in PAGE_MODULES:
        return None
    return next(((page, le) for le in page_lessons(page) if le.key == key), None)


def computed_answer(key: str) -> dict:
    """Run a checkpoint lesson's check and return its answer as plain data: ``value`` (checked against the
    question), ``label`` (as the page shows it), ``measured`` (the numbers, in words), ``holds``."""
    found = find_lesson(key)
    if found is None or found[1].question is None:
        raise KeyError(f"no checkpoint {key!r}")
    lesson = found[1]
    finding = lesson.run()
    value = lesson.question.parse(finding.value)
    if value is None:
        raise ValueError(f"the check of {key!r} computed {finding.value!r}, not an answer to its question")
    return {"value": value, "label": lesson.question.label(value), "measured": finding.measured,
            "holds": bool(finding.holds)}


def checkpoint_job(ctx, key: str) -> dict:
    """The job that computes a slow checkpoint's answer in a training worker (its check trains a model)."""
    ctx.phase("computing the answer")
    ctx.check()
    answer = computed_answer(key)
    from ..status import Status

    return {"status": Status.FINISHED, "message": answer["measured"], "answer": answer}


def _module(page: str):
    if page not in PAGE_MODULES:
        raise KeyError(f"no lessons for page {page!r}")
    return importlib.import_module(f"{__name__}.{page}")
