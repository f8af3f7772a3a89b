"""Training RNN, LSTM, GRU and IRNN on the long-range tasks of ``rnnlab.data.tasks``: single runs, races,
the success-versus-T sweep that shows where the vanilla RNN gives up, and the job functions that run them
in a worker process (``race_job``, ``record_job``, ``sweep_job``).

Every run is validated on one fixed set per task and T (``validation_set``); the baseline drawn is the
no-memory strategy's loss measured on that same set, and a run counts as *solved* once its validation
loss goes below ``SOLVED_FRACTION`` of it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.tasks import COPY_VOCAB, TASKS, adding_problem, baseline_on
from ..nn.init import initialize, seeded
from ..nn.layers import make_recurrent
from ..status import Status, worst_status
from ..train import History, TrainConfig, Trainer
from .gradients import hidden_gradient_norms, rescale_recurrent

CELLS = ("RNN", "LSTM", "GRU", "IRNN")
SOLVED_FRACTION = 0.25   # solved: validation loss below a quarter of the baseline's
#: a run's status when it stopped as soon as it solved the task (``stop_when_solved``); a job counts it finished
SOLVED = "solved"
# Adam learning rates that work for each cell here; IRNN (unbounded relu units) needs a smaller one.
DEFAULT_LR = {"RNN": 1e-2, "LSTM": 1e-2, "GRU": 1e-2, "IRNN": 1e-3}
VALIDATION_SIZE, VALIDATION_SEED = 512, 99
#: the race's defaults on the Gradients page (its widgets and its lesson read them); a race validates every 25 steps
RACE_DEFAULTS = dict(task="adding", T=50, steps=400, hidden=32, eval_every=25)
#: the lab's names for cells -> (torch.nn mode, initialisation)
CELL_SPECS = {"RNN": ("RNN_TANH", "default"), "IRNN": ("RNN_RELU", "identity"), "LSTM": ("LSTM", "default"),
              "GRU": ("GRU", "default"), "RNN_TANH": ("RNN_TANH", "default"), "RNN_RELU": ("RNN_RELU", "default")}


class TaskModel(nn.Module):
    """RNN -> linear read-out: of the last step (adding) or of every step (copy). Build it seeded with
    :func:`build_task_model`."""

    def __init__(self, task: str, cell: str, hidden: int = 64):
        super().__init__()
        self.task = task
        self.cell = cell
        in_size = 2 if task == "adding" else COPY_VOCAB
        out_size = 1 if task == "adding" else COPY_VOCAB
        self.rnn = make_recurrent(CELL_SPECS[cell][0], in_size, hidden, batch_first=True)
        self.head = nn.Linear(hidden, out_size)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.task == "adding" else F.one_hot(x, COPY_VOCAB).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.inputs(x))
        if self.task == "adding":
            return self.head(out[:, -1]).squeeze(-1)
        return self.head(out)


def build_task_model(task: str, cell: str, hidden: int = 64, seed: int = 0, forget_bias: float = 0.0,
                     chrono_T: int | None = None, radius: float | None = None,
                     scale_by: str = "radius") -> TaskModel:
    """A :class:`TaskModel` drawn from its own generator (never torch's global one): PyTorch's default
    initialisation, IRNN's identity for ``"IRNN"``; ``radius`` rescales W_hh (see
    ``rnnlab.labs.gradients.rescale_recurrent``); an LSTM gets the chrono initialisation for ``chrono_T``
    and then ``forget_bias`` added to its forget gate."""
    if cell not in CELL_SPECS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELL_SPECS)}")
    gen = torch.Generator().manual_seed(seed)
    model = seeded(lambda: TaskModel(task, cell, hidden), gen)
    init = CELL_SPECS[cell][1]
    if init != "default":
        initialize(model.rnn, init, generator=gen)
    if radius is not None:
        rescale_recurrent(model.rnn, radius, scale_by)
    if model.rnn.mode == "LSTM":
        with torch.no_grad():
            if chrono_T:
                chrono_init(model.rnn, chrono_T, seed)
            model.rnn.bias_ih_l0[hidden:2 * hidden] += forget_bias
    return model


def task_model_size(task: str, cell: str, hidden: int) -> int:
    """How many weights a :class:`TaskModel` has (built on the meta device: nothing is allocated)."""
    with torch.device("meta"):
        return sum(p.numel() for p in TaskModel(task, cell, hidden).parameters())


@torch.no_grad()
def chrono_init(lstm: nn.Module, T: int, seed: int = 0) -> None:
    """Chrono initialisation (Tallec & Ollivier 2018): forget-gate biases log(u), u ~ U(1, T-1), and input-gate
    biases their negatives, so that the units start with memory time scales spread up to T steps."""
    H = lstm.hidden_size
    u = 1 + torch.rand(H, generator=torch.Generator().manual_seed(seed)) * max(T - 2, 1)
    b_f = torch.log(u)
    for b in (lstm.bias_ih_l0, lstm.bias_hh_l0):
        b[:2 * H].zero_()
    lstm.bias_ih_l0[H:2 * H] = b_f
    lstm.bias_ih_l0[:H] = -b_f


def task_loss(model: TaskModel, batch):
    x, y = batch
    pred = model(x)
    if model.task == "adding":
        return F.mse_loss(pred, y), {}
    loss = F.cross_entropy(pred.reshape(-1, COPY_VOCAB), y.reshape(-1))
    return loss, {}


@lru_cache(maxsize=32)
def validation_set(task: str, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed validation batch of a task at length T (the same for every cell and seed)."""
    return TASKS[task][0](VALIDATION_SIZE, T, torch.Generator().manual_seed(VALIDATION_SEED))


