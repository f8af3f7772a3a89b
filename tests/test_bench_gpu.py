"""bench/gpu.py: without a GPU it says so and exits 0; its table, its timings from events, and the kwargs it
sends for each lab (they bind to the job function, follow the class's limit, and are what the page submits)."""
import dataclasses
import inspect
import subprocess
import sys

import numpy as np
import pytest
import torch

from bench import gpu
from rnnlab.runtime.jobs import JobContext, JobEvent, JobLimits, resolve
from rnnlab.runtime.settings import env_settings
from rnnlab.status import Status

JOBS = gpu.all_jobs()


def _bench(root, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.gpu", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout, check=False)


# --- the script, run as a command ---------------------------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU the script measures every lab")
def test_without_cuda_it_says_so_in_one_line_and_exits_0(root):
    out = _bench(root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == gpu.NO_CUDA == "No CUDA device: nothing to measure. Run it on a machine with a GPU."


@pytest.mark.slow        # about 6 s on an idle 2-core machine, 15 s on a busy one: two Python processes import torch
def test_the_cpu_path_runs_a_real_job_through_a_worker(root, tmp_path):
    """The scratch lab's NumPy RNN (400 steps, a second or so) through a LocalRunner worker and the
    "bench.gpu:measured_job" wrapper the worker imports by name: the plumbing a GPU run uses."""
    md = tmp_path / "gpu.md"
    out = _bench(root, "--cpu-only", "--labs", "scratch", "--markdown", str(md))
    assert out.returncode == 0, out.stdout + out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("scratch "))
    assert "cpu" in row and "finished" in row and " 400 " in row and "loss " in row, out.stdout
    assert f"torch {torch.__version__}" in out.stdout
    text = md.read_text()
    assert "| lab | device |" in text and "| scratch | cpu |" in text


def test_unknown_labs_are_refused_with_the_names_to_choose_from():
    with pytest.raises(SystemExit, match="unknown lab.*sentiment"):
        gpu.select(JOBS, "sentiment,nope")
    assert [j.name for j in gpu.select(JOBS, "gradients/race,scratch")] == ["gradients/race", "scratch"]
    assert {j.name for j in gpu.select(JOBS, "architectures")} == {f"architectures/{s}" for s in gpu.ARCH_FIGURES}
    assert gpu.select(JOBS, None) == JOBS


def test_the_wrapper_runs_the_real_job_and_adds_its_peak_gpu_memory():
    sent = []
    ctx = JobContext(1, sent.append, None, 60.0)
    result = gpu.measured_job(ctx, "rnnlab.labs.scratch:char_model_job", {"steps": 5, "seed": 0})
    assert result["status"] == Status.FINISHED and len(result["metrics"]) == 3 and sent   # the job's result, events
    assert set(result["bench_gpu"]) == {"peak_mb", "device", "threads"} and result["bench_gpu"]["device"] == "cpu"
    if not torch.cuda.is_initialized():
        assert result["bench_gpu"]["peak_mb"] is None
        assert gpu.peak_of(result, "cuda:0") == "not used"              # a GPU worker's job that ran on the CPU
    assert gpu.peak_of(result, "cpu") is None
    assert gpu.peak_of({}, "cuda:0") is None                            # no result (stopped, failed): unknown
    assert gpu.peak_of({"bench_gpu": {"peak_mb": 12.5}}, "cuda:0") == 12.5


# --- the table ------------------------------------------------------------------------------------------------
def _rows() -> list[dict]:
    base = {"first": 0.4, "figure": "test acc 0.850"}
    return [
        {**base, "lab": "sentiment", "device": "cuda:0", "train_s": 10.0, "steps": 400, "peak_mb": 812.4,
         "ended": "finished"},
        {**base, "lab": "sentiment", "device": "cpu", "train_s": 20.0, "steps": 200, "peak_mb": None,
         "ended": "stopped at the time limit"},
        {**base, "lab": "scratch", "device": "cuda:0", "train_s": 2.0, "steps": None, "peak_mb": "not used",
         "ended": "finished", "figure": "loss 0.002"},
        {**base, "lab": "scratch", "device": "cpu", "train_s": 3.0, "steps": None, "peak_mb": None,
         "ended": "finished", "figure": "loss 0.002"},
        {"lab": "forecast", "device": "cuda:0", "first": None, "train_s": None, "steps": None, "figure": "–",
         "peak_mb": None, "ended": "failed: ValueError: a | b"},
    ]


def test_speed_up_is_steps_per_second_or_else_the_time_ratio():
    rows = gpu.add_speed_ups(_rows())
    speed = {(r["lab"], r["device"]): r["speed_up"] for r in rows}
    assert speed[("sentiment", "cuda:0")] == pytest.approx((400 / 10) / (200 / 20))     # 4x the steps per second
    assert speed[("scratch", "cuda:0")] == pytest.approx(3.0 / 2.0)                      # no steps: the time ratio
    assert speed[("forecast", "cuda:0")] is None                                        # failed, and no CPU run
    assert speed[("sentiment", "cpu")] is None and speed[("scratch", "cpu")] is None


def test_the_text_table_has_every_column_and_a_row_per_run():
    text = gpu.format_table(gpu.add_speed_ups(_rows()))
    lines = text.splitlines()
    assert len(lines) == 2 + 5
    for name in gpu.COLUMNS:
        assert name in lines[0]
    assert set(lines[1].replace(" ", "")) == {"-"}
    sent_gpu = lines[2].split()
    assert sent_gpu[:6] == ["sentiment", "cuda:0", "0.4", "10.0", "400", "test"]
    assert "812" in lines[2] and "×4.0" in lines[2] and lines[2].endswith("finished")
    assert "not used" in lines[4] and "×1.5" in lines[4]              # a GPU run that never touched the GPU
    cpu_cells = lines[3].split("  ")
    assert "–" in [c.strip() for c in cpu_cells]                      # a CPU run has no GPU memory, no speed-up
    assert "failed: ValueError: a | b" in lines[6]


def test_the_markdown_table_escapes_pipes_and_keeps_its_columns():
    md = gpu.format_table(gpu.add_speed_ups(_rows()), markdown=True)
    lines = md.strip().splitlines()
    assert lines[0] == "| " + " | ".join(gpu.COLUMNS) + " |"
    assert lines[1] == "|" + "|".join(["---"] * len(gpu.COLUMNS)) + "|"
    assert len(lines) == 2 + 5
    for line in lines:
        assert line.replace("\\|", "").count("|") == len(gpu.COLUMNS) + 1
    assert "| sentiment | cuda:0 | 0.4 | 10.0 | 400 | test acc 0.850 | 812 | ×4.0 | finished |" in lines
    assert "a \\| b" in lines[-1]


# --- timings from a job's events -----------------------------------------------------------------------------
def _ev(kind, t, **data):
    return JobEvent(kind, 0, 0, data, t)


def test_training_seconds_add_up_the_training_phases():
    events = [_ev("phase", 0.0, name="loading data"), _ev("progress", 0.3), _ev("phase", 1.0, name="training"),
              _ev("step", 1.5), _ev("phase", 4.0, name="testing the LSTM"), _ev("phase", 5.0, name="training the CNN"),
              _ev("phase", 7.5, name="evaluating")]
    assert gpu.training_seconds(events, end=9.0) == pytest.approx(3.0 + 2.5)
    assert gpu.training_seconds([_ev("phase", 1.0, name="timing")], end=4.0) == pytest.approx(3.0)   # to the end
    assert gpu.training_seconds([_ev("phase", 0.0, name="preparing")], end=4.0) is None
    assert gpu.first_progress(events) == pytest.approx(0.3)
    assert gpu.first_progress([_ev("phase", 0.1, name="x"), _ev("eval", 2.0)]) == pytest.approx(2.0)
    assert gpu.first_progress([_ev("phase", 0.1, name="x")]) is None
    assert gpu.count_steps(events) == 1 and gpu.count_steps([]) is None


# --- the kwargs of each lab ---------------------------------------------------------------------------------
def test_every_lab_of_the_course_is_covered():
    assert {j.lab for j in JOBS} == {"sentiment", "forecast", "textgen", "architectures", "gradients", "compare",
                                     "scratch", "batches"}
    assert len({j.name for j in JOBS}) == len(JOBS)


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_the_kwargs_bind_to_the_job_function(job):
    lim = env_settings().limits()
    kwargs = job.kwargs(lim, 0)
    fn = resolve(job.target)
    inspect.signature(fn).bind(None, **kwargs)          # (ctx, **kwargs), as the worker calls it
    inspect.signature(gpu.measured_job).bind(None, target=job.target, kwargs=kwargs)
    assert 0 < job.limit(lim) <= lim.max_seconds
    assert job.figure({}) == "–" and job.figure({"metrics": {}}) == "–"      # a failed job's row still prints


def test_a_shorter_class_limit_shortens_the_pages_budgets_as_the_pages_do():
    lim = dataclasses.replace(JobLimits(), max_seconds=60.0)
    jobs = {j.name: j for j in JOBS}
    assert jobs["sentiment"].limit(lim) == 60
    assert jobs["textgen"].kwargs(lim, 0)["recipe"]["seconds"] == 30 and jobs["textgen"].limit(lim) == 45
    assert jobs["compare/shakespeare"].kwargs(lim, 0)["seconds"] == 6      # (60 - 10) / 4 - 6, the page's fallback
    assert jobs["scratch"].limit(lim) == 60 and jobs["architectures/sync"].limit(lim) == 60
    assert jobs["textgen"].kwargs(env_settings().limits(), 0)["recipe"]["seconds"] == 180


# --- the same kwargs as the pages: press each Train button with every setting at its default -----------------
PAGES = {   # job name -> (page, {tab key: tab label}, the button's key)
    "sentiment": ("sentiment", {}, "sent_start"),
    "forecast": ("forecast", {}, "fc_go"),
    "textgen": ("textgen", {"tg_tab": "Train live"}, "tg_train"),
    **{f"architectures/{s}": ("architectures", {"ar_tab": label}, f"ar_{s}_train") for s, label in
       {"one_to_one": "1 → 1", "one_to_many": "1 → many", "many_to_one": "many → 1", "sync": "many → many, synced",
        "seq2seq": "Encoder–decoder", "attention": "Attention"}.items()},
    "gradients/record": ("gradients", {"gr_tab": "Gradient flow"}, "gr_hm_go"),
    "gradients/clipping": ("gradients", {"gr_tab": "Clipping"}, "gr_cl_go"),
    "gradients/race": ("gradients", {"gr_tab": "Long-range tasks"}, "gr_lr_go"),
    "gradients/sweep": ("gradients", {"gr_tab": "Long-range tasks"}, "gr_sw_go"),
    "compare/memory": ("compare", {"cmp_tab": "Memory"}, "cmp_train"),
    "compare/shakespeare": ("compare", {"cmp_tab": "Shakespeare"}, "cmp_lm_train"),
    "compare/speed": ("compare", {"cmp_tab": "Speed"}, "cmp_sp_go"),
    "scratch": ("scratch", {"scr_tab": "Train a character model"}, "scr_char_train"),
    "batches": ("batches", {"bat_tab": "What it costs"}, "bat_cost_run"),
}


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


@pytest.mark.parametrize("name", list(PAGES))
def test_the_kwargs_are_what_the_page_submits_at_its_defaults(root, monkeypatch, name):
    from streamlit.testing.v1 import AppTest

    from app_pages import training

    page, tabs, button = PAGES[name]
    sent = []
    monkeypatch.setattr(training, "submit", lambda key, target, kwargs, *, seed=0, meta=None, job_limits=None:
                        sent.append((target, kwargs, job_limits)))
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    for k, v in tabs.items():
        at.query_params[k] = v
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key=button).click().run()
    assert len(sent) == 1, [e.value for e in list(at.error) + list(at.exception)]
    target, kwargs, limits = sent[0]
    job = next(j for j in JOBS if j.name == name)
    lim = env_settings().limits()
    assert target == job.target
    assert _plain(job.kwargs(lim, 0)) == _plain(kwargs)
    assert job.limit(lim) == (limits.max_seconds if limits is not None else lim.max_seconds)
