"""One trainer for every lab: Adam, gradient clipping, validation, early stopping that restores the best
weights, ReduceLROnPlateau, events for live plots, cancel, and divergence detection that stops cleanly.

The trainer never raises on a diverging run: a NaN or exploding loss ends training with
``history.status == Status.DIVERGED`` and a message, and the last finite weights are kept.

How a run ends is ``history.status``, a :class:`rnnlab.status.Status`: ``FINISHED``, ``EARLY_STOPPED``,
``DIVERGED``, ``STOPPED`` (by the user) or ``TIME_LIMIT``, the words a job ends with. ``should_stop()``
returns None to go on, else ``Status.STOPPED`` or ``Status.TIME_LIMIT`` (as ``JobContext.should_stop``
does; any other truthy answer is a stop by the user, see :func:`rnnlab.status.stop_status`). The trainer
never touches torch's global random generator: a caller that wants repeatable dropout seeds its own
process (one job per worker process does).

    trainer = Trainer(model, loss_fn, TrainConfig(lr=1e-3, clip=1.0, max_steps=500, eval_every=50),
                      on_event=print)
    history = trainer.fit(batches, validate=lambda m: {"loss": ...})

``batches`` is either a callable ``step -> batch`` (an endless generator such as the adding problem)
or an iterable re-read every epoch (a DataLoader). ``loss_fn(model, batch) -> (loss, metrics)``.
"""
from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .runtime.device import pick_device, resolve_precision
from .status import Status, stop_status

#: Optimizers whose step is divided by a running gradient scale: clipping the norm hardly changes their step.
ADAPTIVE = (torch.optim.Adam, torch.optim.AdamW, torch.optim.Adamax, torch.optim.NAdam, torch.optim.RAdam,
            torch.optim.RMSprop, torch.optim.Adagrad)


@dataclass
class TrainConfig:
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0              # max global gradient norm; None: no clipping
    max_steps: int | None = None          # for endless batch generators
    epochs: int = 1                       # for iterables
    eval_every: int | None = None         # steps between validations (None: once per epoch)
    early_stopping: int | None = None     # validations without improvement before stopping
    lr_patience: int | None = None        # ReduceLROnPlateau patience (validations)
    lr_factor: float = 0.5
    min_lr: float = 1e-6
    monitor: str = "loss"                 # validation metric to watch
    mode: str = "min"                     # "min" or "max" for the monitored metric
    diverge_factor: float = 4.0           # a smoothed loss this many times the first one counts as divergence
    diverge_after: int = 20               # ... once this many steps have smoothed out the first noisy ones
    event_every: int = 1                  # emit a "step" event every n steps
    ema: float | None = None              # keep an exponential moving average of the weights (e.g. 0.999):
                                          # validation, the best weights and the result use the average
    time_limit: float | None = None       # seconds of training before stopping with Status.TIME_LIMIT
    lr_schedule: str | None = None        # "cosine": from lr down to lr × min_lr_frac over the run: over
                                          # time_limit seconds if set (training to a time budget ends
                                          # annealed, not mid-flight), else over the steps the run will take
    min_lr_frac: float = 0.0
    cycles: int = 1                       # with "cosine": warm restarts (SGDR, Loshchilov & Hutter 2017): the
                                          # schedule runs this many times over the budget; each new cycle
                                          # starts from the best validated weights with a fresh optimiser
                                          # state and average, and anneals again
    warmup_steps: int = 0                 # linear warm-up from 0 over the first steps (with lr_schedule)
    seed: int = 0                         # recorded with the run (the caller seeds its process)
    device: str | None = None
    precision: str = "fp32"               # "bf16": the forward pass and loss under bfloat16 autocast (weights,
                                          # gradients and optimizer stay float32); "auto": bf16 where the CPU
                                          # has native bf16 (runtime.device.native_bf16), else fp32


