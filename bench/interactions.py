"""Time each page's main interaction in a real browser, as a student would feel it.

    python -m bench.interactions                 # every row, 3 repeats each, laptop size
    python -m bench.interactions --rows step,memory --repeat 5 --size projector

Starts ``streamlit run app.py`` (bench/appserver.py), opens each page in headless Chromium, performs the
interaction and measures the time from the action to the page being idle with the new content: a script
run started after the action (Streamlit's websocket says so), it finished, the content the row waits for
is there, and no element is running, stale, a loading skeleton or an undrawn chart. Prints one table with
a target per row (1 s unless the issue says otherwise) and the machine's load average, which decides how
far these numbers are from a quiet 2-core class server: run it on a quiet machine for figures to quote.

Add a row to ``ROWS`` for a new page: the page's URL path, what to do (a function of the Playwright page),
and optionally a JavaScript condition that is true once the new content is shown. A row whose page needs
something built first (the corpus search's index) names a ``setup``: it fills the server's data folder before
the server starts, untimed, so that the row times what a student does once it is there.
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.appserver import SIZES, browser, serve_app, wait_for_app, wait_idle

ROOT = Path(__file__).resolve().parents[1]

_BUSY = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-stale="true"]'
_IDLE_JS = """([busy]) => !document.querySelector(busy) &&
    [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))"""


# --- actions -------------------------------------------------------------------------------------------
def click(name: str) -> Callable:
    """Click the button labelled ``name``."""
    return lambda page, k: page.get_by_role("button", name=name).first.click()


def slide(key: str, steps: int = 1, thumb: int = 0, one_way: str = "") -> Callable:
    """Move the slider keyed ``key`` by ``steps`` with the arrow keys (the repeat alternates direction).
    ``thumb`` 1 is a range's end; ``one_way`` ("ArrowLeft" or "ArrowRight") keeps going that way, so that
    every repeat asks a value that no cache of the server has seen yet."""
    def act(page, k):
        box = page.locator(f".st-key-{key} input[type=range]").nth(thumb)
        box.focus()
        box.press(one_way or ("ArrowRight" if k % 2 == 0 else "ArrowLeft"))
    return act


def type_text(key: str, texts: list[str], area: bool = True) -> Callable:
    """Replace the text of the box keyed ``key`` and commit it (Ctrl+Enter in a text area, Enter otherwise)."""
    def act(page, k):
        box = page.locator(f".st-key-{key} textarea, .st-key-{key} input").first
        box.fill(texts[k % len(texts)])
        box.press("Control+Enter" if area else "Enter")
    return act


def open_from_home(title: str) -> Callable:
    """Click the link to the page titled ``title`` in the home page's list (same session, no reload)."""
    return lambda page, k: page.locator('[data-testid="stMain"]').get_by_role("link", name=title).first.click()


def heading(title: str) -> str:
    return f"() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes({title!r}))"


def text_shown(js_text: str) -> str:
    return f"() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes({js_text!r})"


@dataclass
class Row:
    page: str                       # URL path ("" = home)
    name: str                       # what the student does
    act: Callable                   # act(page, k): the k-th repeat of the interaction
    target: float = 1.0             # seconds
    query: str | Callable[[], str] = ""   # query string to open the page with (a tab, a setting), or its maker
    done: str | None = None         # JS: true once the new content is on the page
    prepare: Callable | None = None  # before the first repeat, untimed
    repeat: int | None = None       # repeats for this row (default: --repeat)
    idle: bool = True               # False: done as soon as ``done`` holds (a live page that reruns each second)
    note: str = ""
    baseline: Callable[[], str] | None = None   # a comparison measured in this run, printed under the table
    setup: Callable[[Path], str] | None = None  # fills the server's data folder before it starts; says what it did
    times: list[float] = field(default_factory=list)
    runs: list[float] = field(default_factory=list)    # of which the server's script run
    error: str = ""


