"""Forecasting: series, windowing without leakage, bounded and checked uploads, exact baselines, the verdict
from the seeds' table, the training job's stop and time limit, and the page through AppTest."""
import time

import numpy as np
import pytest
import torch

from rnnlab.data.series import (
    BUILTIN,
    MAX_POINTS,
    Series,
    SeriesError,
    detect_separator,
    mackey_glass,
    make_windows,
    parse_times,
    read_table,
    series_from_table,
    sine,
    sines_trend,
    split_series,
)
from rnnlab.labs.baselines import (
    LinearAR,
    all_baselines,
    autocorrelation,
    detect_period,
    metrics,
    naive,
    naive_scale,
    seasonal_naive,
)
from rnnlab.labs.forecast import (
    ForecastRecipe,
    best_method,
    build_model,
    forecast_job,
    forecasts_frame,
    loss_curves,
    quick_baselines,
    summarise,
    train_forecaster,
    verdict,
)
from rnnlab.runtime.jobs import JobContext, JobStopped
from rnnlab.status import Status


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train as a worker does (one thread): two threads on a busy 2-core machine run 10-40x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_builtin_series_need_no_download():
    for name, make in BUILTIN.items():
        s = make()
        assert len(s) > 100 and np.all(np.isfinite(s.values)), name
    assert BUILTIN["sunspots (statsmodels)"]().period == 11
    # sampling Mackey-Glass every 6 time units keeps every 6th sample of the same trajectory
    fine, coarse = mackey_glass(600, every=1), mackey_glass(100, every=6)
    np.testing.assert_allclose(coarse.target, fine.target[::6][:100])
    assert coarse.name == "Mackey-Glass (τ=17, every 6 time units)" and mackey_glass(50, tau=30).name.endswith("τ=30)")


def test_windows_and_split_are_chronological_without_leakage():
    values = np.arange(100, dtype=float)[:, None]
    X, Y, idx = make_windows(values, 5, 2, 0, 100)
    assert X.shape == (94, 5, 1) and Y.shape == (94, 2)
    assert X[0, :, 0].tolist() == [0, 1, 2, 3, 4] and Y[0].tolist() == [5, 6] and idx[0] == 5
    assert X[-1, :, 0].tolist() == [93, 94, 95, 96, 97] and Y[-1].tolist() == [98, 99]
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
    # windows: one per target start that leaves a whole horizon inside the part
    assert split.window_counts() == {"train": 140 - 10 - 3 + 1, "val": 30 - 3 + 1, "test": 30 - 3 + 1}
    assert split.window_counts() == {k: len(v[1]) for k, v in split.parts.items()}


def test_too_short_or_constant_training_part_is_explained():
    with pytest.raises(SeriesError, match="too short"):
        split_series(sine(30), window=30, horizon=1)
    flat_then_sine = np.r_[np.ones(150), np.sin(np.arange(50))][:, None]
    with pytest.raises(SeriesError, match="training part .* is constant"):
        split_series(Series("x", np.arange(200), flat_then_sine, ["x"]), window=5)


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
    assert np.isnan(metrics(np.array([1.0]), np.array([2.0]), scale=0.0)["MASE"])
    assert naive_scale(np.array([0.0, 2.0, 1.0])) == 1.5


def test_period_detection_is_fft_and_fast():
    y = np.random.default_rng(1).normal(size=500)
    y = y - y.mean()
    direct = np.array([(y[:-k] * y[k:]).sum() for k in range(1, 41)]) / (y * y).sum()
    np.testing.assert_allclose(autocorrelation(y, 40), direct, atol=1e-10)
    long = np.sin(2 * np.pi * np.arange(200_000) / 37) + 0.1 * np.random.default_rng(0).normal(size=200_000)
    t0 = time.perf_counter()
    assert detect_period(long) == 37
    assert time.perf_counter() - t0 < 5      # the old O(n²) loop took minutes at this length


@pytest.mark.slow
def test_arima_baseline_runs():
    s = BUILTIN["AR(2) process"](n=400)
    y = s.target
    notes = []
    out = all_baselines(y, 280, np.arange(340, 400), 1, notes=notes)
    arima = next(k for k in out if k.startswith("ARIMA"))
    err = {k: np.abs(v[:, 0] - y[340:400]).mean() for k, v in out.items()}
    assert err[arima] < err["naive (last value)"] and not notes   # ARIMA models an AR(2) better than the last value


# --- uploads ----------------------------------------------------------------------------------------------
def _csv(lines, header="t,v") -> bytes:
    return (header + "\n" + "\n".join(lines) + "\n").encode()


GOOD = [f"{i},{np.sin(i / 5):.4f}" for i in range(200)]


