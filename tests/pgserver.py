"""A real, throw-away PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

Debian's ``postgresql`` package puts the server in /usr/lib/postgresql/<version>/bin (``.ci/run`` installs
it). PostgreSQL refuses to run as root, so as root (CI) the server runs as the ``postgres`` user the
package creates (or ``nobody``) through ``runuser``; its folder is given to that user. It listens on
127.0.0.1 at a free port, trusts local connections, and is stopped and deleted afterwards.

    with postgres_server() as url:      # postgresql+psycopg://rnnlab@127.0.0.1:PORT/postgres
        ...
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def bindir() -> Path | None:
    """The folder with initdb and pg_ctl, or None if PostgreSQL's server is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3])
                   if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl and shutil.which("initdb") else None


def available() -> str | None:
    """None if a server can be started here, else why not."""
    if bindir() is None:
        return "PostgreSQL's server is not installed (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -r requirements-cluster.txt)"
    if os.geteuid() == 0 and _run_as() is None:
        return "running as root and no unprivileged user to run PostgreSQL as"
    return None


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server():
    bins = bindir()
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-pg-"))
    data, log = folder / "data", folder / "log"
    prefix: list[str] = []
    if user is not None:
        info = pwd.getpwnam(user)
        os.chown(folder, info.pw_uid, info.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}

    def run(*args: str, timeout: float = 60) -> None:
        subprocess.run(prefix + list(args), check=True, env=env, cwd=folder, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    try:
        run(str(bins / "initdb"), "-D", str(data), "-U", "rnnlab", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        options = f"-F -p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        run(str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start",
            timeout=90)
        yield f"postgresql+psycopg://rnnlab@127.0.0.1:{port}/postgres"
    except subprocess.CalledProcessError as err:
        text = err.stdout.decode(errors="replace") if err.stdout else ""
        if log.exists():
            text += log.read_text(errors="replace")
        raise RuntimeError(f"PostgreSQL did not start: {text[-2000:]}") from err
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                run(str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
