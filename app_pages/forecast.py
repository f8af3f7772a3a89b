"""Forecasting lab: train recurrent forecasters live, honestly compared with simple baselines."""
import time

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.common import plot, seed
from app_pages.legacy_jobs import TrainingJob, rerun_once_finished
from rnnlab.figures.forecast import forecast_figure, loss_figure, residual_figure, series_figure
from rnnlab.labs.forecast import ForecastRecipe, forecasts_frame, train_forecaster
from rnnlab.data.series import BUILTIN, SeriesError, read_table, series_from_table, split_series

st.title("Forecasting lab")
st.markdown("Train a recurrent network to predict what comes next in a series, and compare it, on data it never "
            "saw, with methods that need no training at all. On small series the simple methods often win "
            "(Makridakis et al. 2018): an RNN has to earn its place.")

source = st.radio("Series", ["built-in", "upload a CSV"], horizontal=True, key="fc_source")
series = None
if source == "built-in":
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox("Series", list(BUILTIN), key="fc_series", bind="query-params")
    kwargs = {}
    if name in ("sine", "sum of sines + trend + noise", "AR(2) process", "Mackey-Glass chaos"):
        kwargs["n"] = c2.slider("Points", 200, 5000, 2000, 100, key="fc_n")
    if name == "sine":
        kwargs["period"] = c3.slider("Period", 5, 200, 50, key="fc_period")
        kwargs["noise"] = c3.slider("Noise", 0.0, 1.0, 0.05, 0.05, key="fc_noise")
    elif name == "sum of sines + trend + noise":
        kwargs["trend"] = c3.slider("Trend per step", -0.01, 0.01, 0.002, 0.001, format="%.3f", key="fc_trend")
        kwargs["noise"] = c3.slider("Noise", 0.0, 1.0, 0.1, 0.05, key="fc_noise2")
    elif name == "AR(2) process":
        kwargs["phi1"] = c3.slider("φ1", -1.5, 1.5, 0.6, 0.05, key="fc_phi1")
        kwargs["phi2"] = c3.slider("φ2", -0.95, 0.95, -0.3, 0.05, key="fc_phi2")
        if abs(kwargs["phi2"]) >= 1 or kwargs["phi1"] + kwargs["phi2"] >= 1 or kwargs["phi2"] - kwargs["phi1"] >= 1:
            st.warning("These coefficients make the AR(2) process non-stationary: it will drift or explode.")
    elif name == "Mackey-Glass chaos":
        kwargs["tau"] = c3.slider("Delay τ (chaotic above 16.8)", 5, 30, 17, key="fc_tau")
    elif name == "stock prices (plotly)":
        kwargs["ticker"] = c2.selectbox("Ticker", ["GOOG", "AAPL", "AMZN", "FB", "NFLX", "MSFT"], key="fc_ticker")
    if "seed" in BUILTIN[name].__code__.co_varnames:
        kwargs["seed"] = seed()
    series = BUILTIN[name](**kwargs)
    if not np.all(np.isfinite(series.values)):
        st.error("This series blew up to infinity (non-stationary settings). Choose other parameters.")
        series = None
else:
    upload = st.file_uploader("CSV file (one row per time step)", type=["csv"], key="fc_upload")
    if upload is not None:
        try:
            table = read_table(upload.getvalue())
            if not table.numeric:
                raise SeriesError("the file has no numeric column to forecast")
            d1, d2, d3 = st.columns(3)
            time_col = d1.selectbox("Time column", ["(row order)"] + table.time_candidates + [
                c for c in table.frame.columns if c not in table.time_candidates and c not in table.numeric],
                key="fc_time")
            target = d2.selectbox("Target", table.numeric, key="fc_target")
            features = d3.multiselect("Extra input features", [c for c in table.numeric if c != target], key="fc_feats")
            n_missing = int(table.frame[[target] + features].isna().any(axis=1).sum())
            missing = "fill"
            if n_missing:
                missing = st.radio(f"{n_missing} rows have missing values", ["fill", "drop"], horizontal=True,
                                   format_func=lambda m: {"fill": "fill them (interpolate)", "drop": "drop those rows"}[m],
                                   key="fc_missing")
            series = series_from_table(table, target, features, None if time_col == "(row order)" else time_col, missing)
        except SeriesError as err:
            st.error(f"This file cannot be used: {err}")

if series is None:
    st.info("Choose a series to begin.")
    st.stop()

with st.container(border=True):
    st.markdown("**Model** · preset: the guide's section 7 stacked GRU (64 → 32 → Dense 32 → Dropout 0.2 → Dense)")
    e1, e2, e3, e4 = st.columns(4)
    cell = e1.selectbox("Cell", ["GRU", "LSTM", "RNN"], key="fc_cell")
    sizes = e2.text_input("Hidden sizes (one per layer)", "64, 32", key="fc_sizes")
    window = e3.slider("Input window", 2, 200, 30, key="fc_window")
    horizon = e4.slider("Horizon (steps ahead)", 1, 50, 1, key="fc_horizon")
    f1, f2, f3, f4 = st.columns(4)
    strategy = f1.radio("Multi-step strategy", ["direct", "recursive"], key="fc_strategy", disabled=horizon == 1,
                        help="Direct: the network outputs all steps at once. Recursive: it predicts one step and "
                             "feeds its prediction back in.")
    epochs = f2.slider("Max epochs", 1, 200, 50, key="fc_epochs")
    lr = f3.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0], 1e-3,
                          format_func=lambda v: f"{v:g}", key="fc_lr")
    patience = f4.slider("Early-stopping patience", 1, 20, 5, key="fc_patience")