def test_csv_tables_are_validated():
    raw = b"date,price,volume,note\n2020-01-03,3,30,x\n2020-01-01,1,10,y\n2020-01-02,,20,z\n"
    table = read_table(raw)
    assert table.numeric == ["price", "volume"] and table.time_candidates == ["date"]
    s = series_from_table(table, "price", ["volume"], "date", missing="fill")
    assert s.values[:, 0].tolist() == [1, 2, 3]                  # sorted by date, the gap interpolated
    assert any("sorted by 'date'" in n for n in s.notes) and any("filled" in n for n in s.notes)
    assert len(series_from_table(table, "price", [], "date", missing="drop")) == 2
    with pytest.raises(SeriesError, match="not numeric"):
        series_from_table(table, "note")
    for bad, msg in [(b"", "empty"), (b"a,b\n1,2,3,4\n\"", "readable"), (b"x" * 100, "limit"),
                     (b"name,city\na,b\n", "no numeric column")]:
        with pytest.raises(SeriesError, match=msg):
            read_table(bad, max_mb=0.00005 if msg == "limit" else 20)


def test_unforecastable_values_are_refused_with_the_reason():
    cases = {"constant": ([f"{i},5" for i in range(200)], "constant"),
             "huge": ([f"{i},{1e300 * (1 + np.sin(i / 5)):.4g}" for i in range(200)], "as large as 2e\\+300"),
             "tiny": ([f"{i},{1e-300 * (2 + np.sin(i / 5)):.4g}" for i in range(200)], "varies by only")}
    for lines, msg in cases.values():
        table = read_table(_csv(lines))
        with pytest.raises(SeriesError, match=msg):
            series_from_table(table, "v", [], "t")


def test_non_finite_and_junk_cells_are_reported_not_dropped():
    table = read_table(_csv(GOOD[:50] + ["50,inf", "51,-inf", "52,NaN", "53,abc"] + GOOD[54:]))
    assert table.numeric == ["t", "v"]                  # the junk cell does not drop the column
    assert any("2 infinite values (line 52, 53)" in n for n in table.notes)
    assert any("1 cell is not a number ('abc'; line 55)" in n for n in table.notes)
    s = series_from_table(table, "v", [], "t")
    assert np.all(np.isfinite(s.values)) and len(s) == 200
    np.testing.assert_allclose(s.target[50:54], np.linspace(s.target[49], s.target[54], 6)[1:5])


def test_separators_and_decimal_commas_are_detected():
    assert detect_separator("a;b\n1;2\n3;4\n") == ";" and detect_separator("a\tb\n1\t2\n") == "\t"
    assert detect_separator('a,b\n"x;y",2\n') == "," and detect_separator("v\n1\n2\n") == ","
    semi = read_table(_csv([f"{i};{np.sin(i / 5):.4f}".replace(".", ",") for i in range(200)], "t;v"))
    assert semi.numeric == ["t", "v"] and semi.sep == ";"
    assert any("semicolons" in n for n in semi.notes) and any("decimal comma" in n for n in semi.notes)
    np.testing.assert_allclose(semi.frame["v"].to_numpy(), np.round(np.sin(np.arange(200) / 5), 4))
    # a spreadsheet's export: dotted dates stay dates, dots group thousands, the comma is the decimal point
    euro = read_table(_csv([f"{d:02d}.01.2020;1.{d:03d},5" for d in range(1, 29)], "Datum;Wert"))
    assert euro.numeric == ["Wert"] and euro.default_time() == "Datum"
    s = series_from_table(euro, "Wert", [], "Datum")
    assert s.target[:2].tolist() == [1001.5, 1002.5] and str(s.time[12])[:10] == "2020-01-13"


def test_dates_uncertain_or_unreadable_are_said():
    # an unreadable date: the row is left out, with its line number
    lines = [f"2020-01-{d:02d},{d}" for d in range(1, 29)] + ["yesterday,99"]
    table = read_table(_csv(lines, "date,v"))
    s = series_from_table(table, "v", [], "date")
    assert len(s) == 28 and 99 not in s.target
    assert any("could not be read as a date ('yesterday'; line 30)" in n for n in s.notes)
    # mixed styles: ISO dates are never read day-first (2020-02-01 stays 1 February), and 14/01/2020 is 14 Jan
    lines = ["2020-01-13,1", "14/01/2020,2", "2020-01-15,3", "16/01/2020,4"] + [f"2020-02-{d:02d},{4 + d}"
                                                                                for d in range(1, 28)]
    s = series_from_table(read_table(_csv(lines, "date,v")), "v", [], "date")
    assert s.target.tolist() == list(range(1, 32))                # already in time order: nothing reordered
    assert any("mixes date styles" in n for n in s.notes)
    assert str(s.time[4])[:10] == "2020-02-01"
    # ambiguous day/month: said, and the reader's choice is followed
    col = read_table(_csv([f"{m:02d}/03/2020,{m}" for m in range(1, 13)], "date,v")).frame["date"]
    assert parse_times(col).ambiguous and str(parse_times(col).times[1])[:10] == "2020-03-02"
    assert str(parse_times(col, dayfirst=False).times[1])[:10] == "2020-02-03"
    # mixed UTC offsets no longer crash: converted to UTC
    lines = [f"2020-01-{d:02d}T10:00:00+0{d % 3}:00,{d}" for d in range(1, 28)] + ["2020-01-28T10:00:00Z,28"]
    s = series_from_table(read_table(_csv(lines, "date,v")), "v", [], "date")
    assert str(s.time[1])[:19] == "2020-01-02T08:00:00" and any("UTC" in n for n in s.notes)


