"""The teacher's settings for a class: per-job limits, how many trainings run at once, the IMDB download
and data folder, and the class code shown on the class board.

Students never see or change these. The server's defaults come from environment variables; changes the
teacher makes on the Teacher page are stored in the app's database (rnnlab.runtime.database) and win
over the environment until the teacher resets them. Every app server reading the same database sees a
change within :data:`CACHE_SECONDS`.

| variable | setting | default |
| --- | --- | --- |
| ``RNNLAB_MAX_JOB_SECONDS`` | wall-time limit of one training | 300 |
| ``RNNLAB_MAX_EPOCHS`` | most epochs one training may ask for | 20 |
| ``RNNLAB_MAX_PARAMS`` | most weights one model may have | 3,000,000 |
| ``RNNLAB_JOB_WORKERS`` | trainings that run at once | 1 per 2 CPU cores, or 1 per GPU |
| ``RNNLAB_JOBS_PER_STUDENT`` | trainings one student (one browser tab) may have running or waiting | 2 |
| ``RNNLAB_IMDB`` | a folder with the full IMDB (aclImdb/ or imdb_*.csv.gz) | none: the compact subset in assets/ |
| ``RNNLAB_ALLOW_IMDB_DOWNLOAD`` | whether students may start the 84 MB IMDB download | 0 |
| ``RNNLAB_CLASS_CODE`` | a code shown on the class board; runs are recorded under it | empty |
| ``RNNLAB_TEACHER_PASSWORD`` | unlocks the Teacher page (or ``teacher_password`` in .streamlit/secrets.toml) | none |

    settings = load_settings()          # cheap: cached for a few seconds
    save_settings({"max_epochs": 5})    # the teacher's change, checked and stored; applies to the next job
    reset_settings()                    # back to the environment's values
"""
from __future__ import annotations

import hmac
import os
import threading
import time
import traceback
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..inputs import env_number
from .jobs import JobLimits, cpu_count

CACHE_SECONDS = 2.0

#: what the teacher may set, and the range each must lie in
BOUNDS: dict[str, tuple[float, float]] = {"max_job_seconds": (10, 24 * 3600), "max_epochs": (1, 1000),
                                          "max_params": (1_000, 1_000_000_000), "workers": (1, 256),
                                          "jobs_per_session": (1, 20)}
TEXT_LIMITS = {"imdb_path": 1000, "class_code": 32}


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _env_number(name: str, setting: str, integer: bool = True) -> int | float | None:
    """The number in environment variable ``name`` for ``setting``, within the setting's bounds, or None
    (unset or unusable: see :func:`rnnlab.inputs.env_number`)."""
    return env_number(name, *BOUNDS[setting], integer=integer)


def _env_or(name: str, setting: str, default: int | float, integer: bool = True) -> int | float:
    value = _env_number(name, setting, integer)
    return default if value is None else value


def _automatic_workers() -> int:
    """Trainings at once when nobody chose: one per GPU, else one per 2 CPU cores (as jobs.default_workers,
    which would raise on an unusable RNNLAB_JOB_WORKERS)."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.device_count()
    except Exception:
        pass
    return max(cpu_count() // 2, 1)


def _workers() -> int:
    """RNNLAB_JOB_WORKERS if it is usable, else the automatic choice."""
    return _env_or("RNNLAB_JOB_WORKERS", "workers", 0) or _automatic_workers()


@dataclass
class Settings:
    max_job_seconds: float = 300.0
    max_epochs: int = 20
    max_params: int = 3_000_000
    workers: int = field(default_factory=_workers)
    jobs_per_session: int = 2
    imdb_path: str | None = None
    allow_imdb_download: bool = False
    class_code: str = ""

    def limits(self) -> JobLimits:
        return JobLimits(max_seconds=self.max_job_seconds, max_epochs=self.max_epochs, max_params=self.max_params)


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def env_settings() -> Settings:
    """The server's defaults: environment variables over the built-in values."""
    return Settings(max_job_seconds=float(_env_or("RNNLAB_MAX_JOB_SECONDS", "max_job_seconds", 300, integer=False)),
                    max_epochs=_env_or("RNNLAB_MAX_EPOCHS", "max_epochs", 20),
                    max_params=_env_or("RNNLAB_MAX_PARAMS", "max_params", 3_000_000),
                    workers=_workers(),
                    jobs_per_session=_env_or("RNNLAB_JOBS_PER_STUDENT", "jobs_per_session", 2),
                    imdb_path=os.environ.get("RNNLAB_IMDB") or None,
                    allow_imdb_download=_env_bool("RNNLAB_ALLOW_IMDB_DOWNLOAD"),
                    class_code=os.environ.get("RNNLAB_CLASS_CODE", ""))


