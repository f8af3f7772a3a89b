"""One download for the whole server, however many students press the button.

A Streamlit page runs once per student, so a "Download" button can be pressed in several sessions at nearly
the same moment. A :class:`SharedDownload` runs its work in one background thread at a time: the first
``start()`` launches it, a later one (from any session) joins it, and every session reads the same
``status()`` -- bytes done and expected, then the result or the error -- to draw the same progress bar.

It lives in this module, a plain process-wide object, not in a Streamlit cache: any client can clear
Streamlit's caches, and a cleared cache would forget the running download and let a second one start.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rnnlab.data.text import download_imdb

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]      # (bytes done, bytes expected; 0 if unknown)


@dataclass(frozen=True)
class DownloadStatus:
    """A snapshot of a shared download, safe to read from any thread."""

    attempt: int = 0             # how many times the work was started (0: never)
    running: bool = False
    done: int = 0                # bytes received so far
    total: int = 0               # bytes expected (0: not known yet)
    error: str | None = None     # why the latest attempt failed; None while running or after a success
    result: Any = None           # what the latest successful attempt returned

    @property
    def succeeded(self) -> bool:
        return self.attempt > 0 and not self.running and self.error is None


class SharedDownload:
    """``work(progress)`` run by at most one background thread at a time, its state shared by all callers.

    ``start()`` launches the work unless it is already running, and returns the status either way; a start
    after the work has ended (e.g. after a failure) is a new attempt. ``wait()`` blocks until it ends."""

    def __init__(self, work: Callable[[Progress], Any], name: str = "download"):
        self._work = work
        self._name = name
        self._lock = threading.Lock()       # guards _status and _thread
        self._status = DownloadStatus()
        self._thread: threading.Thread | None = None

    def status(self) -> DownloadStatus:
        with self._lock:
            return self._status

    def start(self) -> DownloadStatus:
        with self._lock:
            if not self._status.running:
                self._status = DownloadStatus(attempt=self._status.attempt + 1, running=True)
                # a daemon thread: a server shutting down does not wait for a download
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            return self._status

    def wait(self, timeout: float | None = None) -> DownloadStatus:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._status = replace(self._status, done=done, total=total)

    def _run(self) -> None:
        result, error = None, None
        try:
            result = self._work(self._progress)
        except Exception as err:     # any failure must end the attempt, or every session would wait forever
            log.warning("%s failed: %s", self._name, err)
            error = str(err) or type(err).__name__
        with self._lock:
            self._status = replace(self._status, running=False, error=error, result=result)


def _imdb_work(progress: Progress):
    return download_imdb(progress=progress)      # looked up at call time, so a test can replace it


_IMDB = SharedDownload(_imdb_work, "IMDB download")


def imdb_download() -> SharedDownload:
    """The server's one download of the full IMDB into the cache folder (see ``download_imdb``)."""
    return _IMDB
