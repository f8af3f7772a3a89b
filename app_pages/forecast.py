"""Forecasting lab: train recurrent forecasters live, honestly compared with simple baselines."""
import contextlib
import io
import json

import numpy as np
import pandas as pd
import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from app_pages import training
from app_pages.common import (
    ROOT,
    escape_md,
    intro,
    lessons,
    next_page,
    oversize,
    plot,
    reset_button,
    seed,
    upload_digest,
)
from rnnlab.data.series import (
    BUILTIN,
    MAX_CSV_MB,
    MAX_POINTS,
    CsvTable,
    Series,
    SeriesError,
    Split,
    check_values,
    parse_times,
    read_table,
    series_from_table,
    split_series,
)
from rnnlab.figures.forecast import forecast_figure, loss_figure, residual_figure, series_figure
from rnnlab.inputs import InputError, parse_number, readable
from rnnlab.labs.forecast import (
    PRESETS,
    SCENARIOS,
    ForecastRecipe,
    bench_provenance,
    bench_rows,
    best_method,
    count_params,
    forecast_job,
    forecasts_frame,
    loss_curves,
    method_kind,
    origins_fit,
    outside_training_range,
    planned_steps,
    quick_baselines,
    series_by_verdict,
    verdict,
)
from rnnlab.labs.forecast.recipes import DEFAULT_SERIES, PRESET_WIDGETS

CHAOS = SCENARIOS["chaos"]
GUIDE = PRESETS["guide"]
JOB = "lab_forecast_job"      # not "fc…": the reset button clears the settings, not a running training
BENCH = ROOT / "assets" / "forecast" / "bench.json"     # written by `python -m bench.forecast --write`
KIND_LABELS = {"rnn": "the network", "naive": "naive", "seasonal": "seasonal naive", "ar": "linear AR",
               "arima": "ARIMA"}


# --- cached work (shared by every session: keys are contents) --------------------------------------------
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def make_builtin(name: str, kwargs: tuple) -> Series:
    return BUILTIN[name](**dict(kwargs))


@st.cache_data(max_entries=8, ttl=900, show_spinner="Reading the file…")
def read_upload(digest: str, _raw: bytes) -> tuple[CsvTable | None, str | None]:
    """(the table, None) or (None, why the file cannot be used), once per content: a refusal is kept too, so
    a bad file is not parsed again on every rerun."""
    try:
        return read_table(_raw), None
    except SeriesError as err:
        return None, str(err)


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def cheap_baselines(key: str, window: int, horizon: int, _series: Series) -> list[dict]:
    return quick_baselines(_series, window, horizon)


@st.cache_resource(max_entries=96, ttl=3600, show_spinner=False)
def figure(kind: str, view: tuple, _build):
    """A figure built once per content (series key or job, and view settings) and shared: building a Plotly
    figure costs about 0.1 s, and a rerun redraws several. Figures are only read, never changed."""
    return _build()


@st.cache_data(max_entries=16, ttl=900, show_spinner=False)
def csv_of(run: tuple, _frame) -> bytes:
    return _frame().to_csv(index=False).encode()


def run_key(job) -> tuple:
    """Names one run on this server (job ids restart with the runner; the submit time does not repeat)."""
    return (job.id, round(job.submitted, 6))


# --- tables ------------------------------------------------------------------------------------------------
def results_table(rows: list[dict]) -> pd.DataFrame:
    """One row per method; the network's spread over seeds and their number as text (blank for a baseline,
    which has no seed)."""
    return pd.DataFrame([{"method": r["method"], "MASE": r["MASE"],
                          "± sd": f"{r['MASE_sd']:.2g}" if r["kind"] == "rnn" and r["n"] > 1 else "",
                          "MAE": r["MAE"], "RMSE": r["RMSE"], "seeds": str(r["n"]) if r["kind"] == "rnn" else ""}
                         for r in rows]).set_index("method")