def test_two_million_rows_are_cut_to_the_last_rows_in_seconds():
    raw = b"t,v\n" + b"".join(b"%d,%d\n" % (i, i % 7) for i in range(2_000_000))
    t0 = time.perf_counter()
    table = read_table(raw)
    s = series_from_table(table, "v", [], "t")
    assert time.perf_counter() - t0 < 5
    assert len(s) == MAX_POINTS and table.frame["t"].iloc[0] == 2_000_000 - MAX_POINTS
    assert any("2,000,000 rows" in n and f"last {MAX_POINTS:,}" in n for n in table.notes)


# --- the verdict ------------------------------------------------------------------------------------------
BASE = {"naive (last value)": {"MASE": 1.0, "MAE": 0.2, "RMSE": 0.25},
        "linear AR(30)": {"MASE": 0.5, "MAE": 0.1, "RMSE": 0.12}}


def _rnn(*mase):
    return [{"MASE": m, "MAE": m / 5, "RMSE": m / 4} for m in mase]


def test_verdict_is_computed_from_the_seeds():
    rows = summarise("GRU", _rnn(0.20, 0.22, 0.18), BASE)
    assert rows[0]["MASE"] == pytest.approx(0.2) and rows[0]["MASE_sd"] == pytest.approx(0.02)
    v = verdict(rows)
    assert v.outcome == "wins" and v.baseline == "linear AR(30)" and v.ratio == pytest.approx(2.5)
    assert "0.2 ± 0.02 over 3 seeds" in v.text and "2.5× lower" in v.text
    v = verdict(summarise("GRU", _rnn(1.1, 1.2, 1.0), BASE))
    assert v.outcome == "loses" and "**linear AR(30) beats the GRU**" in v.text and "2.2× higher" in v.text
    v = verdict(summarise("GRU", _rnn(0.4, 0.6, 0.55), BASE))
    assert v.outcome == "mixed" and "1 of 3 seeds" in v.text
    v = verdict(summarise("GRU", _rnn(0.45, 0.46, 0.47), BASE))
    assert v.outcome == "wins" and "(8% lower)" in v.text           # a small margin in percent, not "1.1×"
    v = verdict(summarise("GRU", _rnn(0.3), BASE))
    assert v.outcome == "wins" and "one seed" in v.text
    # MASE undefined (a constant training part): the verdict falls back to MAE
    nan_base = {k: {**m, "MASE": float("nan")} for k, m in BASE.items()}
    v = verdict(summarise("GRU", [{"MASE": float("nan"), "MAE": 0.05, "RMSE": 0.06}] * 2, nan_base))
    assert v.metric == "MAE" and v.outcome == "wins"
    assert verdict(summarise("GRU", [], BASE)).outcome == "none"


# --- figures ----------------------------------------------------------------------------------------------
def test_charts_are_thinned_but_keep_their_extremes():
    from rnnlab.figures.forecast import downsample, log_ticks, loss_figure, series_figure

    t = np.arange(100_000)
    y = np.sin(t / 500.0)
    y[12_345], y[67_890] = 5.0, -7.0                          # two spikes must survive the thinning
    x2, y2 = downsample(t, y, 2000)
    assert len(y2) <= 2000 and y2.max() == 5.0 and y2.min() == -7.0 and np.all(np.diff(x2) > 0)
    fig = series_figure(t, y, "long", (70_000, 85_000))
    assert len(fig.data[0].y) <= 2000 and len(fig.to_json()) < 200_000
    assert log_ticks(0.04, 0.7) == [0.05, 0.1, 0.2, 0.5] and log_ticks(1e-3, 5) == [1e-3, 1e-2, 0.1, 1.0]
    curves = {0: {"epochs": [1, 2, 3], "train": [1.0, 0.5, 0.4], "val": [1.1, 0.6, 0.7], "lr_drops": [3],
                  "early_stop": 3}}
    names = [tr.name for tr in loss_figure(curves).data]
    assert names == ["seed 0: validation", "seed 0: training", "learning rate halved", "early stop"]
    assert not loss_figure(curves).layout.shapes               # every line is a trace with a legend entry


