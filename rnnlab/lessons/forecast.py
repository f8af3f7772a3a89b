"""Lessons of the Forecasting lab: a trend defeats the network, chaos rewards it, a free run drifts.

Each check runs the page's own job (:func:`rnnlab.labs.forecast.forecast_job`) on the page's series and
recipe, seed 0, with one seed and a few epochs instead of up to 20 (the CI's time): the effects are large
enough to show that early. The page's full recipe (three seeds, up to 20 epochs) is measured in the shipped
benchmark, ``assets/forecast/bench.json``, which ``tests/test_forecast.py`` holds to the same verdicts.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..data.series import BUILTIN
from ..labs.forecast import SCENARIOS, ForecastRecipe, forecast_job, outside_training_range
from ..labs.forecast.recipes import DEFAULT_SERIES, PRESET_WIDGETS
from . import Finding, Lesson, Question, job_context

PAGE = "app_pages/forecast.py"
DEFAULTS = {"fc_source": "built-in", "fc_series": DEFAULT_SERIES, "fc_n": 2000, "fc_trend": 0.002,
            "fc_noise2": 0.1, **PRESET_WIDGETS, "fc_window": SCENARIOS["trend"].window,
            "fc_horizon": SCENARIOS["trend"].horizon, "fc_epochs": 20}
#: the epochs each check trains (the page: up to ``fc_epochs`` with early stopping, three seeds): chaos needs
#: a few more for the GRU to pull clearly ahead
EPOCHS = {"trend": 3, "chaos": 6, "recursive": 4}
TREND = {**PRESET_WIDGETS, "fc_series": SCENARIOS["trend"].series, "fc_window": SCENARIOS["trend"].window,
         "fc_horizon": SCENARIOS["trend"].horizon, "fc_n": SCENARIOS["trend"].series_kwargs["n"]}
CHAOS = {**PRESET_WIDGETS, "fc_series": SCENARIOS["chaos"].series, "fc_window": SCENARIOS["chaos"].window,
         "fc_horizon": SCENARIOS["chaos"].horizon,
         **{f"fc_{k}": v for k, v in SCENARIOS["chaos"].series_kwargs.items()}}
RECURSIVE = {"fc_horizon": 10, "fc_strategy": "recursive"}
_SERIES_ARGS = {"fc_n": "n", "fc_trend": "trend", "fc_noise2": "noise", "fc_tau": "tau", "fc_every": "every"}
AR = "linear AR"    # the baseline's name in the results table, less its order: "linear AR(30)"


@lru_cache(maxsize=4)
def _run(settings: tuple, epochs: int) -> tuple[dict, np.ndarray]:
    """The page's job with its defaults and ``settings`` (one seed, ``epochs``): (its result, the series'
    target)."""
    s = {**DEFAULTS, **dict(settings)}
    maker = BUILTIN[s["fc_series"]]
    kw = {arg: s[k] for k, arg in _SERIES_ARGS.items() if k in s and arg in maker.__code__.co_varnames}
    series = maker(**kw, seed=0)
    recipe = ForecastRecipe(cell=s["fc_cell"], hidden_sizes=tuple(int(h) for h in s["fc_sizes"].split(",")),
                            window=s["fc_window"], horizon=s["fc_horizon"], lr=s["fc_lr"], patience=s["fc_patience"],
                            strategy=s["fc_strategy"] if s["fc_horizon"] > 1 else "direct", epochs=epochs)
    # one thread and the worker's seeding come from Lesson.run (rnnlab.lessons.as_a_job)
    res = forecast_job(job_context(), series.to_plain(), recipe.to_dict(),
                       seeds=1, seed=0, with_arima=False)
    return res, series.target


def _mase(res: dict) -> dict[str, float]:
    return {r["method"]: r["MASE"] for r in res["rows"]}


def _trend() -> Finding:
    res, y = _run(tuple(TREND.items()), EPOCHS["trend"])
    m = _mase(res)
    gru, ar = m[res["rnn_name"]], next(v for k, v in m.items() if k.startswith(AR))
    train_end, test_start = res["bounds"]
    below = float(np.mean(y[:train_end] < np.median(y[test_start:])))
    outside = outside_training_range(y, (train_end, test_start))
    return Finding(ar < gru and below > 0.9 and outside > 0.2,
                   f"MASE: GRU {gru:.2f}, linear AR {ar:.2f}; the test part's median is above {below:.0%} of the "
                   f"training values, and {outside:.0%} of the test part lies outside the training range",
                   value=AR if ar < gru else TREND["fc_cell"])


def _chaos() -> Finding:
    res, _ = _run(tuple(CHAOS.items()), EPOCHS["chaos"])
    m = _mase(res)
    gru = m.pop(res["rnn_name"])
    ar = next(v for k, v in m.items() if k.startswith("linear AR"))
    best = min(m, key=m.get)
    return Finding(gru < 0.75 * m[best] and gru < 0.75 * ar,
                   f"MASE: GRU {gru:.2f}, linear AR {ar:.2f}, best baseline {best} {m[best]:.2f}")


def _recursive() -> Finding:
    res, _ = _run(tuple(RECURSIVE.items()), EPOCHS["recursive"])
    err = np.abs(np.asarray(res["forecasts"][res["rnn_name"]]) - np.asarray(res["truth"])).mean(axis=0)
    rising = bool(np.all(np.diff(err[:5]) > 0))
    return Finding(rising and err[4] >= 1.8 * err[0],
                   f"the network's mean absolute error {err[0]:.2f} one step ahead, {err[4]:.2f} at 5 "
                   f"({err[4] / err[0]:.1f}×, rising at every step: {rising}), {err[-1]:.2f} at 10 steps")


_CH = SCENARIOS["chaos"]
LESSONS = (
    Lesson("forecast.trend",
           "Press <b>▶ Train</b> on the default trended series: does the GRU beat <b>linear AR</b>? Compare the "
           "level of the test part with what the network saw in training.", TREND,
           "linear AR beats the GRU; most of the test part lies above the values of the training part",
           "The trend lifts the test part above almost everything the network saw in training, and a network "
           "fitted to the training range rarely produces values beyond it; a linear AR model simply carries the "
           "pattern on.", _trend, slow=True,
           question=Question("On the trended series, which forecasts the test part better (the lower MASE)?",
                             choices=(TREND["fc_cell"], AR))),
    Lesson("forecast.chaos",
           f"Click <b>{_CH.title}</b> (Mackey–Glass, {_CH.horizon} steps ahead) and train again: now the linear "
           "methods fall behind, because the future is a <i>nonlinear</i> function of the past.", CHAOS,
           "the GRU's MASE is well below linear AR's and every other baseline's",
           f"Mackey–Glass is deterministic but chaotic: each value is a smooth nonlinear function of the recent "
           f"past. {_CH.horizon} samples ({_CH.horizon * _CH.series_kwargs['every']} time units) ahead that "
           "function is far from linear, so the best linear fit misses what the GRU learns.", _chaos, slow=True),
    Lesson("forecast.recursive",
           "Set <b>Horizon</b> to 10 with the <b>recursive</b> strategy, train, and move <b>Steps ahead shown</b> "
           "from 1 to 10: how fast does the error grow once the network's own predictions are fed back in?",
           RECURSIVE, "the error rises at every step over the first five and is about twice as large 5 steps "
           "ahead as 1 step ahead",
           "Each step's prediction becomes the next step's input, error included: the network reads an input "
           "that drifts further from the truth at every step, so its errors compound. Once it has lost track "
           "(here after about 5 steps) the error stops growing: the forecast is simply off.", _recursive,
           slow=True),
)