def metrics_table(rows: list[dict], key: str) -> None:
    """The test metrics, one row per method (the network's as mean ± sd over its seeds), best highlighted."""
    frame = results_table(rows)
    if not (frame["seeds"] != "").any():
        frame = frame.drop(columns=["± sd", "seeds"])
    numbers = ["MASE", "MAE", "RMSE"]
    st.dataframe(frame.style.format("{:.4g}", subset=numbers).highlight_min(axis=0, subset=numbers, color="#c8e6c9"),
                 width="stretch", key=key)


# --- scenarios -------------------------------------------------------------------------------------------
SCENARIO_KEYS = {"n": "fc_n", "tau": "fc_tau", "every": "fc_every"}


def apply_scenario(name: str) -> None:
    """Put a scenario's series and settings (and the guide's preset) into the widgets and the URL."""
    sc = SCENARIOS[name]
    values = {**PRESET_WIDGETS, "fc_series": sc.series, "fc_window": sc.window, "fc_horizon": sc.horizon,
              **{SCENARIO_KEYS[k]: v for k, v in sc.series_kwargs.items()}}
    for k, v in values.items():
        # A widget already on the page writes its new value into the URL itself (and refuses a direct
        # write); one that appears only now (τ, "sample every") would not: write it for it.
        with contextlib.suppress(StreamlitAPIException):
            st.query_params[k] = str(v)
        st.session_state[k] = v


def scenario_of(series: Series, recipe: ForecastRecipe):
    for sc in SCENARIOS.values():
        made = make_builtin(sc.series, tuple(sorted(sc.series_kwargs.items())))
        if made.name == series.name and len(made) == len(series) and recipe.window == sc.window \
                and recipe.horizon == sc.horizon and recipe.strategy == "direct":
            return sc
    return None


# --- choosing the series ----------------------------------------------------------------------------------
def builtin_series() -> Series | None:
    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1])
    names = list(BUILTIN)
    name = c1.selectbox("Series", names, index=names.index(DEFAULT_SERIES), key="fc_series", bind="query-params")
    kw = {}
    if name in ("sine", "sum of sines + trend + noise", "AR(2) process", "Mackey-Glass chaos"):
        kw["n"] = c2.slider("Points", 200, MAX_POINTS, 2000, 100, key="fc_n", bind="query-params")
    if name == "sine":
        kw["period"] = c3.slider("Period", 5, 200, 50, key="fc_period", bind="query-params")
        kw["noise"] = c4.slider("Noise", 0.0, 1.0, 0.05, 0.05, key="fc_noise", bind="query-params")
    elif name == "sum of sines + trend + noise":
        kw["trend"] = c3.slider("Trend per step", -0.01, 0.01, 0.002, 0.001, format="%.3f", key="fc_trend",
                                bind="query-params")
        kw["noise"] = c4.slider("Noise", 0.0, 1.0, 0.1, 0.05, key="fc_noise2", bind="query-params")
    elif name == "AR(2) process":
        kw["phi1"] = c3.slider("φ1", -1.5, 1.5, 0.6, 0.05, key="fc_phi1", bind="query-params")
        kw["phi2"] = c4.slider("φ2", -0.95, 0.95, -0.3, 0.05, key="fc_phi2", bind="query-params")
        if abs(kw["phi2"]) >= 1 or kw["phi1"] + kw["phi2"] >= 1 or kw["phi2"] - kw["phi1"] >= 1:
            st.warning("These coefficients make the AR(2) process non-stationary: it will drift or explode.")
    elif name == "Mackey-Glass chaos":
        kw["tau"] = c3.slider("Delay τ (chaotic above 16.8)", 5, 30, 17, key="fc_tau", bind="query-params")
        kw["every"] = c4.slider("Sample every … time units", 1, 10, 1, key="fc_every", bind="query-params",
                                help="The classic benchmark samples every 6 units: more nonlinear change "
                                     "between two samples.")
    elif name == "stock prices (plotly)":
        kw["ticker"] = c2.selectbox("Ticker", ["GOOG", "AAPL", "AMZN", "FB", "NFLX", "MSFT"], key="fc_ticker",
                                    bind="query-params")
        st.caption("Weekly closing prices, normalised to 1 at the start: the other tickers are the extra input "
                   "features (the network reads them; the baselines cannot).")
    if "seed" in BUILTIN[name].__code__.co_varnames:
        kw["seed"] = seed()
    series = make_builtin(name, tuple(sorted(kw.items())))
    try:
        check_values(series.values, series.columns)
    except SeriesError as err:
        st.error(f"This series cannot be forecast with these settings: {escape_md(err)} Choose other parameters.")
        return None
    return series