def baseline(task: str, T: int) -> float:
    """The no-memory strategy's loss measured on the validation set of ``task`` at ``T`` (for the adding
    problem, close to its expectation 1/6)."""
    return baseline_on(task, *validation_set(task, T))


def solved_threshold(task: str, T: int) -> float:
    return SOLVED_FRACTION * baseline(task, T)


@dataclass
class RunResult:
    task: str
    cell: str
    T: int
    seed: int
    steps: list[int]
    loss: list[float]
    val_steps: list[int]
    val_loss: list[float]
    baseline: float
    threshold: float
    final: float                 # the best validation loss
    solved: bool
    solved_at: int | None        # the first validated step below the threshold
    status: str                  # the trainer's Status, or SOLVED when a run stopped as soon as it solved the task
    message: str
    seconds: float


@dataclass
class TaskRun:
    """One cell training on one task, steppable: ``next(run.steps)`` trains one more step."""

    task: str
    cell: str
    T: int
    seed: int
    model: TaskModel
    trainer: Trainer
    steps: object  # the trainer's generator
    stopped_solved: list = field(default_factory=list)   # [step] once stop_when_solved ended it

    def result(self) -> RunResult:
        return _result(self.task, self.cell, self.T, self.seed, self.trainer.history, self.stopped_solved)


def start_task(task: str, cell: str, T: int, steps: int = 300, batch: int = 64, hidden: int = 64,
               lr: float | None = None, clip: float | None = 1.0, seed: int = 0, eval_every: int = 25,
               on_event: Callable | None = None, should_stop: Callable[[], object] | None = None,
               forget_bias: float = 0.0, chrono: bool = True, stop_when_solved: bool = False,
               device: str | None = None) -> TaskRun:
    """Set up one cell on one task: fresh random batches each step (from a generator seeded by ``seed``),
    validation on the task's fixed validation set.

    ``chrono``: LSTMs get the chrono initialisation for this T. ``stop_when_solved``: end the run at the
    first validation below the solved threshold (sweeps use it to save time)."""
    gen_task, _ = TASKS[task]
    model = build_task_model(task, cell, hidden, seed, forget_bias, chrono_T=T if chrono else None)
    threshold = solved_threshold(task, T)
    holder: dict = {}
    solved_stop: list = []

    def stop():
        if should_stop is not None:
            reason = should_stop()
            if reason:
                return reason
        evals = holder["trainer"].history.evals if holder else []
        if stop_when_solved and evals and evals[-1]["loss"] < threshold:
            solved_stop.append(evals[-1]["step"])
            return Status.STOPPED     # by the lab itself: _result says SOLVED
        return None

    data_gen = torch.Generator().manual_seed(10_000 + seed)
    val = validation_set(task, T)
    lr = DEFAULT_LR.get(cell, 1e-2) if lr is None else lr
    trainer = Trainer(model, task_loss, TrainConfig(lr=lr, clip=clip, max_steps=steps, eval_every=eval_every,
                                                    seed=seed, device=device), on_event=on_event,
                      should_stop=stop)
    holder["trainer"] = trainer

    def validate(m):
        x, y = trainer._to_device(val)
        return {"loss": task_loss(m, (x, y))[0]}

    return TaskRun(task, cell, T, seed, model, trainer,
                   trainer.run(lambda _step: gen_task(batch, T, data_gen), validate), solved_stop)


