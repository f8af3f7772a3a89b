"""The shared trainer: it learns, stops early and restores the best weights, lowers the learning rate,
and stops cleanly on divergence or when asked."""
import math

import pytest
import torch
from torch import nn

from rnnlab.status import Status
from rnnlab.train import TrainConfig, Trainer


def _regression(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1
    return x, y


def _loss(model, batch):
    x, y = batch
    pred = model(x).squeeze(-1)
    loss = nn.functional.mse_loss(pred, y)
    return loss, {"mae": (pred - y).abs().mean()}


def _batches(x, y, size=32):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def test_trainer_learns_and_reports_events():
    x, y = _regression()
    events = []
    model = nn.Linear(3, 1)
    h = Trainer(model, _loss, TrainConfig(lr=0.05, epochs=20, device="cpu"), on_event=events.append).fit(
        _batches(x, y), validate=lambda m: {"loss": _loss(m, (x, y))[0]})
    assert h.status is Status.FINISHED and h.loss[-1] < 0.01 * h.loss[0]
    kinds = {e.kind for e in events}
    assert {"step", "eval", "epoch", "done"} <= kinds
    assert len(h.evals) == 20 and "mae" in h.metrics[0]
    assert h.examples_seen == 20 * 256


def test_early_stopping_restores_the_best_weights():
    x, y = _regression()
    model = nn.Linear(3, 1)
    scores = iter([3.0, 1.0, 2.0, 2.5, 2.7, 2.8, 2.9])
    snapshots = []

    def validate(m):
        snapshots.append(m.weight.detach().clone())
        return {"loss": next(scores)}

    h = Trainer(model, _loss,
                TrainConfig(lr=0.05, epochs=50, early_stopping=2, device="cpu")).fit(_batches(x, y), validate)
    assert h.status is Status.EARLY_STOPPED and h.best_value == 1.0
    assert len(h.evals) == 4                      # best at the 2nd, then 2 without improvement (as Keras)
    torch.testing.assert_close(model.weight, snapshots[1])
    assert "restored" in h.message


def test_reduce_lr_on_plateau():
    x, y = _regression()
    model = nn.Linear(3, 1)
    trainer = Trainer(model, _loss, TrainConfig(lr=0.1, epochs=6, lr_patience=1, lr_factor=0.5, device="cpu"))
    h = trainer.fit(_batches(x, y), validate=lambda m: {"loss": 1.0})   # never improves after the first
    assert len(h.lr_drops) == 5                                      # every validation after the first
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 5)
    assert h.lr[-1] == pytest.approx(0.1 * 0.5 ** 4)                 # the last drop came after the last step


def test_divergence_is_caught_not_raised():
    x, y = _regression()
    model = nn.Linear(3, 1)
    h = Trainer(model, _loss, TrainConfig(lr=1e3, max_steps=200, clip=None, device="cpu"),
                optimizer=torch.optim.SGD(model.parameters(), lr=10.0)).fit(lambda s: (x, y))
    assert h.status is Status.DIVERGED and "diverged" in h.message
    assert all(math.isfinite(float(p.detach().abs().max())) for p in model.parameters())   # finite weights kept
    nan_loss = lambda m, b: (torch.tensor(float("nan"), requires_grad=True), {})  # noqa: E731
    h2 = Trainer(nn.Linear(3, 1), nan_loss, TrainConfig(max_steps=5, device="cpu")).fit(lambda s: (x, y))
    assert h2.status is Status.DIVERGED and "NaN" in h2.message


def test_divergence_advice_depends_on_the_optimizer():
    """Clipping is advised only where it helps: SGD's step grows with the gradient, Adam's does not (issue #25)."""
    x, y = _regression()
    model = nn.Linear(3, 1)
    h = Trainer(model, _loss, TrainConfig(lr=1e3, max_steps=200, clip=None, device="cpu"),
                optimizer=torch.optim.SGD(model.parameters(), lr=10.0)).fit(lambda s: (x, y))
    assert "learning rate (10)" in h.message and "turn on gradient clipping" in h.message
    calls = []

    def nan_after_one_update(m, b):     # NaN once an update was made (at step 1 the rate cannot be the cause)
        calls.append(1)
        return (_loss(m, b)[0] * (1 if len(calls) == 1 else float("nan"))), {}

    h2 = Trainer(nn.Linear(3, 1), nan_after_one_update, TrainConfig(lr=1.0, max_steps=5, device="cpu")).fit(
        lambda s: (x, y))
    assert "step 2" in h2.message and "learning rate (1)" in h2.message and "clipping would not help" in h2.message
    assert "turn on gradient clipping" not in h2.message


def test_cancel_and_endless_generators():
    x, y = _regression()
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 5

    h = Trainer(nn.Linear(3, 1), _loss, TrainConfig(max_steps=100, device="cpu"),
                should_stop=stop).fit(lambda s: (x, y))
    assert h.status is Status.STOPPED and len(h.steps) == 5
    with pytest.raises(ValueError, match="max_steps"):
        Trainer(nn.Linear(3, 1), _loss, TrainConfig(device="cpu")).fit(lambda s: (x, y))


