"""Lessons of the Gradients lab: whose gradient reaches step 1, what the forget-gate bias does, and the race."""
from __future__ import annotations

import math
from functools import lru_cache

from ..labs.gradients import CELL_CHOICES, PAGE_FORGET_BIAS, gradient_flow, sci
from ..labs.longrange import CELLS, DEFAULT_LR, RACE_DEFAULTS, solved_threshold, train_task
from . import Finding, Lesson, Question

PAGE = "app_pages/gradients.py"
DEFAULTS = {"gr_tab": "Gradient flow", "gr_T": 100, "gr_cells": ["RNN (tanh)", "LSTM", "GRU"], "gr_hidden": 32,
            "gr_init": "PyTorch default", "gr_scale": "no rescaling", "gr_fbias": PAGE_FORGET_BIAS,
            "gr_skip": False, "gr_input": "random"}
FLOW_CELLS = tuple(CELL_CHOICES[c] for c in DEFAULTS["gr_cells"])     # ("RNN_TANH", "LSTM", "GRU")
NAMES = {"RNN_TANH": "tanh RNN", "LSTM": "LSTM", "GRU": "GRU"}
LABELS = {CELL_CHOICES[c]: c for c in DEFAULTS["gr_cells"]}            # as the page's Cells box names them
SEED = 0
F_GATE = 1 / (1 + math.exp(-PAGE_FORGET_BIAS))      # σ(bias): where a fresh forget gate starts, on average
F_ZERO = 1 / (1 + math.exp(0.0))                    # ... and where it starts at bias 0


@lru_cache(maxsize=16)
def _ratios(T: int, forget_bias: float) -> dict[str, float]:
    """log10 ‖∂L/∂h₁‖/‖∂L/∂h_T‖ of each default cell, as the page computes it (the metrics under the plots)."""
    return {c: gradient_flow(c, T, DEFAULTS["gr_hidden"], seed=SEED, forget_bias=forget_bias).log10_ratio_first_last()
            for c in FLOW_CELLS}


def _lead(r: dict[str, float]) -> float:
    """How many orders of magnitude more of the gradient the LSTM keeps than the better of the other two."""
    return r["LSTM"] - max(v for c, v in r.items() if c != "LSTM")


def _words(r: dict[str, float]) -> str:
    return ", ".join(f"{NAMES[c]} {sci(v)}" for c, v in r.items())


def _who_survives() -> Finding:
    r = _ratios(200, PAGE_FORGET_BIAS)
    return Finding(r["LSTM"] > -6 and _lead(r) > 30 and max(r["RNN_TANH"], r["GRU"]) < -30,
                   f"at T = 200, ‖∂L/∂h₁‖/‖∂L/∂h_T‖: {_words(r)} (the LSTM keeps {_lead(r):.0f} orders of "
                   "magnitude more)", value=LABELS[max(r, key=r.get)])


def _forget_bias_zero() -> Finding:
    leads = {(T, b): _lead(_ratios(T, b)) for T in (DEFAULTS["gr_T"], 200) for b in (PAGE_FORGET_BIAS, 0.0)}
    holds = all(leads[T, PAGE_FORGET_BIAS] > 15 and leads[T, 0.0] < 3 for T in (DEFAULTS["gr_T"], 200))
    return Finding(holds, "; ".join(f"T = {T}: the LSTM's lead {leads[T, PAGE_FORGET_BIAS]:.0f} orders of magnitude "
                                    f"at bias +{PAGE_FORGET_BIAS:g}, {leads[T, 0.0]:.1f} at bias 0 "
                                    f"({_words(_ratios(T, 0.0))})" for T in (DEFAULTS["gr_T"], 200)),
                   value=10 ** _ratios(DEFAULTS["gr_T"], 0.0)["LSTM"])


