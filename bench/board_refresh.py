"""What one open Class board costs per refresh when nothing changed: a real ``streamlit run app.py``, a
board of 5,000 runs, one headless Chromium tab on /board, then N seconds in which no run is added.

    python -m bench.board_refresh [--rows 5000] [--seconds 20] [--refresh 1]
    python -m bench.board_refresh --in-process [--rows 5000]

Prints the server's CPU seconds (user + system, from /proc) and the WebSocket bytes the tab received, per
refresh. The browser keeps the big messages it was sent lately and the server then sends a reference in
their place, so the bytes the server builds count too: ``--in-process`` runs the page in Streamlit's AppTest,
then its timer fragment alone, and adds up the messages each refresh builds (before that substitution) and
its wall time. Not a test (pytest does not collect it): a measurement to quote, on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# settings as the labs send them (several each): with 5,000 runs most combinations of settings and cell are
# met by one run or two, so the pooled plot has hundreds of series, as on a real class's board
LABS = {"longrange": ("adding", {"T": [10, 50, 100, 200], "hidden": [16, 32, 64], "lr": [0.001, 0.01, 0.1],
                                 "layers": [1, 2], "batch": [16, 32, 64], "clip": [0.5, 1.0, None]}, "accuracy"),
        "forecast": ("sine", {"window": [12, 24, 48], "hidden": [16, 32], "lr": [0.001, 0.01],
                              "horizon": [1, 6, 12], "batch": [16, 32]}, "mae"),
        "sentiment": ("IMDB subset", {"hidden": [32, 64, 128], "layers": [1, 2], "lr": [0.001, 0.003],
                                      "dropout": [0.0, 0.2, 0.5], "embed": [32, 64], "max_len": [100, 200]},
                      "test_acc"),
        "scratch": ("characters", {"hidden": [16, 32, 64], "steps": [100, 300], "lr": [0.01, 0.1],
                                   "seq_len": [16, 32]}, "loss")}


def fill(url: str, n: int, class_code: str = "") -> None:
    """``n`` plausible runs (four labs, three cells, a grid of settings, random seeds) in one transaction."""
    from rnnlab.runtime.board import Board
    from rnnlab.runtime.database import runs

    rng = random.Random(0)
    board = Board(url)
    lines = []
    for i in range(n):
        lab = rng.choice(list(LABS))
        task, grid, metric = LABS[lab]
        lines.append({"recorded_at": time.time() - (n - i), "class_code": class_code, "lab": lab, "task": task,
                      "cell": rng.choice(["RNN", "LSTM", "GRU"]),
                      "params": {k: rng.choice(v) for k, v in grid.items()}, "seed": rng.randrange(1000),
                      "device": "CPU", "wall_seconds": rng.uniform(2, 60), "end_state": "finished",
                      "metrics": {metric: rng.random(), "loss": rng.random() * 2}, "epochs": rng.randrange(1, 20),
                      "nickname": f"student{rng.randrange(30)}"})
    with board.engine.begin() as conn:
        conn.execute(runs.insert(), lines)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def in_process(rows: int, refreshes: int = 5) -> None:
    """The page in AppTest; then its timer fragment (found by the auto-rerun message it sends) run alone."""
    import functools

    from streamlit.runtime.scriptrunner_utils import script_run_context as ctx
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.testing.v1 import AppTest, local_script_runner

    data = tempfile.mkdtemp(prefix="rnnlab-board-measure-")
    os.environ["RNNLAB_DATA"] = data
    fill(f"sqlite:///{Path(data) / 'rnnlab.sqlite3'}", rows)
    sent: list = []
    enqueue = ctx.ScriptRunContext.enqueue
    ctx.ScriptRunContext.enqueue = lambda self, msg: (sent.append(msg), enqueue(self, msg))[1]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/board.py").run()
    timers = [m.auto_rerun.fragment_id for m in sent if m.WhichOneof("type") == "auto_rerun"]
    local_script_runner.RerunData = functools.partial(RerunData, fragment_id_queue=timers[-1:], is_auto_rerun=True)
    sent.clear()
    start = time.perf_counter()
    for _ in range(refreshes):
        at.run()
    seconds = (time.perf_counter() - start) / refreshes
    built = sum(m.ByteSize() for m in sent if m.WhichOneof("type") == "delta") / refreshes
    kinds: dict[str, float] = {}
    for m in sent:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            kind = m.delta.new_element.WhichOneof("type")
            kinds[kind] = kinds.get(kind, 0) + m.ByteSize() / refreshes
    biggest = sorted(kinds.items(), key=lambda kv: -kv[1])[:3]
    print(f"{rows:,} rows, the timer fragment alone, {refreshes} refreshes:")
    print(f"  {seconds * 1000:.0f} ms wall per refresh, {built / 1e3:.1f} kB of elements built per refresh "
          f"(largest: {', '.join(f'{kind} {size / 1e3:.0f} kB' for kind, size in biggest) or 'no element'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--refresh", type=float, default=1.0)
    ap.add_argument("--in-process", action="store_true", help="AppTest: the bytes each refresh builds")
    args = ap.parse_args()
    if args.in_process:
        return in_process(args.rows)

    from bench.appserver import browser, serve_app, wait_for_app

    with tempfile.TemporaryDirectory(prefix="rnnlab-board-measure-") as data:
        fill(f"sqlite:///{Path(data) / 'rnnlab.sqlite3'}", args.rows)
        env = {"RNNLAB_DATA": data, "RNNLAB_BOARD_REFRESH": str(args.refresh),
               "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
        with serve_app(env=env) as url, browser() as chromium:
            page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
            received = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(
                len(f) if isinstance(f, (bytes, str)) else 0)))
            page.goto(url + "/board")
            wait_for_app(page, text="Best runs per lab", timeout=120_000)
            # Playwright hands events over only while it runs: wait with it, not with time.sleep
            page.wait_for_timeout(2000 * args.refresh)          # let the first refreshes settle
            received.clear()
            cpu0 = cpu_seconds(url.pid)
            page.wait_for_timeout(1000 * args.seconds)
            cpu = cpu_seconds(url.pid) - cpu0
            frames, total = len(received), sum(received)
    refreshes = args.seconds / args.refresh
    print(f"{args.rows:,} rows, {args.seconds:g} s idle at one refresh every {args.refresh:g} s "
          f"({refreshes:g} refreshes), one tab:")
    print(f"  server CPU   {cpu:.2f} s in all, {cpu / refreshes * 1000:.0f} ms per refresh")
    print(f"  sent to tab  {total / 1e6:.3f} MB in {frames} WebSocket frames, {total / refreshes / 1e3:.1f} kB "
          "per refresh")


if __name__ == "__main__":
    main()
