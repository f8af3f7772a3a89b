"""The class follows the teacher: what thirty students' polling costs the server, and how fast the teacher's
move reaches them. A benchmark, not a test.

    python -m bench.follow                             # N = 30 students, K = 2 trainings
    python -m bench.follow -n 30 -k 0 --window 20 --rounds 3

Every page runs a fragment every ``POLL_SECONDS`` (3 s) that asks what the teacher leads; the server reads
the class's row at most once per ``CACHE_SECONDS`` (2 s) for all its sessions, and each tab writes its
presence at most every ``SEEN_SECONDS`` (30 s). This bench runs :mod:`bench.classroom`'s class with the
teacher leading from the start (the bench writes the lead into the server's database as a teacher's tab on
another server would), so every student's page shows the follow bar and polls, and then, once the
trainings are over and only the 30 students' tabs are open:

* the prediction p95 of the whole class (as ``bench.classroom``, with the polling under way; target < 1 s);
* three quiet windows (``--window`` s each, nobody types): the tabs open but their polling held back (what
  the server costs without it), polling with the teacher not leading, polling with the teacher leading (the
  bar drawn). The server process's CPU seconds per wall second come from /proc, the fragment reruns the
  server answered from the sessions' own messages;
* the database transactions of the server process in a fourth window (at least 33 s, so that every tab's
  presence write falls in it), counted with ``strace`` (the bench attaches to the server; the app is not
  changed): each SQLite transaction in WAL mode takes one read-mark lock on the ``-shm`` file, and a write
  also the write lock. Beside them the bound the code promises;
* propagation: the teacher publishes a new label ``--rounds`` times; each tab is timed from the publish
  until a message with the new label arrives (expected within ``POLL_SECONDS + CACHE_SECONDS``: a teacher on
  the *same* server refreshes its server's copy at once, so the students' wait is the poll alone).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.classroom import (
    QUIET_CORES,
    TARGETS,
    Session,
    classroom,
    cpu_seconds,
    machine_cpu_seconds,
    median,
    report,
    run_once,
    verdict,
)
from bench.timing import wait
from rnnlab.runtime import settings as app_settings
from rnnlab.runtime.classroom import CACHE_SECONDS, POLL_SECONDS, SEEN_SECONDS, Classroom
from rnnlab.runtime.database import dispose

SENTIMENT = "app_pages/sentiment.py"
BAR_WORDS = ("The teacher is on", "You are with the teacher on")
SETTLE = POLL_SECONDS + CACHE_SECONDS + 1       # a change of the lead has reached every tab after this
#: SQLite's WAL locks, as offsets in the -shm file: the write lock, then the five read marks
WAL_WRITE_LOCK, WAL_READ_LOCKS = 120, range(123, 128)
LOCK_CALL = re.compile(r"^\d+\s+([\d.]+) fcntl\((\d+), F_SETLK, \{l_type=F_(RD|WR)LCK, l_whence=SEEK_SET, "
                       r"l_start=(\d+), l_len=1\}\) = 0")


@functools.cache
def fragment_finished() -> int:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class Follower(Session):
    """A student's tab with the follow bar: counts its fragment reruns apart from its full runs, notes when
    the bar and a watched label arrive, sends its widgets' values with every rerun (as a browser does), and
    can hold its polling back."""

    def __init__(self, url: str, name: str):
        super().__init__(url, name)
        self.fragment_runs: list[float] = []     # times the server finished a fragment rerun
        self.bar: list[float] = []               # times a follow bar arrived
        self.watch, self.arrived = "", None      # a label awaited, and when it came
        self.polling = True
        self.state: dict[str, str] = {}          # widget id -> the value this tab set

    def _take(self, msg, now: float) -> None:
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == fragment_finished():
            self.fragment_runs.append(now)       # not the end of a full run: run_and_time waits for that one
            return
        super()._take(msg, now)

    def _element(self, el, now: float) -> None:
        super()._element(el, now)
        if el.WhichOneof("type") == "markdown":
            body = el.markdown.body
            if any(w in body for w in BAR_WORDS):
                self.bar.append(now)
            if self.watch and self.arrived is None and self.watch in body:
                self.arrived = now

    def _schedule(self, fragment_id: str, interval: float):
        """As Session's, but the first rerun comes at a random point of the interval: a class's tabs were
        opened seconds apart, so their polls are spread over it, not all at once as the bench opened them."""
        if fragment_id in self._rerunners:
            return

        async def loop():
            await asyncio.sleep(random.uniform(0, interval))
            while True:
                await self.rerun(fragment_id=fragment_id)
                await asyncio.sleep(interval)

        self._rerunners[fragment_id] = asyncio.create_task(loop())

    async def rerun(self, page_name: str = "", widgets: dict | None = None, fragment_id: str = "",
                    triggers: tuple[str, ...] = ()):
        if fragment_id and not self.polling:
            return
        self.state.update(widgets or {})
        await super().rerun(page_name=page_name, widgets=dict(self.state), fragment_id=fragment_id,
                            triggers=triggers)


def p95_within(v: list[float]) -> float:
    """The 95th percentile between the samples measured (never above the largest, as the default method
    can be with few samples)."""
    return statistics.quantiles(v, n=20, method="inclusive")[-1] if len(v) >= 2 else (v[0] if v else float("nan"))


def label(n: int) -> str:
    """The teacher's published label (no Markdown character: the bar shows it as written)."""
    return f"Sentiment lab, T = {n}"


