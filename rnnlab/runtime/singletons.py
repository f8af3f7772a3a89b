"""Server state that no client can reset: one object per process, created once, thread-safe.

Streamlit's ``st.cache_resource`` is the natural home for a model, but not for the server's own state:
any websocket client can send the ``clear_cache`` message, which empties that cache for the whole server.
A job runner kept there would be built a second time (a second pool of worker processes beside the
first) and a password throttle would forget its count. Such objects live here instead.

    runner = process_singleton("job-runner", make_runner)   # the same object for every session
    drop_singleton("job-runner")                              # tests: forget it (the caller shuts it down)
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_objects: dict[str, Any] = {}
_lock = threading.RLock()
_MISSING = object()


def process_singleton(name: str, factory: Callable[[], T], valid: Callable[[T], bool] | None = None) -> T:
    """The object registered under ``name``, made by ``factory()`` the first time (under a lock, so two
    sessions arriving at once get the same one; None is kept too). ``valid(obj)`` False (a runner shut down)
    makes a new one."""
    with _lock:
        obj = _objects.get(name, _MISSING)
        if obj is _MISSING or (valid is not None and not valid(obj)):
            obj = factory()
            _objects[name] = obj
        return obj


def peek_singleton(name: str) -> Any | None:
    """The object under ``name`` if it was made, else None (makes nothing)."""
    with _lock:
        return _objects.get(name)


def drop_singleton(name: str) -> Any | None:
    """Forget the object under ``name`` and return it (tests; the caller cleans it up)."""
    with _lock:
        return _objects.pop(name, None)
