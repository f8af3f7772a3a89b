"""Start `streamlit run app.py` on a free local port and drive it with Debian's Chromium (Playwright).

Shared by the browser tests, the screenshot script and the benchmarks that need a real server:

    with serve_app() as url, browser() as chromium:
        page = chromium.new_page(viewport=SIZES["projector"])
        page.goto(url + "/step_through")
        wait_for_app(page)

Playwright cannot download browsers here; it drives ``/usr/bin/chromium`` through ``executable_path``.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SIZES = {"laptop": {"width": 1400, "height": 900}, "projector": {"width": 1024, "height": 768},
         "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppURL(str):
    """The app's URL; ``.pid`` is the server process (its training workers are its children)."""

    pid: int = 0


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


@contextlib.contextmanager
def serve_app(env: dict | None = None, port: int | None = None, log: Path | None = None, timeout: float = 90):
    """Run the app in its own process; yields its URL; stops it afterwards. The app's data folder is a
    fresh temporary one unless ``env`` sets ``RNNLAB_DATA``."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="rnnlab-app-") as tmp:
        full_env = {**os.environ, "RNNLAB_DEVICE": "cpu", "PYTHONUNBUFFERED": "1", "RNNLAB_DATA": tmp,
                    **(env or {})}
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (the server writes it until stopped)
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            end = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > end:
                        raise RuntimeError("streamlit did not start") from None
                    time.sleep(0.3)
            app_url = AppURL(url)
            app_url.pid = proc.pid
            yield app_url
        finally:
            _stop(proc)
            if log:
                out.close()


def _stop(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)   # the server and its training workers
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@contextlib.contextmanager
def browser():
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(b, url: str, size: dict, text: str | None = None, timeout: float = 120_000, plots: bool = True):
    """``(context, page)``: ``url`` in a fresh browser context of ``size`` (one of :data:`SIZES`; no cookies,
    no session: what a student opening a shared link gets), once the app has drawn it (see
    :func:`wait_for_app`). The caller closes the context; :func:`opened` does it for a ``with`` block."""
    context = b.new_context(viewport=size)
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app(page, text, timeout=timeout, plots=plots)
    except BaseException:
        context.close()
        raise
    return context, page


@contextlib.contextmanager
def opened(b, url: str, size: dict, text: str | None = None, timeout: float = 120_000, plots: bool = True):
    """:func:`open_page` as a ``with`` block: the page, and its context closed afterwards."""
    context, page = open_page(b, url, size, text, timeout, plots)
    try:
        yield page
    finally:
        context.close()


def wait_for_app(page, text: str | None = None, timeout: float = 60_000, plots: bool = True) -> None:
    """Wait until the page has run and drawn: its title (or ``text``) is there, then :func:`wait_idle`."""
    if text:
        page.get_by_text(text).first.wait_for(timeout=timeout)
    else:
        page.locator("h1").first.wait_for(timeout=timeout)
    wait_idle(page, timeout, plots=plots)


#: Streamlit is done with a run when its running indicator is gone, no element is a loading skeleton or
#: stale (greyed while a rerun may replace it), and every Plotly chart has drawn its SVG.
_BUSY = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-stale="true"]'
_IDLE_JS = """([busy, plots, settle]) => {
    const idle = !document.querySelector(busy) && (!plots ||
        [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg')));
    const now = performance.now();
    if (!idle) { window.__rnnlabIdleSince = null; return false; }
    if (window.__rnnlabIdleSince == null) window.__rnnlabIdleSince = now;
    return now - window.__rnnlabIdleSince >= settle;
}"""


def wait_idle(page, timeout: float = 60_000, plots: bool = True, settle_ms: float = 300) -> None:
    """Wait until Streamlit has finished running and drawing, and has stayed so for ``settle_ms`` (one run
    can start right after another, and the running indicator shows only after a short delay)."""
    page.evaluate("() => { window.__rnnlabIdleSince = null; }")
    page.wait_for_function(_IDLE_JS, arg=[_BUSY, plots, settle_ms], timeout=timeout, polling=50)


def horizontal_overflow(page) -> int:
    """How many pixels wider than the window the page is (0 = no horizontal scroll).

    Streamlit scrolls its main area (``stMain``) rather than the document, so that box counts too."""
    return int(page.evaluate("""() => Math.max(document.documentElement.scrollWidth - window.innerWidth,
        ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
            .map(e => e.scrollWidth - e.clientWidth))"""))


def cut_labels(page) -> list[str]:
    """Visible widget labels, button texts, chosen options, tab names, metrics and page links whose text does
    not fit their box and is clipped (often with an ellipsis: "RNN (…", "Ne…")."""
    return page.evaluate("""() => {
        const out = [];
        const roots = document.querySelectorAll('[data-testid="stWidgetLabel"], .stButton button, '
            + '.stDownloadButton button, [data-testid="stSelectbox"] input, [data-testid="stSelectbox"] '
            + '[data-baseweb="select"] > div, [data-testid="stMultiSelect"] [data-baseweb="tag"], '
            + '[role="tab"], [data-testid="stMetricLabel"], [data-testid="stMetricValue"], '
            + '[data-testid="stPageLink"] a');
        for (const root of roots) {
            if (root.offsetParent === null) continue;                  // hidden
            if (root.tagName === 'INPUT') {                            // a chosen option shown in a box
                if (root.scrollWidth > root.clientWidth + 1) out.push(root.value.slice(0, 60));
                continue;
            }
            for (const el of [root, ...root.querySelectorAll('*')]) {
                const cs = getComputedStyle(el);
                if (!/hidden|clip/.test(cs.overflowX) && cs.textOverflow !== 'ellipsis') continue;
                const range = document.createRange();
                range.selectNodeContents(el);
                const text = range.getBoundingClientRect().width;     // counts inline text a scrollWidth misses
                if (el.clientWidth > 0 && (el.scrollWidth > el.clientWidth + 1 || text > el.clientWidth + 1)) {
                    out.push(root.innerText.replace(/\\s+/g, ' ').slice(0, 60));
                    break;
                }
            }
        }
        return [...new Set(out)];
    }""")