async def window(pid: int, tabs: list[Follower], seconds: float) -> dict:
    """``seconds`` of the tabs doing what they do now: the server's CPU (cores busy), the fragment reruns it
    answered per second, and the cores other processes used (to tell a quiet window)."""
    t0, cpu0, own0, all0 = time.perf_counter(), cpu_seconds(pid), time.process_time(), machine_cpu_seconds()
    await asyncio.sleep(seconds)
    t1, cpu1, own1, all1 = time.perf_counter(), cpu_seconds(pid), time.process_time(), machine_cpu_seconds()
    wall = t1 - t0
    used = sum(b - a for a, b in zip(cpu0, cpu1)) + own1 - own0
    reruns = sum(t0 < t <= t1 for s in tabs for t in s.fragment_runs)
    return {"wall": wall, "server": (cpu1[0] - cpu0[0]) / wall, "reruns": reruns / wall,
            "bench": (own1 - own0) / wall, "others": max(all1 - all0 - used, 0.0) / wall}


def shm_fds(pid: int) -> set[str]:
    """The server's file descriptors on the SQLite database's shared-memory file."""
    fds = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).endswith("rnnlab.sqlite3-shm"):
                fds.add(fd.name)
        except OSError:
            continue
    return fds


async def counted_window(pid: int, tabs: list[Follower], seconds: float, trace: Path) -> dict:
    """A window with ``strace`` attached to every thread of the server, counting its SQLite transactions
    (ptrace slows the server: this window's CPU figure is not comparable with the others')."""
    if shutil.which("strace") is None:
        return {"error": "strace is not installed"}
    proc = await asyncio.create_subprocess_exec(
        "strace", "-f", "-qq", "-ttt", "-e", "trace=fcntl", "-o", str(trace), "-p", str(pid),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    await asyncio.sleep(2)                       # attached to every thread
    if proc.returncode is not None:
        return {"error": "strace could not attach: " + (await proc.stderr.read()).decode().strip()[:200]}
    start = time.time()
    result = await window(pid, tabs, seconds)
    end = time.time()
    proc.send_signal(signal.SIGINT)              # detaches; the server runs on
    await proc.wait()
    fds = shm_fds(pid)
    reads = writes = 0
    for line in trace.read_text(errors="replace").splitlines():
        m = LOCK_CALL.match(line)
        if not m or not start <= float(m[1]) <= end or m[2] not in fds:
            continue
        kind, offset = m[3], int(m[4])
        if kind == "RD" and offset in WAL_READ_LOCKS:
            reads += 1                           # every transaction begins as a read
        elif kind == "WR" and offset == WAL_WRITE_LOCK:
            writes += 1
    trace.unlink(missing_ok=True)
    return {**result, "transactions": reads, "writes": writes, "read_only": reads - writes}


async def propagation(tabs: list[Follower], room: Classroom, code: str, rounds: int) -> dict:
    """The teacher publishes a new label ``rounds`` times; the seconds until each tab received it."""
    delays, missed = [], 0
    for r in range(1, rounds + 1):
        text = label(100 + r)
        for s in tabs:
            s.watch, s.arrived = text, None
        start = time.perf_counter()
        await asyncio.to_thread(room.publish, code, SENTIMENT, text, {}, {})
        await wait(lambda: all(s.arrived is not None for s in tabs), POLL_SECONDS + CACHE_SECONDS + 10, 0.02)
        delays += [s.arrived - start for s in tabs if s.arrived is not None]
        missed += sum(s.arrived is None for s in tabs)
        await asyncio.sleep(1.3 * r)             # the next publish at another phase of the poll and the cache
    return {"delays": delays, "missed": missed}


async def following(url, args, out: dict, files, pages, room: Classroom, code: str) -> None:
    """The teacher leads before anyone opens the app; the class of :func:`bench.classroom.classroom` (its
    students' tabs kept open), then the quiet windows and the propagation."""
    room.set_leading(code, True)
    room.publish(code, SENTIMENT, label(100), {}, {})
    tabs: list[Follower] = []
    try:
        await classroom(url, args, out, files, pages, make=Follower, keep=tabs)
        out["bar"] = sum(bool(s.bar) for s in tabs)
        live = [s for s in tabs if s.ws is not None and not s.errors]
        windows = out["windows"] = {}
        await asyncio.sleep(SETTLE)
        windows["polling, teacher leading (bar drawn)"] = await window(url.pid, live, args.window)
        await asyncio.to_thread(room.set_leading, code, False)
        await asyncio.sleep(SETTLE)
        windows["polling, teacher not leading"] = await window(url.pid, live, args.window)
        for s in live:
            s.polling = False
        await asyncio.sleep(POLL_SECONDS + 1)    # the reruns asked for are answered
        windows["tabs open, no polling"] = await window(url.pid, live, args.window)
        for s in live:
            s.polling = True
        await asyncio.to_thread(room.set_leading, code, True)
        await asyncio.sleep(SETTLE)
        out["counted"] = await counted_window(url.pid, live, counted_seconds(args),
                                              Path(tempfile.gettempdir()) / f"rnnlab-follow-{os.getpid()}.strace")
        out["propagation"] = await propagation(live, room, code, args.rounds)
        out["tabs"] = len(live)
    finally:
        for i, s in enumerate(tabs):
            out["errors"].extend(f"student {i} (following): {e}" for e in s.errors)
            await s.close()


def counted_seconds(args) -> float:
    """The counted window: long enough for every tab's presence write (one each ``SEEN_SECONDS``) to fall in."""
    return max(args.window, SEEN_SECONDS + POLL_SECONDS)


def extra_seconds(args) -> float:
    """How long :func:`following` measures after the class's run, at most."""
    return (3 * (args.window + SETTLE + 3) + counted_seconds(args) + SETTLE + 3
            + args.rounds * (POLL_SECONDS + CACHE_SECONDS + 10 + 1.3 * args.rounds))


def bounds(n: int, seconds: float) -> tuple[int, int, int]:
    """What the code allows in ``seconds`` for one class on one server: lead reads, settings reads (each poll
    asks for the class code: the settings, cached as long), presence writes (each tab at most every 30 s)."""
    reads = int(seconds // CACHE_SECONDS) + 1
    return reads, int(seconds // app_settings.CACHE_SECONDS) + 1, n * (int(seconds // SEEN_SECONDS) + 1)


def follow_report(out: dict, args) -> bool:
    """Print the following figures; True when the propagation stayed within its bound."""
    n = out.get("tabs", 0)
    print(f"\n  following the teacher: {n} tabs, each polling every {POLL_SECONDS:g} s "
          f"({n / POLL_SECONDS:.1f} reruns/s expected); follow bar on first load: {out.get('bar', 0)}/"
          f"{args.students}; windows of {args.window:g} s, nobody typing")
    print(f"    {'window':<40} {'server CPU':>11} {'reruns/s':>9} {'bench':>7} {'others':>7}   (cores)")
    windows = out.get("windows", {})
    for name, w in windows.items():
        print(f"    {name:<40} {w['server']:11.3f} {w['reruns']:9.1f} {w['bench']:7.3f} {w['others']:7.3f}")
    idle = windows.get("tabs open, no polling")
    for name in ("polling, teacher not leading", "polling, teacher leading (bar drawn)"):
        w = windows.get(name)
        if idle and w and w["reruns"] > 0:
            extra = w["server"] - idle["server"]
            print(f"    => {name}: +{extra:.3f} cores for the server ({extra * 1000 / w['reruns']:.1f} ms of CPU "
                  f"per rerun; {extra / max(n, 1) * 100:.2f}% of a core per student)")
    counted = out.get("counted", {})
    if "error" in counted:
        print(f"    database: not counted ({counted['error']})")
    elif counted:
        lead, stored, seen = bounds(n, counted["wall"])
        within = counted["read_only"] <= lead + stored and counted["writes"] <= seen
        print(f"    database, counted with strace over {counted['wall']:.1f} s (teacher leading): "
              f"{counted['read_only']} read transactions, {counted['writes']} writes; the code's bound: "
              f"reads <= {lead} of the lead + {stored} of the settings = {lead + stored}, "
              f"presence writes <= {seen}  {'PASS' if within else 'FAIL'}")
        print(f"    (in that window, under ptrace: server CPU {counted['server']:.3f} cores, "
              f"{counted['reruns']:.1f} reruns/s)")
    prop = out.get("propagation", {"delays": [], "missed": 0})
    d, bound = prop["delays"], POLL_SECONDS + CACHE_SECONDS
    ok = bool(d) and not prop["missed"] and p95_within(d) <= bound
    print(f"    propagation of the teacher's label ({args.rounds} publishes x {n} tabs = {len(d)} arrivals, "
          f"{prop['missed']} missed): median {median(d):.2f} s, p95 {p95_within(d):.2f} s, max "
          f"{max(d) if d else float('nan'):.2f} s; bound POLL + CACHE = {bound:g} s  {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--students", type=int, default=30)
    ap.add_argument("-k", "--trainings", type=int, default=2)
    ap.add_argument("--window", type=float, default=20, help="seconds of each quiet window (default 20)")
    ap.add_argument("--rounds", type=int, default=3, help="the teacher's publishes timed (default 3)")
    ap.add_argument("--repeat", type=int, default=1, help="run the whole measurement this many times")
    ap.add_argument("--max-seconds", type=float, default=300,
                    help="every wait of the class's run ends by then (default 300); the windows come after")
    ap.set_defaults(static=False, pages=False)
    args = ap.parse_args(argv)
    print(f"rnnlab classroom, following the teacher: {args.repeat} run(s) of {args.students} students and "
          f"{args.trainings} trainings, then 4 windows of {args.window:g} s and {args.rounds} publishes")
    results = []
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory(prefix="rnnlab-follow-") as data:
            url = f"sqlite:///{Path(data) / 'rnnlab.sqlite3'}"   # the file the server's database_url() opens
            room = Classroom(url)
            # a fresh database holds no stored settings: the server's class code is the environment's
            code = os.environ.get("RNNLAB_CLASS_CODE", "")
            scenario = functools.partial(following, room=room, code=code)
            out = run_once(args, number, scenario, env={"RNNLAB_DATA": data, "RNNLAB_DATABASE_URL": ""},
                           extra_seconds=extra_seconds(args))
            dispose(url)
        report(out, args, number)
        quiet = out["quiet"] and all(w["others"] < QUIET_CORES for w in out.get("windows", {}).values())
        results.append((verdict(out), follow_report(out, args), quiet))
    ok = all(v[0] and prop for v, prop, _ in results)
    print(f"\nVERDICT: {'PASS' if ok else 'FAIL'}: with the class following, prediction p95 "
          + " / ".join(f"{v[2]:.2f}" for v, _, _ in results) + f" s (target < {TARGETS['prediction']:g} s), "
          + f"propagation within {POLL_SECONDS + CACHE_SECONDS:g} s: "
          + " / ".join("yes" if prop else "no" for _, prop, _ in results)
          + ("" if all(q for _, _, q in results) else "; NOT A QUIET MACHINE: no check of the targets"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