def textgen_baseline(repeat: int = 5) -> str:
    """The pretrained LSTM-800 pair writing the Generate tab's default sample in this process, at the server's
    thread share: through the float32 step (before issue 26) and through int8 products (the page's), alternated
    so that both see the same load."""
    import torch

    from rnnlab.labs.textgen import DEFAULT_LENGTH, DEFAULT_PROMPT, DEFAULT_TEMPERATURE, shipped_model
    from rnnlab.nn.charlm import generate
    from rnnlab.runtime.jobs import default_workers, thread_plan

    shipped = shipped_model()
    if shipped is None:
        return "text generation: no pretrained model to time"
    model, vocab, _ = shipped
    torch.set_num_threads(thread_plan(default_workers())[1])
    times: dict[bool, list[float]] = {False: [], True: []}
    for k in range(repeat + 1):
        for fast in (False, True):
            t0 = time.perf_counter()
            for _ in generate(model, vocab, DEFAULT_PROMPT, DEFAULT_LENGTH, DEFAULT_TEMPERATURE, seed=k, fast=fast):
                pass
            if k:                                   # the first round warms up
                times[fast].append(time.perf_counter() - t0)
    slow, fast = statistics.median(times[False]), statistics.median(times[True])
    return (f"Text generation's sample in this process ({DEFAULT_LENGTH} characters, {torch.get_num_threads()} "
            f"thread(s), median of {repeat}, alternated): float32 step {slow:.2f} s, int8 products {fast:.2f} s, "
            f"{slow / fast:.1f}× faster.")


class _NoJob:
    """The job context a lab's job function expects, for calling it in this process: no progress, no Stop."""

    def phase(self, *_): ...

    def progress(self, *_): ...

    def check(self): ...


@functools.cache
def corpus_index(key: str) -> Callable[[Path], str]:
    """Setup for the corpus search rows: the shipped model ``key``'s index (``MODELS`` of the lab), built into
    the server's data folder by the very job the page's "Build the index" button runs, on one thread as there.
    Cached per model, so that rows sharing a model share one build."""
    def build(data: Path) -> str:
        import torch

        from rnnlab.labs.corpus_search import MODELS, cache_root, corpus_index_job

        m = MODELS[key]
        if not m.present:
            return f"{m.label}: no weights in assets/, its rows will fail"
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        t0 = time.perf_counter()
        try:       # the page finds the index by the weights' digest under <data>/corpus_index, as the job names it
            out = corpus_index_job(_NoJob(), m.kind, str(m.folder), m.corpus, m.label, str(data / cache_root().name))
        finally:
            torch.set_num_threads(threads)
        return f"{m.label}: {out['message']} ({time.perf_counter() - t0:.0f} s here, untimed)"
    return build


def searched(js_text: str = "Search time") -> str:
    """True once the corpus search's result is shown (not the note that no unit is on all along)."""
    return text_shown(js_text)


def search_tab(key: str) -> Callable[[], str]:
    """The query string of the Search the corpus tab on model ``key``: the model radio is bound to the URL by its
    label (asked of the lab when the row runs, so that importing this module stays cheap)."""
    def query() -> str:
        from urllib.parse import urlencode

        from rnnlab.labs.corpus_search import MODELS

        return urlencode({"mem_tab": "Search the corpus", "mem_cs_model": MODELS[key].label})
    return query


def took_model(key: str) -> Callable:
    """Fails the row unless the model radio shows model ``key`` (a bound widget ignores a URL value it does not
    know, and then the page searches another model's index)."""
    def check(page) -> None:
        from rnnlab.labs.corpus_search import MODELS

        shown = page.locator(".st-key-mem_cs_model label:has(input:checked)").first.inner_text().strip()
        if shown != MODELS[key].label:
            raise RuntimeError(f"the page shows {shown!r}, not {MODELS[key].label!r}")
    return check


def search_row(key: str, name: str, act: Callable, note: str) -> Row:
    """A row of the Search the corpus tab on model ``key``: its index built first, five new queries (a slider
    moved one way from the page's default stays within its range and keeps some unit on all along)."""
    return Row("memory", f"Search the corpus, {name}", act, query=search_tab(key), done=searched(),
               prepare=took_model(key), setup=corpus_index(key), repeat=5, note=f"issue 28: a query < 1 s ({note})")


LONG_REVIEW = " ".join(["This film starts slowly, and the middle drags, but the acting is superb and the ending "
                        "is moving; I would not call it perfect, yet it stayed with me for days."] * 80)

