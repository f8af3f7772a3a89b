"""Speed and memory, timed on the machine that runs them: a training step as the sequence grows, one new
token after a history of H tokens (a running state against a Transformer without a cache), and the
memory a training step keeps for its backward pass."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...nn.seqmodels import KINDS, RecurrentNet, build, count_params, logits
from ...status import Status, stop_status
from .lineup import Lineup, check_lineup

SPEED_TS = (16, 32, 64, 128, 256, 512)
INFER_HISTORY = (16, 64, 256, 1024)
SPEED_LINEUP = Lineup(params=100_000, embed=64, cnn_layers=7, window=32, context=max(INFER_HISTORY))


def _timed(fn: Callable[[], None], reps: int, budget: float) -> list[float]:
    """Seconds of ``reps`` calls of ``fn`` (after one warm-up call), fewer if ``budget`` seconds run out."""
    fn()
    times, start = [], time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget and len(times) >= 2:
            break
    return times


def saved_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes of the tensors a forward pass keeps for its backward pass (the activation memory of a training
    step: each storage counted once, the weights not counted), measured with autograd's saved-tensor hooks."""
    seen: dict[tuple, int] = {}
    weights = {(p.untyped_storage().data_ptr(), p.device.type) for p in model.parameters()}

    def pack(t: Tensor):
        try:
            key = (t.untyped_storage().data_ptr(), t.device.type)
            if key not in weights:                    # the weights are kept anyway, not for this step
                seen[key] = max(seen.get(key, 0), t.untyped_storage().nbytes())
        except (RuntimeError, NotImplementedError):   # a tensor without ordinary storage
            seen[(id(t), "other")] = t.numel() * t.element_size()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = logits(model, x)
    del out
    return sum(seen.values())


def state_floats(model: nn.Module, history: int) -> int:
    """Numbers a model must keep between two tokens to predict the next one after ``history`` tokens: a
    recurrent net its state; the others the embeddings of the tokens they will read again (a
    Transformer's key-value cache would keep 2 × layers × d_model numbers per token instead)."""
    if isinstance(model, RecurrentNet):
        c = model.config
        return c.num_layers * c.hidden_size * (2 if c.cell.upper() == "LSTM" else 1)
    keep = min(history, model.view - 1)
    return keep * model.embedding.embedding_dim


