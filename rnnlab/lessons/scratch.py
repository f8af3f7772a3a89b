"""Lessons of An RNN from scratch (NumPy): the memory changes h when x does not, the gradient from the
future, and a character model that learns to spell its sentence.

The first two checks run the page's example (:func:`rnnlab.labs.scratch.course_example`, seed 0); the third
trains the page's character model (:func:`rnnlab.labs.scratch.char_model_job`) with the page's recipe, on
the default sentence and on a longer one (about a second in all).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..labs.scratch import (
    CHAR_DEFAULTS,
    DEFAULT_INPUTS,
    DEFAULT_SENTENCE,
    DEFAULT_TARGETS,
    bptt_by_hand,
    char_model_job,
    course_example,
    parse_indices,
    sample_every,
)
from . import Finding, Lesson

PAGE = "app_pages/scratch.py"
DEFAULTS = {"scr_seed": 0, "scr_in": 3, "scr_hidden": 4, "scr_out": 2, "scr_inputs": DEFAULT_INPUTS,
            "scr_targets": DEFAULT_TARGETS, "scr_tab": "Forward pass"}
SAME = "0, 0, 0"
#: a longer sentence a student might type: it takes the model more steps to spell
LONGER = "recurrent networks read one word at a time and remember"


def _example(inputs: str = DEFAULT_INPUTS):
    s = DEFAULTS
    return course_example(s["scr_in"], s["scr_hidden"], s["scr_out"], s["scr_seed"],
                          parse_indices(inputs, s["scr_in"], "input"), parse_indices(s["scr_targets"], s["scr_out"],
                                                                                     "target"))


def _same_input() -> Finding:
    ex = _example(SAME)
    same_x = bool((ex.X[0] == ex.X).all())
    moves = np.linalg.norm(np.diff(ex.H, axis=0), axis=1)
    # the pre-activation of step 2 is that of step 1 plus W_hh h_1: the memory is all that differs
    memory = np.allclose(ex.pre[1] - ex.pre[0], ex.params["W_hh"] @ ex.H[0], atol=1e-12)
    return Finding(same_x and memory and moves.min() > 0.05,
                   f"x is the same at all {ex.steps} steps; ‖h_(t+1) − h_t‖ = "
                   + ", ".join(f"{m:.3f}" for m in moves) + "; a_2 − a_1 = W_hh h_1" + ("" if memory else " fails"))


def _from_the_future() -> Finding:
    _, records = bptt_by_hand(_example())
    blue = {r["t"]: float(np.linalg.norm(r["dh_next"])) for r in records}
    red = {r["t"]: float(np.linalg.norm(r["dh_out"])) for r in records}
    T = max(blue)
    growing = all(blue[t] > blue[t + 1] for t in range(1, T))
    return Finding(blue[T] == 0 and growing and blue[1] > red[1],
                   "blue (from the future): " + ", ".join(f"t = {t}: {blue[t]:.3f}" for t in sorted(blue, reverse=True))
                   + f"; red at t = 1: {red[1]:.3f}")


class _Samples:
    """The job's context, in this process: keeps the samples, never stops."""

    def __init__(self):
        self.samples: list[tuple[int, str]] = []

    def phase(self, *a, **k):
        pass

    def emit(self, kind, step=0, **data):
        if kind == "sample":
            self.samples.append((step, data["text"]))

    def should_stop(self):
        return None


def _clean(sample: str, words: set[str]) -> bool:
    """Every whole word of a sample is a word of the sentence (the last one may be cut off: not counted)."""
    return all(w in words for w in sample.split()[:-1])


@lru_cache(maxsize=2)
def _spells_from(sentence: str) -> tuple[int | None, bool, float, float]:
    """The page's training on ``sentence`` (seed 0): (the step from which every sample spells only the
    sentence's words or None, whether the first sample already did, the last loss, ln V)."""
    ctx = _Samples()
    steps = CHAR_DEFAULTS["steps"]
    res = char_model_job(ctx, sentence=sentence, hidden=CHAR_DEFAULTS["hidden"], steps=steps, lr=CHAR_DEFAULTS["lr"],
                         temperature=CHAR_DEFAULTS["temperature"], sample_every=sample_every(steps), seed=0)
    words = set(sentence.split())
    clean = [_clean(text, words) for _, text in ctx.samples]
    since = next((ctx.samples[k][0] for k in range(len(clean)) if all(clean[k:])), None)
    return since, clean[0], res["metrics"]["loss_last20"], res["metrics"]["chance_loss"]


def _spells() -> Finding:
    short, first_short, loss, chance = _spells_from(DEFAULT_SENTENCE)
    long, first_long, _, _ = _spells_from(LONGER)
    steps = CHAR_DEFAULTS["steps"]
    return Finding(short is not None and long is not None and not first_short and not first_long
                   and short <= steps // 2 < long <= steps and loss < chance / 10,
                   f"'{DEFAULT_SENTENCE}': only its words from step {short} of {steps} (loss {loss:.3f}, chance "
                   f"{chance:.2f}); '{LONGER}': from step {long}")


LESSONS = (
    Lesson("scratch.same_input", f"Set the <b>inputs</b> to <code>{SAME}</code>: x is the same at every step, so "
           "why does h change? (h₁ enters step 2.)", {"scr_inputs": SAME, "scr_tab": "Forward pass", "scr_fwd_t": 2},
           "h differs at every step although x does not",
           "h_t = tanh(W_xh x_t + W_hh h_(t−1) + b_h): x_t is the same, but h_(t−1) is not. Step 1 reads h₀ = 0, "
           "step 2 adds W_hh h₁: the memory is what changes.", _same_input),
    Lesson("scratch.future", "In <b>Backpropagation by hand</b>, walk back from t = 3 to t = 1 and watch the blue "
           "bar, the part of ∂L/∂h_t that comes back from the future: where is it zero, and where does it outgrow "
           "the red one?", {"scr_tab": "Backpropagation by hand", "scr_bwd_t": 1},
           "zero at t = 3, growing as you walk back, above the red bar at t = 1",
           "No step comes after t = 3. An earlier h_t reaches every later output, so the blue part gathers what "
           "each later step sends back through W_hhᵀ and the tanh's slope. Over many steps, that repeated product "
           "is what vanishes or explodes.", _from_the_future),
    Lesson("scratch.spell", "In <b>Train a character model</b>, press <b>Train</b>: after how many steps do the "
           "samples spell only the sentence's words? Then type a longer sentence of your own and train again.",
           {"scr_tab": "Train a character model"},
           f"'{DEFAULT_SENTENCE}' is spelled within half the {CHAR_DEFAULTS['steps']} steps; a longer sentence "
           "takes longer",
           "The first samples are the sentence's letters in a jumble; the loss falls as the model learns "
           "which letter follows which, and a longer sentence has more to learn. It learns to recite the "
           "sentence, not the language: it has never seen another.", _spells, slow=True),
)
