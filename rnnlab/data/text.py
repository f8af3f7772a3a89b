"""Text-classification data: the IMDB reviews (Maas et al. 2011) and CSV files of (text, label).

IMDB comes from one of:
* the compact subset shipped in ``assets/imdb_subset/`` (5,000 training and 5,000 test reviews, label-
  balanced, drawn from the official split by ``python -m rnnlab.data.imdb_subset``): always there, so a
  fresh install trains with no download and no path (``load_compact_imdb``);
* the full dataset, in a folder the *teacher* configured (``RNNLAB_IMDB``) or the cache folder
  (``$RNNLAB_CACHE``, default ``~/.cache/rnnlab``) where ``download_imdb`` puts it. A folder holds an
  extracted ``aclImdb/`` (train/pos, train/neg, test/pos, test/neg) or ``imdb_train.csv(.gz)`` and
  ``imdb_test.csv(.gz)``. ``find_imdb`` tries the given folders, then the cache.

Students never type a server path: the page only shows which of these is available (``imdb_sources``).

``download_imdb`` fetches the official tarball once (84 MB), checks its MD5 and extracts it. When it
cannot, ``ImdbUnavailable`` says exactly what to download and where to put it.
"""
from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import http.client
import io
import os
import shutil
import tarfile
import tempfile
import threading
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
IMDB_SIZE_MB = 84
COMPACT_IMDB = Path(__file__).resolve().parents[2] / "assets" / "imdb_subset"
# the shipped subset's files are subset_train/test.csv.gz: named apart from a full IMDB copy (imdb_train/test)
COMPACT_PREFIX = "subset"
# An uploaded CSV of reviews: room for the whole IMDB training half (25,000 reviews, about 33 MB) while a
# parse stays bounded (~5x the file in memory). server.maxUploadSize (.streamlit/config.toml) is at least this.
MAX_UPLOAD_MB = 40
POSITIVE = {"1", "pos", "positive", "true", "yes", "good"}
NEGATIVE = {"0", "neg", "negative", "false", "no", "bad"}


class DataError(ValueError):
    """Bad input data; the message says what is wrong and how to fix it."""


class ImdbUnavailable(RuntimeError):
    """IMDB could not be found or downloaded; the message says what to do."""


@dataclass
class TextDataset:
    texts: list[str]
    labels: np.ndarray          # int64, 0 = negative, 1 = positive

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index) -> TextDataset:
        index = np.asarray(index, dtype=np.int64)
        return TextDataset([self.texts[i] for i in index], self.labels[index])

    def split(self, fraction: float, seed: int = 0, stratify: bool = False) -> tuple[TextDataset, TextDataset]:
        """A shuffled split: ``fraction`` of the rows go to the second part (e.g. validation). With
        ``stratify``, each label is split in the same proportion, so both parts keep the label balance."""
        n_second = int(round(len(self) * fraction))
        if stratify:
            second = _stratified_index(self.labels, n_second, seed)
            rest = np.setdiff1d(np.arange(len(self)), second)
            first = rest[np.random.default_rng(seed + 1).permutation(len(rest))]
            return self.take(first), self.take(second)
        order = np.random.default_rng(seed).permutation(len(self))
        cut = len(self) - n_second
        return self.take(order[:cut]), self.take(order[cut:])

    def stratified(self, n: int, seed: int = 0) -> TextDataset:
        """``n`` rows drawn at random (seeded) with each label's share as in the whole, in shuffled order.

        Never the first ``n`` rows: a folder of reviews lists every positive one before every negative one."""
        if n >= len(self):
            return self.take(np.random.default_rng(seed).permutation(len(self)))
        return self.take(_stratified_index(self.labels, n, seed))

    @property
    def positive_fraction(self) -> float:
        return float(self.labels.mean()) if len(self) else float("nan")

    def head(self, n: int) -> TextDataset:
        return TextDataset(self.texts[:n], self.labels[:n])


