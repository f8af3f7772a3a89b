"""Series, windowing without leakage, exact baselines on hand-made series, and a short training run."""
import numpy as np
import pytest

from rnnlab.labs.baselines import LinearAR, all_baselines, detect_period, metrics, naive, naive_scale, seasonal_naive
from rnnlab.labs.forecast import ForecastRecipe, forecasts_frame, train_forecaster
from rnnlab.data.series import (BUILTIN, Series, SeriesError, make_windows, read_table, series_from_table,
                           sine, split_series)


def test_builtin_series_need_no_download():
    for name, make in BUILTIN.items():
        s = make()
        assert len(s) > 100 and np.all(np.isfinite(s.values)), name
    assert BUILTIN["sunspots (statsmodels)"]().period == 11


def test_windows_and_split_are_chronological_without_leakage():
    values = np.arange(100, dtype=float)[:, None]
    X, Y, idx = make_windows(values, 5, 2, 0, 100)
    assert X.shape == (94, 5, 1) and Y.shape == (94, 2)
    assert X[0, :, 0].tolist() == [0, 1, 2, 3, 4] and Y[0].tolist() == [5, 6] and idx[0] == 5
    s = Series("ramp", np.arange(200), np.arange(200, dtype=float)[:, None], ["v"])
    split = split_series(s, window=10, horizon=3)
    v0, t0 = split.bounds
    assert (v0, t0) == (140, 170)
    # the scaler saw the training part only: its mean is that of 0..139, not of the whole series
    assert split.scaler.mean[0] == pytest.approx(69.5)
    # no training target reaches into validation; test targets all lie in the test part
    Xtr, Ytr, itr = split.parts["train"]
    assert itr.max() + 3 <= v0
    _, _, ite = split.parts["test"]
    assert ite.min() >= t0
    # changing the future does not change the training data
    s2 = Series("ramp", s.time, s.values.copy(), ["v"])
    s2.values[t0:] = 1e6
    split2 = split_series(s2, window=10, horizon=3)
    np.testing.assert_array_equal(split2.parts["train"][0], Xtr)
    assert split2.scaler.mean[0] == split.scaler.mean[0]


def test_too_short_series_is_explained():
    with pytest.raises(SeriesError, match="too short"):
        split_series(sine(30), window=30, horizon=1)


def test_baselines_exact_on_hand_made_series():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], float)
    origins = np.array([6, 8])
    np.testing.assert_array_equal(naive(y, origins, 2), [[6, 6], [8, 8]])
    s = np.tile([1.0, 5.0, 3.0], 6)             # period 3
    np.testing.assert_array_equal(seasonal_naive(s, np.array([9]), 4, 3), [[1, 5, 3, 1]])
    assert detect_period(np.sin(2 * np.pi * np.arange(300) / 25)) == 25
    assert detect_period(np.random.default_rng(0).normal(size=300)) is None
    # an exact AR(2) recurrence is recovered by least squares and forecast exactly
    ar = np.zeros(60)
    ar[:2] = [1.0, 0.5]
    for t in range(2, 60):
        ar[t] = 0.3 + 1.2 * ar[t - 1] - 0.5 * ar[t - 2]
    model = LinearAR(2).fit(ar[:40])
    np.testing.assert_allclose(model.coef, [0.3, 1.2, -0.5], atol=1e-9)
    np.testing.assert_allclose(model.forecast(ar, np.array([40]), 5)[0], ar[40:45], atol=1e-9)
    m = metrics(np.array([1.0, 2.0]), np.array([2.0, 4.0]), scale=2.0)
    assert m == {"MAE": 1.5, "RMSE": pytest.approx(np.sqrt(2.5)), "MASE": 0.75}
    assert naive_scale(np.array([0.0, 2.0, 1.0])) == 1.5


def test_arima_baseline_runs():
    s = BUILTIN["AR(2) process"](n=400)
    y = s.target
    out = all_baselines(y, 280, np.arange(340, 400), 1)
    arima = next(k for k in out if k.startswith("ARIMA"))
    err = {k: np.abs(v[:, 0] - y[340:400]).mean() for k, v in out.items()}
    assert err[arima] < err["naive (last value)"]   # ARIMA models an AR(2) better than the last value


def test_csv_tables_are_validated():
    raw = b"date,price,volume,note\n2020-01-03,3,30,x\n2020-01-01,1,10,y\n2020-01-02,,20,z\n"
    table = read_table(raw)
    assert table.numeric == ["price", "volume"] and table.time_candidates == ["date"]
    s = series_from_table(table, "price", ["volume"], "date", missing="fill")
    assert s.values[:, 0].tolist() == [1, 2, 3]                  # sorted by date, the gap interpolated
    assert len(series_from_table(table, "price", [], "date", missing="drop")) == 2
    with pytest.raises(SeriesError, match="not numeric"):
        series_from_table(table, "note")
    for bad, msg in [(b"", "empty"), (b"a,b\n1,2,3,4\n\"", "readable"), (b"x" * 100, "limit")]:
        with pytest.raises(SeriesError, match=msg):
            read_table(bad, max_mb=0.00005 if msg == "limit" else 20)


def test_short_training_beats_naive_on_a_clean_sine():
    s = sine(600, period=40)
    recipe = ForecastRecipe(hidden_sizes=(16,), dense=16, window=20, epochs=15, lr=1e-2, batch_size=32)
    res = train_forecaster(s, recipe, seed=0, device="cpu", with_arima=False)
    table = {r["method"]: r for r in res.table}
    assert table["GRU"]["MAE"] < table["naive (last value)"]["MAE"]
    assert res.truth.shape == (len(res.origins), 1) and len(res.rollout) == 90
    frame = forecasts_frame(res)
    assert list(frame.columns[:4]) == ["time", "origin_index", "steps_ahead", "truth"] and len(frame) == 90


def test_multistep_direct_and_recursive():
    s = sine(400, period=30)
    for strategy in ("direct", "recursive"):
        recipe = ForecastRecipe(hidden_sizes=(8,), dense=8, window=15, horizon=4, strategy=strategy, epochs=2)
        res = train_forecaster(s, recipe, device="cpu", with_arima=False)
        assert res.forecasts[f"GRU ({strategy})"].shape == res.truth.shape == (len(res.origins), 4)
    multi = Series("two", np.arange(300), np.stack([np.sin(np.arange(300) / 5), np.ones(300)], 1), ["a", "b"])
    with pytest.raises(ValueError, match="univariate"):
        train_forecaster(multi, ForecastRecipe(horizon=3, strategy="recursive", epochs=1), device="cpu")
