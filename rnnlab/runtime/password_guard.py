"""The teacher's password against guessing students: wrong passwords are throttled per client, and the
teacher always has a way in that students cannot block.

A single server-wide count would let ten wrong guesses from student tabs lock the teacher out for a
minute. Here each client (its IP address, or its session where the address is unknown) has its own
allowance, a generous server-wide ceiling still slows guessing from many machines, and a one-time
unlock code, printed in the server's log (which only the teacher sees), lifts every limit for the tab
that types it.

    guard = PasswordGuard()
    guard.blocked_for("10.0.0.7")          # seconds this client must wait (0: may try)
    guard.failed("10.0.0.7")               # a wrong password from it
    guard.try_unlock("10.0.0.7", text)     # True if ``text`` is the current unlock code (used up)
"""
from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

from .settings import Throttle
from .singletons import process_singleton

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read off a terminal and typed by hand


class PasswordGuard:
    """Per-client throttles (``per_client`` wrong passwords per ``window`` s), a server-wide ceiling
    (``server_limit`` per ``window``), and the log's one-time unlock code. Memory is bounded: at most
    ``max_clients`` clients are remembered (the oldest are dropped)."""

    def __init__(self, per_client: int = 10, window: float = 60.0, server_limit: int = 100,
                 max_clients: int = 10_000, log: Callable[[str], None] = print):
        self.per_client, self.window, self.max_clients = per_client, window, max_clients
        self._server = Throttle(limit=server_limit, window=window)
        self._clients: OrderedDict[str, Throttle] = OrderedDict()
        self._code: str | None = None
        self._lock = threading.Lock()
        self._log = log

    def _throttle(self, client: str) -> Throttle:
        t = self._clients.get(client)
        if t is None:
            t = self._clients[client] = Throttle(limit=self.per_client, window=self.window)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        self._clients.move_to_end(client)
        return t

    def blocked_for(self, client: str) -> float:
        """Seconds ``client`` must wait before its next try (0.0: it may try now)."""
        with self._lock:
            wait = max(self._throttle(client).blocked_for(), self._server.blocked_for())
        if wait > 0:
            self.unlock_code()       # make sure the teacher has a way in, in the log
        return wait

    def failed(self, client: str) -> None:
        with self._lock:
            self._throttle(client).failed()
            self._server.failed()

    def wrong_count(self, client: str) -> int:
        """Wrong passwords from ``client`` within the window (for tests and the log)."""
        with self._lock:
            t = self._clients.get(client)
            if t is None:
                return 0
            t.blocked_for()              # drops the old ones
            return len(t._times)

    def unlock_code(self) -> str:
        """The current one-time code, made (and written to the server's log) when there is none."""
        with self._lock:
            if self._code is None:
                self._code = "-".join("".join(secrets.choice(ALPHABET) for _ in range(5)) for _ in range(2))
                self._log(f"rnnlab: wrong teacher passwords are being throttled. Teacher: type the one-time code "
                          f"{self._code} in the Teacher page's password box to be let in at once.")
            return self._code

    def try_unlock(self, client: str, attempt: str | None) -> bool:
        """True if ``attempt`` is the unlock code: it is used up, ``client``'s count is cleared."""
        with self._lock:
            code = self._code
            if not code or not attempt:
                return False
            typed = attempt.strip().upper().encode("utf-8")
            if not hmac.compare_digest(typed, code.encode("utf-8")):
                return False
            self._code = None
            self._clients.pop(client, None)
            return True


def shared_guard() -> PasswordGuard:
    """The server's one guard (a process-level singleton: a client's ``clear_cache`` cannot reset it)."""
    return process_singleton("teacher-password-guard", PasswordGuard)