def _stratified_index(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` rows, each label getting its share of ``n`` (largest remainders), shuffled."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / max(len(labels), 1)
    quota = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - quota), kind="stable")[: n - int(quota.sum())]:
        quota[k] += 1
    picked = [rng.choice(np.flatnonzero(labels == c), size=min(q, cnt), replace=False)
              for c, q, cnt in zip(classes, quota, counts)]
    index = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
    return index[rng.permutation(len(index))]


def cache_dir() -> Path:
    return Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab"))


# --- CSV -------------------------------------------------------------------------------------------
def parse_label(value) -> int:
    s = str(value).strip().lower()
    if s in POSITIVE:
        return 1
    if s in NEGATIVE:
        return 0
    try:
        f = float(s)
    except ValueError:
        raise DataError(f"label {value!r} is not 0/1 or pos/neg") from None
    if f in (0.0, 1.0):
        return int(f)
    raise DataError(f"label {value!r} is not 0/1 or pos/neg")


def read_csv(source, max_mb: float = MAX_UPLOAD_MB) -> TextDataset:
    """Read a CSV with a text column and a label column (``text,label``; also ``review``/``sentiment``).

    ``source``: a path (``.csv`` or ``.csv.gz``), bytes, or a binary file object (an upload)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise DataError(f"no file at {path}")
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    else:
        raw = source if isinstance(source, bytes) else source.read()
    if len(raw) > max_mb * 1e6:
        raise DataError(f"the file is {len(raw) / 1e6:.0f} MB; the limit is {max_mb:.0f} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("the file is not UTF-8 text (is it a CSV?)") from None
    if not text.strip():
        raise DataError("the file is empty")
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
    except csv.Error as err:
        raise DataError(f"not a readable CSV: {err}") from None
    cols = [h.strip().lower() for h in header]
    t_col = next((cols.index(c) for c in ("text", "review", "sentence", "content") if c in cols), None)
    l_col = next((cols.index(c) for c in ("label", "sentiment", "target", "polarity") if c in cols), None)
    if t_col is None or l_col is None:
        raise DataError(f"the CSV needs a 'text' and a 'label' column; its header is {header}")
    texts, labels, bad = [], [], []
    try:
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(t_col, l_col):
                bad.append(f"line {line_no}: {len(row)} fields")
                continue
            try:
                labels.append(parse_label(row[l_col]))
            except DataError as err:
                bad.append(f"line {line_no}: {err}")
                continue
            texts.append(row[t_col])
    except csv.Error as err:
        raise DataError(f"the CSV breaks at line {reader.line_num}: {err}") from None
    if bad:
        raise DataError(f"{len(bad)} bad row(s), e.g. " + "; ".join(bad[:3]))
    if not texts:
        raise DataError("the CSV has a header but no rows")
    y = np.array(labels, dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise DataError("all rows have the same label: a classifier needs both positive and negative examples")
    return TextDataset(texts, y)


# --- aclImdb folders --------------------------------------------------------------------------------
Progress = Callable[[int, int], None]   # (done, total): may raise to stop the reading (a job's stop)


def read_aclimdb(root: str | Path, progress: Progress | None = None) -> dict[str, TextDataset]:
    """Read an extracted ``aclImdb`` folder (or its parent) into train and test sets.

    ``progress(files_read, files_total)`` is called every 500 files (50,000 files take a while)."""
    root = Path(root)
    if (root / "aclImdb").is_dir():
        root = root / "aclImdb"
    files = {}
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            folder = root / split / name
            if not folder.is_dir():
                raise DataError(f"{folder} is missing: not an aclImdb folder")
            files[split, label] = sorted(folder.glob("*.txt"))
    total, done = sum(len(v) for v in files.values()), 0
    out = {}
    for split in ("train", "test"):
        texts, labels = [], []
        for label in (1, 0):
            for f in files[split, label]:
                if progress is not None and done % 500 == 0:
                    progress(done, total)
                texts.append(f.read_text(encoding="utf-8", errors="replace"))
                labels.append(label)
                done += 1
        out[split] = TextDataset(texts, np.array(labels, dtype=np.int64))
    return out


def _csv_pair(folder: Path, progress: Progress | None = None, prefix: str = "imdb") -> dict[str, TextDataset] | None:
    """``{prefix}_train.csv(.gz)`` and ``{prefix}_test.csv(.gz)`` in ``folder``; None if either is missing."""
    for suffix in (".csv.gz", ".csv"):
        train, test = folder / f"{prefix}_train{suffix}", folder / f"{prefix}_test{suffix}"
        if train.exists() and test.exists():
            out = {}
            for k, (split, path) in enumerate((("train", train), ("test", test))):
                if progress is not None:
                    progress(k, 2)
                out[split] = read_csv(path, max_mb=1e4)
            return out
    return None


def load_imdb(source: str | Path, progress: Progress | None = None) -> dict[str, TextDataset]:
    """Load IMDB from a folder: extracted aclImdb, or imdb_train/imdb_test CSV files. ``progress(done,
    total)`` is called between pieces of the reading (it may raise to stop it)."""
    try:
        folder = Path(source).expanduser()
        found = folder.exists()
    except (OSError, RuntimeError, ValueError):   # a name too long, ~nouser/..., a NUL byte (issue 29)
        raise ImdbUnavailable(unavailable_message(Path(str(source)[:200]))) from None
    if not found:
        raise ImdbUnavailable(unavailable_message(folder))
    pair = _csv_pair(folder, progress)
    if pair is not None:
        return pair
    if (folder / "aclImdb").is_dir() or (folder / "train" / "pos").is_dir():
        return read_aclimdb(folder, progress)
    raise ImdbUnavailable(unavailable_message(folder))


def load_compact_imdb(folder: str | Path = COMPACT_IMDB, progress: Progress | None = None) -> dict[str, TextDataset]:
    """The compact IMDB subset shipped with the app (see ``assets/imdb_subset/README.md``)."""
    pair = _csv_pair(Path(folder), progress, prefix=COMPACT_PREFIX)
    if pair is None:
        raise ImdbUnavailable(f"The compact IMDB subset is missing from {Path(folder).name}/: reinstall the app.")
    return pair


def compact_imdb_info(folder: str | Path = COMPACT_IMDB) -> dict | None:
    """What the shipped subset holds (counts per split and label, from its manifest), or None if absent."""
    path = Path(folder) / "manifest.json"
    if not path.exists() or not _csv_pair_exists(Path(folder), COMPACT_PREFIX):
        return None
    import json

    return json.loads(path.read_text())


@dataclass
class ImdbSources:
    """Which IMDB data this server has, for a page to offer (never a path a student typed)."""

    compact: bool            # the shipped subset
    full: Path | None        # a folder with the full dataset (teacher's setting, or the download cache)
    can_download: bool       # the teacher allows the download and it is not there yet


def imdb_sources(imdb_path: str | None = None, allow_download: bool = False) -> ImdbSources:
    full = find_imdb([imdb_path] if imdb_path else [])
    return ImdbSources(compact_imdb_info() is not None, full, allow_download and full is None)


def folder_problem(folder: str | Path) -> str | None:
    """Why ``folder`` cannot even be looked at on this server (a name too long for the file system, an unknown
    ``~user``, a NUL character), or None. :func:`find_imdb` skips such a folder; a page that lets someone type
    one (the Teacher page) says why with this."""
    try:
        Path(folder).expanduser().exists()
    except RuntimeError:                                    # expanduser: no such user, or no home folder
        return "the ~ at its start names no user with a home folder on this server"
    except (OSError, ValueError) as err:
        if getattr(err, "errno", None) == errno.ENAMETOOLONG:
            return "the name is too long for this server's file system"
        return (getattr(err, "strerror", None) or str(err))[:200]
    if "\x00" in str(folder):
        return "the name holds a NUL character"
    return None


def find_imdb(extra: list[str | Path] = ()) -> Path | None:
    """The first folder that holds IMDB: the given ones, then the cache.

    A folder that cannot even be looked at is skipped, not raised (issue 29): a name too long for the file
    system (OSError), ``~nouser/x`` for a user that does not exist (RuntimeError), a NUL byte (ValueError),
    from RNNLAB_IMDB, RNNLAB_CACHE or a path the teacher saved; the Sentiment page must still open."""
    for candidate in [*extra, None]:
        if candidate is not None and not str(candidate).strip():
            continue                       # a blank setting is no folder (Path("") would be the working folder)
        try:
            folder = (cache_dir() if candidate is None else Path(candidate)).expanduser()
            if (_csv_pair_exists(folder) or (folder / "aclImdb" / "train" / "pos").is_dir()
                    or (folder / "train" / "pos").is_dir()):
                return folder
        except (OSError, RuntimeError, ValueError, TypeError):
            continue
    return None


def _csv_pair_exists(folder: Path, prefix: str = "imdb") -> bool:
    return any((folder / f"{prefix}_train{s}").exists() and (folder / f"{prefix}_test{s}").exists()
               for s in (".csv.gz", ".csv"))


def unavailable_message(where: Path | None = None) -> str:
    target = cache_dir()
    return (("No IMDB data at " + str(where) + ". " if where else "") +
            f"Download {IMDB_URL} ({IMDB_SIZE_MB} MB) and extract it into {target} "
            f"(so that {target / 'aclImdb' / 'train'} exists), or set RNNLAB_CACHE to a folder that holds it, "
            f"or give the path of a folder with an extracted "
            f"aclImdb/ or with imdb_train.csv and imdb_test.csv (columns text,label).")


_DOWNLOAD_LOCK = threading.Lock()   # one download_imdb at a time in this process (see its docstring)


def _installed(dest: Path) -> bool:
    return (dest / "aclImdb" / "train" / "pos").is_dir()


def download_imdb(dest: str | Path | None = None, url: str = IMDB_URL, md5: str | None = IMDB_MD5,
                  progress: Callable[[int, int], None] | None = None, timeout: float = 30) -> Path:
    """Download and extract the IMDB tarball into ``dest`` (default: the cache). Returns the folder.

    Does nothing if it is already there. ``progress(bytes_done, bytes_total)`` is called as it downloads
    (``bytes_total`` is 0 when the server does not say).

    Safe with several callers: within a process they take turns (a second caller waits, then finds the data
    installed); across processes each writes its own temporary files, and ``aclImdb/`` appears by one atomic
    rename, complete or not at all. A failure leaves no partial file behind."""
    dest = Path(dest) if dest is not None else cache_dir()
    with _DOWNLOAD_LOCK:
        if _installed(dest):
            return dest
        try:
            dest.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=Path(url).name + ".", suffix=".part", dir=dest)
        except OSError as err:
            raise ImdbUnavailable(f"Cannot write to the data folder ({err}). " + unavailable_message()) from err
        part = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _fetch(url, out, progress, timeout)
            if md5 is not None and digest != md5:
                raise ImdbUnavailable(f"The download is damaged (MD5 {digest}, expected {md5}). Try again, or "
                                      + unavailable_message())
            _extract(part, dest)
        finally:
            part.unlink(missing_ok=True)
    return dest


def _fetch(url: str, out, progress: Progress | None, timeout: float) -> str:
    """Copy ``url`` into the open file ``out``, 1 MB at a time; returns the MD5 of what was received."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            digest = hashlib.md5()
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (OSError, http.client.HTTPException) as err:     # a cut connection is an HTTPException, not an OSError
        raise ImdbUnavailable(f"Could not download IMDB ({err}). " + unavailable_message()) from err
    if total and done != total:
        raise ImdbUnavailable(f"The download stopped after {done:,} of {total:,} bytes. Try again, or "
                              + unavailable_message())
    return digest.hexdigest()


def _extract(archive: Path, dest: Path) -> None:
    """Unpack ``archive`` into a temporary folder inside ``dest``, then rename its ``aclImdb/`` into place:
    a reader never sees a half-extracted folder as the dataset."""
    work = Path(tempfile.mkdtemp(prefix=".aclImdb.", dir=dest))
    try:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(work, filter="data")
        except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
            raise ImdbUnavailable(f"The archive could not be unpacked ({err}). " + unavailable_message()) from err
        if not _installed(work):
            raise ImdbUnavailable("The archive did not contain aclImdb/train/pos. " + unavailable_message())
        if (dest / "aclImdb").exists() and not _installed(dest):
            shutil.rmtree(dest / "aclImdb")     # an incomplete folder left by an older, interrupted extraction
        try:
            os.rename(work / "aclImdb", dest / "aclImdb")
        except OSError as err:
            if not _installed(dest):           # else another process installed it first: keep theirs
                raise ImdbUnavailable(f"Could not put aclImdb/ in place ({err}). " + unavailable_message()) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