def uploaded_series() -> Series | None:
    upload = st.file_uploader(f"CSV file (one row per time step; up to {MAX_CSV_MB} MB, the last "
                              f"{MAX_POINTS:,} rows are used)", type=["csv", "txt"], key="fc_upload",
                              max_upload_size=MAX_CSV_MB)
    if upload is None:
        st.caption("A column of numbers is enough; a date column orders the rows. Commas, semicolons, tabs "
                   "and decimal commas are recognised.")
        return None
    too_big = oversize(upload, MAX_CSV_MB, "Upload a shorter CSV.")
    if too_big:
        st.error(too_big)
        return None
    digest = upload_digest(upload, "fc_upload_digest")[:12]
    table, problem = read_upload(digest, upload.getvalue())
    if table is None:
        st.error(f"This file cannot be used: {escape_md(problem)}")
        return None
    notes = list(table.notes)
    # widgets keyed by the file: a new upload starts from fresh choices, never from the last file's
    d1, d2, d3 = st.columns(3)
    others = [c for c in table.frame.columns if c not in table.numeric and c not in table.time_candidates]
    time_options = ["(row order)"] + table.time_candidates + table.numeric + others
    default_time = table.default_time()
    time_col = d1.selectbox("Time column", time_options, index=time_options.index(default_time) if default_time else 0,
                            key=f"fc_time_{digest}", format_func=str)
    targets = [c for c in table.numeric if c != time_col] or table.numeric
    target = d2.selectbox("Target", targets, key=f"fc_target_{digest}", format_func=str)
    features = d3.multiselect("Extra input features", [c for c in targets if c != target],
                              key=f"fc_feats_{digest}", format_func=str)
    dayfirst = None
    if time_col in table.time_candidates:
        probe = parse_times(table.frame[time_col])
        if probe.ambiguous:
            order = st.radio("Dates such as 03/04/2020 mean", ["day first (3 April)", "month first (March 4)"],
                             horizontal=True, key=f"fc_dayfirst_{digest}",
                             help="Nothing in this file tells the two apart (no day above 12).")
            dayfirst = order.startswith("day")
    n_missing = table.rows_missing([target] + features)
    missing = "fill"
    if n_missing:
        missing = st.radio(f"{n_missing:,} rows have missing values", ["fill", "drop"], horizontal=True,
                           format_func=lambda m: {"fill": "fill them (interpolate)", "drop": "drop those rows"}[m],
                           key=f"fc_missing_{digest}")
    try:
        series = series_from_table(table, target, features, None if time_col == "(row order)" else time_col,
                                   missing, dayfirst)
    except SeriesError as err:
        if notes:
            st.warning("\n".join(f"- {escape_md(n)}" for n in notes))
        st.error(f"This file cannot be used: {escape_md(err)}")
        return None
    notes += series.notes
    if notes:
        st.warning("**What was done to the data:**\n" + "\n".join(f"- {escape_md(n)}" for n in notes))
    return series


