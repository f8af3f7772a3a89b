"""Take the experiment home (issue #28): every lab page's "This experiment as a Python script".

Each page is opened through AppTest at its smallest (fastest) settings; the script is made from that session's
settings, exactly as the page's download makes it, run in a subprocess (``python3 script.py --html fig.html``)
and must print every number the page shows, with the page's label and to the page's digits, and write the
figure. Every lab of the registry has a script, and every script passes the project's linter.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app_pages.common import all_pages
from rnnlab.labs.scripts import PAGES, PREFIXES, file_name, has_script, page_name, page_settings, script_for

ROOT = Path(__file__).resolve().parents[1]
NOT_LABS = {"home", "board", "teacher"}
#: the project's linter settings (pyproject.toml), given on the command line: a script lives outside the project
LINT = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--line-length", "120", "--target-version",
        "py311", "--select", "E,F,W,I,B,UP,SIM,RUF100", "--ignore", "B905",
        "--config", "lint.isort.known-first-party=['rnnlab']"]


# --- helpers ------------------------------------------------------------------------------------------------
def open_page(page: str, **query):
    """The app at ``page`` with ``query`` in its link (the settings a student would share)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def session_settings(at, page: str) -> dict:
    return page_settings(page, at.session_state.to_dict())


def shown_numbers(at) -> list[str]:
    """The page's metrics as the script must print them: ``label: value``."""
    return [f"{m.label}: {m.value}" for m in at.metric]


