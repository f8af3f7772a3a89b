"""The teacher leads the class: the page and settings students may follow, the controls locked for them, and
predict-then-reveal checkpoints with the class's answers, kept in the app's database.

One row per class code says what the teacher leads (:class:`Lead`); every student's page asks for it every
few seconds. Those reads are cached per class for :data:`CACHE_SECONDS` in the server process, so thirty
students cost one small database read per class every two seconds, not thirty; a change made on this server
is seen at once (its write clears the cache), one made on another server sharing the database within
:data:`CACHE_SECONDS`.

    room = shared_classroom()
    room.set_leading("7B", True)
    room.publish("7B", "app_pages/gradients.py", "Gradients lab, T = 200", {"gr_T": 200}, {})
    room.lead("7B").values                      # {"gr_T": 200}, on every student's page
    room.open_checkpoint("7B", "gradients.survives")
    room.answer("7B", "gradients.survives", 1, session, "Ada", "LSTM")   # once per tab; changeable until…
    room.reveal("7B", {"value": "LSTM", "label": "LSTM", "measured": "…"})

Answers hold the class code, the checkpoint (a lesson key), the vote (1, then 2 after a re-vote…), the
browser tab's session id, the nickname if the student gave one, the answer and the time: nothing else.
"""
from __future__ import annotations

import csv
import io
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from .board import csv_safe
from .database import answers, class_lead, database, database_url, normalise_url, presence

POLL_SECONDS = 3.0          # a student's page asks what the teacher leads this often
CACHE_SECONDS = 2.0         # …and gets this server's copy, read from the database at most this often per class
SEEN_SECONDS = 30.0         # a tab writes its sign of life at most this often
PRESENT_SECONDS = 75.0      # a tab seen within this counts as present
MAX_KEYS = 200              # widget values and locked keys the teacher may publish
MAX_VALUE_CHARS = 20_000    # the published settings, as JSON, at most this long (a long text is left out)
FIELDS = ("class_code", "checkpoint", "round", "session", "nickname", "answer", "answered_at")


@dataclass(frozen=True)
class Lead:
    """What the teacher leads in one class, as the students' pages read it."""
    class_code: str = ""
    leading: bool = False
    page: str = ""
    label: str = ""
    values: dict = field(default_factory=dict)      # widget key -> value (typed: 200, ["LSTM"], True)
    params: dict = field(default_factory=dict)      # the other URL parameters, as lists of strings
    locked: tuple[str, ...] = ()
    checkpoint: str = ""                            # a lesson key; "" when no checkpoint is open
    round: int = 0
    revealed: bool = False
    answer: dict | None = None                      # the computed answer: value, label, measured
    version: int = 0
    updated_at: float = 0.0

    @property
    def asking(self) -> bool:
        """A checkpoint is open and not revealed: students may answer."""
        return bool(self.checkpoint) and not self.revealed and self.round > 0


def _lead_from_row(row) -> Lead:
    m = row._mapping
    return Lead(class_code=m["class_code"], leading=bool(m["leading"]), page=m["page"], label=m["label"],
                values=dict(m["widget_values"] or {}), params=dict(m["params"] or {}),
                locked=tuple(m["locked"] or ()), checkpoint=m["checkpoint"], round=int(m["round"]),
                revealed=bool(m["revealed"]), answer=m["answer"], version=int(m["version"]),
                updated_at=float(m["updated_at"]))