# --- the page's sections ----------------------------------------------------------------------------------
def header() -> None:
    """The title, the introduction (hidden in presenter mode), the two scenarios and the reset button; the
    lessons come under the series' plot."""
    st.title("Forecasting lab")
    intro("Train a recurrent network to predict what comes next in a series, and compare it, on data it "
          "never saw, with simple baselines: the last value, the value one season back, linear models (AR, "
          "ARIMA). On small series the simple methods often "
          "win (Makridakis et al. 2018): an RNN has to earn its place.")
    b1, b2, b3 = st.columns([1, 1, 1])
    b1.button(SCENARIOS["trend"].title, key="fc_sc_trend", on_click=apply_scenario, args=("trend",),
              icon=":material/trending_up:", width="stretch",
              help="The default: a trended series, one step ahead, with the guide's preset.")
    b2.button(SCENARIOS["chaos"].title, key="fc_sc_chaos", on_click=apply_scenario, args=("chaos",),
              icon=":material/cyclone:", width="stretch",
              help=f"Mackey–Glass τ = {CHAOS.series_kwargs['tau']} sampled every {CHAOS.series_kwargs['every']} "
                   f"time units, {CHAOS.horizon} samples ahead, with the guide's preset.")
    with b3:
        reset_button("fc")


def choose_series() -> Series | None:
    source = st.radio("Data", ["built-in", "upload a CSV"], horizontal=True, key="fc_source", bind="query-params")
    return builtin_series() if source == "built-in" else uploaded_series()


def model_settings() -> tuple[ForecastRecipe | None, int, int, int]:
    """(the recipe, or None if the hidden sizes are not valid; seeds; window; horizon) from the model's box."""
    with st.container(border=True):
        st.markdown(f"**Model** · preset: the guide's section 7 stacked {GUIDE.cell} "
                    f"({' → '.join(map(str, GUIDE.hidden_sizes))} → Dense {GUIDE.dense} → Dropout {GUIDE.dropout:g} "
                    "→ Dense)")
        e1, e2, e3, e4 = st.columns(4)
        cell = e1.selectbox("Cell", ["GRU", "LSTM", "RNN"], key="fc_cell", bind="query-params")
        sizes = e2.text_input("Hidden sizes (one per layer)", "64, 32", max_chars=40, key="fc_sizes",
                              bind="query-params")
        window = e3.slider("Input window", 2, 200, 30, key="fc_window", bind="query-params")
        horizon = e4.slider("Horizon (steps ahead)", 1, 50, 1, key="fc_horizon", bind="query-params")
        f1, f2, f3, f4, f5 = st.columns(5)
        strategy = f1.radio("Multi-step strategy", ["direct", "recursive"], key="fc_strategy", disabled=horizon == 1,
                            bind="query-params",
                            help="Direct: the network outputs all steps at once. Recursive: it predicts one step "
                                 "and feeds its prediction back in.")
        max_epochs = max(1, min(200, training.limits().max_epochs))
        if max_epochs > 1:
            epochs = f2.slider("Max epochs", 1, max_epochs, min(20, max_epochs), key="fc_epochs", bind="query-params")
        else:       # a slider needs two values: the class's limit leaves one
            epochs = 1
            f2.caption("Max epochs: 1 (this class's limit).")
        lr = f3.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0], 1e-3,
                              format_func=lambda v: f"{v:g}", key="fc_lr", bind="query-params")
        patience = f4.slider("Early-stopping patience (epochs)", 1, 20, 5, key="fc_patience", bind="query-params")
        n_seeds = f5.slider("Seeds", 1, 5, 3, key="fc_seeds", bind="query-params",
                            help="The network is trained this many times from different random weights and "
                                 "batch orders; the "
                                 "table shows the mean ± sd and the verdict needs every seed to agree.")
    try:
        hidden = tuple(parse_number(p.strip(), 1, 512, integer=True) for p in sizes.split(",") if readable(p))
        if not 1 <= len(hidden) <= 4:
            raise InputError(f"{len(hidden)} sizes were given")
    except InputError as err:
        st.error("Hidden sizes must be 1 to 4 whole numbers between 1 and 512, separated by commas (e.g. 64, 32): "
                 f"{escape_md(err)}.")
        return None, n_seeds, window, horizon
    recipe = ForecastRecipe(cell=cell, hidden_sizes=hidden, window=window, horizon=horizon,
                            strategy=strategy if horizon > 1 else "direct", epochs=epochs, lr=lr, patience=patience)
    return recipe, n_seeds, window, horizon