@dataclass
class Event:
    kind: str          # step | eval | epoch | lr | restart | early_stop | diverged | stopped | time_limit | done
    step: int
    epoch: int
    data: dict = field(default_factory=dict)


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)    # before clipping
    clipped: list[bool] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)       # training metrics per step
    evals: list[dict] = field(default_factory=list)         # {"step", "epoch", **validation metrics}
    lr_drops: list[int] = field(default_factory=list)       # steps where the learning rate was reduced
    restarts: list[int] = field(default_factory=list)       # steps where a new cycle began (TrainConfig.cycles)
    best_step: int | None = None
    best_value: float | None = None
    status: Status = Status.RUNNING                          # then how the run ended (see the module docstring)
    message: str = ""
    seconds: float = 0.0
    examples_seen: int = 0
    precision: str = "fp32"                                  # what the forward passes ran in (TrainConfig)



def _float64_norm(grads: list[torch.Tensor]) -> float:
    """The global 2-norm of the gradients measured in float64, for when float32's overflowed: squaring an entry
    above ~1.8e19 passes float32's largest number, so a gradient of norm 3.8e20, which float32 holds, measures
    as inf there, would be called a divergence and clipped by a factor of 0 (issue 29). An infinite or NaN
    result here means an entry itself is inf or NaN."""
    if not grads:
        return 0.0
    # on the CPU where the device has no float64 (Apple's MPS); this path is rare, its speed does not matter
    per_tensor = [torch.linalg.vector_norm(g if g.device.type != "mps" else g.cpu(), dtype=torch.float64).cpu()
                  for g in grads]
    return float(torch.linalg.vector_norm(torch.stack(per_tensor)))


def clip_(grads: list[torch.Tensor], coefficient: float) -> None:
    """Multiply the gradients by ``coefficient`` (< 1) in place. Below float32's normal numbers (1.2e-38) a
    factor loses its digits, so a very small one is applied as two factors, its square root twice."""
    if coefficient < 1e-30:
        root = math.sqrt(coefficient)
        torch._foreach_mul_(grads, root)
        torch._foreach_mul_(grads, root)
    else:
        torch._foreach_mul_(grads, coefficient)


