"""The Forecasting lab's script: the series, the cheap baselines the page shows at once, then the page's live
training (every seed, ARIMA included) and the verdict, with the test part's forecasts drawn."""
from __future__ import annotations

from ...data.series import BUILTIN
from ..forecast.recipes import DEFAULT_SERIES, PRESET_WIDGETS
from .template import Code, Const, Settings, render

TITLE = "Forecasting lab"
DEFAULTS = {**PRESET_WIDGETS, "fc_series": DEFAULT_SERIES, "fc_n": 2000, "fc_period": 50, "fc_noise": 0.05,
            "fc_trend": 0.002, "fc_noise2": 0.1, "fc_phi1": 0.6, "fc_phi2": -0.3, "fc_tau": 17, "fc_every": 1,
            "fc_ticker": "GOOG", "fc_window": 30, "fc_horizon": 1, "fc_epochs": 20, "fc_shown": ["rnn", "naive"]}
#: each built-in series' arguments -> the page's widget key (a series takes the sidebar's seed as well)
SERIES_KEYS = {"sine": {"n": "fc_n", "period": "fc_period", "noise": "fc_noise"},
               "sum of sines + trend + noise": {"n": "fc_n", "trend": "fc_trend", "noise": "fc_noise2"},
               "AR(2) process": {"n": "fc_n", "phi1": "fc_phi1", "phi2": "fc_phi2"},
               "Mackey-Glass chaos": {"n": "fc_n", "tau": "fc_tau", "every": "fc_every"},
               "stock prices (plotly)": {"ticker": "fc_ticker"}}
JOB_SECONDS = 900.0

BUILTIN_SERIES = '''
series = BUILTIN[SERIES](**SERIES_ARGS)
'''

UPLOADED_SERIES = '''
# The page read an uploaded CSV, which a link cannot carry: put the file's path in CSV_FILE above
table = read_table(Path(CSV_FILE).read_bytes())
series = series_from_table(table, TARGET, FEATURES, TIME_COLUMN, MISSING)
'''

BODY = '''
split = split_series(series, WINDOW, HORIZON)          # chronological; the scaling sees the training part only
n = split.window_counts()
print(f"{len(series):,} points · windows: {n['train']:,} train, {n['val']:,} validation, {n['test']:,} test")

columns = ["method", "MASE", "MAE", "RMSE"]             # lower is better; MASE < 1 beats a naive one-step forecast
print("\\nWhat the network has to beat (test part; ARIMA is scored with the training):")
print(pd.DataFrame(quick_baselines(series, WINDOW, HORIZON))[columns].to_string(index=False, float_format=FMT))

# The page's live training: every seed, then the baselines (ARIMA too) on the same test part
recipe = ForecastRecipe(cell=CELL, hidden_sizes=HIDDEN_SIZES, window=WINDOW, horizon=HORIZON,
                        strategy=STRATEGY if HORIZON > 1 else "direct", epochs=EPOCHS, lr=LR, patience=PATIENCE)
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: None, None, max_seconds=MAX_SECONDS)    # the job's events go nowhere
result = forecast_job(context, series.to_plain(), recipe.to_dict(), seeds=SEEDS, seed=SEED)

rows = result["rows"]
print(f"\\nTest metrics (the network's: mean over {SEEDS} seed(s)):")
print(pd.DataFrame(rows)[columns].to_string(index=False, float_format=FMT))
print(result["verdict"]["text"].replace("**", ""))
for p in result["per_seed"]:
    print(f"  {p['text']}")
for note in result["notes"]:
    print(f"  Note: {note}")

best = best_method(rows)
forecasts = {name: np.asarray(f) for name, f in result["forecasts"].items()}
shown = [name for name in forecasts if method_kind(name) in SHOWN]
fig = forecast_figure(series.time, series.target, np.asarray(result["origins"]).astype(int), forecasts,
                      tuple(int(b) for b in result["bounds"]), 0, np.asarray(result["rollout"]), shown,
                      best["method"] if best else None)
show(fig, html)
'''


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    if s.get("fc_source") == "upload a CSV":
        return "csv"
    short = {"sum of sines + trend + noise": "sines_trend", "AR(2) process": "ar2", "Mackey-Glass chaos":
             "mackey_glass", "stock prices (plotly)": "stocks"}.get(s["fc_series"], str(s["fc_series"]).split()[0])
    return f"{short}_h{s.num('fc_horizon', int)}"


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(h) for h in str(text).replace(" ", "").split(",") if h)
    except ValueError:
        sizes = ()
    return sizes or (64, 32)


