"""The app's database: the class board's runs, the teacher's settings and the class's lead and checkpoint
answers, through SQLAlchemy 2.

By default an embedded SQLite file in the app's data folder (``RNNLAB_DATA``, else
``$XDG_DATA_HOME/rnnlab`` or ``~/.local/share/rnnlab``), created on first use. Any SQLAlchemy URL in
``RNNLAB_DATABASE_URL`` (e.g. ``postgresql://rnnlab:secret@db.example.org/rnnlab``) replaces it, so that
several app servers share one board.

    engine = database()            # one engine per URL and process, schema created/migrated on first use
    with engine.begin() as conn:
        conn.execute(runs.insert().values(...))

SQLite and many writers: the file is in WAL mode (readers never wait for the writer), every connection
waits up to 30 s for a lock instead of failing at once, and a transaction that reads before it writes
(the migration) starts with ``BEGIN IMMEDIATE`` so that two of them cannot deadlock. That makes one
server's threads (30 students ending trainings at once) safe; several servers need a real database server.

The schema is created and migrated by the app itself: a one-row version table says which of
:data:`MIGRATIONS` have run; each new step is applied in order, in one transaction, under a lock
(PostgreSQL: an advisory lock; SQLite: the write lock) so that two servers starting together migrate once.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine, make_url

metadata = MetaData()

#: one row: the schema version this database is at
schema_version = Table("rnnlab_schema", metadata,
                       Column("id", Integer, primary_key=True, autoincrement=False),
                       Column("version", Integer, nullable=False))

#: the class board: one row per training that ended (rnnlab.runtime.board)
runs = Table("board_runs", metadata,
             Column("id", Integer, primary_key=True, autoincrement=True),
             Column("recorded_at", Float, nullable=False),          # Unix time (UTC) when the job ended
             Column("class_code", String(64), nullable=False, default=""),
             Column("lab", String(64), nullable=False, default=""),
             Column("task", String(200), nullable=False, default=""),
             Column("cell", String(64), nullable=False, default=""),
             Column("params", JSON, nullable=False),                  # every hyperparameter, as the page sent it
             Column("seed", BigInteger, nullable=True),
             Column("device", String(64), nullable=False, default=""),
             Column("wall_seconds", Float, nullable=True),
             Column("end_state", String(20), nullable=False),
             Column("metrics", JSON, nullable=False),                 # the final metrics (floats)
             Column("epochs", Integer, nullable=True),
             Column("nickname", String(32), nullable=False, default=""),
             Index("ix_board_runs_class_lab", "class_code", "lab"))

#: the teacher's settings: one row per changed setting, its value as JSON (rnnlab.runtime.settings)
settings = Table("settings", metadata,
                 Column("key", String(64), primary_key=True),
                 Column("value", JSON, nullable=True),
                 Column("updated_at", Float, nullable=False))


#: the teacher's lead, one row per class code (rnnlab.runtime.classroom): the page and settings students may
#: follow, the controls locked for them, and the checkpoint open now
class_lead = Table("class_lead", metadata,
                   Column("class_code", String(64), primary_key=True),
                   Column("leading", Boolean, nullable=False, default=False),
                   Column("page", String(200), nullable=False, default=""),
                   Column("label", String(300), nullable=False, default=""),
                   Column("widget_values", JSON, nullable=False),    # widget key -> value, as the page holds it
                   Column("params", JSON, nullable=False),           # the other URL parameters (texts)
                   Column("locked", JSON, nullable=False),           # widget keys students may not change
                   Column("checkpoint", String(120), nullable=False, default=""),   # a lesson key, "" for none
                   Column("round", Integer, nullable=False, default=0),             # 1 the first vote, 2 a re-vote…
                   Column("revealed", Boolean, nullable=False, default=False),
                   Column("answer", JSON, nullable=True),            # the computed answer (value, label, measured)
                   Column("version", Integer, nullable=False, default=0),          # +1 at every change
                   Column("updated_at", Float, nullable=False))

#: the students' answers to checkpoints: one row per class, checkpoint, vote and browser tab; nothing else
#: about a student than the nickname they chose to give
answers = Table("checkpoint_answers", metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("class_code", String(64), nullable=False, default=""),
                Column("checkpoint", String(120), nullable=False),
                Column("round", Integer, nullable=False),
                Column("session", String(64), nullable=False),
                Column("nickname", String(32), nullable=False, default=""),
                Column("answer", String(64), nullable=False),
                Column("answered_at", Float, nullable=False),
                UniqueConstraint("class_code", "checkpoint", "round", "session", name="uq_checkpoint_answer"),
                Index("ix_checkpoint_answers_class", "class_code", "checkpoint"))

#: who is in the class now: a browser tab's last sign of life (written at most every half minute)
presence = Table("class_presence", metadata,
                 Column("class_code", String(64), primary_key=True),
                 Column("session", String(64), primary_key=True),
                 Column("seen_at", Float, nullable=False))


def _v1(conn) -> None:
    for table in (runs, settings):
        table.create(conn, checkfirst=True)


def _v2(conn) -> None:
    for table in (class_lead, answers, presence):
        table.create(conn, checkfirst=True)


#: schema steps in order: version k is reached by running MIGRATIONS[k - 1]. Never edit a released step;
#: append a new one (e.g. ``lambda conn: conn.exec_driver_sql("ALTER TABLE board_runs ADD COLUMN ...")``).
MIGRATIONS: list[Callable] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer rnnlab than this one."""


