"""IMDB loading (folders, CSV, the downloader on a local archive) and CSV validation."""
import gzip
import hashlib

import numpy as np
import pytest

from fixtures import csv_bytes, make_aclimdb, make_tarball
from rnnlab.data.text import (DataError, ImdbUnavailable, download_imdb, find_imdb, load_imdb, read_aclimdb, read_csv,
                         unavailable_message)


def test_read_aclimdb_folder(tmp_path):
    make_aclimdb(tmp_path, per_class=7)
    data = read_aclimdb(tmp_path)
    assert len(data["train"]) == len(data["test"]) == 14
    assert data["train"].labels.sum() == 7
    assert find_imdb([tmp_path]) == tmp_path
    assert len(load_imdb(tmp_path)["test"]) == 14


def test_imdb_csv_pair(tmp_path):
    (tmp_path / "imdb_train.csv.gz").write_bytes(gzip.compress(csv_bytes(30)))
    (tmp_path / "imdb_test.csv.gz").write_bytes(gzip.compress(csv_bytes(20, seed=1)))
    data = load_imdb(tmp_path)
    assert len(data["train"]) == 30 and len(data["test"]) == 20
    assert set(np.unique(data["train"].labels)) == {0, 1}


def test_download_from_a_local_archive_checks_md5_and_extracts(tmp_path, monkeypatch):
    tar = make_tarball(tmp_path / "server")
    md5 = hashlib.md5(tar.read_bytes()).hexdigest()
    seen = []
    dest = download_imdb(tmp_path / "cache", url=tar.as_uri(), md5=md5, progress=lambda d, t: seen.append((d, t)))
    assert (dest / "aclImdb" / "train" / "pos").is_dir() and seen and seen[-1][0] == tar.stat().st_size
    assert len(load_imdb(dest)["train"]) == 10
    assert download_imdb(dest, url="file:///nonexistent", md5=md5) == dest  # already there: no download
    with pytest.raises(ImdbUnavailable, match="damaged"):
        download_imdb(tmp_path / "other", url=tar.as_uri(), md5="0" * 32)
    assert not list((tmp_path / "other").glob("*.part"))


def test_offline_says_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ImdbUnavailable) as err:
        download_imdb(url=(tmp_path / "missing.tar.gz").as_uri())
    msg = str(err.value)
    assert "aclImdb_v1.tar.gz" in msg and str(tmp_path / "cache") in msg
    assert find_imdb() is None
    with pytest.raises(ImdbUnavailable, match="Download"):
        load_imdb(tmp_path / "nowhere")
    assert "RNNLAB_CACHE" in unavailable_message()


def test_read_csv_accepts_common_shapes():
    ds = read_csv(b"review,sentiment\n\"Great, really\",positive\nDull,negative\n")
    assert ds.texts == ["Great, really", "Dull"] and ds.labels.tolist() == [1, 0]
    ds = read_csv("\ufefftext,label\nok,1\nbad,0\n\n".encode())  # BOM and blank lines
    assert len(ds) == 2


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\xff\xfe\x00bin", "UTF-8"),
    (b"title,score\na,1\nb,0\n", "'text' and a 'label'"),
    (b"text,label\n", "no rows"),
    (b"text,label\na,1\nb,maybe\n", "maybe"),
    (b"text,label\na,1\nb,1\n", "same label"),
    (b"text,label\na\n", "bad row"),
])
def test_read_csv_explains_what_is_wrong(content, message):
    with pytest.raises(DataError, match=message):
        read_csv(content)


def test_read_csv_size_limit():
    with pytest.raises(DataError, match="limit"):
        read_csv(b"text,label\n" + b"x,1\n" * 1000, max_mb=0.001)
