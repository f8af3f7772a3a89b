"""IMDB loading (folders, CSV, the downloader on a local archive) and CSV validation."""
import gzip
import hashlib

import numpy as np
import pytest
from fixtures import csv_bytes, make_aclimdb, make_tarball

from rnnlab.data.text import (
    DataError,
    ImdbUnavailable,
    download_imdb,
    find_imdb,
    load_imdb,
    read_aclimdb,
    read_csv,
    unavailable_message,
)


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


def test_subsets_keep_the_label_balance_whatever_the_file_order(tmp_path):
    # aclImdb lists every positive review before every negative one: the first rows are all positive
    make_aclimdb(tmp_path, per_class=300)
    train = read_aclimdb(tmp_path)["train"]
    assert train.labels[:300].sum() == 300
    whole = train.positive_fraction
    for percent in (5, 10, 25, 33, 50, 90):
        n = len(train) * percent // 100
        sub = train.stratified(n, seed=percent)
        assert len(sub) == n and len(set(sub.texts)) == n
        assert abs(sub.positive_fraction - whole) <= 0.01, (percent, sub.positive_fraction)
    assert train.stratified(60, seed=1).texts == train.stratified(60, seed=1).texts      # seeded
    assert train.stratified(60, seed=1).texts != train.stratified(60, seed=2).texts


def test_unbalanced_subsets_keep_their_share():
    from rnnlab.data.text import TextDataset

    labels = np.array([1] * 700 + [0] * 300)
    ds = TextDataset([str(i) for i in range(1000)], labels)
    for n in (10, 37, 101, 999):
        assert abs(ds.stratified(n, seed=0).positive_fraction - 0.7) <= max(0.01, 1 / n)
    fit, val = ds.split(0.1, seed=0, stratify=True)
    assert len(val) == 100 and val.labels.sum() == 70 and len(fit) == 900
    assert not set(fit.texts) & set(val.texts)


def test_the_compact_subset_ships_balanced_and_small(root):
    from rnnlab.data.text import COMPACT_IMDB, compact_imdb_info, imdb_sources, load_compact_imdb

    size = sum(f.stat().st_size for f in COMPACT_IMDB.iterdir())
    assert size <= 8e6
    data = load_compact_imdb()
    info = compact_imdb_info()
    for split in ("train", "test"):
        ds = data[split]
        assert len(ds) == info[split]["reviews"] == 5000
        assert ds.labels.sum() == info[split]["positive"] == 2500
        assert len(set(ds.texts)) == len(ds)
        assert ds.labels[:100].mean() != 1.0                 # shuffled, not grouped by label
    assert not set(data["train"].texts) & set(data["test"].texts)
    assert imdb_sources().compact


def test_the_compact_subset_is_drawn_reproducibly(tmp_path, shared_data):
    from rnnlab.data.imdb_subset import main
    from rnnlab.data.text import COMPACT_IMDB

    assert main(["--data", str(shared_data / "imdb"), "--out", str(tmp_path), "--train", "5000", "--test", "5000"]) == 0
    for name in ("subset_train.csv.gz", "subset_test.csv.gz"):
        assert (tmp_path / name).read_bytes() == (COMPACT_IMDB / name).read_bytes()


def test_imdb_sources_never_take_a_students_path(tmp_path, monkeypatch):
    from rnnlab.data.text import imdb_sources

    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    none = imdb_sources(None, allow_download=True)
    assert none.full is None and none.can_download
    assert not imdb_sources(None, allow_download=False).can_download
    make_aclimdb(tmp_path / "teacher", per_class=3)
    configured = imdb_sources(str(tmp_path / "teacher"), allow_download=True)
    assert configured.full == tmp_path / "teacher" and not configured.can_download


@pytest.mark.parametrize("bad", ["a" * 5000, "/" + "b" * 300 + "/imdb", "~nouser_rnnlab_x/imdb", "imdb\x00folder",
                                 "  "])
def test_an_imdb_folder_name_too_long_for_the_file_system_a_missing_user_or_a_nul_byte_is_skipped(
        bad, tmp_path, monkeypatch):
    """issue 29: RNNLAB_IMDB (or a saved path) of 5,000 characters raised OSError, ``~nouser/x`` RuntimeError,
    from find_imdb, and the Sentiment page crashed. Such a folder is skipped: the next candidate is used."""
    from rnnlab.data.text import imdb_sources

    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert find_imdb([bad]) is None
    sources = imdb_sources(bad)
    assert sources.full is None and sources.compact
    make_aclimdb(tmp_path / "cache", per_class=2)
    assert find_imdb([bad]) == tmp_path / "cache"            # the bad candidate skipped, the cache found
    if "\x00" not in bad:                                   # (an environment cannot hold a NUL byte)
        monkeypatch.setenv("RNNLAB_CACHE", bad)              # a bad cache folder is skipped too
        assert find_imdb([tmp_path / "cache"]) == tmp_path / "cache" and find_imdb() is None
    with pytest.raises(ImdbUnavailable):
        load_imdb(bad)


def test_folder_problem_says_why_a_folder_cannot_be_looked_at():
    """issue 29: what find_imdb now skips silently, a page that lets a teacher type a folder can explain."""
    from rnnlab.data.text import folder_problem

    assert "too long" in folder_problem("x" * 1000)
    assert "no user" in folder_problem("~nosuchuser29/imdb")
    assert "NUL" in folder_problem("imdb\x00folder")
    assert folder_problem("/tmp") is None and folder_problem("no/such/folder") is None
