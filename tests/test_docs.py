"""The README and the docs say what the code and the shipped models do: the README stays short and starts with
the two commands, its configuration table lists every environment variable the code reads (once), every
relative link resolves, and the shipped models' figures match the files shipped beside their weights.

Reads files only: nothing is imported from rnnlab and nothing is written.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SENTIMENT_CARD = ROOT / "assets" / "sentiment" / "README.md"
CHARLM_CARD = ROOT / "assets" / "textgen" / "shakespeare_lstm" / "README.md"
MAX_README_BYTES = 15_000

INSTALL = "pip install -r requirements.txt && streamlit run app.py"
TEST = "pip install -r requirements-dev.txt && python3 -m pytest -q"

ENV_VAR = re.compile(r"RNNLAB_[A-Z_]+")
FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", re.S | re.M)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def without_code_blocks(text: str) -> str:
    return FENCE.sub("", text)


def code_blocks(text: str) -> list[str]:
    """The contents of the fenced code blocks, in order."""
    return [m.group(0).split("\n", 1)[1].rsplit("\n", 1)[0].strip() for m in FENCE.finditer(text)]


def tables(text: str) -> list[str]:
    """Each markdown table (a run of lines starting with '|') outside code blocks, as one string."""
    out, current = [], []
    for line in without_code_blocks(text).splitlines():
        if line.lstrip().startswith("|"):
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def source_env_vars() -> set[str]:
    """Every RNNLAB_* name in the code the app runs: rnnlab/, app_pages/ and app.py."""
    files = [ROOT / "app.py", *(ROOT / "rnnlab").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py")]
    found = set()
    for f in files:
        found |= set(ENV_VAR.findall(read(f)))
    return found


def section(text: str, heading: str) -> str:
    """The text under a markdown heading, up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+)\s+(.*)", line)
        if m and m.group(2).strip() == heading:
            level = len(m.group(1))
            body = []
            for nxt in lines[i + 1:]:
                n = re.match(r"(#+)\s", nxt)
                if n and len(n.group(1)) <= level:
                    break
                body.append(nxt)
            return "\n".join(body)
    raise AssertionError(f"no heading {heading!r}")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in without_code_blocks(read(path)).splitlines():
        m = re.match(r"#+\s+(.*?)\s*#*\s*$", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


def linked_docs() -> list[Path]:
    docs = ROOT / "docs"
    return [README, *sorted(docs.glob("*.md")), *sorted((docs / "experiments").glob("*.md")),
            SENTIMENT_CARD, CHARLM_CARD, ROOT / "assets" / "textgen" / "README.md"]


# --- the README's shape --------------------------------------------------------------------------------
def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, f"README.md is {size:,} bytes, over {MAX_README_BYTES:,}: move details to docs/"


def test_readme_starts_with_the_two_commands():
    text = read(README)
    before_first_section = text.split("\n## ", 1)[0]
    blocks = code_blocks(before_first_section)
    assert blocks[:2] == [INSTALL, TEST], "the README must open with the install and the test command"
    first_block = text.index("```")
    assert not re.search(r"^#{2,}\s", text[:first_block], re.M), "nothing but the title before the commands"
    assert len(text[:first_block].splitlines()) <= 4
    assert "Chromium" in before_first_section.split("---", 1)[0], "the Chromium sentence follows the commands"


# --- configuration --------------------------------------------------------------------------------------
def test_source_scan_finds_the_variables():
    found = source_env_vars()
    # a scan that silently finds nothing would make the next test vacuous
    assert {"RNNLAB_TEACHER_PASSWORD", "RNNLAB_DATA", "RNNLAB_CACHE"} <= found


def test_configuration_table_lists_every_variable_once():
    text = read(README)
    config = tables(section(text, "Configuration"))
    assert len(config) == 1, "the Configuration section holds exactly one table"
    table = config[0]
    in_code = source_env_vars()
    in_table = set(ENV_VAR.findall(table))
    assert not in_code - in_table, f"read by the code but missing from the README's table: {sorted(in_code - in_table)}"
    assert not in_table - in_code, f"in the README's table but read nowhere: {sorted(in_table - in_code)}"
    for name in sorted(in_code):
        holding = [t for t in tables(text) if re.search(rf"\b{name}\b", t)]
        assert len(holding) == 1, f"{name} appears in {len(holding)} tables of the README, not one"
        rows = [row for row in table.splitlines() if re.search(rf"`{name}`", row)]
        assert len(rows) == 1, f"{name} has {len(rows)} rows in the configuration table"


# --- links ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", linked_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_images_exist(doc):
    assert doc.exists(), f"{doc.relative_to(ROOT)} is missing"
    broken = []
    for target in LINK.findall(without_code_blocks(read(doc))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):      # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            broken.append(target)
            continue
        if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_link_pattern_sees_links():
    sample = "See [a](docs/a.md), ![b](x.png \"t\") and [c [d]](e.md#f); not `[g](h)` in code? [i](https://j)."
    assert LINK.findall(sample)[:3] == ["docs/a.md", "x.png", "e.md#f"]


def test_readme_links_every_companion_doc():
    links = set(LINK.findall(read(README)))
    for must in ("docs/ARCHITECTURE.md", "docs/benchmarks.md", "docs/experiments/sentiment.md",
                 "docs/experiments/charlm.md", "assets/sentiment/README.md",
                 "assets/textgen/shakespeare_lstm/README.md", "assets/imdb_subset/README.md"):
        assert must in links, f"the README does not link {must}"
    shots = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert shots and shots <= links, f"screenshots the README does not show: {sorted(shots - links)}"


# --- the shipped models' figures ------------------------------------------------------------------------
def sentiment_meta() -> dict:
    return json.loads(read(ROOT / "assets" / "sentiment" / "config.json"))["meta"]


def charlm_meta() -> dict:
    return json.loads(read(ROOT / "assets" / "textgen" / "shakespeare_lstm" / "config.json"))["meta"]


def stated(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text)


ACCURACY = r"test accuracy\b[^*\n]{0,60}\*\*(\d+(?:\.\d+)?)%\*\*"
VAL_LOSS = r"validation loss\b[^*\n]{0,80}\*\*(\d+\.\d+) nats/char\*\*"


@pytest.mark.parametrize("doc", [README, SENTIMENT_CARD], ids=lambda p: str(p.relative_to(ROOT)))
def test_sentiment_accuracy_matches_the_shipped_config(doc):
    expected = f"{100 * sentiment_meta()['test_accuracy']:.2f}"       # 0.9023 -> "90.23", as the README writes it
    found = stated(read(doc), ACCURACY)
    assert found, f"{doc.relative_to(ROOT)} states no test accuracy (**NN.NN%**) for the shipped model"
    assert set(found) == {expected}, f"{doc.relative_to(ROOT)} says {found}, config.json {expected}%"


def test_sentiment_card_calibration_matches_the_shipped_config():
    meta = sentiment_meta()
    text = read(SENTIMENT_CARD)
    assert f"T = {meta['temperature']:.2f}" in text
    cal = meta["calibration"]
    assert f"{100 * cal['ece_before']:.1f}% before, {100 * cal['ece_after']:.1f}% after" in text
    assert f"{100 * meta['val_accuracy']:.2f}%" in text


@pytest.mark.parametrize("doc", [README, CHARLM_CARD], ids=lambda p: str(p.relative_to(ROOT)))
def test_charlm_validation_loss_matches_the_shipped_config(doc):
    expected = f"{charlm_meta()['val_loss']:.4f}"
    found = stated(read(doc), VAL_LOSS)
    assert found, f"{doc.relative_to(ROOT)} states no validation loss (**N.NNNN nats/char**) for the shipped model"
    assert set(found) == {expected}, f"{doc.relative_to(ROOT)} says {found}, config.json {expected}"


def test_charlm_card_figures_match_the_shipped_config():
    meta = charlm_meta()
    text = read(CHARLM_CARD)
    assert f"{meta['val_bpc']:.4f} bits/char" in text
    assert f"{meta['best_step']:,}" in text and f"{meta['minutes']} minutes" in text
    assert f"{meta['params']:,}" in text


@pytest.mark.parametrize(("card", "command"), [(SENTIMENT_CARD, "python -m rnnlab train-sentiment"),
                                               (CHARLM_CARD, "python -m rnnlab train-charlm")],
                         ids=["sentiment", "charlm"])
def test_model_card_names_its_training_command(card, command):
    assert card.exists(), f"{card.relative_to(ROOT)} is missing"
    commands = [line for block in code_blocks(read(card)) for line in block.splitlines()]
    assert any(line.startswith(command + " ") for line in commands), f"{card.relative_to(ROOT)}: no `{command} …`"
