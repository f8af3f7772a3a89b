"""Shared modules under odd values (issue 29): what the pages' own tests reach only through a page."""
import numpy as np
import plotly.graph_objects as go
import pytest

from rnnlab.figures.describe import describe


def test_describe_a_figure_holding_inf_or_nan_skips_them_and_says_so():
    """Issue 29: describe(fig) raised OverflowError (int(inf)) when a bar or heatmap held inf, e.g. the Step
    through page's state bars once a relu state overflowed. Extremes are now read from the finite values and the
    sentence says how many values were left out."""
    bars = go.Figure(go.Bar(y=[1.0, np.inf, -np.inf, np.nan, 0.5], name="h"))
    assert describe(bars) == ("H: 5 bars, the largest 1 at 0, the smallest 0.5 at 4 (2 infinite values and 1 NaN "
                              "value left out).")
    heat = go.Figure(go.Heatmap(z=[[1.0, np.inf], [0.0, -1.0]], name="W"))
    assert describe(heat) == "W: a 2 × 2 heatmap, values from -1 to 1 (1 infinite value left out)."
    line = go.Figure(go.Scatter(y=[1.0, np.inf, 3.0, np.nan], name="loss"))     # NaN in a line is a gap
    assert describe(line) == "Loss: from 1 at 0 to 3 at 2 (1 infinite value left out)."
    assert describe(go.Figure(go.Bar(y=[np.inf], name="c"))) == "C: nothing drawn (1 infinite value left out)."
    one_each = go.Figure([go.Bar(y=[np.inf], name="a"), go.Bar(y=[2.0], name="b")])
    assert describe(one_each) == "B 2 (1 infinite value left out)."
    assert "3.4e+38" in describe(go.Figure(go.Bar(y=[3.4e38, 1.0])))


def test_describe_the_step_bars_of_an_overflowed_relu_state():
    """Issue 29: the figure the Step-through page draws for an overflowed state is described, not raised on."""
    from rnnlab.figures.steps import vector_bars

    text = describe(vector_bars({"h": np.array([np.inf, 2.0, np.nan])}, title="State after step 40"))
    assert text.startswith("State after step 40: h (hidden state): 3 bars") and "1 infinite value" in text


def test_a_typo_in_the_job_runners_environment_is_ignored_with_a_warning(monkeypatch, capsys):
    """Issue 29: ``RNNLAB_JOB_WORKERS=ten`` or ``RNNLAB_JOB_THREADS=²`` reached ``int()`` in the job runner's
    plan, which every page reads on its first run: each is now read by rnnlab.inputs.env_number, ignored with a
    line in the server's log naming it, and the automatic choice applies."""
    from rnnlab import inputs
    from rnnlab.runtime.jobs.limits import default_workers, thread_plan

    monkeypatch.setattr(inputs, "_warned", set())          # each value is said once per process
    monkeypatch.delenv("RNNLAB_JOB_WORKERS", raising=False)
    monkeypatch.delenv("RNNLAB_JOB_THREADS", raising=False)
    automatic = default_workers(), thread_plan(1, cores=4)
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "ten")
    monkeypatch.setenv("RNNLAB_JOB_THREADS", "²")
    assert (default_workers(), thread_plan(1, cores=4)) == automatic
    log = capsys.readouterr().err
    assert "ignoring RNNLAB_JOB_WORKERS: “ten” is not a number" in log and "RNNLAB_JOB_THREADS" in log
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "٣")
    monkeypatch.setenv("RNNLAB_JOB_THREADS", "2")
    assert default_workers() == 3 and thread_plan(1, cores=4)[0] == 2


@pytest.mark.parametrize("temperature", [1.655066686393783e-240, 1e-7, 0.0, float("nan")])
def test_a_temperature_too_small_to_divide_by_samples_greedily(temperature):
    """Issue 29 (found by tests/test_bad_input.py): a client sent Architectures' temperature slider
    1.655e-240; logits / T overflowed float32 to inf, softmax gave NaN and torch.multinomial raised. Below
    GREEDY_BELOW sampling is greedy, in the character models and the name writer alike."""
    import torch

    from rnnlab.nn.charlm import sampling_probs

    logits = torch.tensor([[1.0, 3.0, 2.0]])
    assert sampling_probs(logits, temperature).tolist() == [[0.0, 1.0, 0.0]]


def test_the_name_writer_page_survives_a_tiny_temperature():
    import badinput as B

    B.patch_apptest()
    at = B.open_page("app_pages/architectures.py", state={"ar_tab": "1 → many"})
    at.slider(key="ar_2_temp").set_value(1.655066686393783e-240).run()
    assert not at.exception, [e.value for e in at.exception]
