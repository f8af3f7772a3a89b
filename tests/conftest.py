import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def postgres_url():
    """A real, throw-away PostgreSQL server for one test module (tests/pgserver.py), or a skip saying why."""
    import pgserver

    from rnnlab.runtime import database as D

    why = pgserver.available()
    if why:
        pytest.skip(why)
    with pgserver.postgres_server() as url:
        yield url
        D.dispose(url)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not here (development data only)")
    return SHARED_DATA


os.environ.setdefault("RNNLAB_DEVICE", "cpu")
# The app's data folder (class board, teacher settings): a temporary one, never the user's own.
_DATA = tempfile.TemporaryDirectory(prefix="rnnlab-test-data-")
os.environ["RNNLAB_DATA"] = _DATA.name
os.environ.pop("RNNLAB_DATABASE_URL", None)
os.environ.pop("RNNLAB_TEACHER_PASSWORD", None)


@pytest.fixture(scope="module")
def app_url():
    """A real ``streamlit run app.py`` for one test module's browser tests (a module may define its own, with
    other environment variables): its URL."""
    from bench.appserver import chromium_available, serve_app

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    with serve_app(timeout=180) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(app_url):
    """A headless Debian Chromium for the module's browser tests (started once the app is up)."""
    from bench.appserver import browser

    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def app():
    """A real ``streamlit run app.py`` and a headless Debian Chromium, shared by one test module's browser
    tests: (the app's URL, the browser)."""
    from bench.appserver import browser, chromium_available, serve_app

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    with serve_app() as url, browser() as chromium:
        yield url, chromium