def _race() -> Finding:
    """The page's race at its defaults (seed 0); the LSTM and GRU stop once solved (the step it solved at is the
    same), the others train all their steps."""
    d = RACE_DEFAULTS
    runs = {c: train_task(d["task"], c, d["T"], steps=d["steps"], hidden=d["hidden"], seed=SEED,
                          eval_every=d["eval_every"], stop_when_solved=c in ("LSTM", "GRU"))[1] for c in CELLS}
    gated = all(runs[c].solved and runs[c].solved_at <= d["steps"] for c in ("LSTM", "GRU"))
    plain = not any(runs[c].solved for c in ("RNN", "IRNN"))
    said = ", ".join(f"{c} at step {r.solved_at}" if r.solved else f"{c} not (best {r.final:.4f})"
                     for c, r in runs.items())
    return Finding(gated and plain, f"adding problem, T = {d['T']}, {d['steps']} steps, solved below "
                                    f"{solved_threshold(d['task'], d['T']):.4f}: {said}")


LESSONS = (
    Lesson("gradients.survives",
           "Drag <b>T</b> to 200: how much of the gradient reaches step 1 in each cell (the numbers under the "
           "plots)?", {"gr_T": 200, "gr_tab": "Gradient flow"},
           "the LSTM keeps more than 1e-6 of it, over 30 orders of magnitude more than the tanh RNN and the GRU "
           "(both below 1e-30)",
           f"The LSTM's forget-gate bias starts at +{PAGE_FORGET_BIAS:g}, so f ≈ σ({PAGE_FORGET_BIAS:g}) = "
           f"{F_GATE:.2f} and the gradient along its cell state c loses only about {1 - F_GATE:.0%} per step; the "
           "tanh RNN and the fresh GRU (update gate z ≈ 0.5) shrink it much more at every step.", _who_survives,
           question=Question("At T = 200, which cell's gradient falls slowest on its way back from step T to step 1?",
                             choices=tuple(DEFAULTS["gr_cells"]))),
    # T is set too: the checkpoint asks for the number the page shows at T = 100 (the lesson before sets 200)
    Lesson("gradients.forget_bias",
           f"Set <b>T</b> to {DEFAULTS['gr_T']} and the <b>LSTM forget-gate bias</b> to 0: how much of the LSTM's "
           "advantage is left?",
           {"gr_fbias": 0.0, "gr_T": DEFAULTS["gr_T"], "gr_tab": "Gradient flow"},
           "the LSTM's lead of many orders of magnitude collapses to about as little as the GRU keeps",
           f"At bias 0 the forget gate starts at f ≈ σ(0) = {F_ZERO:.1f}: along c the gradient is roughly halved at "
           "every step, and the LSTM vanishes like the others (a little more slowly than halving alone predicts: "
           "the units whose f sits higher, and the paths through h, lose less). The advantage is the gate near 1, "
           "not the architecture alone.", _forget_bias_zero,
           question=Question(f"With the forget-gate bias at 0, what is ‖∂L/∂h₁‖/‖∂L/∂h_T‖ for the LSTM at "
                             f"T = {DEFAULTS['gr_T']}?", low=1e-40, high=1.0)),
    Lesson("gradients.race",
           "Race the cells on the adding problem (<i>Long-range tasks</i> tab, press <b>Train</b>): which ones get "
           "below the green <i>solved</i> line, and after how many steps?",
           {"gr_tab": "Long-range tasks", "gr_lr_task": "adding"},
           f"at T = {RACE_DEFAULTS['T']} the GRU and the LSTM solve it within {RACE_DEFAULTS['steps']} steps; the "
           "tanh RNN and the IRNN do not",
           "The gates give the LSTM and the GRU a path on which the error reaches the marked numbers, up to "
           f"{RACE_DEFAULTS['T']} steps back; the tanh RNN's gradient shrinks on the way, and the IRNN, at its "
           f"{DEFAULT_LR['RNN'] / DEFAULT_LR['IRNN']:g} times smaller learning rate, is not there after "
           f"{RACE_DEFAULTS['steps']} updates.", _race, slow=True),
)
