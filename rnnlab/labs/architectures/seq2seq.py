"""Encoder–decoder: a written date → ISO date, trained with teacher forcing and tested free running;
and the same seq2seq without and with attention, side by side (reversing letters or dates)."""
from __future__ import annotations

import numpy as np
import torch

from ...data import seqtasks
from ...nn.seq2seq import Seq2SeqConfig, sequence_loss
from .models import build_model
from .training import Run, _model_part, _result, _stop_evaluating, _train


def seq2seq_config(task: str, cell: str, hidden: int, attention: str | None, embed: int = 32) -> dict:
    src, tgt = seqtasks.SEQ2SEQ_TASKS[task]
    return Seq2SeqConfig(src.size, tgt.size, embed, int(hidden), cell, attention,
                         bidirectional_encoder=False).to_dict()


def _chunks(pairs, n: int = 250):
    for k in range(0, len(pairs), n):
        yield pairs[k:k + n]


@torch.no_grad()
def decode_pairs(model, task: str, pairs) -> list[str]:
    """Greedy, free-running outputs for (source, target) pairs."""
    _, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    out = []
    for chunk in _chunks(list(pairs)):
        src, src_len, _, dec_out = seqtasks.seq2seq_batch(task, chunk)
        d = model.run(src, src_len, max_len=dec_out.shape[1] + 2)
        out += [tgt_vocab.decode(row) for row in d.tokens]
    return out


@torch.no_grad()
def forcing_errors(model, task: str, pairs) -> dict:
    """Teacher forcing vs free running, position by position, on the same inputs.

    ``teacher``: the share of wrong symbols at each output position when the decoder is fed the true
    previous symbols; ``free``: when it is fed its own. ``after_error``: in free running, the share of
    wrong symbols among those that come after the first mistake (errors compounding), and the same
    share under teacher forcing for the same sequences."""
    L = max(len(t) for _, t in pairs) + 1
    wrong_t, wrong_f, count = torch.zeros(L), torch.zeros(L), torch.zeros(L)
    after_f = after_t = after_n = 0
    for chunk in _chunks(list(pairs)):
        src, src_len, dec_in, dec_out = seqtasks.seq2seq_batch(task, chunk)
        teach = model.run(src, src_len, dec_in=dec_in).logits.argmax(-1)
        free = model.run(src, src_len, max_len=dec_out.shape[1], stop_at_eos=False).tokens
        real = dec_out != seqtasks.PAD
        wt, wf = (teach != dec_out) & real, (free != dec_out) & real
        n = dec_out.shape[1]
        wrong_t[:n] += wt.sum(0).float()
        wrong_f[:n] += wf.sum(0).float()
        count[:n] += real.sum(0).float()
        first = torch.where(wf.any(1), wf.float().argmax(1), torch.full((len(chunk),), n))
        later = (torch.arange(n)[None, :] > first[:, None]) & real
        after_f += int((wf & later).sum())
        after_t += int((wt & later).sum())
        after_n += int(later.sum())
    keep = count > 0
    return {"teacher": (wrong_t[keep] / count[keep]).tolist(), "free": (wrong_f[keep] / count[keep]).tolist(),
            "after_error_free": after_f / after_n if after_n else float("nan"),
            "after_error_teacher": after_t / after_n if after_n else float("nan"), "after_error_count": after_n}


LENGTH_BINS = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
DATE_LENGTH_BINS = ((6, 9), (10, 12), (13, 15), (16, 18), (19, 22), (23, 32))


def accuracy_by_length(task: str, pairs, outputs: list[str]) -> dict:
    """Whole-output and per-symbol accuracy in bins of input length."""
    bins = LENGTH_BINS if task == "reverse" else DATE_LENGTH_BINS
    exact, symbols, counts = [], [], []
    for lo, hi in bins:
        sel = [(o, t) for o, (s, t) in zip(outputs, pairs) if lo <= len(s) <= hi]
        counts.append(len(sel))
        exact.append(float(np.mean([o == t for o, t in sel])) if sel else float("nan"))
        right = [sum(a == b for a, b in zip(o, t)) / len(t) for o, t in sel]
        symbols.append(float(np.mean(right)) if sel else float("nan"))
    return {"bins": [f"{lo}–{hi}" for lo, hi in bins], "exact": exact, "symbols": symbols, "counts": counts}


