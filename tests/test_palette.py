"""The figures' colours stay apart for red–green colour-blind eyes.

colorspacious simulates deuteranopia and protanopia (Machado et al. 2009, severity 100: the full dichromacy);
two colours count as apart when their distance in CAM02-UCS, a space where distance follows what people see,
is at least MIN_DELTA_E after the simulation. 18 is well above a just-noticeable difference (about 1) and
near what two Okabe–Ito hues keep at worst; the old input/output pair (green #2e7d32, red #c62828) fell to 7
under deuteranopia and is checked to fail.
"""
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rnnlab.figures import style
from rnnlab.figures.style import CELL_COLORS, COLORS, COLORWAY, text_on

colorspacious = pytest.importorskip("colorspacious")

MIN_DELTA_E = 18
DEFICIENCIES = ("deuteranomaly", "protanomaly")     # colorspacious' names; severity 100 = -anopia
OLD_INPUT, OLD_OUTPUT = "#2e7d32", "#c62828"


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def seen_apart(a: str, b: str, deficiency: str) -> float:
    """CAM02-UCS ΔE between two colours as an eye with ``deficiency`` sees them."""
    cvd = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    sa, sb = (np.clip(colorspacious.cspace_convert(_rgb(c), cvd, "sRGB1"), 0, 1) for c in (a, b))
    return float(colorspacious.deltaE(sa, sb, input_space="sRGB1", uniform_space="CAM02-UCS"))


