"""Recurrent forecasters, trained with the shared trainer and compared honestly with the baselines.

The guide's section 7 model (preset ``guide``):
    GRU(64, return_sequences=True) -> GRU(32) -> Dense(32, relu) -> Dropout(0.2) -> Dense(1)
    Adam 1e-3, MSE loss, MAE metric, EarlyStopping(patience=5, restore_best_weights), ReduceLROnPlateau(0.5, 3)

Multi-step forecasts: *direct* (the last layer outputs all h future values at once) or *recursive*
(one step at a time, each prediction fed back in as the newest input; univariate series only).

A live run is the job :func:`forecast_job`: it scores the baselines (ARIMA included), trains the network
with several seeds, and reports every method's MASE, MAE and RMSE as mean ± sd over the seeds. The
verdict on the page (:func:`verdict`) is computed from those numbers, never written in advance: on a
trended series the GRU loses to a linear model, on a chaotic one it wins (see ``SCENARIOS``).

The package, in the order a run goes through it:

- :mod:`.recipes`: :class:`ForecastRecipe`, ``PRESETS`` and the teaching ``SCENARIOS``;
- :mod:`.model`: the :class:`Forecaster` network and its forecasts (direct, recursive, free-running rollout);
- :mod:`.training`: one seed trained (:func:`train_one`, :func:`train_forecaster`), the baselines' forecasts;
- :mod:`.comparison`: the table over seeds, the best method, the verdict, the tables shown and downloaded;
- :mod:`.job`: :func:`forecast_job`, the page's live run, and the loss curves read from its events.

Every name is importable from here.
"""
from __future__ import annotations

from ..baselines import method_kind
from .comparison import (
    METRICS,
    Verdict,
    bench_provenance,
    bench_rows,
    best_method,
    forecasts_frame,
    origins_fit,
    outside_training_range,
    quick_baselines,
    ranking_metric,
    series_by_verdict,
    summarise,
    verdict,
)
from .job import describe_run, forecast_job, loss_curves
from .model import Forecaster, build_model, count_params, planned_steps, predict_from, rnn_label, rollout
from .recipes import PRESETS, SCENARIOS, ForecastRecipe, Scenario
from .training import (
    ForecastResult,
    check_recipe,
    holdout_truth,
    mase_scale,
    rnn_forecasts,
    score_baselines,
    train_forecaster,
    train_one,
)

__all__ = ["ForecastRecipe", "PRESETS", "SCENARIOS", "Scenario", "Forecaster", "build_model", "count_params",
           "rnn_label", "predict_from", "rollout", "score_baselines", "train_one", "train_forecaster",
           "summarise", "quick_baselines", "best_method", "verdict", "Verdict", "forecast_job", "loss_curves",
           "forecasts_frame", "method_kind", "describe_run", "bench_rows", "outside_training_range",
           "planned_steps", "origins_fit", "bench_provenance", "series_by_verdict",
           # also importable by name, as they were before the split
           "METRICS", "ForecastResult", "check_recipe", "holdout_truth", "mase_scale", "ranking_metric",
           "rnn_forecasts"]
