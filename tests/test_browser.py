"""A real browser: start `streamlit run app.py`, open it in headless Chromium, check and screenshot."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(root):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    port = _free_port()
    env = {**os.environ, "RNNLAB_DEVICE": "cpu", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Screenshots of this run, for a person to look at; the README's own are made by docs/screenshots.py."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def page(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def _wait_for_page(page, title: str) -> None:
    page.get_by_text(title).first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # let Plotly finish drawing before a screenshot
    assert page.locator('[data-testid="stException"]').count() == 0


def test_deep_link_on_a_fresh_server_keeps_navigation(page, app_url, shots):
    # The first request to this server is a deep link: it must still get the sidebar and navigation.
    page.goto(app_url + "/step_through", wait_until="domcontentloaded")
    _wait_for_page(page, "Step through an RNN")
    assert page.get_by_text("Global seed").count() >= 1
    assert page.get_by_text("Page not found").count() == 0
    page.screenshot(path=str(shots / "step_through.png"))


def test_home_page_shows_title_and_diagram(page, app_url, shots):
    page.goto(app_url, wait_until="domcontentloaded")
    _wait_for_page(page, "Recurrent neural networks, step by step")
    assert page.locator(".js-plotly-plot").count() >= 2  # the unrolled diagram and architecture diagrams
    assert "rnnlab" in page.title()
    assert page.get_by_text("Device:").count() >= 1
    page.screenshot(path=str(shots / "home.png"))


def test_memory_page_in_the_browser(page, app_url, shots):
    page.goto(app_url + "/memory", wait_until="domcontentloaded")
    _wait_for_page(page, "Inside the memory")
    page.screenshot(path=str(shots / "memory.png"))


@pytest.mark.parametrize("path,title", [("gradients", "Gradients lab"), ("sentiment", "Sentiment lab"),
                                        ("forecast", "Forecasting lab")])
def test_lab_pages_in_the_browser(page, app_url, shots, path, title):
    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
    page.get_by_text(title).first.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(shots / f"{path}.png"))