def run_script(tmp_path: Path, page: str, settings: dict, seed: int = 0, timeout: float = 600) -> str:
    """Write the page's script, lint it, run it headless; its output (the figure file must exist)."""
    path = tmp_path / file_name(page, settings, seed)
    path.write_text(script_for(page, settings, seed), encoding="utf-8")
    lint = subprocess.run([*LINT, str(path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fig = tmp_path / "figure.html"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RNNLAB_DEVICE": "cpu"}
    done = subprocess.run([sys.executable, str(path), "--html", str(fig)], capture_output=True, text=True,
                          timeout=timeout, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fig.is_file() and fig.stat().st_size > 1000, "no figure written"
    return done.stdout


def assert_prints(out: str, expected: list[str]) -> None:
    assert expected, "the page showed no number to compare"
    missing = [e for e in expected if e not in out]
    assert not missing, f"the script did not print {missing}\n--- its output:\n{out}"


def trained_page(page: str, job_key: str, button: str, timeout: float = 300, **query):
    """The page after its Train button's job has run in the job runner's worker, and drawn its results."""
    from app_pages import training

    at = open_page(page, **query)
    at.button(key=button).click().run()
    job = at.session_state[job_key]
    training.wait_for(job, timeout)
    assert job.end_state in ("finished", "early_stopped"), (job.end_state, job.error)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_and_script(tmp_path, page: str, **query) -> tuple[object, str]:
    at = open_page(page, **query)
    return at, run_script(tmp_path, page, session_settings(at, page))


# --- every lab has a script, and every script is clean ----------------------------------------------------
def test_every_lab_of_the_registry_has_a_script():
    labs = [page_name(p.path) for p in all_pages() if page_name(p.path) not in NOT_LABS]
    assert sorted(labs) == sorted(PAGES), "rnnlab.labs.scripts.PAGES must list exactly the lab pages"
    assert set(PREFIXES) == set(PAGES)
    missing = [p for p in labs if not has_script(p)]
    assert not missing, f"labs without a script: {missing}"
    assert not has_script("home") and not has_script("app_pages/board.py") and not has_script(None)


#: each page's tab key and tabs (a script per tab); the others' scripts vary with another setting
TABS = {"gradients": ("gr_tab", ["Gradient flow", "Clipping", "Truncated BPTT", "Long-range tasks"]),
        "sentiment": ("sent_tab", ["Word by word", "Key words", "What if…", "Calibration"]),
        "textgen": ("tg_tab", ["Generate", "Train live", "Inside the model", "Connectivity"]),
        "compare": ("cmp_tab", ["Memory", "Shakespeare", "Speed", "Table"]),
        "memory": ("mem_tab", ["Heatmaps", "Colour the text", "Gate saturation", "Trajectory", "Find units",
                               "Search the corpus"]),
        "scratch": ("scr_tab", ["Forward pass", "Backpropagation by hand", "Gradient check",
                                "The same in torch.nn.RNN", "Train a character model"]),
        "architectures": ("ar_tab", ["1 → 1", "1 → many", "many → 1", "many → many, synced", "Encoder–decoder",
                                     "Attention"]),
        "batches": ("bat_tab", ["Padding and masking", "Packing", "What it costs", "Embeddings"]),
        "forecast": ("fc_source", ["built-in", "upload a CSV"]),
        "step_through": ("st_input", ["sentence", "sine"])}


@pytest.mark.parametrize("page", PAGES)
def test_every_script_at_the_defaults_and_every_tab_passes_the_linter(tmp_path, page):
    if not has_script(page):
        pytest.skip(f"{page}: no script yet")
    key, tabs = TABS.get(page, (None, [None]))
    for tab in tabs:
        settings = {key: tab} if key else {}
        for seed in (0, 7):
            text = script_for(page, settings, seed)
            compile(text, file_name(page, settings, seed), "exec")
            assert "SEED = " in text and (page == "scratch" or f"SEED = {seed}" in text)
            assert "streamlit" not in text
            (tmp_path / file_name(page, settings, seed)).write_text(text, encoding="utf-8")
    lint = subprocess.run([*LINT, str(tmp_path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_lab_page_ends_with_the_download_and_the_home_page_has_none():
    from app_pages.experiment import LABEL

    at = open_page("gradients", gr_T="200")
    buttons = [b for b in at.get("download_button") if b.proto.label == LABEL]
    assert len(buttons) == 1
    assert script_for("gradients", session_settings(at, "gradients"), 0).count("T = 200") == 1
    home = open_page("home")
    assert not [b for b in home.get("download_button") if b.proto.label == LABEL]


def test_file_name_names_the_page_and_its_main_settings():
    assert file_name("app_pages/gradients.py", {"gr_T": 200}) == "rnnlab_gradients_T200.py"
    assert file_name("gradients", {"gr_T": "200"}, seed=3) == "rnnlab_gradients_T200_seed3.py"
    assert file_name("gradients", {"gr_tab": "Truncated BPTT"}) == "rnnlab_gradients_truncated_T100_k20.py"


def test_a_long_text_becomes_lines_within_the_limit():
    from rnnlab.labs.scripts.template import _chunks, literal

    text = 'a "quoted" it\'s ' * 30 + "x" * 300 + " \n\n tail"
    assert "".join(_chunks(text, 112)) == text
    source = literal(text, 11)
    assert eval(source) == text and max(map(len, source.splitlines())) <= 120


def test_a_single_word_of_a_million_characters_renders_in_well_under_a_second():
    """Issue 29: _chunks() copied and re-quoted the rest of a long word at every cut, so a 10^6-character text
    in the session took 16-37 s to render the downloadable script. Now linear (a loose bound: < 5 s)."""
    import time

    from rnnlab.labs.scripts import script_for
    from rnnlab.labs.scripts.template import _chunks, literal

    word = "x" * 10**6
    started = time.perf_counter()
    source = literal(word, 11)
    chunks = _chunks("\n\x00é" * 10**5, 112)
    script = script_for("batches", {"bat_text": word}, 0)
    assert time.perf_counter() - started < 5
    assert eval(source) == word and max(map(len, source.splitlines())) <= 120
    assert "".join(chunks) == "\n\x00é" * 10**5 and all(len(repr(c)) <= 112 for c in chunks)
    assert source in script and max(map(len, script.splitlines())) <= 120


# --- Gradients lab ----------------------------------------------------------------------------------------
def test_gradients_flow_script_prints_the_page_numbers(tmp_path):
    at, out = page_and_script(tmp_path, "gradients", gr_T="5", gr_hidden="4")
    assert_prints(out, shown_numbers(at))
    sigma_lines = [m.value.replace("**", "") for m in at.markdown if "σ_max(W_hh) =" in m.value]
    assert_prints(out, sigma_lines)


def test_gradients_truncation_script_prints_the_page_numbers(tmp_path):
    at, out = page_and_script(tmp_path, "gradients", gr_tab="Truncated BPTT", gr_tr_T="10", gr_tr_k="3")
    assert_prints(out, shown_numbers(at))
    verdict = next(c.value for c in at.caption if "k =" in c.value)
    assert verdict.split(" (k is capped")[0] in out


def test_gradients_flow_script_follows_a_typed_sentence_and_skips(tmp_path):
    at, out = page_and_script(tmp_path, "gradients", gr_input="typed sentence", gr_text="not bad at all",
                              gr_skip="true", gr_hidden="4")
    assert "SKIP = True" in script_for("gradients", session_settings(at, "gradients"), 0)
    assert_prints(out, shown_numbers(at))


@pytest.mark.slow
def test_gradients_training_scripts_print_what_the_page_trained(tmp_path):
    at = trained_page("gradients", "job_gr_clip", "gr_cl_go", gr_tab="Clipping", gr_cl_T="10", gr_cl_steps="50")
    out = run_script(tmp_path, "gradients", session_settings(at, "gradients"))
    runs = [t for t in (m.value.replace("**", "") for m in [*at.success, *at.error]) if "clipping:" in t]
    assert len(runs) == 2
    assert_prints(out, runs)
    race = {"gr_tab": "Long-range tasks", "gr_lr_T": 10, "gr_lr_steps": 50, "gr_lr_cells": ["GRU", "RNN"]}
    out = run_script(tmp_path, "gradients", race)
    assert "GRU: " in out and "RNN: " in out and "Baseline" in out


def test_every_page_default_is_the_page_widget_default():
    """The defaults a script falls back on (a widget of a tab never opened) are the page's own: each page opened
    as a student first sees it holds the same values for the keys both know."""
    import importlib

    for page in PAGES:
        module = importlib.import_module(f"rnnlab.labs.scripts.{page}")
        at = open_page(page)
        held = session_settings(at, page)
        differ = {k: (held[k], v) for k, v in module.DEFAULTS.items()
                  if k in held and held[k] != v and not (isinstance(v, str) and str(held[k]).startswith(v))}
        assert not differ, f"{page}: the script's defaults differ from the page's: {differ}"


# --- Sentiment lab ----------------------------------------------------------------------------------------
def _sentiment_numbers(at) -> list[str]:
    return [n for n in shown_numbers(at) if not n.startswith("Prediction")]     # the page's emoji, not the script's


def test_sentiment_script_prints_the_prediction_and_each_tab(tmp_path):
    at, out = page_and_script(tmp_path, "sentiment")
    assert_prints(out, _sentiment_numbers(at))
    at, out = page_and_script(tmp_path, "sentiment", sent_tab="Key words")
    strongest = next(c.value for c in at.caption if "Strongest:" in c.value)
    assert_prints(out, [re.search(r"[+-][0-9.]+ log-odds \(.*? of probability\)", strongest).group(0)])
    differ = next(c.value for c in at.caption if "Spearman" in c.value)          # gradient against occlusion
    assert_prints(out, [differ.replace("\\", "")])
    at, out = page_and_script(tmp_path, "sentiment", sent_tab="What if…")
    assert_prints(out, _sentiment_numbers(at))
    at, out = page_and_script(tmp_path, "sentiment", sent_tab="Calibration")
    assert_prints(out, _sentiment_numbers(at))


# --- Forecasting lab --------------------------------------------------------------------------------------
SMALL_FORECAST = {"fc_n": "200", "fc_window": "5", "fc_epochs": "1", "fc_seeds": "1", "fc_sizes": "8"}


def _table_numbers(frame) -> list[str]:
    return [f"{v:.4g}" for col in ("MASE", "MAE", "RMSE") for v in frame[col]]


def test_forecast_script_prints_the_baselines_the_page_shows(tmp_path):
    at, out = page_and_script(tmp_path, "forecast", **SMALL_FORECAST)
    windows = next(c.value for c in at.caption if "points · windows" in c.value)
    assert windows.split(". The split")[0] in out
    assert_prints(out.split("Test metrics")[0], _table_numbers(at.dataframe[0].value))
    assert "Test metrics" in out and "seed 0:" in out


@pytest.mark.slow
def test_forecast_script_prints_the_page_trained_table(tmp_path):
    at = trained_page("forecast", "lab_forecast_job", "fc_go", **SMALL_FORECAST)
    out = run_script(tmp_path, "forecast", session_settings(at, "forecast"))
    assert_prints(out.split("Test metrics")[1], _table_numbers(at.dataframe[0].value))


# --- Text generation --------------------------------------------------------------------------------------
def test_textgen_script_writes_the_page_sample(tmp_path):
    at, out = page_and_script(tmp_path, "textgen", tg_len="50", tg_temp="1.0")
    steps = at.session_state["tg_generated"]["steps"]
    assert "".join(s["char"] for s in steps) in out
    surprise = next(c.value for c in at.caption if "Mean surprise" in c.value)
    assert_prints(out, [re.search(r"Mean surprise of this text under the model: [0-9.]+ nats", surprise).group(0)])


def test_textgen_inside_script_prints_the_units_and_the_passage_correlation(tmp_path):
    at, out = page_and_script(tmp_path, "textgen", tg_tab="Inside the model")
    r_here = next(c.value for c in at.caption if "Correlation on this passage" in c.value)
    assert_prints(out, [r_here.split("Correlation on this passage: ")[1].rstrip(".")])
    table = at.dataframe[0].value
    assert_prints(out, [f"r = {r:.3f}" for r in table["r"]])


def test_textgen_connectivity_script_prints_the_bars_and_the_guesses(tmp_path):
    at, out = page_and_script(tmp_path, "textgen", tg_tab="Connectivity", tg_conn_t="40", tg_conn_shown="20")
    bars = next(c.value for c in at.caption if "of the bars' total" in c.value)
    expected = re.findall(r"(?:LSTM|GRU|tanh RNN): p = [0-9.]+%, [0-9]+% of the bars' total on the last [0-9]+ "
                          r"characters", bars)
    guesses = next(c.value for c in at.caption if "first guess is right" in c.value)
    expected.append(re.search(r"first guess is right at .*? nats", guesses).group(0))
    assert_prints(out, expected)


@pytest.mark.slow
def test_textgen_training_script_trains_and_reports(tmp_path):
    out = run_script(tmp_path, "textgen", {"tg_tab": "Train live", "tg_hidden": 32, "tg_layers": 1, "tg_seq": 16,
                                           "tg_secs": 5})
    assert "Training steps:" in out and "Passes over the text:" in out


# --- the comparison ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_compare_scripts_train_the_four(tmp_path):
    small = {"cmp_T": 16, "cmp_steps": 100, "cmp_size": 10_000}
    at = trained_page("compare", "compare_recall_job", "cmp_train", **{k: str(v) for k, v in small.items()})
    out = run_script(tmp_path, "compare", session_settings(at, "compare"))
    assert out.count(": holds: ") == 4
    assert_prints(out, shown_numbers(at))
    out = run_script(tmp_path, "compare", {**small, "cmp_tab": "Table"})
    assert "Memory" in out and "the course says" in out


# --- Step through, Inside the memory, From scratch ---------------------------------------------------------
def test_step_through_script_prints_the_step_the_page_writes_out(tmp_path):
    at, out = page_and_script(tmp_path, "step_through", st_t="3", st_hidden="2")
    info = next(m.value for m in at.markdown if m.value.startswith("**Input x_"))
    assert_prints(out, [info.replace("**", "").replace("`", "").replace("\\", "")])
    scales = next(c.value for c in at.caption if c.value.startswith("Each U, measured"))
    assert_prints(out, [scales])
    at, out = page_and_script(tmp_path, "step_through", st_input="sine", st_length="5", st_cell="GRU")
    info = next(m.value for m in at.markdown if m.value.startswith("**Input x_"))
    assert_prints(out, [info.replace("**", "").replace("`", "").replace("\\", "")])


def test_memory_script_reads_the_text_as_the_page_does(tmp_path):
    fresh = "Freshly initialised (untrained)"
    at, out = page_and_script(tmp_path, "memory", mem_source=fresh, mem_hidden="4", mem_text="not bad at all")
    assert_prints(out, shown_numbers(at))
    at, out = page_and_script(tmp_path, "memory", mem_tab="Gate saturation", mem_text="a fine film, not a dull one")
    assert_prints(out, shown_numbers(at))


@pytest.mark.slow
def test_memory_corpus_search_script_matches_the_page_where_an_index_is_built(tmp_path):
    from rnnlab.labs.corpus_search import MODELS, index_info, index_path

    model = MODELS["sentiment"]
    if index_info(index_path(model.kind, model.folder, model.corpus)) is None:
        pytest.skip("no corpus index on this machine (the page's Build button makes it, minutes of one core)")
    at, out = page_and_script(tmp_path, "memory", mem_tab="Search the corpus")
    assert_prints(out, [n for n in shown_numbers(at) if not n.startswith("Search time")])


def test_scratch_scripts_print_the_page_numbers(tmp_path):
    at, out = page_and_script(tmp_path, "scratch")
    assert_prints(out, at.code[1].value.splitlines())                   # "What it prints"
    for tab in ("Gradient check", "The same in torch.nn.RNN"):
        at, out = page_and_script(tmp_path, "scratch", scr_tab=tab, scr_seed="3")
        assert_prints(out, shown_numbers(at))
    at, out = page_and_script(tmp_path, "scratch", scr_tab="Backpropagation by hand")
    loss = next(m.value for m in at.markdown if "L = " in m.value)
    assert_prints(out, ["L = " + loss.split("L = ")[1].split("**")[0]])


@pytest.mark.slow
def test_scratch_character_script_trains(tmp_path):
    out = run_script(tmp_path, "scratch", {"scr_tab": "Train a character model", "scr_char_steps": 100})
    assert "Loss over the last 20 steps" in out


# --- Architectures, Batches ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_architectures_script_prints_what_the_page_trained(tmp_path):
    at = trained_page("architectures", "job_arch_one_to_one", "ar_one_to_one_train", ar_one_to_one_steps="100")
    out = run_script(tmp_path, "architectures", session_settings(at, "architectures"))
    assert_prints(out, shown_numbers(at))


@pytest.mark.slow
@pytest.mark.parametrize("tab", TABS["architectures"][1])
def test_architectures_scripts_train_each_shape(tmp_path, tab):
    from rnnlab.labs.scripts.architectures import SECTIONS

    section = SECTIONS[tab]
    out = run_script(tmp_path, "architectures", {"ar_tab": tab, f"ar_{section}_steps": 100,
                                                  f"ar_{section}_hidden": 16 if section != "seq2seq" else 32})
    assert "%" in out


def test_batches_scripts_print_the_page_numbers(tmp_path):
    at, out = page_and_script(tmp_path, "batches")
    assert_prints(out, shown_numbers(at))
    at, out = page_and_script(tmp_path, "batches", bat_tab="Packing")
    sizes = next(line for line in at.code[0].value.splitlines() if "batch_sizes" in line)
    assert_prints(out, [sizes.split("# tensor(")[1].rstrip(")")])
    at, out = page_and_script(tmp_path, "batches", bat_tab="Embeddings", bat_k="5", bat_among="1000")
    mean = next(c.value for c in at.caption if c.value.startswith("Mean cosine"))
    assert_prints(out, [mean.split(" The table started")[0].replace("For comparison, a", "A")])


@pytest.mark.slow
def test_batches_cost_script_times_padded_and_packed(tmp_path):
    out = run_script(tmp_path, "batches", {"bat_tab": "What it costs"})
    assert "Packed ÷ padded:" in out