def time_step(model: nn.Module, x: Tensor, y: Tensor, reps: int = 3, budget: float = 2.0) -> list[float]:
    """Seconds of one training step (forward, backward, Adam) on the batch ``x`` → ``y``."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        out = logits(model, x)
        F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)).backward()
        opt.step()

    return _timed(step, reps, budget)


def tokens_read_per_new_token(model: nn.Module, history: int) -> int:
    """Tokens a model's forward pass reads to predict one new token after ``history`` tokens, as
    :func:`time_next_token` runs it: a recurrent net 1 (the new one, into its state); the others the last
    tokens they can see, the new one included (a Transformer without a cache: all of its context)."""
    return 1 if isinstance(model, RecurrentNet) else min(history + 1, model.view)


@torch.no_grad()
def time_next_token(model: nn.Module, history: Tensor, tokens: int = 8, reps: int = 3,
                    budget: float = 2.0) -> list[float]:
    """Seconds per new token after ``history`` (1, H): a recurrent net steps its running state (read once,
    not timed); the others reread the last tokens they can see, without a cache."""
    model.eval()
    device = history.device
    nxt = torch.zeros(1, 1, dtype=torch.long, device=device)
    if isinstance(model, RecurrentNet):
        _, state = model(history)

        def gen():
            s = state
            for _ in range(tokens):
                _, s = model(nxt, s)
    else:
        ctx_ids = torch.cat([history, nxt], 1)[:, -tokens_read_per_new_token(model, history.shape[1]):]

        def gen():
            for _ in range(tokens):
                logits(model, ctx_ids)[:, -1]

    return [t / tokens for t in _timed(gen, reps, budget)]


def speed_models(lineup: Lineup, vocab_size: int = 65, seed: int = 0, device=None,
                 kinds: tuple[str, ...] = KINDS) -> dict[str, nn.Module]:
    """The models :func:`measure_speed` times (``lineup``'s, seeded), by kind."""
    settings = lineup.settings(vocab_size)
    return {k: build(k, vocab_size, None, seed=seed, **settings[k]).to(device or "cpu") for k in kinds}


def measure_speed(lineup: Lineup = SPEED_LINEUP, vocab_size: int = 65, Ts=SPEED_TS, history=INFER_HISTORY,
                  batch: int = 16, reps: int = 3, budget: float = 2.0, seed: int = 0, device=None,
                  on_result: Callable[[str, dict], None] | None = None,
                  should_stop: Callable[[], object] | None = None) -> dict:
    """Step time and activation memory against T, and time per new token against the history length, for
    the four models of ``lineup`` (the Transformer's context is raised to cover the longest T and history:
    its weights do not change). Each time is the fastest of ``reps`` runs (the least disturbed by other work
    on the machine), after a warm-up run. ``on_result(what, row)`` is called after each measurement."""
    Ts, history = list(Ts), list(history)
    lineup = replace(lineup, context=max(lineup.context, max(Ts), max(history)))
    device = torch.device(device or "cpu")
    models = speed_models(lineup, vocab_size, seed, device)
    g = torch.Generator().manual_seed(seed)
    out = {"labels": lineup.labels(), "params": {k: count_params(m) for k, m in models.items()},
           "views": {k: (m.view if m.view is not None else -1) for k, m in models.items()}, "Ts": Ts,
           "history": history, "batch": batch, "step": {k: [] for k in KINDS}, "memory": {k: [] for k in KINDS},
           "token": {k: [] for k in KINDS}, "state": {k: [] for k in KINDS}, "lineup": lineup.to_dict(),
           "threads": torch.get_num_threads(), "complete": False}

    def stopped() -> bool:
        return bool(should_stop is not None and should_stop())

    for T in Ts:
        x = torch.randint(0, vocab_size, (batch, T), generator=g).to(device)
        y = torch.randint(0, vocab_size, (batch, T), generator=g).to(device)
        for k, m in models.items():
            if stopped():
                return out
            times = time_step(m, x, y, reps, budget)
            out["step"][k].append(min(times))
            out["memory"][k].append(saved_bytes(m, x))
            if on_result is not None:
                on_result("step", {"model": k, "T": T, "seconds": min(times), "bytes": out["memory"][k][-1]})
    for H in history:
        hist = torch.randint(0, vocab_size, (1, H), generator=g).to(device)
        for k, m in models.items():
            if stopped():
                return out
            times = time_next_token(m, hist, reps=reps, budget=budget)
            out["token"][k].append(min(times))
            out["state"][k].append(state_floats(m, H))
            if on_result is not None:
                on_result("token", {"model": k, "history": H, "seconds": min(times)})
    out["complete"] = True
    return out


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def speed_job(ctx, lineup: dict | None = None, Ts=SPEED_TS, history=INFER_HISTORY, batch: int = 16, reps: int = 3,
              seed: int = 0) -> dict:
    """:func:`measure_speed` in a worker (on its share of the machine), with progress and a stop between
    measurements; the load average before and after says how busy the machine was."""
    ctx.phase("building the models")
    lu = Lineup.from_dict(lineup or asdict(SPEED_LINEUP))
    check_lineup(lu)
    Ts = sorted({int(t) for t in Ts})
    history = sorted({int(h) for h in history})
    if (not Ts or not history or Ts[0] < 2 or Ts[-1] > 1024 or history[0] < 1 or history[-1] > 4096
            or not 1 <= batch <= 64):
        raise ValueError("sequence lengths must be 2-1,024, histories 1-4,096 and the batch 1-64")
    total = len(Ts) * len(KINDS) + len(history) * len(KINDS)
    load_before = load_average()
    done = [0]
    labels = lu.labels()

    def on_result(what, row):
        done[0] += 1
        ctx.emit("speed", what=what, **row)
        where = f"T = {row['T']}" if what == "step" else f"after {row['history']} tokens"
        ctx.progress(done[0], total, f"{'training step' if what == 'step' else 'next token'}: "
                                     f"{labels[row['model']]}, {where}")

    ctx.phase("timing")
    budget = max(min(2.0, (ctx.remaining() - 5) / max(total, 1)), 0.2)
    res = measure_speed(lu, 65, Ts, history, batch, reps, budget, seed, ctx.device, on_result, ctx.should_stop)
    res.update(load_before=load_before or [], load_after=load_average() or [], measured_at=time.time(),
               cores=os.cpu_count() or 0)
    status = Status.FINISHED if res["complete"] else (stop_status(ctx.should_stop()) or Status.STOPPED)
    at = Ts[-1]
    metrics = {f"step_ms_T{at}_{k}": 1000 * v[-1] for k, v in res["step"].items() if len(v) == len(Ts)}
    took = f"{ctx.elapsed():.0f} s"
    message = (f"{total} measurements in {took}." if res["complete"] else
               f"{done[0]} of {total} measurements done in {took}; the figures need them all: measure again.")
    return {"status": status, "message": message,
            "epochs_completed": 0, "metrics": metrics, **res}