def train_task(task: str, cell: str, T: int, **kwargs) -> tuple[TaskModel, RunResult]:
    """Train one cell on one task to the end (see ``start_task`` for the arguments)."""
    run = start_task(task, cell, T, **kwargs)
    for _ in run.steps:
        pass
    return run.model, run.result()


def race(runs: list[TaskRun], on_round: Callable[[int], None] | None = None, every: int = 10) -> None:
    """Train several runs together, one step each in turn; ``on_round(step)`` every ``every`` steps."""
    active = list(runs)
    step = 0
    while active:
        advanced = False
        for run in list(active):
            if next(run.steps, None) is None:
                active.remove(run)
            else:
                advanced = True
        if not advanced:
            break
        step += 1
        if on_round is not None and (step % every == 0 or not active):
            on_round(step)
    if on_round is not None and step % every:
        on_round(step)  # the last, partial round


def _result(task, cell, T, seed, h: History, stopped_solved=()) -> RunResult:
    base = baseline(task, T)
    threshold = SOLVED_FRACTION * base
    vals = [float(e["loss"]) for e in h.evals]
    steps = [int(e["step"]) for e in h.evals]
    final = min(vals) if vals else float("nan")
    solved_at = next((s for s, v in zip(steps, vals) if np.isfinite(v) and v < threshold), None)
    status, message = h.status, h.message
    if stopped_solved:
        status = SOLVED
        message = (f"Solved at step {stopped_solved[0]} (validation loss {vals[-1]:.4f} < {threshold:.4f}); "
                   "stopped there.")
    return RunResult(task, cell, T, seed, list(h.steps), [float(v) for v in h.loss], steps, vals, base,
                     threshold, final, solved_at is not None, solved_at, status, message, h.seconds)


