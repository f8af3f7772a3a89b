"""One IMDB download for the whole server: two callers (threads, or two students' sessions) share one fetch
from a local fake server, see the same progress and the same end, and a failure leaves no partial file."""
import hashlib
import http.server
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures import make_aclimdb, make_tarball
from streamlit.testing.v1 import AppTest

from rnnlab.data import download as download_mod
from rnnlab.data.download import SharedDownload
from rnnlab.data.text import ImdbUnavailable, download_imdb, load_imdb

PAGE = "app_pages/sentiment.py"


class FakeServer:
    """An HTTP server on 127.0.0.1 that serves ``payload`` to every GET, counting them. ``mode``: "ok", "cut"
    (the connection closes halfway through the body) or "error" (HTTP 500). Each response waits for ``gate``."""

    def __init__(self, payload: bytes, mode: str = "ok"):
        self.payload, self.mode, self.hits = payload, mode, 0
        self.gate = threading.Event()
        self.gate.set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                server.gate.wait(10)
                if server.mode == "error":
                    self.send_error(500)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                body = server.payload if server.mode == "ok" else server.payload[: len(server.payload) // 2]
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/aclImdb_v1.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive(tmp_path) -> tuple[bytes, str]:
    data = make_tarball(tmp_path / "served").read_bytes()
    return data, hashlib.md5(data).hexdigest()


@pytest.fixture
def serve(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")     # never through a proxy: the server is local
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    servers = []

    def start(payload: bytes, mode: str = "ok") -> FakeServer:
        servers.append(FakeServer(payload, mode))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _wait_until(condition, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def _in_parallel(fn, n: int = 2) -> list:
    """``fn()`` called by ``n`` threads released together; their results."""
    barrier, out = threading.Barrier(n), [None] * n

    def call(i):
        barrier.wait()
        out[i] = fn()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir() if p.name != "aclImdb")


def test_two_clicks_share_one_download(tmp_path, archive, serve):
    data, md5 = archive
    server = serve(data)
    server.gate.clear()                      # hold the response: the second click comes while the first runs
    dest = tmp_path / "cache"
    shared = SharedDownload(lambda progress: download_imdb(dest, url=server.url, md5=md5, progress=progress))
    first, second = _in_parallel(shared.start)
    assert first.attempt == second.attempt == 1 and first.running and second.running
    _wait_until(lambda: server.hits == 1)
    assert shared.status().running
    server.gate.set()
    end = shared.wait(30)
    assert server.hits == 1                                  # one fetch for both
    assert end.succeeded and end.error is None and end.result == dest
    assert end.done == end.total == len(data)                # both read the same progress
    assert len(load_imdb(dest)["train"]) == 10
    assert _leftovers(dest) == []                            # no .part, no half-extracted folder
    assert shared.start().attempt == 2 and shared.wait(30).succeeded and server.hits == 1   # installed: no refetch


def test_download_imdb_itself_lets_one_caller_fetch(tmp_path, archive, serve):
    data, md5 = archive
    server = serve(data)
    server.gate.clear()
    dest = tmp_path / "cache"
    results = []
    call = lambda: results.append(download_imdb(dest, url=server.url, md5=md5))     # noqa: E731
    threads = [threading.Thread(target=call) for _ in range(2)]
    threads[0].start()
    _wait_until(lambda: server.hits == 1)        # the first is downloading...
    threads[1].start()
    time.sleep(0.3)                              # ...when the second one asks
    server.gate.set()
    for t in threads:
        t.join(30)
    assert results == [dest, dest] and server.hits == 1
    assert _leftovers(dest) == [] and len(load_imdb(dest)["test"]) == 10


@pytest.mark.parametrize("mode, md5_ok, message", [("ok", False, "damaged"), ("cut", True, "stopped after"),
                                                   ("error", True, "Could not download")])
def test_a_failed_download_leaves_nothing_and_tells_everyone(tmp_path, archive, serve, mode, md5_ok, message):
    data, md5 = archive
    server = serve(data, mode)
    server.gate.clear()
    dest = tmp_path / "cache"
    shared = SharedDownload(lambda p: download_imdb(dest, url=server.url, md5=md5 if md5_ok else "0" * 32,
                                                    progress=p))
    _in_parallel(shared.start)
    _wait_until(lambda: server.hits == 1)
    server.gate.set()
    seen = _in_parallel(lambda: shared.wait(30))             # both callers see the same end
    assert seen[0] == seen[1] and not seen[0].running and not seen[0].succeeded
    assert message in seen[0].error and server.hits == 1
    assert list(dest.iterdir()) == []                        # no .part, no temporary folder, no aclImdb/


def test_a_damaged_archive_is_not_installed(tmp_path, serve):
    server = serve(b"not a tar.gz at all" * 100)
    with pytest.raises(ImdbUnavailable, match="could not be unpacked"):
        download_imdb(tmp_path / "cache", url=server.url, md5=None)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_worker_that_raises_anything_still_ends_the_attempt():
    def work(progress):
        progress(5, 10)
        raise KeyError("boom")

    shared = SharedDownload(work)
    end = (shared.start(), shared.wait(10))[1]
    assert not end.running and end.error == "'boom'" and (end.done, end.total) == (5, 10)


# --- the page: a second student's session sees the same download -----------------------------------------
def _page(root) -> AppTest:
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def held_download(tmp_path, monkeypatch):
    """The server's IMDB download replaced by one that reports 3 of 10 MB and waits for ``gate``; it then
    installs a tiny aclImdb in the cache, or fails if ``outcome["fail"]``. Downloads are allowed."""
    from rnnlab.runtime import settings as settings_mod

    cache = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_CACHE", str(cache))
    monkeypatch.setenv("RNNLAB_IMDB", "")
    real = settings_mod.load_settings
    monkeypatch.setattr(settings_mod, "load_settings", lambda: replace(real(), allow_imdb_download=True,
                                                                       imdb_path=None))
    gate, outcome = threading.Event(), {"fail": False, "calls": 0}

    def work(progress):
        outcome["calls"] += 1
        progress(3_000_000, 10_000_000)
        gate.wait(30)
        if outcome["fail"]:
            raise ImdbUnavailable("Could not download IMDB (no route to host).")
        return make_aclimdb(cache, per_class=2)

    shared = SharedDownload(work)
    monkeypatch.setattr(download_mod, "_IMDB", shared)
    yield shared, gate, outcome
    gate.set()
    shared.wait(10)


@pytest.mark.parametrize("fail", [False, True])
def test_a_second_session_sees_the_running_download_and_its_end(root, held_download, fail):
    shared, gate, outcome = held_download
    outcome["fail"] = fail
    a, b = _page(root), _page(root)
    assert a.radio(key="sent_source").options == b.radio(key="sent_source").options
    assert "IMDB, full" not in a.radio(key="sent_source").options
    a.button(key="sent_download").click().run()
    assert not a.exception and shared.status().running
    b.run()                                                  # the second student, who did not click
    for at in (a, b):
        bar = at.get("progress")
        assert len(bar) == 1 and bar[0].value == 30 and "3 of 10 MB" in bar[0].text
        assert not [x for x in at.button if x.key == "sent_download"]     # nothing to start twice
    gate.set()
    shared.wait(10)
    for at in (a, b):
        at.run()
        assert not at.exception and not at.get("progress")
        if fail:
            assert any("download of the full IMDB failed" in e.value for e in at.error)
            assert "no route" not in " ".join(e.value for e in at.error)   # a plain message, no details
        else:
            assert any("full IMDB is now on this server" in s.value for s in at.success)
            assert "IMDB, full" in at.radio(key="sent_source").options
    assert outcome["calls"] == 1
    a.run()                                                  # told once, then the message goes
    assert not [e for e in a.error if "download" in e.value] and not a.success
