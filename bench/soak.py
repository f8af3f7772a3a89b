"""A whole class over a lesson: memory, workers and the queue while 100+ sessions come and go and train.
A benchmark, not a test.

    python -m bench.soak --csv /tmp/soak.csv               # 100 sessions, 200 trainings, 8 at a time: 4-5 min
    python -m bench.soak --sessions 6 --trainings 10       # a quick look (under a minute)
    python -m bench.soak --keep-minutes 0.5 --linger 150   # are ended jobs' memory and sessions given back?

It starts a real `streamlit run app.py` (bench/appserver.py: a temporary data folder, so the board and the
settings of the soak go nowhere near the checkout) with a short job time limit (``--seconds``, through
``RNNLAB_MAX_JOB_SECONDS``) and speaks Streamlit's websocket protocol as bench/classroom.py does. Each session
opens one lab with small settings in its URL (the widgets' ``bind="query-params"``): an Architectures tab,
An RNN from scratch's character model, one of the Gradients lab's three jobs, Sentiment on the compact data
with a 10 s budget, or Forecasting; presses the page's train button 1-3 times, each time waiting for the
page's end banner while the live fragment's automatic reruns keep the heartbeat going; now and then types a
review on the Sentiment lab; then disconnects. ``--concurrency`` sessions are open at once.

Every ``--interval`` seconds it samples from /proc the server's RSS and its training workers' (children of
the server running multiprocessing's ``spawn_main``), the number of workers and zombies, and the queue as the
pages show it (plus, from a teacher session, the Teacher page's "N training(s) running or queued").

Targets (PASS/FAIL each): server RSS at the end within 150 MB of its level after the first ten jobs; no
worker leaked (workers at the end = workers configured, no zombie); every job reached an end state on its
page (end banner, or a refusal such as the per-student cap: counted, then retried after 5-10 s); no queued
job waited longer than the bound its page showed when it was queued ("2nd in the queue, about 20 s (at most
1 min)"; the wait counted is from that message to the last one that still said "in the queue", so the page's
2 s redraw cannot make a job look late; a bound the page itself calls soft is reported apart).

Ended jobs stay in the server's memory ``RNNLAB_KEEP_ENDED_MINUTES`` (15) after their session is gone:
``--keep-minutes 1`` shows whether memory is given back, ``--linger 150`` keeps sampling after the last
session (Streamlit drops a closed tab's session 120 s after it left).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.appserver import serve_app
from bench.classroom import PREDICTION_LABEL, TEXT_KEY, Session, cpu_seconds, review
from bench.timing import wait

ROOT = Path(__file__).resolve().parents[1]

RSS_SLACK_MB = 150
TEACHER_PASSWORD = "soak-teacher-password"
QUEUE_RE = re.compile(r"\d+(?:st|nd|rd|th) in the queue")
BOUND_RE = re.compile(r"at most(?: about)? (\d+) (s|min)")       # "… (at most 2 min)", "at most about 40 s"
END_RE = re.compile(r"\*\*(Finished|Early-stopped|Diverged|Stopped[^*]*|Training failed)\.\*\*")
REFUSAL_RE = re.compile(r"limit per student|trainings? at once per student|already have \d+ trainings?",
                        re.IGNORECASE)
ACTIVE_RE = re.compile(r"(\d+) training\(s\) running or queued")
KEPT_RE = re.compile(r"(\d+) ended one\(s\) kept in memory")
RUNS_RE = re.compile(r"([\d,]+) in the database")


@dataclass(frozen=True)
class Plan:
    """One lab's job: the page, the URL's widget values and the key of its train button."""
    name: str
    page: str
    query: dict
    button: str


def plans() -> list[Plan]:
    arch = {"one_to_one": ("1 → 1", 8), "one_to_many": ("1 → many", 16), "many_to_one": ("many → 1", 8),
            "sync": ("many → many, synced", 16), "seq2seq": ("Encoder–decoder", 32), "attention": ("Attention", 32)}
    out = [Plan(f"architectures/{s}", "architectures", {"ar_tab": tab, f"ar_{s}_hidden": h, f"ar_{s}_steps": 100},
                f"ar_{s}_train") for s, (tab, h) in arch.items()]
    out += [Plan("scratch/characters", "scratch", {"scr_tab": "Train a character model", "scr_char_hidden": 8,
                                                   "scr_char_steps": 100}, "scr_char_train"),
            Plan("gradients/clipping", "gradients", {"gr_tab": "Clipping", "gr_cl_T": 10, "gr_cl_steps": 50},
                 "gr_cl_go"),
            Plan("gradients/record", "gradients", {"gr_tab": "Gradient flow", "gr_T": 5, "gr_hidden": 4,
                                                   "gr_hm_T": 10, "gr_hm_steps": 50}, "gr_hm_go"),
            Plan("gradients/race", "gradients", {"gr_tab": "Long-range tasks", "gr_lr_T": 10, "gr_lr_steps": 50,
                                                 "gr_lr_hidden": 16}, "gr_lr_go"),
            Plan("sentiment/compact", "sentiment", {"sent_source": "compact", "sent_budget": 10, "sent_subset": 5,
                                                    "sent_epochs_fast": 1}, "sent_start"),
            Plan("forecasting", "forecast", {"fc_n": 300, "fc_sizes": "8", "fc_window": 10, "fc_epochs": 2,
                                             "fc_seeds": 1, "fc_patience": 1}, "fc_go")]
    return out


@dataclass
class JobRecord:
    session: int
    lab: str
    pressed: float
    queued_at: float | None = None      # first "in the queue" message
    estimate: float | None = None       # its bound in seconds: "at most 40 s" = 40, "starting now" = 1
    soft: bool = False                  # the page said the bound holds only if no classmate's first job comes
    last_queued: float | None = None    # last "in the queue" message: the wait was at least this long
    started: float | None = None        # first progress bar: the wait was at most this long
    ended: float | None = None
    end: str = ""                       # Finished, Stopped at the time limit, ..., refused, or why none was seen


class Student(Session):
    """classroom.Session, plus what a browser does with the URL (sent with every rerun, updated when the app
    changes it) and the texts the soak reads: alerts, toasts, Markdown, progress bars."""

    def __init__(self, url: str, name: str, query: str = ""):
        super().__init__(url, name)
        self.query = query
        self.texts: list[tuple[float, str, str]] = []   # (time, kind, text)

    def _element(self, el, now: float) -> None:
        super()._element(el, now)
        t = el.WhichOneof("type")
        if t in ("alert", "toast", "markdown"):
            self.texts.append((now, t, getattr(el, t).body))
        elif t == "progress":
            self.texts.append((now, t, el.progress.text))

    async def go(self, page: str, query: dict | None = None, expect: str = "", timeout: float = 120) -> bool:
        """Open ``page`` as a link with ``query`` in its URL would; True once the widget ``expect`` is there.
        The old page's fragment reruns stop first (each would take the session back to the old page)."""
        for task in self._rerunners.values():
            task.cancel()
        self._rerunners.clear()
        self.query = urlencode(query or {})
        self.widgets.clear()
        start = time.perf_counter()
        await self.open(page, timeout)
        return await wait(lambda: not expect or expect in self.widgets, timeout - (time.perf_counter() - start))