@torch.no_grad()
def gradient_profile(model: TaskModel, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """log10 ‖∂L/∂h_t‖ for t = 1..T on a probe batch, for the model as it is now (L: the task loss).

    Only for the adding task, whose loss depends on the last step only."""
    with torch.enable_grad():
        out, _ = model.rnn(model.inputs(x))
        h_T = out[:, -1].detach().requires_grad_(True)
        loss = F.mse_loss(model.head(h_T).squeeze(-1), y)
        (d_hT,) = torch.autograd.grad(loss, h_T)
    return hidden_gradient_norms(model.rnn, model.inputs(x), d_hT).log10_loss


@dataclass
class Sweep:
    task: str
    Ts: list[int]
    cells: list[str]
    seeds: list[int]
    steps: int
    results: list[dict] = field(default_factory=list)   # asdict(RunResult) without the curves
    meta: dict = field(default_factory=dict)

    def success(self) -> dict[str, list[float]]:
        """Per cell, the share of seeds that solved the task at each T (NaN where not run yet)."""
        out = {}
        for cell in self.cells:
            row = []
            for T in self.Ts:
                runs = [r for r in self.results if r["cell"] == cell and r["T"] == T]
                row.append(float(np.mean([r["solved"] for r in runs])) if runs else float("nan"))
            out[cell] = row
        return out

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Sweep:
        return cls(**json.loads(Path(path).read_text()))

    @classmethod
    def from_dict(cls, d: dict) -> Sweep:
        return cls(**{k: d[k] for k in ("task", "Ts", "cells", "seeds", "steps", "results", "meta") if k in d})


DEFAULT_SWEEP = dict(task="adding", Ts=(10, 20, 50, 100, 200), cells=CELLS, seeds=(0, 1), steps=600, hidden=32,
                     batch=64, eval_every=50)
CURVES = ("steps", "loss", "val_steps", "val_loss")


def run_sweep(task: str = "adding", Ts=(10, 20, 50, 100, 200), cells=CELLS, seeds=(0, 1), steps: int = 600,
              on_result: Callable[[Sweep, dict], None] | None = None, should_stop: Callable[[], object] | None = None,
              **train_kwargs) -> Sweep:
    """Train every cell at every T with every seed (each run stops once solved), calling ``on_result``
    after each run. A stop ends the sweep with the runs done so far."""
    sweep = Sweep(task, list(Ts), list(cells), list(seeds), steps)
    for T in Ts:
        for seed in seeds:
            for cell in cells:
                if should_stop is not None and should_stop():
                    return sweep
                _, r = train_task(task, cell, T, steps=steps, seed=seed, should_stop=should_stop,
                                  stop_when_solved=True, **train_kwargs)
                if r.status in (Status.STOPPED, Status.TIME_LIMIT):
                    return sweep      # an interrupted run says nothing about the task
                row = {k: v for k, v in asdict(r).items() if k not in CURVES}
                sweep.results.append(row)
                if on_result is not None:
                    on_result(sweep, row)
    return sweep


# --- job functions (run in a worker process; see rnnlab.runtime.jobs) -----------------------------------
def _job_status(r: RunResult) -> Status:
    """A run's status as a job's: a run that stopped as soon as it solved the task finished."""
    return Status.FINISHED if r.status == SOLVED else Status(r.status)


def _summary(results: dict[str, RunResult], what: str) -> tuple[Status, str]:
    """The job's status (the worst of its runs') and its message, which names the cells that diverged."""
    status = worst_status(_job_status(r) for r in results.values())
    if status == Status.DIVERGED:
        cells = ", ".join(c for c, r in results.items() if r.status == Status.DIVERGED)
        return status, f"Diverged: {cells}; {what} kept."
    return status, {Status.STOPPED: f"Stopped by the user; {what} kept.",
                    Status.TIME_LIMIT: f"Stopped at the time limit; {what} kept."}.get(status, "")


def _plain_result(r: RunResult) -> dict:
    d = asdict(r)
    d["solved_at"] = -1 if r.solved_at is None else r.solved_at   # no None inside tensors-and-numbers results
    return d


def race_job(ctx, task: str = "adding", cells=CELLS, T: int = 50, steps: int = 400, hidden: int = 32,
             together: bool = True, seed: int = 0, eval_every: int = 25) -> dict:
    """Train each cell on the task, all together (one step each in turn) or one after another.

    Streams ``eval`` events (``cell``, ``loss``), a ``solved`` event the first time a cell's validation loss
    goes below the threshold, and progress. The result holds every cell's curves and verdict."""
    cells = list(cells)
    ctx.phase("preparing the task")
    base, threshold = baseline(task, T), solved_threshold(task, T)
    ctx.emit("baseline", value=base, threshold=threshold)
    solved: dict[str, int] = {}

    def tagged(cell):
        def on_event(e):
            if e.kind == "eval":
                ctx.emit("eval", e.step, cell=cell, loss=float(e.data["loss"]))
                if cell not in solved and np.isfinite(e.data["loss"]) and e.data["loss"] < threshold:
                    solved[cell] = e.step
                    ctx.emit("solved", e.step, cell=cell)
            elif e.kind == "diverged":
                ctx.emit("diverged", e.step, cell=cell)
        return on_event

    runs = []
    for cell in cells:
        ctx.check()
        runs.append(start_task(task, cell, T, steps=steps, hidden=hidden, seed=seed, eval_every=eval_every,
                               on_event=tagged(cell), should_stop=ctx.should_stop))
    total = steps * len(cells)
    ctx.phase("racing" if together else "training one after another")

    def report(done: int, current: str = "") -> None:
        text = f"{current}step {done if together else done % steps or steps:,}/{steps:,}"
        if solved:
            text += " · solved: " + ", ".join(f"{c} at {s}" for c, s in solved.items())
        ctx.progress(done * (len(cells) if together else 1), total, text)

    if together:
        race(runs, on_round=report, every=10)
    else:
        for k, run in enumerate(runs):
            if ctx.should_stop():
                break
            for step in run.steps:
                if step % 10 == 0:
                    report(k * steps + step, f"{run.cell} ({k + 1}/{len(runs)}): ")
    results = {r.cell: r.result() for r in runs}
    status, message = _summary(results, "the curves so far")
    metrics = {}
    for c, r in results.items():
        metrics[f"best_val_{c}"] = r.final
        metrics[f"solved_{c}"] = float(r.solved)
        if r.solved:
            metrics[f"steps_to_solve_{c}"] = float(r.solved_at)
    return {"status": status, "message": message, "metrics": metrics,
            "runs": {c: _plain_result(r) for c, r in results.items()}, "baseline": base, "threshold": threshold,
            "task": task, "T": T, "steps": steps, "epochs_completed": 0}


def record_job(ctx, cell: str = "RNN", T: int = 50, steps: int = 300, hidden: int = 32, seed: int = 0,
               snapshots: int = 40, eval_every: int = 25) -> dict:
    """Train a cell on the adding problem and, ``snapshots`` times along the way, measure how far back its
    gradient reaches: log10 ‖∂L/∂h_t‖ on a fixed probe batch. Streams ``profile`` events."""
    ctx.phase("preparing the task")

    def on_event(e):
        if e.kind == "eval":
            ctx.emit("eval", e.step, loss=float(e.data["loss"]))

    run = start_task("adding", cell, T, steps=steps, hidden=hidden, seed=seed, eval_every=eval_every,
                     should_stop=ctx.should_stop, on_event=on_event)
    probe = adding_problem(64, T, torch.Generator().manual_seed(seed + 7))
    every = max(steps // max(snapshots, 1), 1)
    profiles, at_steps = [], []

    def snapshot(step: int) -> None:
        prof = gradient_profile(run.model, *probe)
        profiles.append(prof)
        at_steps.append(step)
        ctx.emit("profile", step, log10=[float(v) for v in prof])

    ctx.phase("training and recording")
    snapshot(0)
    for step in run.steps:
        if step % every == 0 or step == steps:
            snapshot(step)
        if step % 10 == 0:
            ctx.progress(step, steps, f"step {step:,}/{steps:,} · {len(profiles)} snapshots")
    r = run.result()
    return {"status": _job_status(r), "message": r.message if r.status in (
                Status.STOPPED, Status.TIME_LIMIT, Status.DIVERGED) else "",
            "metrics": {"best_val_mse": r.final, "solved": float(r.solved)},
            "profiles": torch.tensor(np.array(profiles)), "at_steps": at_steps, "cell": cell, "T": T,
            "run": _plain_result(r), "epochs_completed": 0}


def sweep_job(ctx, **cfg) -> dict:
    """The success-versus-T sweep (``DEFAULT_SWEEP`` overridden by ``cfg``); streams a ``result`` event per run."""
    cfg = {**DEFAULT_SWEEP, **cfg}
    total = len(cfg["Ts"]) * len(cfg["seeds"]) * len(cfg["cells"])
    ctx.phase("sweeping")

    def on_result(sweep, row):
        ctx.emit("result", **{k: (-1 if v is None else v) for k, v in row.items()})
        done = len(sweep.results)
        ctx.progress(done, total, f"{done}/{total} runs · T={row['T']} {row['cell']}: "
                                  f"{'solved' if row['solved'] else 'not solved'}")

    sweep = run_sweep(on_result=on_result, should_stop=ctx.should_stop, **cfg)
    complete = len(sweep.results) == total
    reason = ctx.should_stop()
    status = Status.FINISHED if complete else (Status.TIME_LIMIT if reason == Status.TIME_LIMIT else Status.STOPPED)
    d = asdict(sweep)
    d["results"] = [{k: (-1 if v is None else v) for k, v in row.items()} for row in d["results"]]
    return {"status": status, "message": "" if complete else f"{len(sweep.results)} of {total} runs done.",
            "metrics": {f"solved_share_{c}": float(np.nanmean(v)) for c, v in sweep.success().items()},
            "sweep": d, "epochs_completed": 0}
