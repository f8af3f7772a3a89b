"""TEMPORARY: the thread-based trainer of the first labs, kept only until each page submits to the job runner
(app_pages/jobs.py). Do not use in new code.

Background training for one browser session: a thread that runs an rnnlab function and collects its
events, so the page stays responsive (and other students' sessions are untouched) while it trains.

The job lives in ``st.session_state``: each session owns its own, nothing is shared between sessions.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

import streamlit as st


class TrainingJob:
    def __init__(self, fn: Callable[..., Any], **kwargs):
        self.events: list = []
        self._stop = threading.Event()
        self.result: Any = None
        self.error: str | None = None
        self.started = time.perf_counter()
        self.finished: float | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, kwargs):
        try:
            self.result = fn(on_event=self.events.append, should_stop=self._stop.is_set, **kwargs)
        except Exception as err:  # shown to the user as a message, never as a traceback
            self.error = f"{type(err).__name__}: {err}"
            self.details = traceback.format_exc()
        finally:
            self.finished = time.perf_counter()

    @property
    def running(self) -> bool:
        return self.finished is None

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def of_kind(self, *kinds: str) -> list:
        return [e for e in list(self.events) if e.kind in kinds]


def rerun_once_finished(job: TrainingJob, key: str) -> None:
    """From a live fragment: when the job has just finished, rerun the whole page (once) to show the results."""
    if not job.running and st.session_state.get(key) is not job:
        st.session_state[key] = job
        st.rerun()