try:
    hidden = tuple(int(s) for s in sizes.replace(" ", "").split(",") if s)
    if not hidden or any(h < 1 or h > 512 for h in hidden):
        raise ValueError
except ValueError:
    st.error("Hidden sizes must be whole numbers between 1 and 512, separated by commas (e.g. 64, 32).")
    st.stop()

recipe = ForecastRecipe(cell=cell, hidden_sizes=hidden, window=window, horizon=horizon,
                        strategy=strategy if horizon > 1 else "direct", epochs=epochs, lr=lr, patience=patience)
try:
    preview = split_series(series, window, horizon)
    plot(series_figure(series.time, series.target, series.name, preview.bounds), key="fc_series_plot")
    n = {k: len(v[0]) for k, v in preview.parts.items()}
    st.caption(f"{len(series):,} points · windows: {n['train']:,} train, {n['val']:,} validation, {n['test']:,} test. "
               "The split is chronological and the scaling uses the training part only.")
except SeriesError as err:
    st.error(str(err))
    st.stop()
if recipe.strategy == "recursive" and series.values.shape[1] > 1:
    st.error("Recursive forecasts need a univariate series: future values of the extra features are unknown. "
             "Use the direct strategy or remove the features.")
    st.stop()

job: TrainingJob | None = st.session_state.get("fc_job")
b1, b2 = st.columns(2)
if b1.button("▶ Train", type="primary", key="fc_go", disabled=job is not None and job.running):
    job = TrainingJob(train_forecaster, series=series, recipe=recipe, seed=seed())
    job.epochs = epochs
    st.session_state["fc_job"] = job
if b2.button("■ Stop", key="fc_stop", disabled=job is None or not job.running):
    job.stop()


def epoch_curves(j: TrainingJob):
    steps = j.of_kind("step")
    evals = j.of_kind("eval")
    by_epoch: dict[int, list[float]] = {}
    for e in steps:
        by_epoch.setdefault(e.epoch + 1, []).append(e.data["loss"])
    epochs_ = sorted(by_epoch)[:len(evals)]
    early = j.of_kind("early_stop")
    return loss_figure(epochs_, [float(np.mean(by_epoch[k])) for k in epochs_], [e.data["loss"] for e in evals][:len(epochs_)],
                       [e.epoch + 1 for e in j.of_kind("lr")], early[0].epoch + 1 if early else None)


@st.fragment(run_every=1.0 if job is not None and job.running else None)
def live():
    j = st.session_state.get("fc_job")
    if j is None:
        return
    evals = j.of_kind("eval")
    if j.running:
        st.progress(min(len(evals) / max(j.epochs, 1), 1.0),
                    text=f"Epoch {len(evals)}/{j.epochs} · {time.perf_counter() - j.started:.0f} s"
                         + (" · scoring the baselines (ARIMA)…" if j.of_kind("done") else ""))
    if evals:
        plot(epoch_curves(j), key="fc_loss")
    rerun_once_finished(j, "fc_seen")


live()

if job is not None and not job.running:
    if job.error:
        st.error(f"Training failed: {job.error}")
        st.stop()
    res = job.result
    h = res.history
    {"diverged": st.error, "cancelled": st.warning, "early_stopped": st.info}.get(h.status, st.success)(
        h.message + f" ({h.seconds:.1f} s)")
    table = pd.DataFrame(res.table).set_index("method")
    best = table["MASE"].idxmin()
    st.subheader("Test metrics")
    st.dataframe(table.style.format("{:.4f}").highlight_min(axis=0, color="#c8e6c9"), width="stretch")
    rnn_name = res.table[0]["method"]
    verdict = ("The RNN wins" if best == rnn_name else f"**{best}** beats the RNN here")
    st.markdown(f"{verdict} (lowest MASE; below 1 beats a naive one-step forecast of the training data).")
    y = res.split.series.target
    step = 0
    if res.truth.shape[1] > 1:
        step = st.slider("Steps ahead shown", 1, res.truth.shape[1], 1, key="fc_step") - 1
    shown = st.multiselect("Methods shown", list(res.forecasts), default=list(res.forecasts)[:3], key="fc_shown")
    plot(forecast_figure(res.split.series.time, y, res.origins, res.forecasts, res.split.bounds, step, res.rollout,
                         shown), key="fc_forecast")
    st.caption("Solid: the RNN's forecasts from each test point, made with the true past. Dashed orange: the RNN "
               "running free from the start of the test part, fed only its own predictions: errors compound.")
    plot(residual_figure(res.split.series.time, res.origins, res.truth,
                         {k: v for k, v in res.forecasts.items() if k in shown}, step), key="fc_resid")
    st.download_button("Download the test forecasts (CSV)", forecasts_frame(res).to_csv(index=False).encode(),
                       file_name="forecasts.csv", mime="text/csv", key="fc_dl")