@pytest.mark.parametrize("answer, status", [(Status.STOPPED, Status.STOPPED), (Status.TIME_LIMIT, Status.TIME_LIMIT),
                                            ("time_limit", Status.TIME_LIMIT), ("cancelled", Status.STOPPED),
                                            (True, Status.STOPPED)])
def test_a_stop_callbacks_answer_is_how_the_run_ends(answer, status):
    # JobContext.should_stop answers with a Status; the old word "cancelled" (or any truthy answer) is the user
    x, y = _regression()
    events = []
    h = Trainer(nn.Linear(3, 1), _loss, TrainConfig(max_steps=100, device="cpu"), on_event=events.append,
                should_stop=lambda: answer if len(events) >= 3 else None).fit(lambda s: (x, y))
    assert h.status is status and len(h.steps) == 3
    assert [e.kind for e in events][-2:] == [status.value, "done"] and events[-1].data["status"] is status
    assert ("Stopped at the time limit" if status is Status.TIME_LIMIT else "Stopped by the user") in h.message


def test_clipping_marks_steps():
    x, y = _regression()
    h = Trainer(nn.Linear(3, 1), _loss, TrainConfig(max_steps=5, clip=1e-3, device="cpu")).fit(lambda s: (x, y))
    assert all(h.clipped) and all(n > 1e-3 for n in h.grad_norm)


def test_cosine_schedule_anneals_over_the_steps_or_the_time_budget():
    x, y = _regression()
    h = Trainer(nn.Linear(3, 1), _loss, TrainConfig(lr=0.1, max_steps=11, lr_schedule="cosine", device="cpu")).fit(
        lambda s: (x, y))
    assert h.lr == pytest.approx([0.1 * (1 + math.cos(math.pi * k / 11)) / 2 for k in range(11)])
    trainer = Trainer(nn.Linear(3, 1), _loss, TrainConfig(lr=0.1, max_steps=10**6, time_limit=0.3, lr_schedule="cosine",
                                                          min_lr_frac=0.1, device="cpu"))
    h = trainer.fit(lambda s: (x, y))
    assert h.status is Status.TIME_LIMIT
    assert h.lr[0] > 0.09 and 0.01 <= h.lr[-1] < 0.02          # annealed to its floor at the time limit
    assert all(a >= b - 1e-12 for a, b in zip(h.lr, h.lr[1:]))   # never goes back up


def test_cosine_schedule_ends_with_the_steps_when_they_run_out_before_the_time_limit():
    # a fast GPU finishes its epochs long before the time limit: the rate must still reach its floor
    x, y = _regression()
    h = Trainer(nn.Linear(3, 1), _loss, TrainConfig(lr=0.1, max_steps=11, time_limit=3600, lr_schedule="cosine",
                                                    device="cpu")).fit(lambda s: (x, y))
    assert h.status is Status.FINISHED
    assert h.lr == pytest.approx([0.1 * (1 + math.cos(math.pi * k / 11)) / 2 for k in range(11)], abs=1e-6)



