"""Checkpoints (``rnnlab.lessons.Question``): every lab page asks the class at least one, each is a fair question,
and the answer a lesson's check computes is valid and agrees with the lab's own numbers.

The answer is what the teacher reveals beside the class's guesses, so it must be one of the choices (or a number
well inside the scale the class guessed on) and the very thing the page shows with the lesson's settings:
where cheap, the tests compute it again from the lab function the page calls.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from statistics import median

import numpy as np
import pytest

from rnnlab.lessons import Question, checkpoints, computed_answer, find_lesson, page_defaults

PAGES = ("gradients", "sentiment", "step_through", "memory", "architectures", "forecast", "textgen", "compare")
CHECKPOINTS = checkpoints()


def _params():
    return [pytest.param(p, le, id=le.key, marks=[pytest.mark.slow] if le.slow else []) for p, le in CHECKPOINTS]


def test_every_lab_page_asks_a_checkpoint_and_gradients_asks_both_kinds():
    pages = Counter(p for p, _ in CHECKPOINTS)
    assert all(pages[p] >= 1 for p in PAGES), {p: pages[p] for p in PAGES}
    kinds = {le.question.numeric for p, le in CHECKPOINTS if p == "gradients"}
    assert kinds == {True, False}


@pytest.mark.parametrize("page, lesson", [pytest.param(p, le, id=le.key) for p, le in CHECKPOINTS])
def test_each_question_is_one_plain_sentence_with_a_fair_scale(page, lesson):
    q: Question = lesson.question
    assert q.text.endswith("?") and q.text.count("?") == 1 and len(q.text) <= 160, q.text
    assert not re.search(r"</?[a-z]+|\*\*|`|__", q.text), f"{lesson.key}: plain text only: {q.text!r}"
    if q.numeric:
        assert q.per_decade in (1, 2)
        for end in (q.low, q.high):
            assert math.isclose(10 ** round(math.log10(end)), end), f"{lesson.key}: {end} is not a power of ten"
        assert math.log10(q.high / q.low) >= 2
    else:
        assert 2 <= len(q.choices) <= 5 and len(set(q.choices)) == len(q.choices), q.choices
        assert all(isinstance(c, str) and c.strip() for c in q.choices)
        assert all(q.bucket(c) == c for c in q.choices)
    assert find_lesson(lesson.key) == (page, lesson)


def test_the_gradients_choices_are_the_pages_cells_in_its_order():
    q = find_lesson("gradients.survives")[1].question
    assert q.choices == tuple(page_defaults("gradients")["gr_cells"])


# --- each answer, computed again from the lab where that is cheap ----------------------------------------
def _gradients_survives(value, measured):
    from rnnlab.labs.gradients import CELL_CHOICES, gradient_flow

    cells = page_defaults("gradients")["gr_cells"]
    ratio = {c: gradient_flow(CELL_CHOICES[c], 200, 32, seed=0, forget_bias=page_defaults("gradients")["gr_fbias"])
             .log10_ratio_first_last() for c in cells}
    assert value == max(ratio, key=ratio.get)


def _gradients_forget_bias(value, measured):
    from rnnlab.labs.gradients import gradient_flow, sci

    d = page_defaults("gradients")
    log10 = gradient_flow("LSTM", d["gr_T"], d["gr_hidden"], seed=0, forget_bias=0.0).log10_ratio_first_last()
    assert math.isclose(math.log10(value), log10, abs_tol=1e-9)
    assert f"LSTM {sci(log10)}" in measured          # the number the page's metric shows


def _sentiment_what_if(value, measured):
    from rnnlab.labs import explain
    from rnnlab.labs.calibration import points
    from rnnlab.labs.sentiment import compare
    from rnnlab.labs.sentiment.reading import load_shipped
    from rnnlab.lessons.sentiment import EDIT, NEGATION

    edited = next(e.text for e in explain.suggest(NEGATION, per_kind=3) if e.label == EDIT)
    d = compare(load_shipped(), NEGATION, edited)
    assert math.isclose(value, abs(d["d_prob"]) * 100)
    assert points(d["d_prob"]) in measured            # the page's metric: "-0.3 points"


def _step_through_not(value, measured):
    from rnnlab.figures.steps import TITLES
    from rnnlab.labs.unroll import CELLS, DEFAULT_SENTENCE, build_unroll, step_values

    d = page_defaults("step_through")
    u = build_unroll(CELLS[d["st_cell"]], d["st_hidden"], d["st_input"], text=d["st_text"], seed=0)
    t = DEFAULT_SENTENCE.split().index("not")
    before, at = step_values(u, t - 1), step_values(u, t)
    move = {g: float(np.abs(at[g] - before[g]).max()) for g in u.gate_names}
    assert value == TITLES[max(move, key=move.get)]


def _memory_saturation(value, measured):
    from rnnlab.data.tokenizer import tokenize
    from rnnlab.figures.steps import TITLES
    from rnnlab.labs.memory import (
        DEFAULT_REVIEW,
        FRESH_CELL,
        FRESH_HIDDEN,
        MAX_TOKENS,
        fresh_text_model,
        gate_saturation,
        read_model,
    )

    fresh = fresh_text_model(tuple(tokenize(DEFAULT_REVIEW)[:MAX_TOKENS]), FRESH_CELL, FRESH_HIDDEN, 0)
    s = read_model(fresh, DEFAULT_REVIEW).signals()
    share = {g: sum(v) for g, v in gate_saturation({g: s[g] for g in ("i", "f", "g", "o")}).items()}
    assert value == TITLES[max(share, key=share.get)]


def _textgen_position(value, measured):
    from rnnlab.labs.textgen import shipped_units
    from rnnlab.lessons.textgen import R_BINS, R_EDGES

    rows = [r for r in shipped_units()["control"] if r["feature"] == "position in the line"]
    r = max(abs(row["r"]) for row in rows)
    bounds = (0.0, *R_EDGES, math.inf)
    k = R_BINS.index(value)
    assert bounds[k] <= r < bounds[k + 1]


def _architectures_greedy(value, measured):
    from rnnlab.data import seqtasks
    from rnnlab.labs import architectures as arch
    from rnnlab.lessons.architectures import _likeliest_path, _model

    digit = arch.INPUTS["digit"]
    # the word the page writes at temperature 0 (draw 0), from the model the check trained (cached)
    assert arch.write_word(_model("one_to_many"), digit, 0.0, seed=0)["word"] == value
    assert value in seqtasks.word_distribution(digit) and _likeliest_path(digit, value)
    assert f"[{value!r}]" in measured


def _forecast_trend(value, measured):
    from rnnlab.lessons.forecast import AR, EPOCHS, TREND, _mase, _run

    res, _ = _run(tuple(TREND.items()), EPOCHS["trend"])        # the check's run (cached)
    m = _mase(res)
    ar = next(v for k, v in m.items() if k.startswith(AR))
    assert value == (AR if ar < m[res["rnn_name"]] else TREND["fc_cell"]) and res["rnn_name"] == TREND["fc_cell"]


def _compare_tanh(value, measured):
    from rnnlab.lessons.compare import FAR, NEAR, _recall

    s = _recall("RNN", cell="RNN")["sensitivity"]                  # the check's run (cached)
    assert math.isclose(value, median(s[:NEAR + 1]) / median(s[FAR:]))
    assert f"({value:.0f}× weaker)" in measured


AGREES = {"gradients.survives": _gradients_survives, "gradients.forget_bias": _gradients_forget_bias,
          "sentiment.what_if": _sentiment_what_if, "step_through.not": _step_through_not,
          "memory.saturation": _memory_saturation, "textgen.position": _textgen_position,
          "architectures.one_to_many.greedy": _architectures_greedy, "forecast.trend": _forecast_trend,
          "compare.memory.tanh": _compare_tanh}


@pytest.mark.parametrize("page, lesson", _params())
def test_the_computed_answer_is_valid_and_agrees_with_the_lab(page, lesson):
    q: Question = lesson.question
    answer = computed_answer(lesson.key)
    value = answer["value"]
    assert answer["holds"], f"{lesson.key}: {answer['measured']}"
    assert q.parse(str(value)) == value and answer["label"] == q.label(value)
    if q.numeric:
        assert isinstance(value, float) and math.isfinite(value) and value > 0
        # at least a decade inside the scale: the class's guesses can fall on either side of the truth
        assert q.low * 10 <= value <= q.high / 10, f"{lesson.key}: {value} near an end of {q.low}–{q.high}"
        assert q.bucket(value) in q.buckets()
    else:
        assert value in q.choices
    if lesson.key in AGREES:
        AGREES[lesson.key](value, answer["measured"])


def test_every_checkpoint_of_these_pages_is_recomputed_by_a_test():
    assert {le.key for p, le in CHECKPOINTS if p in PAGES} <= set(AGREES)