ROWS: list[Row] = [
    Row("", "Home: drag Time steps T", slide("home_T")),
    Row("step_through", "Step through: Next ▶", click("Next ▶"),
        done="() => /Step \\d+ of/.test(document.querySelector('[data-testid=stMain]').innerText)"),
    Row("step_through", "Step through: move the step slider", slide("st_t")),
    Row("step_through", "Step through: Next ▶ at hidden size 16", click("Next ▶"), query="st_hidden=16"),
    Row("memory", "Inside the memory: change the unit", slide("mem_unit"), query="mem_tab=Colour+the+text"),
    Row("memory", "Inside the memory: paste a ~2,000-token review", type_text("mem_text", [LONG_REVIEW,
        LONG_REVIEW.replace("superb", "dreadful")]), target=3.0, repeat=2,
        note="issue 9: whole page < 3 s"),
    Row("scratch", "From scratch: move the forward step", slide("scr_fwd_t")),
    Row("batches", "Batches: type the sentences", type_text("bat_text", ["the film was great\nnot good at all\nok",
                                                                          "a b c\nthe end"])),
    Row("sentiment", "Sentiment: type a review → prediction", type_text("sent_text", [
        "Not bad at all, not boring, and not without charm.", "A dull, lifeless film. I want my money back."]),
        done=text_shown("P(positive)")),
    Row("gradients", "Gradients: move the length slider T", slide("gr_T")),
    Row("forecast", "Forecasting: Train → first metric", click("▶ Train"), target=10.0, repeat=1, idle=False,
        done="() => !!document.querySelector('.st-key-fc_loss_live .main-svg, .st-key-fc_table')",
        note="issue 10: first metrics within 10 s"),
    Row("textgen", "Text generation: another sample", click("Another"), baseline=textgen_baseline,
        note="issue 26: whole sample < 1 s"),
    Row("textgen", "Text generation: move the connectivity position", slide("tg_conn_t"),
        query="tg_tab=Connectivity", note="issue 28: bars for every shipped cell and the top-5 table < 1 s"),
    Row("sentiment", "Sentiment: type a review → key words and gradient", type_text("sent_text", [
        "Not bad at all, not boring, and not without charm.", "A dull, lifeless film. I want my money back."]),
        query="sent_tab=Key+words", done=text_shown("Spearman"), note="issue 28: occlusion and the gradient < 1 s"),
    # issue 28: once the index is built, each query is the search (shared by every session, cached per stretch
    # and θ) and the page drawn from it. One way only, from the page's default: every repeat is a new query.
    search_row("sentiment", "IMDB: threshold θ down", slide("mem_cs_thr", one_way="ArrowLeft"), "θ one step lower"),
    search_row("sentiment", "IMDB: stretch a word longer", slide("mem_cs_range", thumb=1, one_way="ArrowRight"),
               "the end moves right"),
    search_row("lstm", "Shakespeare: θ down", slide("mem_cs_thr", one_way="ArrowLeft"),
               "the LSTM-800, θ one step lower"),
    search_row("lstm", "Shakespeare: stretch shorter", slide("mem_cs_range", thumb=1, one_way="ArrowLeft"),
               "the LSTM-800, the end moves left"),
    Row("", "Open the Architectures page from Home", open_from_home("Architectures"), repeat=1,
        done=heading("Architectures")),
    Row("", "Open the Class board from Home", open_from_home("Class board"), repeat=1, done=heading("Class board")),
    Row("", "Open the Teacher page from Home", open_from_home("Teacher"), repeat=1, done=heading("Teacher")),
]