def _series_consts(s: Settings, seed: int) -> tuple[list[Const], str, list[str]]:
    if s.get("fc_source") == "upload a CSV":
        pick = {k.split("_")[1]: v for k, v in s.items() if k.startswith(("fc_time_", "fc_target_", "fc_feats_"))}
        time_column = pick.get("time")
        consts = [Const("CSV_FILE", "your_data.csv", "the CSV you uploaded on the page"),
                  Const("TARGET", pick.get("target", "value"), "Target"),
                  Const("FEATURES", list(pick.get("feats", [])), "Extra input features"),
                  Const("TIME_COLUMN", None if time_column in (None, "(row order)") else time_column,
                        "Time column (None: the rows' order)"),
                  Const("MISSING", "fill", "rows with missing values: fill (interpolate) or drop")]
        return consts, UPLOADED_SERIES, ["from pathlib import Path",
                                         "from rnnlab.data.series import read_table, series_from_table"]
    name = s["fc_series"] if s["fc_series"] in BUILTIN else DEFAULT_SERIES
    args = {arg: s[key] for arg, key in SERIES_KEYS.get(name, {}).items()}
    if "seed" in BUILTIN[name].__code__.co_varnames:
        args["seed"] = seed
    return [Const("SERIES", name, "Series"), Const("SERIES_ARGS", args, "its settings on the page")], \
        BUILTIN_SERIES, ["from rnnlab.data.series import BUILTIN"]


def script(s: Settings, seed: int, file_name: str) -> str:
    series_consts, make_series, series_imports = _series_consts(s, seed)
    shown = [k for k in s.items_list("fc_shown") if isinstance(k, str)] or ["rnn", "naive"]
    consts = [*series_consts,
              Const("CELL", s["fc_cell"], "Cell"),
              Const("HIDDEN_SIZES", _hidden(s["fc_sizes"]), "Hidden sizes (one per layer)"),
              Const("WINDOW", s.num("fc_window", int), "Input window"),
              Const("HORIZON", s.num("fc_horizon", int), "Horizon (steps ahead)"),
              Const("STRATEGY", s["fc_strategy"], "Multi-step strategy (with a horizon above 1)"),
              Const("EPOCHS", s.num("fc_epochs", int), "Max epochs"),
              Const("LR", s.num("fc_lr"), "Learning rate"),
              Const("PATIENCE", s.num("fc_patience", int), "Early-stopping patience (epochs)"),
              Const("SEEDS", s.num("fc_seeds", int), "Seeds: the network is trained this many times"),
              Const("SHOWN", shown, "Methods drawn (the best is always drawn)"),
              Const("SEED", seed, "the sidebar's seed"),
              Const("MAX_SECONDS", JOB_SECONDS, "stop the training after this long"),
              Const("FMT", Code('"{:.4g}".format'), "numbers as the page writes them: four significant digits")]
    return render(
        title="Forecasting lab: a recurrent forecaster against naive, seasonal, AR and ARIMA baselines.",
        about="The series is split in time (train, validation, test). The baselines that cost milliseconds are "
              "scored at once, as on the page; then the page's live training runs here, with the page's settings: "
              "the network trained from each seed (early stopping on the validation part), ARIMA fitted, and every "
              "method scored on the test part (MASE, MAE, RMSE). At the page's defaults (three seeds, up to 20 "
              "epochs) that takes a few minutes on a laptop's CPU: lower SEEDS or EPOCHS for a quicker look.",
        page_title=TITLE, file_name=file_name,
        imports=["import numpy as np", "import pandas as pd", "import torch", *series_imports,
                 "from rnnlab.data.series import split_series", "from rnnlab.figures.forecast import forecast_figure",
                 "from rnnlab.labs.forecast import ForecastRecipe, best_method, forecast_job, method_kind, "
                 "quick_baselines", "from rnnlab.runtime.device import seed_everything",
                 "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=make_series + BODY)