def settings_part(series: Series) -> tuple[ForecastRecipe | None, int, Split | None]:
    """The model's settings and the split they give: (the recipe, None if it cannot train on this series;
    seeds; the split, None if the series is too short for them)."""
    recipe, n_seeds, window, horizon = model_settings()
    try:
        preview = split_series(series, window, horizon)
    except SeriesError as err:
        st.error(escape_md(err))
        preview = None
    if recipe is not None and recipe.strategy == "recursive" and series.values.shape[1] > 1:
        st.error("Recursive forecasts need a univariate series: future values of the extra features are unknown. "
                 "Use the direct strategy or remove the features.")
        recipe = None
    return recipe, n_seeds, preview


def series_view(series: Series | None, preview: Split | None) -> None:
    if series is None:
        st.info("Choose a series to begin.")
    elif preview is not None:
        plot(figure("series", (series.key(), preview.bounds),
                    lambda: series_figure(series.time, series.target, series.name, preview.bounds)),
             key="fc_series_plot")
        n = preview.window_counts()
        st.caption(f"{len(series):,} points · windows: {n['train']:,} train, {n['val']:,} validation, "
                   f"{n['test']:,} test. The split is chronological and the scaling uses the training part only.")


def quick_table(series: Series, recipe: ForecastRecipe) -> None:
    """The cheap baselines of the current settings: shown at once, before (and until) a training reports."""
    rows = cheap_baselines(series.key(), recipe.window, recipe.horizon, series)
    st.markdown("**What the network has to beat** (test part, at once; ARIMA is scored when you train)")
    metrics_table(rows, "fc_quick_table")
    best = best_method(rows)
    if best is not None:
        st.caption(f"Best so far: **{escape_md(best['method'])}**. MASE below 1 beats the naive one-step forecast "
                   "of the training part.")


def train_part(series: Series | None, recipe: ForecastRecipe | None, n_seeds: int, preview: Split | None) -> None:
    """▶ Train, then the live table and loss curves, then the results; only a job on this series is shown."""
    key = series.key() if series is not None else ""
    ready = series is not None and preview is not None and recipe is not None
    job = training.current(JOB)
    mine = job is not None and job.meta.get("series_key") == key

    def start() -> training.Submission | None:
        problem = training.check_limits(epochs=recipe.epochs, params=count_params(series.values.shape[1], recipe))
        if problem:
            st.error(problem)
            return None
        params = {**recipe.to_dict(), "seeds": n_seeds, "series": series.name, "points": len(series),
                  "features": series.columns[1:]}
        return training.Submission(
            forecast_job, {"series": series.to_plain(), "recipe": recipe.to_dict(), "seeds": n_seeds, "seed": seed()},
            seed=seed(), meta={"lab": "forecasting", "task": series.name, "cell": recipe.cell, "params": params,
                               "total_steps": planned_steps(preview.window_counts()["train"], recipe, n_seeds),
                               "series_key": key})

    def live(j) -> None:
        """While a training runs: its table so far (cheap baselines, then ARIMA, then each seed) and the loss
        curves. Once it has ended: the cheap baselines if it scored none, and whether the settings changed."""
        if not j.running:
            ended_notes(j, series, recipe, n_seeds, ready)
            return
        done, base = j.last("seed_done"), j.last("baselines")
        if done is not None:
            n_done = len(j.of_kind("seed_done"))
            st.markdown(f"**Test metrics so far** ({n_done} of {j.meta['params']['seeds']} seeds trained)")
            metrics_table(done.data["rows"], "fc_live_table")
        elif base is not None:
            st.markdown("**Baselines, ARIMA included** (the network is training)")
            metrics_table(base.data["rows"], "fc_live_table")
        elif ready:
            quick_table(series, recipe)
        curves = loss_curves(j.events)
        if curves:
            plot(loss_figure(curves), key="fc_loss_live")

    if ready or mine:
        button = training.Button("▶ Train", key="fc_go", disabled=training.active(JOB)) if ready else None
        training.train_live(JOB, button, start, live, lambda j: show_results(j, series), draw_ended=True,
                            idle=(lambda: quick_table(series, recipe)) if ready else None,
                            shows=lambda j: j.meta.get("series_key") == key)
    if job is not None and not mine and job.end_state is not None and series is not None \
            and training.current(JOB) is job:
        st.caption("The last run was on another series: press **▶ Train** for this one.")


