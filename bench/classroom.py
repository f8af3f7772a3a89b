"""A class of students on one server: N simulated students type a review on the Sentiment lab while K
trainings run in other sessions. A benchmark, not a test.

    python bench/classroom.py                    # N = 30 students, K = 2 trainings
    python bench/classroom.py -n 10 -k 0 --pages # also open every page once per student

It starts a real `streamlit run app.py` and speaks Streamlit's own websocket protocol (the messages a
browser sends and receives), so 30 sessions cost the machine what 30 browsers would cost the *server*,
without 30 browsers' rendering on the same two cores. Each student opens the Sentiment lab, waits a random
0-10 s, types a review of its own and measures:

* time to the prediction: from sending the text to receiving the "P(positive)" metric of that run;
* time to the full page: from sending the text to the end of that script run;
* that the probability shown is the one the shipped model gives *that student's* review (no session
  sees another's numbers).

The K trainers press "Start training" with the default settings and keep their page open (heartbeats via
the live fragment's automatic reruns) until the job ends. Peak RSS is sampled from /proc for the server
process, and for the server plus its training workers.

Targets on a 2-core CPU, N = 30, K = 2: prediction p95 < 1 s, full Sentiment page p95 < 5 s, peak server
RSS < 3 GB, both trainings finish, no session sees another's data.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import threading
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.appserver import serve_app  # noqa: E402

PREDICTION_LABEL = "P(positive)"
TEXT_KEY = "sent_text"
START_KEY = "sent_start"
END_WORDS = ("Finished", "Early-stopped", "Diverged", "Stopped", "Training failed", "time limit")
ADJ = ["wonderful", "dull", "brilliant", "awful", "moving", "boring", "superb", "terrible", "charming", "lazy"]
NOUNS = ["plot", "acting", "score", "ending", "dialogue", "cast", "script", "pacing", "camera work", "humour"]


def review(i: int) -> str:
    """A different review for every student (so a mixed-up answer would show)."""
    rng = random.Random(i)
    parts = [f"The {rng.choice(NOUNS)} was {rng.choice(ADJ)}" for _ in range(3 + i % 4)]
    return ". ".join(parts) + f". Student {i} out."


class Session:
    """One browser tab, as the server sees it: a websocket speaking Streamlit's protocol."""

    def __init__(self, url: str, name: str):
        self.url, self.name = url, name
        self.ws = None
        self.widgets: dict[str, str] = {}           # key suffix -> widget id
        self.metrics: list[tuple[float, str, str]] = []   # (time, label, body)
        self.alerts: list[tuple[float, str]] = []
        self.finished: list[float] = []              # script_finished times
        self.auto: dict[str, float] = {}             # fragment id -> interval
        self.page_hash: str | None = None
        self.errors: list[str] = []
        self._reader = None
        self._rerunners: dict[str, asyncio.Task] = {}

    async def connect(self):
        import websockets

        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        await asyncio.to_thread(lambda: opener.open(self.url + "/", timeout=30).read())
        cookies = {c.name: c.value for c in jar}
        xsrf = cookies.get("_streamlit_xsrf", "")
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
                                           additional_headers={"Cookie": header} if header else None,
                                           max_size=None, open_timeout=60)
        self._reader = asyncio.create_task(self._read())

    async def _read(self):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                now = time.perf_counter()
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.page_hash = msg.new_session.page_script_hash
                elif kind == "navigation":
                    self.page_hash = msg.navigation.page_script_hash   # the page this run is on
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    el = msg.delta.new_element
                    t = el.WhichOneof("type")
                    if t == "metric":
                        self.metrics.append((now, el.metric.label, el.metric.body))
                    elif t == "alert":
                        self.alerts.append((now, el.alert.body))
                    elif t == "exception":
                        self.errors.append(el.exception.message or "exception")
                    elif t in ("text_area", "button", "text_input", "selectbox", "slider"):
                        wid = getattr(el, t).id
                        self.widgets[wid.rsplit("-", 1)[-1]] = wid
                elif kind == "script_finished":
                    self.finished.append(now)
                elif kind == "auto_rerun":
                    self._schedule(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
                elif kind == "stop_auto_rerun":
                    for task in self._rerunners.values():
                        task.cancel()
                    self._rerunners.clear()
        except Exception as err:  # noqa: BLE001 - the connection closed
            if not isinstance(err, asyncio.CancelledError):
                self.errors.append(f"{type(err).__name__}: {err}")

    def _schedule(self, fragment_id: str, interval: float):
        if fragment_id in self._rerunners:
            return

        async def loop():
            while True:
                await asyncio.sleep(interval)
                await self.rerun(fragment_id=fragment_id)

        self._rerunners[fragment_id] = asyncio.create_task(loop())

    async def rerun(self, page_name: str = "", widgets: dict | None = None, fragment_id: str = "",
                    triggers: tuple[str, ...] = ()):
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_name = page_name
        if self.page_hash and not page_name:
            cs.page_script_hash = self.page_hash
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = True
        for wid, value in (widgets or {}).items():
            ws = cs.widget_states.widgets.add()
            ws.id = wid
            ws.string_value = value
        for wid in triggers:
            ws = cs.widget_states.widgets.add()
            ws.id = wid
            ws.trigger_value = True
        await self.ws.send(msg.SerializeToString())

    async def open(self, page_name: str, timeout: float = 120) -> float:
        start = time.perf_counter()
        n = len(self.finished)
        await self.rerun(page_name=page_name)
        await self._until(lambda: len(self.finished) > n, timeout)
        return time.perf_counter() - start

    async def _until(self, condition, timeout: float):
        end = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError(f"{self.name}: timed out")
            await asyncio.sleep(0.005)

    async def close(self):
        for task in self._rerunners.values():
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


async def student(url: str, i: int, out: dict, pages: list[str]):
    s = Session(url, f"student {i}")
    await s.connect()
    out["load"].append(await s.open("sentiment"))
    await asyncio.sleep(random.Random(i).uniform(0, 10))
    text_id = s.widgets.get(TEXT_KEY)
    if text_id is None:
        out["problems"].append(f"student {i}: no review box ({TEXT_KEY}) on the page")
        await s.close()
        return
    text = review(i)
    start = time.perf_counter()
    n_finished = len(s.finished)
    await s.rerun(widgets={text_id: text})
    await s._until(lambda: any(t > start and label == PREDICTION_LABEL for t, label, _ in s.metrics), 120)
    shown = next(body for t, label, body in s.metrics if t > start and label == PREDICTION_LABEL)
    out["prediction"].append(next(t for t, label, _ in s.metrics if t > start and label == PREDICTION_LABEL) - start)
    await s._until(lambda: len(s.finished) > n_finished, 120)
    out["full"].append(s.finished[-1] - start)
    out["shown"][i] = (text, shown)
    for page in pages:
        out["pages"].setdefault(page, []).append(await s.open(page))
    out["errors"].extend(f"student {i}: {e}" for e in s.errors)
    await s.close()


async def trainer(url: str, k: int, out: dict, timeout: float):
    s = Session(url, f"trainer {k}")
    await s.connect()
    await s.open("sentiment")
    button = s.widgets.get(START_KEY)
    if button is None:
        out["problems"].append(f"trainer {k}: no start button ({START_KEY})")
        await s.close()
        return
    start = time.perf_counter()
    await s.rerun(triggers=(button,))
    try:
        await s._until(lambda: any(t > start and any(w in body for w in END_WORDS) for t, body in s.alerts), timeout)
        end = next(body for t, body in s.alerts if t > start and any(w in body for w in END_WORDS))
        out["trainings"].append((k, time.perf_counter() - start, end.split(".")[0].strip("*")))
    except TimeoutError:
        out["trainings"].append((k, time.perf_counter() - start, "did not end in time"))
    out["errors"].extend(f"trainer {k}: {e}" for e in s.errors)
    await s.close()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(server CPU seconds, its child processes' CPU seconds, the running ones') from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(p):
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / tick, int(f[1])     # utime + stime; ppid
        except (OSError, IndexError, ValueError):
            return 0.0, -1

    workers = sum(one(int(d.name))[0] for d in Path("/proc").iterdir()
                  if d.name.isdigit() and one(int(d.name))[1] == pid)
    return one(pid)[0], workers


def rss_mb(pid: int) -> tuple[float, float]:
    """(server RSS, server + child processes RSS) in MB."""
    def one(p):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return 0.0
        return 0.0

    children = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int(Path(f"/proc/{d.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                children.append(int(d.name))
    server = one(pid)
    return server, server + sum(one(c) for c in children)


def expected_probabilities(texts: dict[int, str]) -> dict[int, float]:
    from rnnlab.labs.sentiment import predict
    from rnnlab.nn.models import load_text_model

    tm = load_text_model(ROOT / "assets" / "sentiment")
    return {i: predict(tm, t) for i, t in texts.items()}


def p95(v):
    return statistics.quantiles(v, n=20)[-1] if len(v) >= 2 else (v[0] if v else float("nan"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--students", type=int, default=30)
    ap.add_argument("-k", "--trainings", type=int, default=2)
    ap.add_argument("--pages", action="store_true", help="each student also opens every page once")
    ap.add_argument("--training-timeout", type=float, default=900)
    args = ap.parse_args(argv)

    from app_pages.common import all_pages

    pages = [p.url_path for p in all_pages() if p.url_path != "sentiment"] if args.pages else []
    out = {"load": [], "prediction": [], "full": [], "shown": {}, "pages": {}, "trainings": [], "errors": [],
           "problems": []}
    log = Path("/tmp/rnnlab-classroom-server.log")
    with serve_app(log=log) as url:
        pid = url.pid
        peak = [0.0, 0.0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                a, b = rss_mb(pid)
                peak[0], peak[1] = max(peak[0], a), max(peak[1], b)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        cpu0, own0 = cpu_seconds(pid), time.process_time()

        async def run_all():
            train_tasks = [asyncio.create_task(trainer(url, k, out, args.training_timeout))
                           for k in range(args.trainings)]
            await asyncio.sleep(3 if args.trainings else 0)   # the trainings are under way when students arrive
            await asyncio.gather(*(student(url, i, out, pages) for i in range(args.students)))
            await asyncio.gather(*train_tasks)

        asyncio.run(run_all())
        cpu1, own1 = cpu_seconds(pid), time.process_time()
        stop.set()
        sampler.join()
        wall = time.perf_counter() - t0

    expected = expected_probabilities({i: t for i, (t, _) in out["shown"].items()})
    mixed = []
    for i, (text, shown) in out["shown"].items():
        value = float(re.sub(r"[^0-9.]", "", shown)) / 100
        if shown.startswith(("<", ">")):       # saturated: the page shows "< 0.1%" / "> 99.9%"
            wrong = (expected[i] >= value) if shown.startswith("<") else (expected[i] <= value)
        else:
            wrong = abs(value - expected[i]) > 0.0006  # shown with one decimal of a percent
        if wrong:
            mixed.append(f"student {i}: shown {shown}, its review gives {expected[i]:.1%}")

    load = os.getloadavg()
    print(f"\nrnnlab classroom load test: {args.students} students, {args.trainings} trainings, {wall:.0f} s "
          f"(load average at the end {load[0]:.1f}; {os.cpu_count()} cores)")
    rows = [("time to the prediction, median", statistics.median(out["prediction"]) if out["prediction"] else float("nan"), None),
            ("time to the prediction, p95", p95(out["prediction"]), 1.0),
            ("full Sentiment page after typing, p95", p95(out["full"]), 5.0),
            ("first load of the Sentiment page, p95", p95(out["load"]), None)]
    for page, times in sorted(out["pages"].items()):
        rows.append((f"page {page}, p95", p95(times), 5.0))
    for name, value, target in rows:
        verdict = "" if target is None else ("PASS" if value < target else "FAIL")
        print(f"  {name:<42} {value:7.2f} s" + (f"   target < {target:g} s  {verdict}" if target else ""))
    print(f"  {'peak RSS, server process':<42} {peak[0]:7.0f} MB   target < 3000 MB  "
          f"{'PASS' if peak[0] < 3000 else 'FAIL'}")
    print(f"  {'peak RSS, server + training workers':<42} {peak[1]:7.0f} MB")
    for k, seconds, end in sorted(out["trainings"]):
        print(f"  training {k}: {end} after {seconds:.0f} s")
    finished = [e for _, _, e in out["trainings"] if e.startswith(("Finished", "Early-stopped"))]
    print(f"  trainings that finished: {len(finished)}/{args.trainings}  "
          f"{'PASS' if len(finished) == args.trainings else 'FAIL'}")
    print(f"  sessions that saw another's numbers: {len(mixed)}  {'PASS' if not mixed else 'FAIL'}")
    for line in mixed[:5] + out["problems"][:5] + out["errors"][:5]:
        print("   ", line)
    print(f"  predictions measured: {len(out['prediction'])}/{args.students}; server log: {log}")
    # The simulated students run on this machine too: on a real class server their browsers are elsewhere
    print(f"  CPU seconds in the run ({os.cpu_count()} cores × {wall:.0f} s = {os.cpu_count() * wall:.0f} available): "
          f"app server {cpu1[0] - cpu0[0]:.1f}, training workers {cpu1[1] - cpu0[1]:.1f}, "
          f"the simulated students (this script) {own1 - own0:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