def test_warm_restarts_repeat_the_cosine_and_restart_from_the_best_weights_with_a_fresh_optimiser():
    x, y = _regression()
    model = nn.Linear(3, 1)
    seen = {}

    def loss_fn(m, batch):
        seen.setdefault("adam_steps", []).append(
            int(trainer.optimizer.state[m.weight]["step"]) if trainer.optimizer.state.get(m.weight) else 0)
        return _loss(m, batch)

    events = []

    def on_event(e):
        if e.kind == "restart":   # the weights it starts from are the best validated ones
            seen.setdefault("start", []).append({k: v.clone() for k, v in model.state_dict().items()})
            seen.setdefault("best", []).append({k: v.clone() for k, v in trainer._best_state.items()})
        events.append(e)

    # validation reads *bad* weights as best at step 2 (a held-out set where the loss rose): a restart must go
    # back to them, not carry on from the latest ones
    val = iter([{"loss": 1.0}] + [{"loss": 2.0 + k} for k in range(20)])
    trainer = Trainer(model, loss_fn, TrainConfig(lr=0.1, max_steps=12, lr_schedule="cosine", cycles=3, eval_every=2,
                                                 device="cpu"), on_event=on_event)
    h = trainer.fit(lambda s: (x, y), validate=lambda m: next(val))
    per_cycle = [0.1 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    assert h.lr == pytest.approx(per_cycle * 3)
    assert h.restarts == [4, 8] and [e.data["cycle"] for e in events if e.kind == "restart"] == [2, 3]
    for start, best in zip(seen["start"], seen["best"]):
        assert all(torch.equal(start[k], best[k]) for k in start)
    assert seen["adam_steps"] == [0, 1, 2, 3] * 3                 # Adam's moments begin again each cycle
    # one cycle is the plain schedule
    h1 = Trainer(nn.Linear(3, 1), _loss, TrainConfig(lr=0.1, max_steps=12, lr_schedule="cosine", cycles=1,
                                                    device="cpu")).fit(lambda s: (x, y))
    assert h1.restarts == [] and h1.lr == pytest.approx([0.1 * (1 + math.cos(math.pi * k / 12)) / 2 for k in range(12)])

# --- precision ------------------------------------------------------------------------------------------
def test_precision_auto_is_bf16_only_where_the_cpu_has_it_natively(monkeypatch):
    from rnnlab.runtime import device as dev

    monkeypatch.delenv("RNNLAB_PRECISION", raising=False)
    monkeypatch.setattr(dev, "native_bf16", lambda d: True)
    assert dev.resolve_precision("auto", "cpu") == "bf16" and dev.resolve_precision("fp32", "cpu") == "fp32"
    monkeypatch.setattr(dev, "native_bf16", lambda d: False)
    assert dev.resolve_precision("auto", "cpu") == "fp32" and dev.resolve_precision("bf16", "cpu") == "bf16"
    monkeypatch.setenv("RNNLAB_PRECISION", "fp32")                  # the server's override wins
    assert dev.resolve_precision("bf16", "cpu") == "fp32"
    monkeypatch.delenv("RNNLAB_PRECISION")
    with pytest.raises(ValueError, match="precision"):
        dev.resolve_precision("fp8", "cpu")
    assert dev.native_bf16("meta") is False                          # only CPUs are probed


def test_bf16_training_learns_in_bfloat16_and_keeps_float32_weights():
    x, y = _regression()
    seen = []

    def loss(model, batch):
        out = model(batch[0])
        seen.append(out.dtype)
        return nn.functional.mse_loss(out.squeeze(-1).float(), batch[1]), {}

    model = nn.Linear(3, 1)
    h = Trainer(model, loss, TrainConfig(lr=0.05, epochs=20, device="cpu", precision="bf16")).fit(_batches(x, y))
    assert h.precision == "bf16" and set(seen) == {torch.bfloat16}  # the forward pass ran in bf16 ...
    assert all(p.dtype == torch.float32 for p in model.parameters())  # ... the weights did not
    assert h.status is Status.FINISHED and h.loss[-1] < 0.02 * h.loss[0]
    plain = Trainer(nn.Linear(3, 1), _loss, TrainConfig(lr=0.05, max_steps=3, device="cpu")).fit(_batches(x, y))
    assert plain.precision == "fp32"


def _huge_gradient_loss(model, batch):
    """A loss whose gradient is (3.8e20, 0, 0) for the weight and 0 for the bias, whatever the weights."""
    return (model.weight[0, 0] * 3.8e20 + 0 * model.bias.sum()), {}


@pytest.mark.parametrize("clip", [1.0, None])
def test_a_gradient_of_norm_3_8e20_is_clipped_to_max_norm_not_zeroed_and_is_no_divergence(clip):
    """Issue 29: the gradient's norm was measured in float32, where squaring 3.8e20 (which float32 holds) passes
    3.4e38: its size was inf, the run was called "diverged" at step 1, and clip_grad_norm_ multiplied the
    gradient by 1/inf = 0. Now its size is measured again in float64 when float32 overflows: 3.8e20, finite;
    with clipping the gradient is rescaled to norm 1 (so the step moves the weight by about the rate)."""
    model = nn.Linear(3, 1)
    w0 = model.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = Trainer(model, _huge_gradient_loss, TrainConfig(clip=clip, max_steps=1, device="cpu"), optimizer=opt).fit(
        lambda s: None)
    if clip is None:           # measured and reported; SGD's step of 0.1 × 3.8e20 is the caller's choice
        assert h.grad_norm == [pytest.approx(3.8e20, rel=1e-6)] and h.clipped == [False]
        return
    assert h.status is Status.FINISHED and "diverged" not in h.message
    assert h.grad_norm == [pytest.approx(3.8e20, rel=1e-6)] and h.clipped == [True]
    moved = (w0 - model.weight.detach())[0]
    assert float(moved[0]) == pytest.approx(0.1, rel=1e-4) and float(moved[1:].abs().max()) == 0.0


def test_a_gradient_with_an_infinite_entry_is_still_a_divergence_and_not_blamed_on_the_learning_rate():
    """Issue 29: only an inf or NaN entry in the gradient is a divergence; at the very first step, before any
    update, the message says so and does not advise a lower learning rate."""
    x, y = _regression()
    model = nn.Linear(3, 1)
    model.weight.register_hook(lambda g: g * float("inf"))            # a finite loss, an infinite gradient
    h = Trainer(model, _loss, TrainConfig(clip=1.0, max_steps=3, device="cpu")).fit(lambda s: (x, y))
    assert h.status is Status.DIVERGED and not h.steps
    assert "step 1, before any update (gradient's size = inf)" in h.message
    assert "neither the learning rate nor clipping is the cause" in h.message and "3–10× lower" not in h.message
    nan_loss = lambda m, b: (torch.tensor(float("nan"), requires_grad=True), {})  # noqa: E731
    h2 = Trainer(nn.Linear(3, 1), nan_loss, TrainConfig(max_steps=5, device="cpu")).fit(lambda s: (x, y))
    assert "step 1, before any update (loss = NaN)" in h2.message and "3–10× lower" not in h2.message
