"""Small data the tests make themselves (no downloads, no shared data), and a page opened in AppTest."""
from __future__ import annotations

import random
import tarfile
from pathlib import Path

POS = ["great", "wonderful", "loved", "brilliant", "superb", "moving"]
NEG = ["awful", "boring", "hated", "terrible", "dull", "waste"]
FILLER = ["the", "film", "plot", "acting", "was", "and", "a", "story", "with", "<br />"]


def review(label: int, rng: random.Random, n: int = 12) -> str:
    words = rng.choices(POS if label else NEG, k=3) + rng.choices(FILLER, k=n)
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def csv_bytes(n: int = 400, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = ["text,label"] + [f'"{review(i % 2, rng)}",{i % 2}' for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def make_aclimdb(root: Path, per_class: int = 20, seed: int = 0) -> Path:
    """An aclImdb-shaped folder: train/test x pos/neg, one review per .txt file (rating in the name)."""
    rng = random.Random(seed)
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            folder = root / "aclImdb" / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                (folder / f"{i}_{8 if label else 2}.txt").write_text(review(label, rng), encoding="utf-8")
    return root


def make_tarball(root: Path, per_class: int = 5) -> Path:
    """aclImdb_v1.tar.gz of a small aclImdb folder, as the official archive is laid out."""
    src = make_aclimdb(root / "src", per_class)
    tar_path = root / "aclImdb_v1.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(src / "aclImdb", arcname="aclImdb")
    return tar_path


def open_app_page(root: Path, page: str, timeout: float = 120, **state):
    """The app in AppTest on ``page`` (``"app_pages/batches.py"``) with ``state`` set in the session, after a
    run without an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=timeout).run()
    at.switch_page(page)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
