"""Uploads are bounded on the server: the config's cap covers every page's stated limit and no more than 50 MB;
each page states its limit on its uploader, refuses a larger file before reading it (a client can skip the
browser's check), and parses a file once per content however many reruns follow."""
import ast
import tomllib

import pytest
from fixtures import csv_bytes, open_app_page
from streamlit.testing.v1 import AppTest

from rnnlab.data import chars, series, text
from rnnlab.data.chars import MAX_UPLOAD_BYTES
from rnnlab.data.series import MAX_CSV_MB
from rnnlab.data.text import MAX_UPLOAD_MB


def _cap_mb(root) -> int:
    """server.maxUploadSize, in Streamlit's megabytes (MiB)."""
    return tomllib.loads((root / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]


def test_the_servers_upload_cap_covers_every_page_and_stays_small(root):
    cap = _cap_mb(root)
    assert cap <= 50
    for limit_bytes in (MAX_UPLOAD_MB * 1e6, MAX_CSV_MB * 1e6, MAX_UPLOAD_BYTES):
        assert limit_bytes <= cap * 2 ** 20


def test_every_uploader_states_its_own_limit(root):
    """A new st.file_uploader without max_upload_size would silently take the server-wide cap."""
    found = []
    for page in sorted((root / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "file_uploader":
                found.append((page.name, {k.arg for k in node.keywords}))
    assert {name for name, _ in found} >= {"sentiment.py", "forecast.py", "textgen.py"}
    assert all("max_upload_size" in kw for _, kw in found), found


def _counting(monkeypatch, module, name: str) -> list:
    """Replace ``module.name`` by a wrapper that records each call (the page imports it on each run)."""
    real, calls = getattr(module, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


# --- Sentiment lab ---------------------------------------------------------------------------------------
def _sentiment(root) -> AppTest:
    return open_app_page(root, "app_pages/sentiment.py", sent_source="upload")


def test_sentiment_uploader_states_its_limit(root):
    up = _sentiment(root).file_uploader(key="sent_upload")
    assert up.proto.max_upload_size_mb == MAX_UPLOAD_MB <= _cap_mb(root)
    assert f"up to {MAX_UPLOAD_MB} MB" in up.label


def test_sentiment_parses_an_upload_once_per_content(root, monkeypatch):
    calls = _counting(monkeypatch, text, "read_csv")
    raw = csv_bytes(300, seed=23)          # content no other test uploads: nothing cached for it yet
    a = _sentiment(root)
    a.file_uploader(key="sent_upload").upload("reviews.csv", raw, "text/csv").run()
    assert any(c.value.startswith("300 rows") for c in a.caption) and not a.button(key="sent_start").disabled
    a.run()
    a.slider(key="sent_subset").set_value(50).run()
    assert len(calls) == 1                                    # two reruns, one parse
    b = _sentiment(root)                                      # another student, the same file
    b.file_uploader(key="sent_upload").upload("copy.csv", raw, "text/csv").run()
    assert any(c.value.startswith("300 rows") for c in b.caption) and len(calls) == 1
    bad = b"title,score\nnot a review,23\n"
    a.file_uploader(key="sent_upload").upload("bad.csv", bad, "text/csv").run()
    a.run()
    assert any("'text' and a 'label'" in e.value for e in a.error)
    assert len(calls) == 2                                    # a refused file is not parsed again either
    assert a.button(key="sent_start").disabled


def test_sentiment_refuses_an_oversize_upload_before_reading_it(root, monkeypatch):
    monkeypatch.setattr(text, "MAX_UPLOAD_MB", 1)
    calls = _counting(monkeypatch, text, "read_csv")
    at = _sentiment(root)
    assert at.file_uploader(key="sent_upload").proto.max_upload_size_mb == 1
    big = b"text,label\n" + b"a long enough review,1\nanother review,0\n" * 40_000      # 1.6 MB
    at.file_uploader(key="sent_upload").upload("big.csv", big, "text/csv").run()
    assert not at.exception
    assert any(f"{len(big) / 1e6:.1f} MB; the limit is 1 MB" in e.value for e in at.error)
    assert calls == [] and at.button(key="sent_start").disabled


# --- Forecasting lab -------------------------------------------------------------------------------------
def _forecast(root) -> AppTest:
    at = open_app_page(root, "app_pages/forecast.py")
    at.radio(key="fc_source").set_value("upload a CSV").run()
    return at


def test_forecast_parses_an_upload_once_and_refuses_an_oversize_one(root, monkeypatch):
    calls = _counting(monkeypatch, series, "read_table")
    at = _forecast(root)
    assert at.file_uploader(key="fc_upload").proto.max_upload_size_mb == MAX_CSV_MB <= _cap_mb(root)
    bad = b"name,city\nissue,23\nc,d\n"                      # no numeric column: refused
    at.file_uploader(key="fc_upload").upload("bad.csv", bad, "text/csv").run()
    at.run()
    assert any("no numeric column" in e.value for e in at.error) and len(calls) == 1
    monkeypatch.setattr(series, "MAX_CSV_MB", 1)
    at.run()
    big = b"t,v\n" + b"".join(b"%d,%d\n" % (i, i % 7) for i in range(150_000))      # 1.5 MB
    at.file_uploader(key="fc_upload").upload("big.csv", big, "text/csv").run()
    assert any("the limit is 1 MB" in e.value.replace("\\", "") for e in at.error) and len(calls) == 1


# --- Text generation -------------------------------------------------------------------------------------
def _textgen(root) -> AppTest:
    return open_app_page(root, "app_pages/textgen.py", tg_tab="Train live", tg_data="Your own text")


@pytest.mark.parametrize("kind", ["upload", "paste"])
def test_textgen_reads_a_text_once_per_content(root, monkeypatch, kind):
    calls = _counting(monkeypatch, chars, "read_user_text")
    own = f"Issue 23 asks that {kind}d text is read once. " * 120      # about 5,000 characters
    at = _textgen(root)
    if kind == "upload":
        at.file_uploader(key="tg_upload").upload("mine.txt", own.encode(), "text/plain").run()
    else:
        at.text_area(key="tg_paste").set_value(own).run()
    at.run()
    at.select_slider(key="tg_hidden").set_value(64).run()
    assert not at.exception and any(b.key == "tg_train" for b in at.button)
    assert any(f"{int(len(own) * 0.9):,} characters to train on" in c.value for c in at.caption)
    assert len(calls) == 1


def test_textgen_refuses_an_oversize_upload_before_reading_it(root, monkeypatch):
    monkeypatch.setattr(chars, "MAX_UPLOAD_BYTES", 1_000_000)
    calls = _counting(monkeypatch, chars, "read_user_text")
    at = _textgen(root)
    assert at.file_uploader(key="tg_upload").proto.max_upload_size_mb == 1
    at.file_uploader(key="tg_upload").upload("big.txt", b"word " * 300_000, "text/plain").run()
    assert any("1.5 MB; the limit is 1 MB" in w.value.replace("\\", "") for w in at.warning)   # markdown escapes
    assert calls == [] and all(b.key != "tg_train" for b in at.button)
