"""Lessons of Inside the memory (the pretrained model reading the page's review): a unit that fires on "not",
gates that become switches only with training, and the words after which the hidden state jumps."""
from __future__ import annotations

import functools

import numpy as np

from ..data.tokenizer import tokenize
from ..figures.steps import TITLES
from ..labs.memory import (
    DEFAULT_REVIEW,
    FRESH,
    FRESH_CELL,
    FRESH_HIDDEN,
    MAX_TOKENS,
    fresh_text_model,
    gate_saturation,
    pca_path,
    read_model,
)
from ..labs.sentiment.reading import load_shipped
from . import Finding, Lesson, Question

PAGE = "app_pages/memory.py"
DEFAULTS = {"mem_tab": "Heatmaps", "mem_dir": "forward", "mem_units": "16 most varying"}
NOT_UNIT = 43       # a unit of the pretrained model's forward layer that fires on "not" in the page's review
#: Words of the review that carry its sentiment or turn it: where a trained reader's memory should move.
SENTIMENT = {"dull", "surprised", "wonderful", "drags", "rushed", "perfect", "happily"}
TURNS = {"but", "not", "never", "although", "yet"}
GATES = ("i", "f", "g", "o")   # the LSTM's gates, in the Gate saturation chart's order


@functools.lru_cache(maxsize=1)
def _trained() -> dict:
    """The page's default view: the pretrained model's first layer, forward direction."""
    r = read_model(load_shipped(), DEFAULT_REVIEW)
    return {"tokens": r.tokens, **r.signals(0, "forward")}


def _not_unit() -> Finding:
    s = _trained()
    a = np.abs(s["h"][NOT_UNIT])
    k = int(a.argmax())
    ratio = a[k] / np.median(a)
    return Finding(s["tokens"][k] == "not" and ratio >= 5,
                   f"h[{NOT_UNIT}] is largest on “{s['tokens'][k]}” ({s['h'][NOT_UNIT][k]:+.2f}), "
                   f"{ratio:.0f}× its median |h| over the review")


def _saturation() -> Finding:
    s = _trained()
    trained = gate_saturation({g: s[g] for g in ("i", "f", "g", "o")})
    fresh_model = fresh_text_model(tuple(tokenize(DEFAULT_REVIEW)[:MAX_TOKENS]), FRESH_CELL, FRESH_HIDDEN, 0)
    f = read_model(fresh_model, DEFAULT_REVIEW).signals()
    fresh = gate_saturation({g: f[g] for g in ("i", "f", "g", "o")})
    share = {g: (sum(trained[g]), sum(fresh[g])) for g in trained}
    only_trained = all(share[g][0] >= 0.1 and share[g][0] >= 5 * share[g][1] for g in ("i", "f", "o"))
    return Finding(only_trained and share["g"][1] >= 0.1,
                   "saturated values, pretrained vs fresh: " + ", ".join(f"{g} {a:.0%} vs {b:.0%}"
                                                                       for g, (a, b) in share.items()),
                   value=TITLES[max(GATES, key=lambda g: share[g][1])])


def _jumps() -> Finding:
    s = _trained()
    coords, _ = pca_path(s["h"])
    step = np.r_[0.0, np.linalg.norm(np.diff(coords, axis=0), axis=1)]
    top = [s["tokens"][k] for k in np.argsort(-step, kind="stable")[:5]]
    cues = [t for t in top if t in SENTIMENT | TURNS]
    return Finding(top[0] in SENTIMENT and top[1] in SENTIMENT and len(cues) >= 4,
                   "the five longest steps of the path come after: " + ", ".join(f"“{t}”" for t in top))


LESSONS = (
    Lesson("memory.not_unit", "Open <b>Colour the text</b> and move <b>Unit</b>: find a unit that lights up on "
           "<i>not</i> and hardly anywhere else (Show me picks one).",
           {"mem_tab": "Colour the text", "mem_colour_by": "one unit of h", "mem_unit": NOT_UNIT},
           f"unit {NOT_UNIT}: its strongest value on the review is at “not”, many times its usual size",
           "Some units specialise: this one responds to a negation, which can flip what follows. Most units "
           "respond to many things at once, so a clean one like this is rarer.", _not_unit),
    Lesson("memory.saturation", "Open <b>Gate saturation</b> and switch <b>Model</b> between the pretrained one and "
           "a freshly initialised one: which gates saturate only after training?",
           {"mem_tab": "Gate saturation", "mem_source": FRESH},
           "the input, forget and output gates: saturated 10% of the time or more when trained, hardly ever "
           "(about 1%) fresh; the candidate g is saturated often even untrained",
           "A sigmoid gate is below 0.1 or above 0.9 only when its sum is beyond ±2.2: training pushes the sums "
           "there and the gates become switches. The tanh candidate g counts beyond ±0.8, which a sum of ±1.1 "
           "reaches: random weights already get there.", _saturation,
           question=Question("In a freshly initialised model, which gate's values are saturated (near a limit) most "
                             "often?", choices=tuple(TITLES[g] for g in GATES))),
    Lesson("memory.trajectory", "Open <b>Trajectory</b>: after which words does the memory jump?",
           {"mem_tab": "Trajectory"},
           "the longest steps come after sentiment words (dull, wonderful, surprised) and a turn such as but",
           "Words that change the verdict change the state most; function words like “the” move it little.",
           _jumps),
)