def ended_notes(job, series: Series, recipe: ForecastRecipe | None, n_seeds: int, ready: bool) -> None:
    """Above an ended run's banner: the cheap baselines if it scored none, and whether the settings changed."""
    if ready and not (job.result and job.result.get("rows")):
        quick_table(series, recipe)
    if job.meta.get("params", {}).get("seeds") and recipe is not None:
        trained_recipe = ForecastRecipe.from_dict(job.meta["params"])
        if trained_recipe != recipe or job.meta["params"].get("seeds") != n_seeds:
            st.info("The settings have changed since this run: press **▶ Train** to train with the new ones. "
                    "Below: the last run.")


def show_results(job, series: Series) -> None:
    """Under the end banner: the test metrics, the verdict and why, the loss curves, the forecasts drawn and
    the downloads."""
    res = job.result
    rows = res.get("rows") or []
    if not rows:
        return
    trained = job.meta.get("params", {})
    st.subheader("Test metrics")
    metrics_table(rows, "fc_table")
    v = verdict(rows)
    st.markdown(v.text + (" MASE below 1 beats a naive one-step forecast of the training part." if
                          v.metric == "MASE" else " (MAE: MASE is undefined for this series.)"))
    recipe_now = ForecastRecipe.from_dict(trained) if trained else None
    sc = scenario_of(series, recipe_now) if recipe_now else None
    if sc is not None:
        st.info(f"**Why?** {sc.why}")
    elif v.outcome == "loses":
        st.caption("Linear models win when the next value is nearly a linear function of the last few, or when "
                   "the test part leaves the range seen in training (a trend). Try the chaos scenario above.")
    elif v.outcome == "wins":
        st.caption("A network can win when the past maps to the future *nonlinearly*, or when extra input "
                   "features carry information the target's own past lacks.")
    outside = outside_training_range(series.target, tuple(int(b) for b in res["bounds"]))
    if outside > 0:
        st.caption(f"{outside:.0%} of the test part lies outside the range of the training part: there a model "
                   "must extrapolate.")
    per_seed = res.get("per_seed") or []
    if per_seed:
        st.caption("Each seed: " + "; ".join(escape_md(p["text"]) for p in per_seed) + ".")
    for note in res.get("notes") or []:
        st.warning(escape_md(note))
    curves = loss_curves(job.events)
    if curves:
        plot(figure("loss", run_key(job), lambda: loss_figure(curves)), key="fc_loss")
    if "forecasts" not in res or not res["forecasts"]:
        return
    forecasts = {k: np.asarray(v) for k, v in res["forecasts"].items()}
    origins = np.asarray(res["origins"]).astype(int)
    truth = np.asarray(res["truth"])
    if not origins_fit(origins, truth.shape[1], len(series)):
        return
    bounds = tuple(int(b) for b in res["bounds"])
    best = best_method(rows)
    best_name = best["method"] if best else None
    step = 0
    if truth.shape[1] > 1:
        step = st.slider("Steps ahead shown", 1, truth.shape[1], 1, key="fc_step", bind="query-params") - 1
    kinds = [k for k in KIND_LABELS if any(method_kind(name) == k for name in forecasts)]
    shown_kinds = st.multiselect("Methods shown (the best is always drawn)", kinds,
                                 default=[k for k in ("rnn", "naive") if k in kinds],
                                 format_func=KIND_LABELS.get, key="fc_shown", bind="query-params")
    shown = [name for name in forecasts if method_kind(name) in shown_kinds]
    rollout = np.asarray(res.get("rollout", []))
    view = (*run_key(job), step, tuple(shown), best_name)
    plot(figure("forecast", view, lambda: forecast_figure(
        series.time, series.target, origins, forecasts, bounds, step, rollout if "rnn" in shown_kinds else None,
        shown, best_name)), key="fc_forecast")
    st.caption("Solid blue: the network's forecasts from each test point, made with the true past (seed "
               f"{res.get('weights_seed')}). Dashed orange: the network running free from the start of the test "
               "part, fed its own predictions instead of the true values: errors compound. Dotted: baselines (the "
               "best, marked ★, solid).")
    plot(figure("residuals", view, lambda: residual_figure(
        series.time, origins, truth, {k: v for k, v in forecasts.items() if k in shown or k == best_name}, step,
        best_name)), key="fc_resid")
    if training.trained_enough(job):
        d1, d2 = st.columns(2)
        d1.download_button("Download the test forecasts (CSV)",
                           csv_of(run_key(job), lambda: forecasts_frame(series.time, origins, truth, forecasts)),
                           file_name="forecasts.csv", mime="text/csv", key="fc_dl",
                           help="Every method's forecast at each test point and step ahead, with the truth.")
        buf = io.BytesIO()
        torch.save({"state_dict": res["state_dict"], "config": res["config"]}, buf)
        d2.download_button("Download the network (PyTorch weights)", buf.getvalue(), file_name="forecaster.pt",
                           key="fc_dl_model",
                           help="The first scored seed's weights (a state_dict of rnnlab.labs.forecast.Forecaster) and "
                                "its settings; load with torch.load(..., weights_only=True).")