def read_queue_message(rec: JobRecord, now: float, body: str) -> None:
    """'2nd in the queue, about 20 s (at most 1 min)': the first such message's bound, and the last's time."""
    if not QUEUE_RE.search(body):
        return
    rec.last_queued = now
    if rec.queued_at is None:
        rec.queued_at = now
        bound = BOUND_RE.search(body)
        if "starting now" in body:
            rec.estimate = 1.0                # the page says so below 1 s
        elif bound:
            rec.estimate = float(bound.group(1)) * (60 if bound.group(2) == "min" else 1)
        rec.soft = "if no classmate" in body


async def train_once(s: Student, plan: Plan, rec: JobRecord, deadline: float) -> None:
    """Press the train button, then read the page until it shows how the job ended (or refused it)."""
    button = s.widgets.get(plan.button)
    if button is None:
        rec.end = f"no button {plan.button!r} on the page"
        return
    seen = len(s.texts)
    rec.pressed = time.perf_counter()
    await s.rerun(triggers=(button,))
    while time.perf_counter() < deadline:
        for now, kind, body in s.texts[seen:]:
            if kind == "progress" and rec.started is None:
                rec.started = now
            elif kind not in ("alert", "toast"):
                continue
            elif REFUSAL_RE.search(body):
                rec.end, rec.ended = "refused", now
            elif END_RE.search(body):
                rec.end, rec.ended = END_RE.search(body).group(1), now
            else:
                read_queue_message(rec, now, body)
        seen = len(s.texts)
        if rec.end:
            return
        await asyncio.sleep(0.1)
    rec.end = "no end seen (soak deadline)"