def _seq2seq_run(name, task, model, batch, gen_seed, val_pairs) -> Run:
    data = {}

    def batches(step):   # the same batch for every model that draws with this seed
        if step not in data:
            data.clear()
            pairs = seqtasks.seq2seq_pairs(task, batch, np.random.default_rng([gen_seed, step]))
            data[step] = seqtasks.seq2seq_batch(task, pairs)
        return data[step]

    def validate(m):
        outs = decode_pairs(m, task, val_pairs)
        return {"acc": float(np.mean([o == t for o, (_, t) in zip(outs, val_pairs)]))}

    return Run(name, model, lambda m, b: _with_acc(sequence_loss(m, b)), batches, validate)


def _with_acc(loss_metrics):
    loss, metrics = loss_metrics
    return loss, {"acc": metrics["token_acc"]}


def seq2seq_job(ctx, task: str = "dates", cell: str = "GRU", hidden: int = 64, attention: str | None = None,
                steps: int = 400, lr: float = 1e-2, batch: int = 64, seed: int = 0) -> dict:
    """One encoder–decoder trained with teacher forcing; then tested free running (greedy), and compared
    position by position with teacher forcing."""
    ctx.phase("preparing")
    config = seq2seq_config(task, cell, hidden, attention)
    model = build_model("seq2seq", config, seed)
    val_pairs = seqtasks.seq2seq_pairs(task, 200, seqtasks.TEST_SEED + 1)
    trainers = _train(ctx, [_seq2seq_run("seq2seq", task, model, batch, seed, val_pairs)], steps, lr, eval_every=50)
    ctx.phase("evaluating")
    model = model.cpu().eval()
    pairs = list(seqtasks.held_out_pairs(task))
    outputs = decode_pairs(model, task, pairs)
    exact = float(np.mean([o == t for o, (_, t) in zip(outputs, pairs)]))
    forcing = forcing_errors(model, task, pairs)
    extra = {"forcing": forcing, "by_length": accuracy_by_length(task, pairs, outputs), "task": task}
    if task == "dates":
        formats = [f for _, _, f in seqtasks.date_pairs(len(pairs), seqtasks.TEST_SEED)]
        extra["by_format"] = {f: float(np.mean([o == t for o, (_, t), g in zip(outputs, pairs, formats) if g == f]))
                              for f in seqtasks.DATE_FORMATS}
    return _result(trainers, steps, {"test_exact": exact, "free_symbol_error": float(np.mean(forcing["free"])),
                                     "teacher_symbol_error": float(np.mean(forcing["teacher"]))},
                   **_model_part(model, config, trainers["seq2seq"]), **extra)


def attention_job(ctx, task: str = "reverse", cell: str = "GRU", hidden: int = 64, attention: str = "luong",
                  steps: int = 300, lr: float = 5e-3, batch: int = 64, seed: int = 0) -> dict:
    """The same seq2seq without and with attention, on the same batches, side by side."""
    if attention not in ("bahdanau", "luong"):
        raise ValueError("attention is 'bahdanau' or 'luong'")
    ctx.phase("preparing")
    configs = {"without attention": seq2seq_config(task, cell, hidden, None),
               "with attention": seq2seq_config(task, cell, hidden, attention)}
    models = {n: build_model("attention", c, seed) for n, c in configs.items()}
    val_pairs = seqtasks.seq2seq_pairs(task, 200, seqtasks.TEST_SEED + 1)
    runs = [_seq2seq_run(n, task, m, batch, seed, val_pairs) for n, m in models.items()]
    trainers = _train(ctx, runs, steps, lr, eval_every=50)
    ctx.phase("evaluating")
    pairs = list(seqtasks.held_out_pairs(task))
    parts, metrics = {}, {}
    for k, (name, m) in enumerate(models.items()):
        if _stop_evaluating(ctx):
            break
        ctx.progress(k, len(models), f"Testing the model {name} on {len(pairs):,} inputs…")
        m = m.cpu().eval()
        outputs = decode_pairs(m, task, pairs)
        by_len = accuracy_by_length(task, pairs, outputs)
        key = "attention" if name == "with attention" else "no_attention"
        metrics[f"test_exact_{key}"] = float(np.mean([o == t for o, (_, t) in zip(outputs, pairs)]))
        metrics[f"longest_exact_{key}"] = by_len["exact"][-1]
        parts[name] = {**_model_part(m, configs[name], trainers[name]), "by_length": by_len}
    return _result(trainers, steps, metrics, models=parts, task=task,
                   config={"cell": cell, "hidden": int(hidden), "attention": attention})