@st.cache_data(ttl=3600, show_spinner=False)
def measured(mtime: float) -> dict | None:
    try:
        return json.loads(BENCH.read_text())
    except (OSError, ValueError):
        return None


def measured_part() -> None:
    """Where a recurrent network wins, and where not: the shipped benchmark over many series, if there is one."""
    if not BENCH.exists():
        return
    doc = measured(BENCH.stat().st_mtime)
    if doc and doc.get("results"):
        with st.expander(f"Where a recurrent network wins, and where it does not: {len(doc['results'])} series, "
                         f"{doc['seeds']} seeds each"):
            rows = bench_rows(doc)
            st.dataframe(pd.DataFrame(rows).set_index("series"), width="stretch", key="fc_bench")
            where = bench_provenance(doc)
            command = doc["command"].replace("`", "")
            st.caption(f"MASE on each test part (lower is better), the GRU's as mean ± sd over {doc['seeds']} seeds; "
                       f"the guide's preset, up to {doc['epochs']} epochs. Measured with `{command}` on "
                       f"{escape_md(where['dates'])} ({escape_md(where['machines'])}, load average "
                       f"{where['load_min']:g}–{where['load_max']:g}). "
                       "MASE does not depend on the machine's speed here (no time limit stopped these runs) and the "
                       "seeds fix every random choice.")
            st.markdown(" · ".join(f"**{escape_md(v)}**: {escape_md(', '.join(names))}"
                                   for v, names in series_by_verdict(rows).items()))


# --- the page ----------------------------------------------------------------------------------------------
header()
series = choose_series()
# The series' plot right under its choice (on a projector's first screen), then the lessons, then the model's
# settings: drawn before the plot, which needs their window and horizon for its split.
series_area = st.container()
lessons("forecast")
recipe, n_seeds, preview = settings_part(series) if series is not None else (None, 3, None)
with series_area:
    series_view(series, preview)
train_part(series, recipe, n_seeds, preview)
measured_part()
next_page("app_pages/forecast.py")
