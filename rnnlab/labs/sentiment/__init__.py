"""Sentiment classification end to end: recipes (presets), encoding, training (live, as a job of the job
runner: :func:`sentiment_job`), calibration, evaluation, and how a model read a review: its calibrated
prediction, the probability after each word, and word importance by occlusion in log-odds.

The package, in the order a model goes through it:

- :mod:`.recipes`: :class:`Recipe`, ``PRESETS`` and their plain-dict form;
- :mod:`.data`: vocabulary, encoding, batches, the worker's token cache and a job's train/test data;
- :mod:`.training`: the loss, evaluation, held-out metrics and :func:`train_sentiment` (command line, benches);
- :mod:`.job`: :func:`sentiment_job`, the live training of the page, one function per phase;
- :mod:`.reading`: one review through a trained model (prediction, trajectory, importance, what-if).

Every name is importable from here; patch a module attribute (``AFTER_STOP``, ``time``, ``Trainer``) on the
submodule that looks it up.
"""
from __future__ import annotations

from .data import (
    CHUNK,
    TOKENS,
    EpochBatches,
    TokenCache,
    batches,
    build_vocab,
    dropped_share,
    encode,
    load_job_data,
    planned_steps,
    upload_too_small,
)
from .job import AFTER_STOP, EVAL_SAMPLE, sentiment_job
from .reading import (
    MAX_REVIEW_CHARS,
    MAX_TOKENS,
    WORK_BUDGET,
    Importance,
    Reading,
    Trajectory,
    calibrated,
    compare,
    fingerprint,
    importance,
    is_word,
    predict,
    prefix_positions,
    read,
    temperature,
    text_model_from_result,
    trajectory,
    weights_mb,
)
from .recipes import PRESETS, Recipe, count_params, float32_mb, recipe_from, recipe_from_dict, recipe_to_dict
from .training import SentimentRun, evaluate, held_out_metrics, logits_of, loss_fn, ms_per_step, train_sentiment

__all__ = [
    "AFTER_STOP", "CHUNK", "EVAL_SAMPLE", "MAX_REVIEW_CHARS", "MAX_TOKENS", "PRESETS", "TOKENS", "WORK_BUDGET",
    "EpochBatches", "Importance", "Reading", "Recipe", "SentimentRun", "TokenCache", "Trajectory", "batches",
    "build_vocab", "calibrated", "compare", "count_params", "dropped_share", "encode", "evaluate", "fingerprint",
    "float32_mb", "held_out_metrics", "importance", "is_word", "load_job_data", "logits_of", "loss_fn",
    "ms_per_step", "planned_steps", "predict", "prefix_positions", "read", "recipe_from", "recipe_from_dict",
    "recipe_to_dict", "sentiment_job", "temperature", "text_model_from_result", "train_sentiment", "trajectory",
    "upload_too_small", "weights_mb",
]
