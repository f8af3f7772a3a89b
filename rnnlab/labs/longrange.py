"""Training RNN, LSTM, GRU and IRNN on the long-range tasks of ``rnnlab.data.tasks``: single runs, races,
and the success-versus-T sweep that shows where the vanilla RNN gives up.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .gradients import build_layer, hidden_gradient_norms
from ..data.tasks import COPY_VOCAB, TASKS
from ..train import History, TrainConfig, Trainer

CELLS = ("RNN", "LSTM", "GRU", "IRNN")
SOLVED_FRACTION = 0.25   # solved: validation loss below a quarter of the baseline's
# Adam learning rates that work for each cell here; IRNN (unbounded relu units) needs a smaller one.
DEFAULT_LR = {"RNN": 1e-2, "LSTM": 1e-2, "GRU": 1e-2, "IRNN": 1e-3}


class TaskModel(nn.Module):
    """RNN -> linear read-out: of the last step (adding) or of every step (copy)."""

    def __init__(self, task: str, cell: str, hidden: int = 64, seed: int = 0, forget_bias: float = 0.0,
                 chrono_T: int | None = None):
        super().__init__()
        self.task = task
        in_size = 2 if task == "adding" else COPY_VOCAB
        out_size = 1 if task == "adding" else COPY_VOCAB
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if cell == "IRNN":
                self.rnn = build_layer("RNN_RELU", in_size, hidden, "identity", seed=seed)
            else:
                self.rnn = build_layer("RNN_TANH" if cell == "RNN" else cell, in_size, hidden, "default", seed=seed)
            self.head = nn.Linear(hidden, out_size)
        if self.rnn.mode == "LSTM":
            with torch.no_grad():
                if chrono_T:
                    chrono_init(self.rnn, chrono_T, seed)
                self.rnn.bias_ih_l0[hidden:2 * hidden] += forget_bias

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.task == "adding" else F.one_hot(x, COPY_VOCAB).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.inputs(x))
        if self.task == "adding":
            return self.head(out[:, -1]).squeeze(-1)
        return self.head(out)


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


def baseline(task: str, T: int) -> float:
    return TASKS[task][1](T)


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
    final: float
    solved: bool
    status: str
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

    def result(self) -> "RunResult":
        return _result(self.task, self.cell, self.T, self.seed, self.trainer.history)


def start_task(task: str, cell: str, T: int, steps: int = 300, batch: int = 64, hidden: int = 64,
               lr: float | None = None, clip: float | None = 1.0, seed: int = 0, eval_every: int = 25,
               on_event: Callable | None = None, should_stop: Callable[[], bool] | None = None,
               forget_bias: float = 0.0, chrono: bool = True, stop_when_solved: bool = False,
               device: str | None = None) -> TaskRun:
    """Set up one cell on one task: fresh random batches each step, validation on a fixed batch of 256.

    ``chrono``: LSTMs get the chrono initialisation for this T. ``stop_when_solved``: end the run at the
    first validation below the solved threshold (sweeps use it to save time)."""
    gen_task, _ = TASKS[task]
    model = TaskModel(task, cell, hidden, seed, forget_bias, chrono_T=T if chrono else None)
    threshold = SOLVED_FRACTION * baseline(task, T)
    holder: dict = {}

    def stop() -> bool:
        if should_stop is not None and should_stop():
            return True
        evals = holder["trainer"].history.evals if holder else []
        return stop_when_solved and bool(evals) and evals[-1]["loss"] < threshold

    data_gen = torch.Generator().manual_seed(10_000 + seed)
    val = gen_task(256, T, torch.Generator().manual_seed(99))
    lr = DEFAULT_LR[cell] if lr is None else lr
    trainer = Trainer(model, task_loss, TrainConfig(lr=lr, clip=clip, max_steps=steps, eval_every=eval_every,
                                                    seed=seed, device=device), on_event=on_event,
                      should_stop=stop)
    holder["trainer"] = trainer

    def validate(m):
        x, y = trainer._to_device(val)
        return {"loss": task_loss(m, (x, y))[0]}

    return TaskRun(task, cell, T, seed, model, trainer, trainer.run(lambda _step: gen_task(batch, T, data_gen), validate))


def train_task(task: str, cell: str, T: int, **kwargs) -> tuple[TaskModel, "RunResult"]:
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


def _result(task, cell, T, seed, h: History) -> RunResult:
    base = baseline(task, T)
    vals = [e["loss"] for e in h.evals]
    final = min(vals) if vals else float("nan")
    solved = bool(np.isfinite(final) and final < SOLVED_FRACTION * base)
    return RunResult(task, cell, T, seed, list(h.steps), [float(v) for v in h.loss], [e["step"] for e in h.evals],
                     vals, base, final, solved, h.status, h.message, h.seconds)


@torch.no_grad()
def gradient_profile(model: TaskModel, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 1..T on a probe batch, for the model as it is now (L: the task loss).

    Only for the adding task, whose loss depends on the last step only."""
    with torch.enable_grad():
        out, _ = model.rnn(model.inputs(x))
        h_T = out[:, -1].detach().requires_grad_(True)
        loss = F.mse_loss(model.head(h_T).squeeze(-1), y)
        (d_hT,) = torch.autograd.grad(loss, h_T)
    norms, _ = hidden_gradient_norms(model.rnn, model.inputs(x), d_hT)
    return norms


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
    def load(cls, path: str | Path) -> "Sweep":
        return cls(**json.loads(Path(path).read_text()))


DEFAULT_SWEEP = dict(task="adding", Ts=(10, 20, 50, 100, 200), cells=CELLS, seeds=(0, 1), steps=600, hidden=32,
                     batch=64, eval_every=50)


def run_sweep(task: str = "adding", Ts=(10, 20, 50, 100, 200), cells=CELLS, seeds=(0, 1), steps: int = 600,
              on_result: Callable[[Sweep, dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
              **train_kwargs) -> Sweep:
    """Train every cell at every T with every seed, calling ``on_result`` after each run."""
    sweep = Sweep(task, list(Ts), list(cells), list(seeds), steps)
    for T in Ts:
        for seed in seeds:
            for cell in cells:
                if should_stop is not None and should_stop():
                    return sweep
                _, r = train_task(task, cell, T, steps=steps, seed=seed, should_stop=should_stop,
                                  stop_when_solved=True, **train_kwargs)
                row = {k: v for k, v in asdict(r).items() if k not in ("steps", "loss", "val_steps", "val_loss")}
                sweep.results.append(row)
                if on_result is not None:
                    on_result(sweep, row)
    return sweep