async def session(url: str, i: int, plan: Plan, n_jobs: int, out: dict, args) -> None:
    """One student: open the lab, train ``n_jobs`` times, sometimes type a review, leave."""
    rng = random.Random(i)
    s = Student(url, f"session {i}")
    out["open"] += 1
    try:
        await s.connect()
        await s.go(plan.page, plan.query, expect=plan.button)
        for _ in range(n_jobs):
            for _try in range(args.retries + 1):
                rec = JobRecord(i, plan.name, time.perf_counter())
                out["jobs"].append(rec)
                await train_once(s, plan, rec, min(out["deadline"], time.perf_counter() + args.job_timeout))
                if rec.ended is not None:
                    out["ended_at"].append(rec.ended)
                if rec.end != "refused":
                    break
                out["refusals"] += 1
                await asyncio.sleep(rng.uniform(5, 10))   # the student waits, then tries again
                await s.go(plan.page, plan.query, expect=plan.button)
            await asyncio.sleep(rng.uniform(0.5, 3))      # reads the result
        if args.review_every and i % args.review_every == 0:
            await type_review(s, i, out)
    except Exception as err:
        out["problems"].append(f"session {i} ({plan.name}): {type(err).__name__}: {err}")
    finally:
        out["errors"].extend(f"session {i} ({plan.name}): {e}" for e in s.errors)
        out["open"] -= 1
        with contextlib.suppress(Exception):
            await asyncio.wait_for(s.close(), 5)


async def type_review(s: Student, i: int, out: dict) -> None:
    await s.go("sentiment", expect=TEXT_KEY, timeout=60)
    text_id = s.widgets.get(TEXT_KEY)
    if text_id is None:
        out["problems"].append(f"session {i}: no review box ({TEXT_KEY})")
        return
    start = time.perf_counter()
    await s.rerun(widgets={text_id: review(i)})
    if await wait(lambda: any(t > start and label == PREDICTION_LABEL for t, label, _ in s.metrics), 60, 0.02):
        out["reviews"].append(next(t for t, label, _ in s.metrics if t > start and label == PREDICTION_LABEL) - start)
    else:
        out["problems"].append(f"session {i}: no prediction within 60 s of typing a review")


async def teacher(url: str, out: dict, every: float) -> None:
    """The Teacher page, reloaded every ``every`` s: the server's own count of active jobs and board runs."""
    s = Student(url, "teacher")
    try:
        await s.connect()
        await s.go("teacher", expect="Unlock")
        box, unlock = s.widgets.get("teacher_attempt"), s.widgets.get("Unlock")
        if box is None or unlock is None:
            return
        await s.rerun(widgets={box: TEACHER_PASSWORD}, triggers=(unlock,))
        while True:
            await asyncio.sleep(every)
            seen, n = len(s.texts), len(s.finished)
            await s.rerun()
            if not await wait(lambda n=n: len(s.finished) > n, 60):
                continue
            for _, _kind, body in s.texts[seen:]:
                if ACTIVE_RE.search(body):
                    out["server_active"] = int(ACTIVE_RE.search(body).group(1))
                if KEPT_RE.search(body):
                    out["server_kept"] = int(KEPT_RE.search(body).group(1))
                if RUNS_RE.search(body):
                    out["board_runs"] = int(RUNS_RE.search(body).group(1).replace(",", ""))
            del s.texts[:seen]
    except asyncio.CancelledError:
        raise
    except Exception as err:
        out["problems"].append(f"teacher: {type(err).__name__}: {err}")
    finally:
        await asyncio.wait_for(s.close(), 5)


