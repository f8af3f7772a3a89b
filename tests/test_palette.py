"""The figures' colours stay apart for red–green colour-blind eyes.

colorspacious simulates deuteranopia and protanopia (Machado et al. 2009, severity 100: the full dichromacy);
two colours count as apart when their distance in CAM02-UCS, a space where distance follows what people see,
is at least MIN_DELTA_E after the simulation. 18 is well above a just-noticeable difference (about 1) and
near what two Okabe–Ito hues keep at worst; the old input/output pair (green #2e7d32, red #c62828) fell to 7
under deuteranopia and is checked to fail.
"""
import itertools

import numpy as np
import pytest

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