def _pairs(colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    distinct = {}
    for name, c in colours.items():
        distinct.setdefault(c.lower(), name)      # RNN and RNN_TANH share a colour on purpose
    return [(na, nb, a, b) for (a, na), (b, nb) in itertools.combinations(distinct.items(), 2)]


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
@pytest.mark.parametrize("group", ["cells", "diagram"])
def test_colours_drawn_together_stay_apart(deficiency, group):
    colours = dict(CELL_COLORS) if group == "cells" else {k: COLORS[k] for k in ("input", "hidden", "output")}
    if group == "diagram":
        # drawn beside the hidden chain: the step looked at, the encoder's and the backward direction's boxes
        colours |= {k: COLORS[k] for k in ("highlight", "encoder", "backward")}
    close = [f"{na}/{nb} ΔE {d:.1f}" for na, nb, a, b in _pairs(colours)
             if (d := seen_apart(a, b, deficiency)) < MIN_DELTA_E]
    assert not close, f"under {deficiency}: {close}"


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_the_first_six_default_trace_colours_stay_apart(deficiency):
    """Traces without a colour of their own take COLORWAY's in turn: the first six stay apart (more lines than
    that need colours of their own, or labels)."""
    first = {f"trace {k}": c for k, c in enumerate(COLORWAY[:6])}
    close = [f"{na}/{nb}" for na, nb, a, b in _pairs(first) if seen_apart(a, b, deficiency) < MIN_DELTA_E]
    assert not close, f"under {deficiency}: {close}"


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_the_old_red_green_pair_fails_the_same_check(deficiency):
    """The check has teeth: the input/output pair used before issue #26 looks alike to these eyes."""
    assert seen_apart(OLD_INPUT, OLD_OUTPUT, deficiency) < MIN_DELTA_E
    assert seen_apart(COLORS["input"], COLORS["output"], deficiency) >= MIN_DELTA_E


def test_normal_vision_sees_the_cells_apart_too():
    for na, nb, a, b in _pairs(CELL_COLORS):
        d = float(colorspacious.deltaE(_rgb(a), _rgb(b), input_space="sRGB1", uniform_space="CAM02-UCS"))
        assert d >= MIN_DELTA_E, f"{na}/{nb}: ΔE {d:.1f}"


def test_labels_on_boxes_read_black_or_white():
    """A box's label in whichever of black or white contrasts more (the bluish-green input takes black)."""
    assert text_on(COLORS["input"]) == "#000000" and text_on(COLORS["highlight"]) == "#000000"
    assert text_on(COLORS["hidden"]) == "#ffffff" and text_on(COLORS["output"]) == "#ffffff"
    assert text_on("#ffffff") == "#000000" and text_on("#000000") == "#ffffff"


# --- every figure draws from the palette; no character the classroom's browser draws as a box ---------------------
ROOT = Path(__file__).resolve().parents[1]
FIGURES = sorted(p for p in (ROOT / "rnnlab" / "figures").glob("*.py"))
#: Files whose colour literals are not the course's: style.py defines the palette; fast.py copies Plotly's
#: plotly_white template (its own colorway, which base_layout's COLORWAY replaces on every figure).
NOT_DRAWING = {"style.py": "defines the palette", "fast.py": "Plotly's template, colorway replaced by base_layout"}
HEX = re.compile(r"(?<![&\w])#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?![0-9a-zA-Z_])")
RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")


def _palette() -> set[tuple[int, int, int]]:
    values = [*COLORS.values(), *CELL_COLORS.values(), *COLORWAY, *style.OKABE_ITO.values(), style.WINE,
              style.VERMILLION, *style.SIGN.values(), *style.TINTS.values()]
    return {tuple(int(round(x * 255)) for x in _rgb(v)) for v in values}


def _literals(text: str):
    for m in HEX.finditer(text):
        h = m.group(1) if len(m.group(1)) == 6 else "".join(c * 2 for c in m.group(1))
        yield m.group(0), tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    for m in RGB.finditer(text):
        yield m.group(0), tuple(int(v) for v in m.groups())


def test_figures_use_only_palette_colours_or_greys():
    """A colour written into a figure module is a palette value from style.py, or a grey (no hue: nothing a
    colour-blind eye could confuse), so no new red/green pair slips in."""
    palette = _palette()
    stray = [f"{p.name}: {lit}" for p in FIGURES if p.name not in NOT_DRAWING
             for lit, rgb in _literals(p.read_text(encoding="utf-8")) if rgb not in palette and len(set(rgb)) > 1]
    assert not stray, f"colours outside rnnlab/figures/style.py's palette: {stray}"


def test_the_literal_scan_sees_the_old_colours():
    found = dict(_literals('line=dict(color="#c62828") x="#2e7d32" rgba(46,125,50,0.1) "#777" &#39; issue #26'))
    assert set(found) == {"#c62828", "#2e7d32", "rgba(46,125,50", "#777"}
    assert found["#777"] == (119, 119, 119) and found["#c62828"] not in _palette()


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
@pytest.mark.parametrize("gates", ["ifgo", "rzn"])
def test_gates_drawn_together_stay_apart(deficiency, gates):
    """Step through draws a cell's gates as bars side by side (LSTM: i f g o; GRU: r z n)."""
    from rnnlab.figures.steps import VECTOR_COLORS

    close = [f"{na}/{nb}" for na, nb, a, b in _pairs({g: VECTOR_COLORS[g] for g in gates})
             if seen_apart(a, b, deficiency) < MIN_DELTA_E]
    assert not close, f"under {deficiency}: {close}"


PAGES_AND_FIGURES = sorted((ROOT / "app_pages").glob("*.py")) + FIGURES
#: Characters outside the Basic Multilingual Plane (emoji) that may stay, each with why.
ASTRAL_ALLOWED = {"😀": "DejaVu Sans has it (the sentiment prediction's face): it renders without an emoji font"}


def test_pages_and_figures_carry_no_emoji_outside_the_allow_list():
    found = [f"{p.relative_to(ROOT)}:{n}: {c!r}" for p in PAGES_AND_FIGURES
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             for c in line if ord(c) > 0xFFFF and c not in ASTRAL_ALLOWED]
    assert not found, f"emoji that Chromium without an emoji font draws as a box: {found}"


def _dejavu_sans() -> set[int] | None:
    """The code points DejaVu Sans covers (the font Debian's Chromium falls back on for what Source Sans Pro
    lacks), from fontconfig; None where fontconfig or the font is missing."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    out = subprocess.run([fc_list, "-f", "%{charset}\n", "DejaVu Sans:style=Book"], capture_output=True, text=True,
                         timeout=30).stdout.split("\n")[0]
    covered = set()
    for part in out.split():
        a, _, b = part.partition("-")
        covered.update(range(int(a, 16), int(b or a, 16) + 1))
    return covered or None


def test_every_character_on_the_pages_has_a_glyph_in_dejavu_sans():
    """Catches the emoji inside the BMP too (✅ ❌ ⏳ ⏱ have no glyph there and drew as boxes)."""
    covered = _dejavu_sans()
    if covered is None:
        pytest.skip("fontconfig or DejaVu Sans not installed")
    assert ord("✓") in covered and ord("✅") not in covered
    missing = sorted({f"{c!r} (U+{ord(c):04X}) in {p.relative_to(ROOT)}" for p in PAGES_AND_FIGURES
                      for c in p.read_text(encoding="utf-8") if ord(c) > 127 and ord(c) not in covered})
    assert not missing, f"characters that draw as a box without an emoji font: {missing}"