class Classroom:
    """The lead and the answers of every class in one database (one object per URL and process:
    :func:`shared_classroom`). Thread-safe; reads of the lead and of the tallies are cached briefly."""

    def __init__(self, url: str | None = None, cache_seconds: float = CACHE_SECONDS):
        self.url = normalise_url(url) if url else database_url()
        self.engine = database(self.url)
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._leads: dict[str, tuple[float, Lead]] = {}
        self._tallies: dict[tuple[str, str], tuple[float, dict[int, list[str]]]] = {}
        self._present: dict[str, tuple[float, int]] = {}
        self._seen: dict[tuple[str, str], float] = {}
        self.reads = 0          # database reads made (the benchmark counts them)

    # --- the lead ------------------------------------------------------------------------------------------
    def lead(self, class_code: str, fresh: bool = False) -> Lead:
        """The class's lead: this server's copy when younger than ``cache_seconds``, else read once for
        every session asking."""
        now = time.monotonic()
        with self._lock:
            hit = self._leads.get(class_code)
            if hit is not None and not fresh and now - hit[0] < self.cache_seconds:
                return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(select(class_lead).where(class_lead.c.class_code == class_code)).first()
        lead = _lead_from_row(row) if row is not None else Lead(class_code=class_code)
        with self._lock:
            self.reads += 1
            self._leads[class_code] = (time.monotonic(), lead)
        return lead

    def _change(self, class_code: str, **changes: Any) -> Lead:
        """Apply ``changes`` to the class's row in one transaction (creating it), one version further on."""
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            row = conn.execute(select(class_lead).where(class_lead.c.class_code == class_code)).first()
            old = _lead_from_row(row) if row is not None else Lead(class_code=class_code)
            new = replace(old, **changes, version=old.version + 1, updated_at=time.time())
            values = {"leading": new.leading, "page": new.page, "label": new.label, "widget_values": new.values,
                      "params": new.params, "locked": list(new.locked), "checkpoint": new.checkpoint,
                      "round": new.round, "revealed": new.revealed, "answer": new.answer, "version": new.version,
                      "updated_at": new.updated_at}
            if row is None:
                conn.execute(insert(class_lead).values(class_code=class_code, **values))
            else:
                conn.execute(update(class_lead).where(class_lead.c.class_code == class_code).values(**values))
        with self._lock:
            self._leads[class_code] = (time.monotonic(), new)
        return new

    def set_leading(self, class_code: str, on: bool) -> Lead:
        """Start or stop leading. Stopping releases every lock (an open checkpoint stays open)."""
        return self._change(class_code, leading=bool(on), **({} if on else {"locked": ()}))

    def publish(self, class_code: str, page: str, label: str, values: dict, params: dict) -> bool:
        """The teacher's page and settings, for students to follow; written only when they changed (a
        teacher's every click costs nothing when it changed nothing). Returns whether it wrote."""
        values = dict(list(values.items())[:MAX_KEYS])
        params = {str(k): [str(x) for x in (v if isinstance(v, list | tuple) else [v])][:20]
                  for k, v in list(params.items())[:MAX_KEYS]}
        if len(repr(values)) + len(repr(params)) > MAX_VALUE_CHARS:
            values = {k: v for k, v in values.items() if len(repr(v)) <= 500}
            params = {k: v for k, v in params.items() if len(repr(v)) <= 500}
        label = label[:300]
        now = self.lead(class_code)           # this server's copy: its own writes keep it current
        if (now.page, now.label, now.values, now.params) == (page, label, values, params):
            return False
        self._change(class_code, page=page[:200], label=label, values=values, params=params)
        return True

    def lock(self, class_code: str, keys) -> Lead:
        """Lock these widget keys for the class (an empty list releases them all)."""
        keys = tuple(dict.fromkeys(str(k) for k in keys))[:MAX_KEYS]
        return self._change(class_code, locked=keys)

    # --- checkpoints -----------------------------------------------------------------------------------------
    def open_checkpoint(self, class_code: str, key: str) -> Lead:
        """Ask the class a checkpoint: the first vote opens, nothing revealed, no answer known yet."""
        return self._change(class_code, checkpoint=key[:120], round=1, revealed=False, answer=None)

    def set_answer(self, class_code: str, key: str, answer: dict) -> Lead | None:
        """Store the computed answer of the open checkpoint (before the reveal: students do not see it)."""
        if self.lead(class_code, fresh=True).checkpoint != key:
            return None
        return self._change(class_code, answer=dict(answer))

    def reveal(self, class_code: str, answer: dict | None = None) -> Lead:
        """Reveal the open checkpoint (with its computed answer, if not stored yet)."""
        changes: dict[str, Any] = {"revealed": True}
        if answer is not None:
            changes["answer"] = dict(answer)
        lead = self.lead(class_code, fresh=True)
        if not lead.checkpoint or (lead.answer is None and answer is None):
            raise ValueError("nothing to reveal: no checkpoint open, or its answer is not computed yet")
        return self._change(class_code, **changes)

    def revote(self, class_code: str) -> Lead:
        """Vote again after discussion: a new round; the earlier rounds' answers are kept."""
        lead = self.lead(class_code, fresh=True)
        if not lead.checkpoint:
            raise ValueError("no checkpoint to vote on again")
        return self._change(class_code, round=lead.round + 1, revealed=False)

    def close_checkpoint(self, class_code: str) -> Lead:
        return self._change(class_code, checkpoint="", round=0, revealed=False, answer=None)

    def answer(self, class_code: str, checkpoint: str, round_: int, session: str, nickname: str,
               value: str) -> bool:
        """Record one tab's answer to the open vote (again: replaces it). Refused (False) when that vote is not
        open any more: revealed, closed, or a newer round begun. The caller checks the answer is valid."""
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            row = conn.execute(select(class_lead.c.checkpoint, class_lead.c.round, class_lead.c.revealed)
                               .where(class_lead.c.class_code == class_code)).first()
            if row is None or row.checkpoint != checkpoint or int(row.round) != int(round_) or row.revealed:
                return False
            key = {"class_code": class_code, "checkpoint": checkpoint, "round": int(round_),
                   "session": str(session)[:64]}
            fields = {"nickname": (nickname or "")[:32], "answer": str(value)[:64], "answered_at": time.time()}
            done = conn.execute(update(answers).where(*(answers.c[k] == v for k, v in key.items()))
                                .values(**fields)).rowcount
            if not done:
                conn.execute(insert(answers).values(**key, **fields))
        with self._lock:
            self._tallies.pop((class_code, checkpoint), None)
        return True

    def my_answers(self, class_code: str, checkpoint: str, session: str) -> dict[int, str]:
        """This tab's answers to a checkpoint, by vote."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(answers.c.round, answers.c.answer).where(
                answers.c.class_code == class_code, answers.c.checkpoint == checkpoint,
                answers.c.session == str(session)[:64]))
            return {int(r.round): r.answer for r in rows}

    def tally(self, class_code: str, checkpoint: str) -> dict[int, list[str]]:
        """Every answer to a checkpoint, by vote (cached briefly: the teacher's live histogram and thirty
        students' reveals read it at once)."""
        now = time.monotonic()
        with self._lock:
            hit = self._tallies.get((class_code, checkpoint))
            if hit is not None and now - hit[0] < self.cache_seconds:
                return hit[1]
        by_round: dict[int, list[str]] = defaultdict(list)
        with self.engine.connect() as conn:
            for r in conn.execute(select(answers.c.round, answers.c.answer).where(
                    answers.c.class_code == class_code, answers.c.checkpoint == checkpoint)
                    .order_by(answers.c.round, answers.c.id)):
                by_round[int(r.round)].append(r.answer)
        result = dict(by_round)
        with self._lock:
            self.reads += 1
            self._tallies[(class_code, checkpoint)] = (time.monotonic(), result)
        return result

    # --- who is here ------------------------------------------------------------------------------------------
    def seen(self, class_code: str, session: str) -> bool:
        """A tab's sign of life, written at most every :data:`SEEN_SECONDS`. Returns whether it wrote."""
        now, key = time.time(), (class_code, str(session)[:64])
        with self._lock:
            if now - self._seen.get(key, 0.0) < SEEN_SECONDS:
                return False
            self._seen[key] = now
            if len(self._seen) > 10_000:          # tabs long gone
                self._seen = {k: t for k, t in self._seen.items() if now - t < PRESENT_SECONDS}
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            done = conn.execute(update(presence).where(presence.c.class_code == key[0], presence.c.session == key[1])
                                .values(seen_at=now)).rowcount
            if not done:
                conn.execute(insert(presence).values(class_code=key[0], session=key[1], seen_at=now))
            conn.execute(delete(presence).where(presence.c.seen_at < now - 24 * 3600))
        return True

    def absent(self, class_code: str, session: str) -> None:
        """A tab no longer counted among the class present (the teacher's, once unlocked)."""
        key = (class_code, str(session)[:64])
        with self._lock:
            self._seen[key] = float("inf")          # and never written again from this server
            self._present.pop(class_code, None)
        with self.engine.begin() as conn:
            conn.execute(delete(presence).where(presence.c.class_code == key[0], presence.c.session == key[1]))

    def present(self, class_code: str) -> int:
        """How many tabs of the class were seen in the last :data:`PRESENT_SECONDS` (cached briefly)."""
        now = time.monotonic()
        with self._lock:
            hit = self._present.get(class_code)
            if hit is not None and now - hit[0] < self.cache_seconds:
                return hit[1]
        with self.engine.connect() as conn:
            n = int(conn.execute(select(func.count()).select_from(presence).where(
                presence.c.class_code == class_code, presence.c.seen_at >= time.time() - PRESENT_SECONDS))
                .scalar() or 0)
        with self._lock:
            self.reads += 1
            self._present[class_code] = (time.monotonic(), n)
        return n

    # --- export and clearing ------------------------------------------------------------------------------------
    def rows(self, class_code: str | None = None) -> list[dict]:
        """Every stored answer (of one class code), oldest first, as plain dicts."""
        stmt = select(*(answers.c[f] for f in FIELDS)).order_by(answers.c.id)
        if class_code is not None:
            stmt = stmt.where(answers.c.class_code == class_code)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def count(self, class_code: str | None = None) -> int:
        stmt = select(func.count()).select_from(answers)
        if class_code is not None:
            stmt = stmt.where(answers.c.class_code == class_code)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def clear(self, class_code: str | None = None) -> int:
        """Delete the stored answers (of one class code); returns how many."""
        stmt = delete(answers)
        if class_code is not None:
            stmt = stmt.where(answers.c.class_code == class_code)
        with self.engine.begin() as conn:
            gone = conn.execute(stmt).rowcount
        with self._lock:
            self._tallies.clear()
        return int(gone or 0)


def to_csv(rows: list[dict]) -> bytes:
    """Answers as CSV (UTF-8), ``answered_at`` in ISO 8601 UTC; a cell that a spreadsheet would run as a
    formula (a nickname ``=HYPERLINK(…)``) is quoted, as the board's export does."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in rows:
        line = []
        for f in FIELDS:
            v = r.get(f)
            if f == "answered_at" and isinstance(v, int | float):
                v = datetime.fromtimestamp(v, tz=UTC).isoformat(timespec="milliseconds")
            line.append(csv_safe("" if v is None else str(v)))
        writer.writerow(line)
    return buf.getvalue().encode("utf-8")


_rooms: dict[str, Classroom] = {}
_rooms_lock = threading.Lock()


def shared_classroom(url: str | None = None) -> Classroom:
    """The one :class:`Classroom` of this process for ``url`` (default: the app's database). Not in a
    Streamlit cache: a client's ``clear_cache`` must not reset it."""
    url = normalise_url(url) if url else database_url()
    with _rooms_lock:
        if url not in _rooms:
            _rooms[url] = Classroom(url)
        return _rooms[url]


def forget_classrooms() -> None:
    """Tests: drop the process's classrooms (their caches), e.g. before the database is deleted."""
    with _rooms_lock:
        _rooms.clear()
