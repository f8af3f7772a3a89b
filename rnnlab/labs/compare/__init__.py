"""RNN vs CNN vs MLP vs Transformer, measured: four models with the same number of weights (within 10%),
trained by the shared trainer on the same data, and timed on the machine that runs them.

* :class:`Lineup` — the four models' settings; each one's width is matched to a parameter budget
  (:func:`rnnlab.nn.seqmodels.matched_width`).
* :func:`recall_job` — memory over distance (:mod:`rnnlab.data.recall`): the four trained one after
  another on the same batches, then their accuracy at every distance k and how strongly their answer
  depends on the marked token k steps back (:func:`marked_sensitivity`).
* :func:`charlm_job` — character language modelling on tiny-shakespeare with an equal budget of training
  seconds each: validation loss against training time, and a sample from each. The recurrent net is the
  Text generation page's model and recipe (carried-state streams, Adam with a cosine over the budget).
* :func:`speed_job` / :func:`measure_speed` — time of a training step as the sequence grows, time to
  predict one new token after a history of H tokens (a running state against a Transformer without a
  cache), and the memory a training step keeps for its backward pass.
* :func:`course_table` — the course's table of RNN vs CNN vs feed-forward networks with these
  measurements filled in, and where a measurement disagrees with it, said.

The package, one module per part: :mod:`.lineup`, :mod:`.recall`, :mod:`.charlm`, :mod:`.speed`,
:mod:`.table`. Every name is importable from here (job targets ``rnnlab.labs.compare:recall_job``, …); patch
a module attribute on the submodule that looks it up.
"""
from __future__ import annotations

from .charlm import (
    CHAR_LR,
    CHAR_WARMUP,
    EVAL_CHARS,
    EVALS,
    LM_RESERVE,
    LM_STREAMS,
    VAL_STREAMS,
    charlm_job,
    cosine,
    lm_sample,
    lm_val_loss,
    train_lm,
    window_batches,
    window_loss,
    windowed_loss,
)
from .lineup import CELL_LABELS, CHAR_LINEUP, RECALL_LINEUP, SIZE_TOLERANCE, Lineup, check_lineup, size_problem
from .recall import (
    RECALL_LR,
    RECALL_RESERVE,
    RECALL_STEPS,
    RECALL_T,
    SPAN_ACCURACY,
    marked_sensitivity,
    recall_accuracy,
    recall_job,
    recall_loss,
    span,
    within_beyond,
)
from .speed import (
    INFER_HISTORY,
    SPEED_LINEUP,
    SPEED_TS,
    load_average,
    measure_speed,
    saved_bytes,
    speed_job,
    speed_models,
    state_floats,
    time_next_token,
    time_step,
    tokens_read_per_new_token,
)
from .table import COURSE, course_table, weights_per_extra_token

__all__ = [
    "CELL_LABELS", "CHAR_LINEUP", "CHAR_LR", "CHAR_WARMUP", "COURSE", "EVALS", "EVAL_CHARS", "INFER_HISTORY",
    "LM_RESERVE", "LM_STREAMS", "VAL_STREAMS", "RECALL_LINEUP", "RECALL_LR", "RECALL_RESERVE", "RECALL_STEPS",
    "RECALL_T", "SIZE_TOLERANCE", "SPAN_ACCURACY", "SPEED_LINEUP",
    "SPEED_TS", "Lineup", "charlm_job", "check_lineup", "cosine", "course_table", "lm_sample", "lm_val_loss",
    "load_average", "marked_sensitivity", "measure_speed", "recall_accuracy", "recall_job", "recall_loss",
    "saved_bytes", "size_problem", "span", "speed_job", "speed_models", "state_floats", "time_next_token", "time_step",
    "tokens_read_per_new_token", "train_lm",
    "weights_per_extra_token", "window_batches", "window_loss", "windowed_loss", "within_beyond",
]