def explicit_workers() -> int | None:
    """Trainings at once if the teacher or the environment chose a number (else the runner decides)."""
    stored = stored_settings().get("workers")
    if stored is not None:
        return int(stored)
    return _env_number("RNNLAB_JOB_WORKERS", "workers")


# --- checking a change -----------------------------------------------------------------------------------
def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as stored values, each checked; raises ValueError with a message for the teacher."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTING_NAMES:
            raise ValueError(f"There is no setting called {name!r}.")
        if name in BOUNDS:
            low, high = BOUNDS[name]
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number.") from None
            if not (low <= number <= high):
                raise ValueError(f"{name} must be between {low:,g} and {high:,g} (got {number:,g}).")
            out[name] = number if name == "max_job_seconds" else int(number)
        elif name == "allow_imdb_download":
            out[name] = bool(value)
        else:
            from .board import clean_text

            text = clean_text(value, TEXT_LIMITS[name]) if value is not None else ""
            out[name] = (text or None) if name == "imdb_path" else text
    return out


# --- storing ---------------------------------------------------------------------------------------------
_cache: dict[str, tuple[float, Settings, dict]] = {}
_cache_lock = threading.Lock()


def _engine(create: bool):
    """The database's engine; with ``create=False`` None if the default SQLite file does not exist yet
    (reading settings never creates a database)."""
    from .database import database, database_url

    url = database_url()
    if not create and url.startswith("sqlite:///"):
        from pathlib import Path

        if not Path(url[len("sqlite:///"):]).exists():
            return None
    return database(url)


def stored_settings() -> dict[str, Any]:
    """The teacher's stored changes only (name -> value)."""
    return dict(_load()[1])


def _load() -> tuple[Settings, dict]:
    from .database import database_url

    key = database_url()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            # only the database read is cached: the environment is read each time (a test or a restart
            # that changes it is seen at once)
            return replace(env_settings(), **hit[2]), hit[2]
    stored: dict[str, Any] = {}
    try:
        engine = _engine(create=False)
        if engine is not None:
            from sqlalchemy import select

            from .database import settings as table

            with engine.connect() as conn:
                for k, v in conn.execute(select(table.c.key, table.c.value)):
                    try:
                        stored.update(validate({k: v}))
                    except ValueError:   # a setting this version no longer knows, or out of today's range
                        continue
    except Exception:
        traceback.print_exc()
        stored = {}
    settings = replace(env_settings(), **stored)
    with _cache_lock:
        _cache[key] = (now, settings, stored)
    return settings, stored


def load_settings() -> Settings:
    """The settings in force: the teacher's stored changes over the environment over the defaults.
    Cached for :data:`CACHE_SECONDS` (it is read on every job submission)."""
    return _load()[0]


def invalidate() -> None:
    with _cache_lock:
        _cache.clear()


def save_settings(changes: dict[str, Any]) -> Settings:
    """Check and store the teacher's changes; they apply to the next job. Returns the settings now in force."""
    values = validate(changes)
    if values:
        from .database import settings as table

        engine = _engine(create=True)
        now = time.time()
        with engine.begin() as conn:
            for name, value in values.items():
                _upsert(conn, table, name, value, now)
    invalidate()
    return load_settings()


def _upsert(conn, table, key: str, value, now: float) -> None:
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table).values(key=key, value=value, updated_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.key],
                                                set_={"value": stmt.excluded.value, "updated_at": now}))
        return
    if not conn.execute(table.update().where(table.c.key == key).values(value=value, updated_at=now)).rowcount:
        conn.execute(table.insert().values(key=key, value=value, updated_at=now))


def reset_settings(names: list[str] | None = None) -> Settings:
    """Forget the teacher's changes (all, or some): the environment's values apply again."""
    engine = _engine(create=False)
    if engine is not None:
        from .database import settings as table

        stmt = table.delete()
        if names is not None:
            stmt = stmt.where(table.c.key.in_(list(names)))
        with engine.begin() as conn:
            conn.execute(stmt)
    invalidate()
    return load_settings()


# --- the teacher's password ------------------------------------------------------------------------------
def password_matches(attempt: str | None, password: str | None) -> bool:
    """Constant-time comparison; no password set means nothing matches."""
    if not password or not attempt:
        return False
    return hmac.compare_digest(attempt.encode("utf-8"), password.encode("utf-8"))


class Throttle:
    """At most ``limit`` wrong passwords per ``window`` seconds for the whole server (guessing is slow)."""

    def __init__(self, limit: int = 10, window: float = 60.0):
        self.limit, self.window = limit, window
        self._times: list[float] = []
        self._lock = threading.Lock()

    def blocked_for(self) -> float:
        now = time.monotonic()
        with self._lock:
            self._times = [t for t in self._times if now - t < self.window]
            if len(self._times) < self.limit:
                return 0.0
            return self.window - (now - self._times[0])

    def failed(self) -> None:
        with self._lock:
            self._times.append(time.monotonic())