def test_rows_missing_counts_rows_with_a_gap_in_the_chosen_columns():
    raw = b"t,a,b,c\n1,1,,5\n2,,,6\n3,3,4,\n4,4,5,7\n5,,6,8\n"
    table = read_table(raw)
    rows = [line.split(",") for line in raw.decode().splitlines()[1:]]
    col = {"a": 1, "b": 2, "c": 3}
    for cols in (["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["a", "b", "c"]):
        expected = sum(any(r[col[c]] == "" for c in cols) for r in rows)
        assert table.rows_missing(cols) == expected, cols
    assert (table.rows_missing(["a"]), table.rows_missing(["a", "b", "c"])) == (2, 4)


def test_origins_fit_the_series():
    from rnnlab.labs.forecast import origins_fit

    n = 50
    for origins, horizon in [([10, 20, 45], 5), ([10, 20, 46], 5), ([0], 50), ([1], 50), ([], 7)]:
        expected = all(o + horizon <= n for o in origins)
        assert origins_fit(np.asarray(origins, dtype=int), horizon, n) == expected, (origins, horizon)


def test_share_of_the_test_part_outside_the_training_range():
    from rnnlab.labs.forecast import outside_training_range

    y = np.r_[np.arange(10.0), np.zeros(5), [3.0, 20.0, -1.0, 5.0]]
    assert outside_training_range(y, (10, 15)) == 0.5            # 20 and -1 of [3, 20, -1, 5]


def test_bench_table_rows_and_verdicts():
    from rnnlab.labs.forecast import bench_rows

    doc = {"results": [{"name": "chaos", "why": "nonlinear", "points": 2000, "horizon": 5,
                        "rows": summarise("GRU (direct)", _rnn(0.12, 0.13, 0.14), BASE)},
                       {"name": "trend", "why": "trend", "points": 2000, "horizon": 1,
                        "rows": summarise("GRU", _rnn(1.1, 1.3, 1.2), BASE)}]}
    rows = bench_rows(doc)
    assert rows[0]["GRU"] == "0.130 ± 0.010" and rows[0]["AR"] == "0.500" and rows[0]["verdict"] == "GRU wins"
    assert rows[0]["seasonal naive"] == "–" and rows[0]["ARIMA"] == "–"           # not scored: said, not blank
    assert rows[1]["verdict"] == "a baseline wins"


def test_bench_provenance_and_series_by_verdict():
    from rnnlab.labs.forecast import bench_provenance, series_by_verdict

    doc = {"results": [{"date": "2025-03-02", "machine": "b", "load": 1.5}, {"date": "2025-03-01", "machine": "a"},
                       {"date": "2025-03-02", "machine": "a", "load": 0.25}]}
    assert bench_provenance(doc) == {"dates": "2025-03-01, 2025-03-02", "machines": "a; b",
                                     "load_min": 0, "load_max": 1.5}   # a run without a load counts 0
    rows = [{"series": "chaos", "verdict": "GRU wins"}, {"series": "trend", "verdict": "a baseline wins"},
            {"series": "sine", "verdict": "GRU wins"}]
    assert series_by_verdict(rows) == {"GRU wins": ["chaos", "sine"], "a baseline wins": ["trend"]}
    assert list(series_by_verdict(rows)) == ["GRU wins", "a baseline wins"]     # in the order they come


def test_shipped_benchmark_backs_the_scenarios_at_the_full_recipe():
    """The lessons check their scenarios with one seed and a few epochs; the page's full recipe (three seeds,
    up to 20 epochs) is in the shipped benchmark, with the same verdicts and the same chaos settings."""
    import json
    from pathlib import Path

    from rnnlab.labs.forecast import SCENARIOS

    bench = Path(__file__).resolve().parents[1] / "assets" / "forecast" / "bench.json"
    by_name = {r["name"]: r for r in json.loads(bench.read_text())["results"]}
    assert verdict(by_name["trend"]["rows"]).outcome == "loses"
    assert verdict(by_name["chaos"]["rows"]).outcome == "wins" and by_name["chaos"]["horizon"] == SCENARIOS[
        "chaos"].horizon
    chaos = SCENARIOS["chaos"]           # the explanation quotes the scenario's own numbers, not typed ones
    assert f"every {chaos.series_kwargs['every']} time units" in chaos.why
    assert f"({chaos.horizon * chaos.series_kwargs['every']} time units)" in chaos.why


# --- training -----------------------------------------------------------------------------------------------
SMALL = ForecastRecipe(hidden_sizes=(8,), dense=8, window=15, epochs=3, batch_size=64)


def test_models_are_seeded_without_the_global_generator():
    state = torch.random.get_rng_state()
    a, b = build_model(1, SMALL, 7), build_model(1, SMALL, 7)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    c = build_model(1, SMALL, 8)
    assert not torch.equal(a.head[0].weight, c.head[0].weight)


@pytest.mark.slow
def test_short_training_beats_naive_on_a_clean_sine():
    s = sine(600, period=40)
    recipe = ForecastRecipe(hidden_sizes=(16,), dense=16, window=20, epochs=15, lr=1e-2, batch_size=32)
    res = train_forecaster(s, recipe, seed=0, device="cpu", with_arima=False)
    table = {r["method"]: r for r in res.table}
    assert table["GRU"]["MAE"] < table["naive (last value)"]["MAE"]
    assert res.truth.shape == (len(res.origins), 1) and len(res.rollout) == 90
    frame = forecasts_frame(s.time, res.origins, res.truth, res.forecasts)
    assert list(frame.columns[:4]) == ["time", "origin_index", "steps_ahead", "truth"] and len(frame) == 90


@pytest.mark.slow
def test_multistep_direct_and_recursive():
    s = sine(300, period=30)
    for strategy in ("direct", "recursive"):
        recipe = ForecastRecipe(hidden_sizes=(8,), dense=8, window=15, horizon=4, strategy=strategy, epochs=1)
        res = train_forecaster(s, recipe, device="cpu", with_arima=False)
        assert res.forecasts[f"GRU ({strategy})"].shape == res.truth.shape == (len(res.origins), 4)
    multi = Series("two", np.arange(300), np.stack([np.sin(np.arange(300) / 5), np.ones(300)], 1), ["a", "b"])
    with pytest.raises(ValueError, match="univariate"):
        train_forecaster(multi, ForecastRecipe(horizon=3, strategy="recursive", epochs=1), device="cpu")


class _Flag:
    value = 0


def _ctx(max_seconds=120.0, stop_at_step=None):
    events, flag = [], _Flag()

    def send(msg):
        events.append(msg.event)
        if stop_at_step is not None and msg.event.kind == "step" and msg.event.step >= stop_at_step:
            flag.value = 1

    return JobContext(1, send, flag, max_seconds), events


@pytest.mark.slow
def test_job_reports_baselines_first_then_seeds_and_weights():
    ctx, events = _ctx()
    res = forecast_job(ctx, sines_trend(400).to_plain(), SMALL.to_dict(), seeds=2, seed=5, with_arima=False)
    phases = [e.data["name"] for e in events if e.kind == "phase"]
    assert phases == ["preparing windows", "scoring baselines", "training", "training", "evaluating"]
    kinds = [e.kind for e in events]
    assert kinds.index("baselines") < kinds.index("step")           # the baselines' metrics come first
    assert res["status"] == Status.FINISHED and [p["seed"] for p in res["per_seed"]] == [5, 6]
    assert res["epochs_completed"] == 3 and "all 3 epochs" in res["per_seed"][0]["text"]
    rnn = res["rows"][0]
    assert rnn["kind"] == "rnn" and rnn["n"] == 2
    assert rnn["MASE"] == pytest.approx(np.mean([p["MASE"] for p in res["per_seed"]]))
    assert list(res["metrics"])[0] == "rnn_MASE" and res["metrics"]["seeds_trained"] == 2   # the board's headline
    assert res["metrics"]["rnn_MASE"] == rnn["MASE"] and res["metrics"]["baseline_MASE"] == min(
        r["MASE"] for r in res["rows"][1:])
    assert (res["verdict"]["outcome"] in ("wins", "loses", "mixed")
            and res["verdict"]["text"] == verdict(res["rows"]).text)
    # weights only, and they are seed 5's model after training (not a fresh one)
    fresh = build_model(1, SMALL, 5).state_dict()
    assert set(res["state_dict"]) == set(fresh) and not torch.equal(res["state_dict"]["head.0.weight"],
                                                                    fresh["head.0.weight"])
    curves = loss_curves(events)
    assert sorted(curves) == [5, 6] and curves[5]["epochs"] == [1, 2, 3] and len(curves[6]["val"]) == 3
    steps = [e.step for e in events if e.kind == "step"]
    assert steps == sorted(steps)                                     # steps count on across seeds


@pytest.mark.slow
def test_job_stop_keeps_what_trained_and_reports_it():
    ctx, events = _ctx(stop_at_step=4)
    res = forecast_job(ctx, sines_trend(400).to_plain(), SMALL.to_dict(), seeds=3, with_arima=False)
    assert res["status"] == Status.STOPPED and len(res["per_seed"]) == 1          # the other seeds never start
    assert "stopped by the user after 0 full epochs" in res["per_seed"][0]["text"]
    assert res["epochs_completed"] == 0 and all(r["kind"] == "baseline" for r in res["rows"])
    assert res["verdict"]["outcome"] == "none"
    # a stop before training: the job ends at once
    ctx, _ = _ctx()
    ctx._flag.value = 1
    with pytest.raises(JobStopped, match="stopped"):
        forecast_job(ctx, sines_trend(400).to_plain(), SMALL.to_dict(), with_arima=False)


def test_a_forecast_run_ends_as_its_worst_seed():
    from rnnlab.labs.forecast.job import _ForecastRun
    from rnnlab.train import History

    run = _ForecastRun(None, seeds=3, seed=0)
    run.histories = [(0, History(status=Status.EARLY_STOPPED)), (1, History(status=Status.EARLY_STOPPED))]
    assert run.status() is Status.EARLY_STOPPED and "Every seed stopped early" in run.message(run.status())
    # one seed early-stopped, one finished: early-stopped (the lab used to say "done" unless every seed had)
    run.histories[1] = (1, History(status=Status.FINISHED))
    assert run.status() is Status.EARLY_STOPPED and "1 of 2 seeds stopped early" in run.message(run.status())
    run.stopped_by = Status.TIME_LIMIT                         # no time for the third seed
    assert run.status() is Status.TIME_LIMIT and "no time for the other seeds" in run.message(run.status())
    run.histories.append((2, History(status=Status.DIVERGED, message="It blew up.")))
    run.stopped_by = Status.DIVERGED
    assert run.status() is Status.DIVERGED and run.message(run.status()).endswith(" It blew up.")
    assert _ForecastRun(None, seeds=1, seed=0).status() is Status.FINISHED


@pytest.mark.slow
def test_job_time_limit_in_every_phase():
    ctx, _ = _ctx(max_seconds=0.0)
    with pytest.raises(JobStopped) as stopped:
        forecast_job(ctx, sines_trend(400).to_plain(), SMALL.to_dict(), with_arima=False)
    assert stopped.value.reason == "time_limit"
    # a limit that leaves time for about one seed: the others are skipped and the end state says so
    ctx, _ = _ctx(max_seconds=2.5)
    t0 = time.monotonic()
    res = forecast_job(ctx, sines_trend(2000).to_plain(), {**SMALL.to_dict(), "epochs": 50}, seeds=3,
                       with_arima=False, eval_reserve=1.0)
    assert time.monotonic() - t0 < 2.5 + 2.0
    assert res["status"] == Status.TIME_LIMIT and len(res["per_seed"]) < 3
    assert "time limit left no time for the other seeds" in res["message"]
    assert "seed 0: stopped at the time limit" in res["per_seed"][0]["text"]


# --- the page ---------------------------------------------------------------------------------------------
def _page(root, **query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _figures(at):
    from tests.test_app_pages import figures

    return figures(at)


@pytest.mark.slow
def test_page_shows_the_baselines_at_once_and_teaches(root):
    at = _page(root)
    assert at.selectbox(key="fc_series").value == "sum of sines + trend + noise"
    table = at.dataframe[0].value                      # no training needed: the cheap baselines are scored
    rows = quick_baselines(sines_trend(2000), 30, 1)
    assert list(table.index) == [r["method"] for r in rows]
    np.testing.assert_allclose(table["MASE"], [r["MASE"] for r in rows])
    assert table["MASE"].idxmin() == "linear AR(30)"
    assert any(e.label.startswith("What to notice") for e in at.expander)
    assert at.button(key="fc_reset_page") and at.button(key="fc_sc_chaos")
    series = _figures(at)[0]
    assert len(series["data"][0]["y"]) == 2000 and [t["name"] for t in series["data"][1:]] == [
        "train (70%)", "validation (15%)", "test (15%)"]
    # a scenario button sets the series and the model settings; reset brings the defaults back
    at.button(key="fc_sc_chaos").click().run()
    assert at.selectbox(key="fc_series").value == "Mackey-Glass chaos"
    assert (at.slider(key="fc_every").value, at.slider(key="fc_window").value, at.slider(key="fc_horizon").value) \
        == (6, 20, 5)
    at.button(key="fc_reset_page").click().run()
    assert (at.selectbox(key="fc_series").value == "sum of sines + trend + noise"
            and at.slider(key="fc_window").value == 30)


def test_page_opens_with_the_settings_of_its_link(root):
    at = _page(root, fc_series="Mackey-Glass chaos", fc_every="6", fc_tau="20", fc_window="20", fc_horizon="5",
               fc_strategy="recursive", fc_cell="LSTM", fc_sizes="16, 8", fc_lr="0.01", fc_seeds="2")
    assert at.selectbox(key="fc_series").value == "Mackey-Glass chaos"
    assert (at.slider(key="fc_every").value, at.slider(key="fc_tau").value) == (6, 20)
    assert (at.slider(key="fc_window").value, at.slider(key="fc_horizon").value) == (20, 5)
    assert at.radio(key="fc_strategy").value == "recursive" and at.selectbox(key="fc_cell").value == "LSTM"
    assert at.text_input(key="fc_sizes").value == "16, 8" and at.select_slider(key="fc_lr").value == 0.01
    assert at.slider(key="fc_seeds").value == 2
    assert _figures(at)[0]["layout"]["title"]["text"].startswith("Mackey-Glass (τ=20, every 6")


BAD_UPLOADS = [
    ("constant.csv", _csv([f"{i},5" for i in range(200)]), "error", "is constant"),
    ("huge.csv", _csv([f"{i},{1e300 * (1 + np.sin(i / 5)):.4g}" for i in range(200)]), "error", "as large as"),
    ("tiny.csv", _csv([f"{i},{1e-300 * (2 + np.sin(i / 5)):.4g}" for i in range(200)]), "error", "varies by only"),
    ("inf.csv", _csv(GOOD[:50] + ["50,inf", "51,-inf"] + GOOD[52:]), "warning", "2 infinite values"),
    ("nan.csv", _csv(GOOD[:50] + ["50,NaN", "51,"] + GOOD[52:]), "radio", "2 rows have missing values"),
    ("junk.csv", _csv(GOOD[:50] + ["50,oops"] + GOOD[51:]), "warning", "is not a number ('oops'"),
    ("dates.csv", _csv([f"2020-01-{d:02d},{np.sin(d)}" for d in range(1, 29)] + ["never,1"], "date,v"), "warning",
     "could not be read as a date ('never'"),
    ("mixed.csv", _csv(["2020-01-13,1", "14/01/2020,2"] + [f"2020-02-{d:02d},{d * d % 7}" for d in range(1, 28)],
                       "date,v"), "warning", "mixes date styles"),
    ("tz.csv", _csv([f"2020-01-{d:02d}T10:00:00+0{d % 3}:00,{d * d % 11}" for d in range(1, 28)], "date,v"),
     "warning", "converted to UTC"),
    ("semicolon.csv", _csv([f"{i};{np.sin(i / 5):.4f}".replace(".", ",") for i in range(200)], "t;v"), "warning",
     "separated by semicolons"),
    ("text.csv", b"name,city\na,b\nc,d\n", "error", "no numeric column"),
]


@pytest.mark.slow
def test_page_bad_uploads_get_a_message_and_the_next_upload_starts_clean(root):
    at = _page(root)
    at.radio(key="fc_source").set_value("upload a CSV").run()
    good = _csv(GOOD)
    big = b"t,v\n" + b"".join(b"%d,%d\n" % (i, i % 7) for i in range(2_000_000))     # 19 MB: under the size limit
    for name, raw, kind, text in BAD_UPLOADS + [("big.csv", big, "warning", "2,000,000 rows")]:
        at.file_uploader(key="fc_upload").upload(name, raw, "text/csv").run()
        assert not at.exception, (name, [e.value for e in at.exception])
        shown = [e.value for e in (at.error if kind == "error" else at.warning)] if kind != "radio" else \
            [r.label for r in at.radio]
        assert any(text in s.replace("\\", "") for s in shown), (name, shown)   # markdown escapes removed
        if kind == "error":
            assert not [f for f in _figures(at) if f["layout"].get("title", {}).get("text") == "v"]
        # the next good file works, with nothing left over from the bad one
        at.file_uploader(key="fc_upload").upload("good.csv", good, "text/csv").run()
        assert not at.exception and not at.error and not at.warning, name
        series = _figures(at)[0]
        np.testing.assert_allclose(series["data"][0]["y"], np.round(np.sin(np.arange(200) / 5), 4))
        assert at.dataframe[0].value.index[0] == "naive (last value)"


@pytest.mark.slow
def test_page_trains_through_the_job_runner(root):
    from app_pages import training

    at = _page(root, fc_n="400", fc_epochs="2", fc_sizes="8", fc_seeds="2")
    at.button(key="fc_go").click().run()
    job = at.session_state["lab_forecast_job"]
    assert job.meta["lab"] == "forecasting" and job.meta["task"] == "sum of sines + trend + noise"
    assert job.meta["params"]["seeds"] == 2 and job.meta["params"]["hidden_sizes"] == [8]
    training.wait_for(job, 240)
    at.run()
    assert not at.exception and job.error is None, job.error
    res = job.result
    table = next(d.value for d in at.dataframe if "seeds" in d.value.columns)
    arima = next(i for i in table.index if str(i).startswith("ARIMA"))
    assert table.loc["GRU", "seeds"] == "2" and table.loc[arima, "seeds"] == ""
    assert table.loc["GRU", "MASE"] == pytest.approx(np.mean([p["MASE"] for p in res["per_seed"]]))
    assert any(verdict(res["rows"]).text in m.value for m in at.markdown)
    assert any("seed 0: all 2 epochs" in c.value for c in at.caption)
    assert any("2 of 2 seeds trained and scored" in m.value for m in at.success)
    figs = {f["layout"]["title"]["text"]: f for f in _figures(at)}
    forecast = figs["Test part: 1 step ahead"]
    names = [t["name"] for t in forecast["data"]]
    best = best_method(res["rows"])["method"]
    assert f"{best} ★ best" in names and "GRU" in names and "test part starts" in names
    gru = next(t for t in forecast["data"] if t["name"] == "GRU")
    np.testing.assert_allclose(gru["y"], np.asarray(res["forecasts"]["GRU"])[:, 0], rtol=1e-6)
    loss = figs["Loss per epoch"]
    assert [t["name"] for t in loss["data"]][:4] == ["seed 0: validation", "seed 0: training",
                                                     "seed 1: validation", "seed 1: training"]
    assert all(t.get("showlegend", True) and t.get("name") for f in figs.values() for t in f["data"])
    downloads = [d.proto.label for d in at.get("download_button")]
    assert "Download the test forecasts (CSV)" in downloads and "Download the network (PyTorch weights)" in downloads


# --- issue 29: what a student may upload or type ---------------------------------------------------------
def test_dates_pandas_cannot_hold_are_said_not_a_crash():
    """Issue 29: dates past 2262-04-11 or before 1677-09-22 (nanosecond timestamps) raised OutOfBoundsDatetime
    while the file was read. Now those rows are left out with the reason, and a column of only such dates is
    refused with it."""
    far = [f"2262-04-{d:02d},{np.sin(d):.3f}" for d in range(1, 29)]          # from the 12th: too late
    table = read_table(_csv(far, "date,v"))
    assert table.time_candidates == ["date"]
    s = series_from_table(table, "v", [], "date")
    assert len(s) == 11 and any("17 dates are outside the years" in n and "1677-09-22 to 2262-04-11" in n
                                for n in s.notes)
    for rows in ([f"0001-01-{d:02d},{d % 5}" for d in range(1, 29)],
                 [f"1677-09-{d:02d},{d % 5}" for d in range(1, 21)]):
        table = read_table(_csv(rows, "date,v"))
        with pytest.raises(SeriesError, match="could be read as a time. .* outside the years"):
            series_from_table(table, "v", [], "date")


def test_one_row_binary_utf16_and_unnamed_or_long_headers_are_explained():
    """Issue 29: a one-row CSV was refused as "'t' is constant"; binary bytes as "the CSV has no rows"; a
    UTF-16 file as "no numeric column"; a header of zero-width characters, direction marks or 10⁶ characters
    named the menus and plots with it."""
    table = read_table(b"t,v\n1,2\n")
    with pytest.raises(SeriesError, match="only one row"):
        series_from_table(table, "v")
    for raw in (b"\xff\xfe\x00\x01\x02", b"t,v\n\x00\x01,\x02\n"):
        with pytest.raises(SeriesError, match="UTF-16|binary data"):
            read_table(raw)
    utf16 = read_table(_csv(GOOD).decode().encode("utf-16"))
    assert utf16.numeric == ["t", "v"] and "The file is UTF-16 text: read as such." in utf16.notes
    table = read_table(_csv(GOOD, "\u200b\u200b,\u202eabc"))
    assert list(table.frame.columns) == ["column 1", "abc"]
    table = read_table(_csv(GOOD, "t," + "x" * 10**6))
    assert table.frame.columns[1] == "x" * 59 + "…" and any("shortened" in n for n in table.notes)


def test_digits_of_any_script_and_numbers_beyond_a_float_in_a_csv():
    """Issue 29: a column of Arabic-Indic digits (٣٫٥ is 3.5) is numbers, as a number box reads them; 10**400
    is too large for a float and the note says so instead of only "infinite"."""
    arabic = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫")
    table = read_table(_csv([line.translate(arabic) for line in GOOD]))
    assert table.numeric == ["t", "v"]
    np.testing.assert_allclose(table.frame["v"][:3], [0.0, 0.1987, 0.3894])
    mixed = read_table(_csv([f"٣{d},{d % 5}" for d in range(1, 29)], "date,v"))   # was read as dates in year 1
    assert mixed.numeric == ["date", "v"] and mixed.frame["date"][0] == 31
    table = read_table(_csv(GOOD[:5] + [f"5,{10**400}"] + GOOD[6:]))
    assert any("1 infinite value (line 7)" in n and "1.8e308" in n for n in table.notes)


def test_page_with_a_one_epoch_class_limit_and_bad_hidden_sizes(root, tmp_path, monkeypatch):
    """Issue 29: a teacher's limit of 1 epoch made the Max epochs slider's min and max equal, and the page
    raised StreamlitInvalidMinMaxError; hidden sizes such as "²" are refused with the piece that is wrong."""
    from rnnlab.runtime import settings as S

    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    S.invalidate()
    S.save_settings({"max_epochs": 1})
    try:
        at = _page(root, fc_sizes="64, ²")
        assert any("Max epochs: 1" in c.value for c in at.caption)
        assert any("Hidden sizes must be" in e.value and "“²” is not a number" in e.value for e in at.error)
        at.text_input(key="fc_sizes").set_value("\u200b").run()
        assert not at.exception and any("0 sizes were given" in e.value for e in at.error)
    finally:
        S.invalidate()