class Trainer:
    def __init__(self, model: nn.Module, loss_fn: Callable, config: TrainConfig | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 should_stop: Callable[[], Status | None] | None = None,
                 optimizer: torch.optim.Optimizer | None = None):
        self.config = config or TrainConfig()
        self.device = pick_device(self.config.device)
        self.model = model.to(self.device)
        self.precision = resolve_precision(self.config.precision, self.device)
        self.loss_fn = loss_fn
        self.on_event = on_event
        self.should_stop = should_stop or (lambda: None)
        self.optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=self.config.lr,
                                                       weight_decay=self.config.weight_decay)
        self.history = History(precision=self.precision)
        self._best_state: dict | None = None
        self._bad_evals = 0
        self._plateau = 0
        self._first_loss: float | None = None
        self._smooth_loss: float | None = None
        self._ema: dict[str, torch.Tensor] | None = None
        self._base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        self._horizon_steps: int | None = None
        self._cycle = 0

    # --- helpers -----------------------------------------------------------------------------
    def _emit(self, kind: str, step: int, epoch: int, **data) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind, step, epoch, data))

    def _to_device(self, batch):
        if isinstance(batch, torch.Tensor):
            return batch.to(self.device, non_blocking=True)
        if isinstance(batch, (list, tuple)):
            return type(batch)(self._to_device(b) for b in batch)
        if isinstance(batch, dict):
            return {k: self._to_device(v) for k, v in batch.items()}
        return batch

    def _better(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        return value < best if self.config.mode == "min" else value > best

    def _lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    # --- one step ----------------------------------------------------------------------------
    def train_step(self, batch) -> tuple[float, float, bool, dict]:
        self.model.train()
        batch = self._to_device(batch)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            loss, metrics = self.loss_fn(self.model, batch)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            return loss_value, float("nan"), False, metrics
        loss.backward()
        params = [p for p in self.model.parameters() if p.grad is not None]
        grads = [p.grad for p in params]
        total = nn.utils.get_total_norm(grads) if grads else None    # as clip_grad_norm_ measures it
        float32_ok = total is not None and math.isfinite(float(total))
        norm = float(total) if float32_ok else _float64_norm(grads)
        clipped = self.config.clip is not None and math.isfinite(norm) and norm > self.config.clip
        if not math.isfinite(norm):       # an inf or NaN entry in the gradient itself: divergence
            return loss_value, norm, False, metrics
        if self.config.clip is not None and float32_ok:
            # bit for bit what clip_grad_norm_ does (trained results, lessons and model cards depend on it)
            nn.utils.clip_grads_with_norm_(params, self.config.clip, total)
        elif clipped:
            clip_(grads, self.config.clip / (norm + 1e-6))   # a size float32 could not square: still finite
        self.optimizer.step()
        return loss_value, norm, clipped, {k: float(v.detach()) if torch.is_tensor(v) else float(v)
                                           for k, v in metrics.items()}

    # --- validation --------------------------------------------------------------------------
    def _validate(self, validate, step: int, epoch: int) -> bool:
        """Run validation, update best weights, plateau and early stopping. True: stop training."""
        live = self._swap_in_ema()
        self.model.eval()
        with torch.no_grad():
            metrics = {k: float(v) for k, v in validate(self.model).items()}
        self.model.train()
        record = {"step": step, "epoch": epoch, **metrics}
        self.history.evals.append(record)
        value = metrics.get(self.config.monitor)
        improved = value is not None and math.isfinite(value) and self._better(value, self.history.best_value)
        if improved:
            self.history.best_value, self.history.best_step = value, step
            self._best_state = copy.deepcopy({k: v.detach().clone() for k, v in self.model.state_dict().items()})
            self._bad_evals = self._plateau = 0
        else:
            self._bad_evals += 1
            self._plateau += 1
        if live is not None:
            self.model.load_state_dict(live)
        self._emit("eval", step, epoch, improved=improved, **metrics)
        c = self.config
        if c.lr_patience is not None and self._plateau >= c.lr_patience and self._lr() > c.min_lr:
            for g in self.optimizer.param_groups:
                g["lr"] = max(g["lr"] * c.lr_factor, c.min_lr)
            self._base_lrs = [max(b * c.lr_factor, c.min_lr) for b in self._base_lrs]
            self._plateau = 0
            self.history.lr_drops.append(step)
            self._emit("lr", step, epoch, lr=self._lr())
        if c.early_stopping is not None and self._bad_evals >= c.early_stopping:
            self.history.status = Status.EARLY_STOPPED
            self.history.message = (f"Early stopping at step {step}: {c.monitor} did not improve for "
                                    f"{c.early_stopping} validations; best weights "
                                    f"(step {self.history.best_step}) restored.")
            self._emit("early_stop", step, epoch, best_step=self.history.best_step)
            return True
        return False

    # --- learning-rate schedule ---------------------------------------------------------------
    def _progress(self, step: int, elapsed: float) -> float | None:
        """How far the run is through its budget, 0..1 (None: no budget known)."""
        c = self.config
        # progress through whichever budget runs out first (time or steps): a fast GPU finishes its epochs
        # before the time limit, a busy CPU runs out of time first; either way the rate ends at its floor
        parts = ([elapsed / c.time_limit] if c.time_limit else []) + \
                ([step / self._horizon_steps] if self._horizon_steps else [])
        return min(max(max(parts), 0.0), 1.0) if parts else None

    def _schedule_factor(self, step: int, elapsed: float) -> float:
        c = self.config
        if c.warmup_steps and step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        progress = self._progress(step, elapsed)
        if progress is None:
            return 1.0
        if c.cycles > 1 and progress < 1.0:
            progress = progress * c.cycles - self._cycle     # progress through the current cycle
            progress = min(max(progress, 0.0), 1.0)
        return c.min_lr_frac + (1 - c.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * progress))

    def _maybe_restart(self, step: int, epoch: int, elapsed: float) -> None:
        """Begin the next warm-restart cycle once the budget says so (see ``TrainConfig.cycles``).

        Going back to the best validated weights keeps what the last cycle found; the fresh Adam moments and
        average let the high learning rate move away from it again, to a nearby and often better minimum."""
        c = self.config
        if c.cycles <= 1 or c.lr_schedule != "cosine":
            return
        progress = self._progress(step, elapsed)
        if progress is None:
            return
        cycle = min(int(progress * c.cycles), c.cycles - 1)
        if cycle <= self._cycle:
            return
        self._cycle = cycle
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        elif self._ema is not None:
            self.model.load_state_dict(self._ema)
        self.optimizer.state.clear()
        self._ema = None
        self._bad_evals = self._plateau = 0
        self.history.restarts.append(step)
        self._emit("restart", step, epoch, cycle=cycle + 1, cycles=c.cycles, best_step=self.history.best_step)

    def _apply_schedule(self, step: int, elapsed: float) -> None:
        if self.config.lr_schedule != "cosine":
            return
        f = self._schedule_factor(step, elapsed)
        for g, base in zip(self.optimizer.param_groups, self._base_lrs):
            g["lr"] = base * f

    # --- weight averaging ---------------------------------------------------------------------
    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.config.ema
        state = self.model.state_dict()
        if self._ema is None:
            self._ema = {k: v.detach().clone() for k, v in state.items()}
            return
        for k, v in state.items():
            if v.dtype.is_floating_point:
                self._ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
            else:
                self._ema[k].copy_(v)

    def _swap_in_ema(self) -> dict | None:
        """Put the averaged weights in the model; return the live ones to put back (None without EMA)."""
        if self._ema is None:
            return None
        live = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(self._ema)
        return live

    def _stop_reason(self, start: float) -> Status | None:
        c = self.config
        if c.time_limit is not None and time.perf_counter() - start > c.time_limit:
            return Status.TIME_LIMIT
        return stop_status(self.should_stop())

    def _stop(self, reason: Status, step: int, epoch: int) -> None:
        h = self.history
        h.status = reason
        if reason == Status.TIME_LIMIT:
            h.message = f"Stopped at the time limit after {step} steps."
        else:
            h.message = f"Stopped by the user at step {step}."
        if self._best_state is not None:
            h.message += f" Best validated weights (step {h.best_step}) kept."
        self._emit(reason.value, step, epoch)    # a "stopped" or "time_limit" event

    def _divergence_advice(self) -> str:
        """What to change after a divergence. Clipping the gradient's norm helps SGD, whose step is proportional
        to the gradient; Adam-like optimizers divide each step by the gradient's running size, so their step
        hardly depends on the norm and clipping cannot rescue a learning rate that is too high."""
        lr = f"the learning rate ({self.optimizer.defaults['lr']:g}) is too high for this model; try one 3–10× lower"
        if isinstance(self.optimizer, torch.optim.SGD):
            return lr + (", or clip the gradient to a smaller norm." if self.config.clip is not None
                         else ", or turn on gradient clipping.")
        if isinstance(self.optimizer, ADAPTIVE):
            return lr + (f" ({type(self.optimizer).__name__} scales each step by the gradient's own size, so "
                         "gradient clipping would not help).")
        return lr + "."

    def _divergence_message(self, step: int, loss: float, norm: float) -> str:
        """What diverged, at which step, and what to change. At the very first step no update has been made
        yet: the starting weights and the data overflowed, and the learning rate cannot be the cause."""
        bad = ("loss", loss) if not math.isfinite(loss) else ("gradient's size", norm) if not math.isfinite(norm) \
            else None
        if bad is not None:
            what = f"{bad[0]} = {'NaN' if math.isnan(bad[1]) else 'inf'}"
        else:
            what = f"loss {self._smooth_loss:.3g}, {self._smooth_loss / self._first_loss:.1f}× its start"
        if step == 0:
            return (f"Training diverged at step 1, before any update ({what}): the model's starting weights on "
                    "this data already overflow float32 (its largest number is 3.4e38), so neither the learning "
                    "rate nor clipping is the cause. Start from smaller weights (a lower spectral radius or "
                    "initial scale), shorter sequences or smaller inputs.")
        return (f"Training diverged at step {step + 1} ({what}). It was stopped and the last good weights kept: "
                f"{self._divergence_advice()}")

    def _diverged(self, loss: float, norm: float) -> bool:
        if not math.isfinite(loss) or not math.isfinite(norm):
            return True
        if self._first_loss is None:
            return False
        self._smooth_loss = loss if self._smooth_loss is None else 0.9 * self._smooth_loss + 0.1 * loss
        return (len(self.history.steps) >= self.config.diverge_after
                and self._smooth_loss > self.config.diverge_factor * self._first_loss) or \
            abs(loss) > 1e4 * self._first_loss

    # --- the loop ----------------------------------------------------------------------------
    def fit(self, batches: Callable[[int], Any] | Iterable,
            validate: Callable[[nn.Module], dict] | None = None) -> History:
        """Train to the end (see the module docstring); returns the history."""
        for _ in self.run(batches, validate):
            pass
        return self.history

    def run(self, batches: Callable[[int], Any] | Iterable, validate: Callable[[nn.Module], dict] | None = None):
        """The training loop as a generator: yields the step number after every step, so that several
        trainers can take turns (a race) and a page can redraw between steps. ``fit`` drives it to the end."""
        c = self.config
        h = self.history
        start = time.perf_counter()
        step, epoch = 0, 0
        endless = callable(batches)
        if c.max_steps is not None:
            self._horizon_steps = c.max_steps
        elif not endless and hasattr(batches, "__len__"):
            self._horizon_steps = c.epochs * len(batches)
        if endless and c.max_steps is None:
            raise ValueError("an endless batch generator needs TrainConfig.max_steps")
        last_good = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        stop = False
        while not stop:
            iterator = (batches(s) for s in itertools.count(step)) if endless else iter(batches)
            for batch in iterator:
                reason = self._stop_reason(start)
                if reason:
                    self._stop(reason, step, epoch)
                    stop = True
                    break
                elapsed = time.perf_counter() - start
                self._maybe_restart(step, epoch, elapsed)
                self._apply_schedule(step, elapsed)
                loss, norm, clipped, metrics = self.train_step(batch)
                if self._first_loss is None and math.isfinite(loss):
                    self._first_loss = max(abs(loss), 1e-8)
                if self._diverged(loss, norm):
                    self.model.load_state_dict(last_good)
                    h.status = Status.DIVERGED
                    h.message = self._divergence_message(step, loss, norm)
                    self._emit("diverged", step + 1, epoch, loss=loss, grad_norm=norm)
                    stop = True
                    break
                if c.ema:
                    self._update_ema()
                step += 1
                if step % 10 == 0:  # a recent finite state to fall back on if the run diverges
                    last_good = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                h.steps.append(step)
                h.loss.append(loss)
                h.grad_norm.append(norm)
                h.clipped.append(clipped)
                h.lr.append(self._lr())
                h.metrics.append(metrics)
                h.examples_seen += _batch_size(batch)
                if step % c.event_every == 0:
                    self._emit("step", step, epoch, loss=loss, grad_norm=norm, clipped=clipped, lr=self._lr(),
                               **metrics)
                if (validate is not None and c.eval_every and step % c.eval_every == 0
                        and self._validate(validate, step, epoch)):
                    stop = True
                if c.max_steps is not None and step >= c.max_steps:
                    stop = True
                yield step
                if stop:
                    break
            if stop:
                break
            epoch += 1
            if validate is not None and not c.eval_every and self._validate(validate, step, epoch):
                break
            self._emit("epoch", step, epoch)
            if endless or epoch >= c.epochs:
                break
        # With validation, the model ends on its best validated weights (as Keras' restore_best_weights);
        # without, on its averaged weights if it keeps an average.
        if self._best_state is not None and h.status != Status.DIVERGED:
            self.model.load_state_dict(self._best_state)
        elif self._ema is not None and h.status != Status.DIVERGED:
            self.model.load_state_dict(self._ema)
        if h.status == Status.RUNNING:
            h.status = Status.FINISHED
            h.message = f"Finished {step} steps."
        h.seconds = time.perf_counter() - start
        self._emit("done", step, epoch, status=h.status, message=h.message)


def _batch_size(batch) -> int:
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    return int(first.shape[0]) if isinstance(first, torch.Tensor) and first.dim() else 1