# --- measuring -----------------------------------------------------------------------------------------
class Wire:
    """Streamlit's websocket messages as they arrive: when a script run starts and finishes."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self.starts: list[float] = []
        self.finishes: list[float] = []
        self.running = False
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        m = self._msg()
        try:
            m.ParseFromString(bytes(payload))
        except Exception:
            return
        kind = m.WhichOneof("type")
        if kind == "session_status_changed":
            now = time.perf_counter()
            running = m.session_status_changed.script_is_running
            if running and not self.running:
                self.starts.append(now)
            if not running and self.running:
                self.finishes.append(now)
            self.running = running


def settle_after(page, wire: Wire, t0: float, done: str | None, timeout: float,
                 idle: bool = True) -> tuple[float, float]:
    """Seconds from ``t0`` until a run that started after ``t0`` has finished and the page is idle with the
    new content (the page must then stay idle for 300 ms, else the wait goes on), and how long the server's
    script runs since ``t0`` took."""
    end = t0 + timeout
    first_ok = None
    while time.perf_counter() < end:
        page.wait_for_timeout(15)      # lets Playwright deliver the websocket events
        started = any(s >= t0 for s in wire.starts)
        if not idle:
            if page.evaluate(done):
                return time.perf_counter() - t0, float("nan")
            continue
        ok = started and not wire.running and any(f >= t0 for f in wire.finishes) \
            and page.evaluate(_IDLE_JS, [_BUSY]) and (done is None or page.evaluate(done))
        now = time.perf_counter()
        if ok and first_ok is None:
            first_ok = now
        elif not ok:
            first_ok = None
        if first_ok is not None and now - first_ok >= 0.3:
            runs = sum(f - s for s, f in zip(wire.starts, wire.finishes) if s >= t0 and f <= first_ok)
            return first_ok - t0, runs
    raise TimeoutError(f"not idle with new content within {timeout:.0f} s")


def run_row(chromium, url: str, row: Row, size: str, repeat: int, timeout: float) -> None:
    context = chromium.new_context(viewport=SIZES[size])
    page = context.new_page()
    wire = Wire(page)
    try:
        query = row.query() if callable(row.query) else row.query
        page.goto(f"{url}/{row.page}" + (f"?{query}" if query else ""), wait_until="domcontentloaded")
        wait_for_app(page, timeout=120_000)
        if row.prepare:
            row.prepare(page)
            wait_idle(page, 120_000)
        for k in range(row.repeat or repeat):
            t0 = time.perf_counter()
            row.act(page, k)
            total, server = settle_after(page, wire, t0, row.done, max(timeout, 3 * row.target), row.idle)
            row.times.append(total)
            row.runs.append(server)
            if page.locator('[data-testid="stException"]').count():
                row.error = "exception on the page"
                break
    except Exception as err:
        row.error = f"{type(err).__name__}: {str(err).splitlines()[0][:90]}"
    finally:
        context.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="", help="comma-separated words; run the rows whose name contains one")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", default="laptop", choices=list(SIZES))
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(argv)
    words = [w.strip().lower() for w in args.rows.split(",") if w.strip()]
    rows = [r for r in ROWS if not words or any(w in r.name.lower() for w in words)]
    from app_pages.common import all_pages

    known = {p.url_path for p in all_pages()} | {""}
    covered = {r.page for r in ROWS} | {r.done.split("includes(")[1].split(")")[0].strip("'") for r in ROWS
                                        if r.done and "h1" in r.done}
    missing = sorted(p.url_path for p in all_pages() if not p.default and p.url_path not in covered
                     and p.title not in covered)
    load_before = os.getloadavg()
    setups = list(dict.fromkeys(r.setup for r in rows if r.setup and r.page in known))
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as data:
        for setup in setups:        # before the server starts: it then finds what they built
            print(f"setup: {setup(Path(data))}", file=sys.stderr, flush=True)
        load_timed = os.getloadavg()
        with serve_app(env={"RNNLAB_DATA": data}) as url, browser() as chromium:
            for row in rows:
                if row.page not in known:
                    row.error = "no such page in all_pages()"
                    continue
                print(f"… {row.name}", file=sys.stderr, flush=True)
                run_row(chromium, url, row, args.size, args.repeat, args.timeout)
    load_after = os.getloadavg()

    print(f"\nInteractions in headless Chromium at {args.size} size ({SIZES[args.size]['width']}×"
          f"{SIZES[args.size]['height']}); {os.cpu_count()} CPUs; load average (1, 5, 15 min) "
          f"{' '.join(f'{v:.2f}' for v in load_before)} before, "
          + (f"{' '.join(f'{v:.2f}' for v in load_timed)} after the setup, " if setups else "")
          + f"{' '.join(f'{v:.2f}' for v in load_after)} after.")
    print(f"{'interaction':<52} {'median':>8} {'max':>8} {'server':>8} {'target':>7}  ok   runs  note")
    failed = 0
    for r in rows:
        if r.error or not r.times:
            failed += 1
            print(f"{r.name:<52} {'–':>8} {'–':>8} {'–':>8} {r.target:>6.1f}s  ERR  {len(r.times):>4}  {r.error}")
            continue
        med, mx = statistics.median(r.times), max(r.times)
        ok = med <= r.target
        failed += not ok
        server = statistics.median(r.runs)
        server = f"{server:>7.2f}s" if server == server else f"{'–':>8}"
        print(f"{r.name:<52} {med:>7.2f}s {mx:>7.2f}s {server} {r.target:>6.1f}s  "
              f"{'yes' if ok else 'NO ':<4} {len(r.times):>4}  {r.note}")
    for r in rows:
        if r.baseline is not None and not r.error:
            print("\n" + r.baseline())
    if missing:
        print(f"\nPages with no row yet: {', '.join(missing)}")
    print("\nmedian/max = from the action to a finished script run with the page idle and the new content drawn; "
          "server = the script runs' own time (the rest is the browser drawing and the round trips). A load "
          "average above the CPU count means other processes shared the machine: rerun on a quiet one.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