# --- /proc -------------------------------------------------------------------------------------------------
def proc_children(pid: int) -> list[dict]:
    """The direct children of ``pid``: pid, state, RSS (MB) and whether it is a multiprocessing worker."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) != pid:
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            out.append({"pid": int(d.name), "state": stat[0], "rss": rss_of(int(d.name)),
                        "worker": "spawn_main" in cmd and "resource_tracker" not in cmd})
        except (OSError, IndexError, ValueError):
            continue
    return out


def rss_of(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample(pid: int, t0: float, out: dict) -> dict:
    kids = proc_children(pid)
    workers = [k for k in kids if k["worker"] and k["state"] != "Z"]
    out["worker_pids"].update(k["pid"] for k in workers)
    jobs = out["jobs"]
    return {"t_s": round(time.perf_counter() - t0, 1), "server_rss_mb": round(rss_of(pid), 1),
            "workers_rss_mb": round(sum(k["rss"] for k in workers), 1), "workers": len(workers),
            "zombies": sum(k["state"] == "Z" for k in kids), "sessions_open": out["open"],
            "queued_pages": sum(r.queued_at is not None and r.started is None and r.ended is None for r in jobs),
            "running_pages": sum(r.started is not None and r.ended is None for r in jobs),
            "server_active": out.get("server_active", ""), "server_kept": out.get("server_kept", ""),
            "jobs_ended": len(out["ended_at"]),
            "board_runs": out.get("board_runs", "")}


def sampler(pid: int, t0: float, out: dict, every: float, stop: threading.Event) -> None:
    while not stop.is_set():
        out["samples"].append(sample(pid, t0, out))
        stop.wait(every)


# --- the run -------------------------------------------------------------------------------------------------
def jobs_per_session(sessions: int, trainings: int, seed: int = 0) -> list[int]:
    """1-3 trainings each, ``trainings`` in all."""
    rng = random.Random(seed)
    counts = [1] * sessions
    for _ in range(trainings - sessions):
        counts[rng.choice([i for i, c in enumerate(counts) if c < 3])] += 1
    return counts


async def run_class(url: str, args, out: dict, pid: int, expected: int) -> None:
    counts = jobs_per_session(args.sessions, args.trainings)
    lab_plans = plans()
    order = list(range(len(lab_plans)))
    random.Random(1).shuffle(order)
    gate = asyncio.Semaphore(args.concurrency)
    teach = asyncio.create_task(teacher(url, out, args.teacher_every)) if args.teacher_every else None

    async def one(i: int):
        async with gate:
            if time.perf_counter() < out["deadline"]:
                await session(url, i, lab_plans[order[i % len(order)]], counts[i], out, args)

    async def arrivals():
        tasks = []
        for i in range(args.sessions):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(random.Random(i).uniform(0, args.arrival))
        await asyncio.gather(*tasks)

    try:
        await asyncio.wait_for(arrivals(), max(out["deadline"] - time.perf_counter(), 1))
    except TimeoutError:
        out["problems"].append("--max-minutes reached: the sessions still open were closed")
    try:   # the class has left: workers back to their number, then --linger (the teacher still looks)
        cpu = cpu_seconds(pid)
        out["cpu"] = (cpu[0] - out["cpu"][0], cpu[1] - out["cpu"][1], time.process_time() - out["cpu"][2])
        room = out["deadline"] + 40 - time.perf_counter()
        await asyncio.to_thread(settle, pid, expected, min(30, max(room, 1)))
        await asyncio.sleep(max(min(args.linger, out["deadline"] + 40 - time.perf_counter()), 0))
    finally:
        if teach is not None:
            teach.cancel()
            await asyncio.gather(teach, return_exceptions=True)


def settle(pid: int, expected: int, timeout: float) -> None:
    """After the last session: wait for the workers to be back to their number (a killed job's replacement)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if len([k for k in proc_children(pid) if k["worker"] and k["state"] != "Z"]) == expected:
            return
        time.sleep(0.5)


def watchdog(deadline: float, pid_box: list) -> None:
    """The hard bound: if the soak is still running a minute past --max-minutes, end the server and exit."""
    while time.perf_counter() < deadline + 60:
        time.sleep(1)
    print("soak: past --max-minutes + 60 s; stopping the server and exiting", flush=True)
    import signal

    if pid_box:
        with contextlib.suppress(OSError):
            os.killpg(pid_box[0], signal.SIGKILL)
    os._exit(3)


def curve(samples: list[dict], column: str, start: int) -> tuple[float, float, float]:
    """(at the start, peak, at the end) of one column, from sample ``start`` on."""
    values = [r[column] for r in samples[start:]] or [0.0]
    return values[0], max(values), values[-1]


def ascii_series(samples: list[dict], rows: int = 16) -> None:
    cols = ["t_s", "server_rss_mb", "workers_rss_mb", "workers", "zombies", "sessions_open", "queued_pages",
            "running_pages", "server_active", "server_kept", "jobs_ended"]
    print("  " + " ".join(f"{c:>14}" for c in cols))
    step = max(len(samples) // rows, 1)
    for r in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        print("  " + " ".join(f"{r[c]!s:>14}" for c in cols))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(out: dict, args, expected_workers: int, wall: float, log: Path) -> None:
    samples, jobs = out["samples"], out["jobs"]
    ended = sorted(out["ended_at"])
    ten = ended[min(10, len(ended)) - 1] - out["t0"] if ended else 0.0
    start = next((k for k, r in enumerate(samples) if r["t_s"] >= ten), 0)
    load = os.getloadavg()
    print(f"\nrnnlab soak: {args.sessions} sessions ({args.concurrency} at a time), {len(jobs)} trainings pressed "
          f"({args.trainings} planned), job limit {args.seconds:g} s, {wall / 60:.1f} min; {os.cpu_count()} cores, "
          f"load average at the end {load[0]:.1f}")
    print(f"  RSS curve from the sample after the first {min(10, len(ended))} jobs ended (t = {ten:.0f} s):")
    for name, col in (("server", "server_rss_mb"), ("workers (all)", "workers_rss_mb")):
        a, peak, end = curve(samples, col, start)
        print(f"    {name:<14} start {a:7.0f} MB   peak {peak:7.0f} MB   end {end:7.0f} MB")
    a, _, end = curve(samples, "server_rss_mb", start)
    grown = [r for r in samples[start:] if r["jobs_ended"] > samples[start]["jobs_ended"]] if samples else []
    if grown:
        per_job = (grown[-1]["server_rss_mb"] - a) / (grown[-1]["jobs_ended"] - samples[start]["jobs_ended"])
        print(f"    server RSS per job ended after the start: {per_job * 1024:+.0f} kB")
    print(f"  server RSS at the end within {RSS_SLACK_MB} MB of its start: {end - a:+.0f} MB  "
          f"{verdict(end - a <= RSS_SLACK_MB)}")
    last = samples[-1] if samples else {"workers": 0, "zombies": 0}
    print(f"  worker processes at the end: {last['workers']} (configured {expected_workers}), zombies "
          f"{last['zombies']}, most at once {max((r['workers'] for r in samples), default=0)}  "
          f"{verdict(last['workers'] == expected_workers and last['zombies'] == 0)}")
    print(f"    worker processes started during the run: {len(out['worker_pids'])} (each one past "
          f"{expected_workers} replaced a worker that was killed or crashed)")
    counts: dict[str, int] = {}
    for r in jobs:
        counts[r.end or "?"] = counts.get(r.end or "?", 0) + 1
    no_end = [r for r in jobs if r.ended is None]
    print(f"  jobs that reached an end state on their page: {len(jobs) - len(no_end)}/{len(jobs)}  "
          f"{verdict(not no_end and len(jobs) >= args.trainings)}")
    print("    " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    labs: dict[str, list[int]] = {}
    for r in jobs:
        n = labs.setdefault(r.lab, [0, 0, 0])
        n[0], n[1], n[2] = n[0] + 1, n[1] + (r.ended is not None), n[2] + r.end.endswith("time limit")
    print("    by lab (ended/pressed, at the time limit): "
          + ", ".join(f"{k} {v[1]}/{v[0]} ({v[2]})" for k, v in sorted(labs.items())))
    queue_report(jobs, out["t0"])
    if out["reviews"]:
        rv = sorted(out["reviews"])
        print(f"  reviews typed: {len(rv)}, time to the prediction median {rv[len(rv) // 2]:.2f} s, "
              f"worst {rv[-1]:.2f} s")
    print(f"  refusals seen (e.g. the per-student cap): {out['refusals']}; board runs (Teacher page): "
          f"{out.get('board_runs', 'n/a')}")
    for line in (out["problems"] + out["errors"])[:10]:
        print("   ", line)
    print(f"  CPU seconds: app server {out['cpu'][0]:.0f}, training workers (those alive at the end) "
          f"{out['cpu'][1]:.0f}, the simulated sessions (this script) {out['cpu'][2]:.0f}; server log: {log}")
    print("\n  time series (every sample: --csv FILE):")
    ascii_series(samples)


def queue_report(jobs: list[JobRecord], t0: float) -> None:
    """The page's 'at most about X' against the wait: at least (last queue message - first), at most (first
    progress bar - first queue message; the page redraws every 2 s)."""
    queued = [r for r in jobs if r.queued_at is not None and r.estimate is not None]
    late = [r for r in queued if r.last_queued - r.queued_at > r.estimate + 0.5]
    over = [r for r in late if not r.soft]
    maybe = [r for r in queued
             if r not in late and r.started is not None and r.started - r.queued_at > r.estimate + 0.5]
    waited = [r for r in queued if r.estimate > 1]
    print(f"  queued jobs that waited longer than their page's bound: {len(over)} of {len(queued)} queued "
          f"({len(waited)} told more than 'starting now')  {verdict(not over)}")
    soft = [r for r in queued if r.soft]
    if soft:
        print(f"    and {len(late) - len(over)} of {len(soft)} whose page said the bound holds only if no "
              "classmate queues a first training (not counted)")
    for r in sorted(late, key=lambda r: (r.last_queued - r.queued_at) - r.estimate, reverse=True)[:5]:
        told = "starting now" if r.estimate <= 1 else f"at most {r.estimate:.0f} s" + (" if ..." if r.soft else "")
        print(f"    session {r.session} {r.lab}: told '{told}', waited {r.last_queued - r.queued_at:.0f}"
              f"-{(r.started or r.last_queued) - r.queued_at:.0f} s (pressed at t = {r.pressed - t0:.0f} s)")
    if maybe:
        print(f"    ({len(maybe)} more saw their first progress bar after the estimate: within one page redraw)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--trainings", type=int, default=200, help="in all, 1-3 per session")
    ap.add_argument("--concurrency", type=int, default=8, help="sessions open at once")
    ap.add_argument("--seconds", type=float, default=12, help="job time limit (RNNLAB_MAX_JOB_SECONDS), >= 10")
    ap.add_argument("--max-minutes", type=float, default=30, help="hard bound on the whole run")
    ap.add_argument("--workers", type=int, default=max((os.cpu_count() or 2) // 2, 1), help="RNNLAB_JOB_WORKERS")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    ap.add_argument("--arrival", type=float, default=4.0, help="at most this many seconds between two arrivals")
    ap.add_argument("--review-every", type=int, default=4, help="every Nth session also types a review")
    ap.add_argument("--teacher-every", type=float, default=15.0, help="reload the Teacher page (0: never)")
    ap.add_argument("--retries", type=int, default=3, help="tries after a refusal")
    ap.add_argument("--job-timeout", type=float, default=900, help="give up on one job after this many seconds")
    ap.add_argument("--keep-minutes", type=float, help="RNNLAB_KEEP_ENDED_MINUTES (default: the app's)")
    ap.add_argument("--linger", type=float, default=0, help="keep sampling this long after the last session")
    ap.add_argument("--csv", type=Path, help="write every sample to this CSV file")
    args = ap.parse_args(argv)
    if not args.sessions <= args.trainings <= 3 * args.sessions:
        ap.error("--trainings must lie between --sessions and 3 × --sessions (1-3 per session)")
    if args.seconds < 10:
        ap.error("--seconds must be >= 10 (the Sentiment lab's shortest time limit)")

    env = {"RNNLAB_MAX_JOB_SECONDS": f"{args.seconds:g}", "RNNLAB_JOB_WORKERS": str(args.workers),
           "RNNLAB_TEACHER_PASSWORD": TEACHER_PASSWORD}
    if args.keep_minutes is not None:
        env["RNNLAB_KEEP_ENDED_MINUTES"] = f"{args.keep_minutes:g}"
    expected = min(args.workers, len(os.sched_getaffinity(0)))
    log = Path(f"/tmp/rnnlab-soak-server-{os.getpid()}.log")
    out = {"jobs": [], "ended_at": [], "samples": [], "problems": [], "errors": [], "reviews": [], "open": 0,
           "refusals": 0, "worker_pids": set()}
    t0 = time.perf_counter()
    out["t0"], out["deadline"] = t0, t0 + args.max_minutes * 60 - 45   # room to settle and report
    pid_box: list[int] = []
    threading.Thread(target=watchdog, args=(t0 + args.max_minutes * 60, pid_box), daemon=True).start()
    with serve_app(env=env, log=log) as url:
        pid_box.append(url.pid)
        stop = threading.Event()
        thread = threading.Thread(target=sampler, args=(url.pid, t0, out, args.interval, stop), daemon=True)
        thread.start()
        out["cpu"] = (*cpu_seconds(url.pid), time.process_time())
        asyncio.run(run_class(url, args, out, url.pid, expected))
        stop.set()
        thread.join()
        out["samples"].append(sample(url.pid, t0, out))
    wall = time.perf_counter() - t0
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(out["samples"][0]))
            w.writeheader()
            w.writerows(out["samples"])
    report(out, args, expected, wall, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