# --- where -----------------------------------------------------------------------------------------------
def data_dir() -> Path:
    """The app's data folder (created on first use): ``RNNLAB_DATA``, else the XDG data folder."""
    path = os.environ.get("RNNLAB_DATA")
    if not path:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        path = os.path.join(base, "rnnlab")
    p = Path(path).expanduser()
    p.mkdir(parents=True, exist_ok=True)
    return p


def database_url() -> str:
    """``RNNLAB_DATABASE_URL``, else the SQLite file ``rnnlab.sqlite3`` in the data folder."""
    url = os.environ.get("RNNLAB_DATABASE_URL", "").strip()
    if url:
        return normalise_url(url)
    return f"sqlite:///{data_dir() / 'rnnlab.sqlite3'}"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use psycopg 3 (the driver rnnlab installs) when it is there."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            try:
                import psycopg  # noqa: F401

                return "postgresql+psycopg://" + url[len(prefix):]
            except ImportError:
                return "postgresql://" + url[len(prefix):]
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for the teacher's page and the log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable URL)"


# --- engines ---------------------------------------------------------------------------------------------
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: :func:`database_url`), migrated to :data:`SCHEMA_VERSION`.
    One per URL and process, shared by every thread."""
    url = normalise_url(url) if url else database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            migrate(engine)
            _engines[url] = engine
    return engine


def dispose(url: str | None = None) -> None:
    """Close the pooled connections of one engine (or all): tests, and before a database is deleted."""
    with _engines_lock:
        for key in ([normalise_url(url)] if url else list(_engines)):
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=5, max_overflow=20, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None          # SQLAlchemy's "begin" below says when a transaction starts
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")     # readers never wait for a writer
            cur.execute("PRAGMA synchronous=NORMAL")   # safe with WAL; a commit does not wait for the disk
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            immediate = conn.get_execution_options().get("immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    connect_args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20, pool_timeout=60,
                         connect_args=connect_args)


# --- migrations ------------------------------------------------------------------------------------------
def current_version(engine: Engine) -> int:
    """The schema version of the database (0: nothing there yet)."""
    if not inspect(engine).has_table(schema_version.name):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(select(schema_version.c.version)).scalar() or 0)


def migrate(engine: Engine, migrations: list[Callable] | None = None) -> int:
    """Bring the schema to the newest version (idempotent; safe when several servers start at once).
    Returns the version reached."""
    steps = MIGRATIONS if migrations is None else migrations
    backend = engine.dialect.name
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        if backend == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727172)")   # one migrating server at a time
        schema_version.create(conn, checkfirst=True)
        version = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1)).scalar()
        if version is None:
            conn.execute(schema_version.insert().values(id=1, version=0))
            version = 0
        if version > len(steps):
            raise SchemaTooNew(f"The database is at schema version {version}, newer than this rnnlab "
                               f"({len(steps)}): update rnnlab on this server.")
        for k in range(version, len(steps)):
            steps[k](conn)
        if len(steps) != version:
            conn.execute(schema_version.update().where(schema_version.c.id == 1).values(version=len(steps)))
        return len(steps)
