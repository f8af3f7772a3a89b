"""``python -m rnnlab train-charlm``: train the character model shipped in ``assets/textgen/``.

    python -m rnnlab train-charlm --threads 2 --log /tmp/runs/charlm.log --checkpoint /tmp/runs/charlm

trains the ``shipped`` recipe (2-layer LSTM-800, weight drop 0.25, a 3,000-step schedule; bfloat16 on a CPU
with AMX; its timings are in docs/experiments/charlm.md) on the first 90% of tiny-shakespeare,
validates on the last 10% every ``--eval-every`` steps, appends a line per validation to ``--log`` and saves
the best weights so far to ``--checkpoint`` (so a run stopped early still leaves a usable model), and at the
end writes the best weights (int8, one scale per row: half the size of float16; or
``--weights float16``) with the validation loss measured on the weights as stored to ``--out``. ``--hours``
bounds the training time; ``--init`` starts from a saved model (to resume a stopped run).
"""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import torch

from ..data.chars import TRAIN_FRACTION, shakespeare, split_text
from ..nn.charlm import WEIGHTS, as_stored, count_params, evaluate, load_charlm, save_charlm
from .textgen import PRESETS, SHIPPED, UNIT_CHARS, recipe_from, sample_text, train_charlm, unit_report

OVERRIDES = {"cell": str, "hidden_size": int, "num_layers": int, "embed_size": int, "dropout": float,
             "weight_drop": float, "embed_dropout": float, "precision": str, "warmup_steps": int,
             "batch_size": int, "seq_len": int, "bptt": int, "lr": float, "schedule": str, "ema": float,
             "max_steps": int, "eval_every": int, "eval_chars": int, "lr_patience": int, "seconds": float}


def add_parser(sub) -> None:
    t = sub.add_parser("train-charlm", help="train the character language model on tiny-shakespeare and save it")
    t.add_argument("--preset", default="shipped", choices=sorted(PRESETS))
    for name, kind in OVERRIDES.items():
        t.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    t.add_argument("--hours", type=float, default=None, help="training time limit (default: the preset's)")
    t.add_argument("--data", default=None, help="a UTF-8 text file to train on (default: the shipped tiny-shakespeare)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None, help="torch threads (1 on a shared machine)")
    t.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    t.add_argument("--log", default=None, help="append one line per validation to this file")
    t.add_argument("--checkpoint", default=None, help="folder for the best weights so far, saved at each validation")
    t.add_argument("--init", default=None, help="a saved model folder to start from")
    t.add_argument("--out", default=str(SHIPPED))
    t.add_argument("--weights", default="int8", choices=WEIGHTS,
                   help="how --out stores the weights (int8: half the size of float16, one scale per row)")
    t.add_argument("--skip-units", action="store_true",
                   help="do not run the unit finder at the end (run it later with --units-only)")
    t.add_argument("--units-only", action="store_true",
                   help="train nothing: run the unit finder on the model in --out and save units.json there")


def save_units(folder, corpus) -> dict:
    """The unit finder on the first held-out characters, saved as ``units.json`` beside the model."""
    model, vocab, _ = load_charlm(folder)
    report = unit_report(model, vocab, corpus.val_text[:UNIT_CHARS])
    (Path(folder) / "units.json").write_text(json.dumps(report, indent=1))
    return report


def run(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.units_only:
        report = save_units(args.out, shakespeare() if not args.data else
                            split_text(Path(args.data).read_text(encoding="utf-8"), Path(args.data).name))
        for row in report["rows"]:
            print(f"{row['feature']:<28} {row['signal']} unit {row['unit']:>4}  r = {row['r']:+.3f}")
        return 0
    from ..runtime.device import device_label, pick_device, seed_everything

    seed_everything(args.seed)  # this process runs one training: dropout follows the seed
    changes = {k: getattr(args, k) for k in OVERRIDES if getattr(args, k) is not None}
    if args.hours is not None:
        changes["seconds"] = args.hours * 3600
    recipe = recipe_from(args.preset, **changes)
    if args.data:
        corpus = split_text(Path(args.data).read_text(encoding="utf-8"), Path(args.data).name)
    else:
        corpus = shakespeare()
    init, init_meta = None, None
    if args.init:
        init_model, init_vocab, init_meta = load_charlm(args.init)
        if init_vocab != corpus.vocab:
            print("--init: that model's vocabulary differs from this text's", file=sys.stderr)
            return 2
        init = init_model.state_dict()
    command = "python -m rnnlab " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:]))
    log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115 (closed after the run)
    start = time.perf_counter()
    state = {"best": float("inf"), "loss": float("nan"), "lr": recipe.lr}

    def write(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        if log:
            log.write(line + "\n")
            log.flush()

    def on_event(e) -> None:
        if e.kind == "step":
            loss = e.data["loss"]
            state["loss"] = loss if state["loss"] != state["loss"] else 0.98 * state["loss"] + 0.02 * loss
            state["lr"] = e.data.get("lr", state["lr"])
            if e.step % 50 == 0:
                write(f"step {e.step} {(time.perf_counter() - start) / 60:.1f} min train {state['loss']:.4f} "
                      f"lr {state['lr']:.2e}")
        elif e.kind in ("lr", "diverged", "time_limit", "done"):
            write(f"{e.kind} at step {e.step}: {e.data}")
        elif e.kind == "sample":
            write(f"sample at step {e.step}:\n{e.data['text']}\n---")

    def on_validate(model, metrics, step) -> None:
        seconds = time.perf_counter() - start
        improved = metrics["loss"] < state["best"]
        write(f"step {step} {seconds / 60:.1f} min train {state['loss']:.4f} val {metrics['loss']:.4f} "
              f"({metrics['chars']} chars) lr {state['lr']:.2e}" + (" best" if improved else ""))
        if improved:
            state["best"] = metrics["loss"]
            if args.checkpoint:
                save_charlm(model, corpus.vocab, args.checkpoint,
                            meta={"val_loss": metrics["loss"], "val_chars": metrics["chars"], "step": step,
                                  "minutes": round(seconds / 60, 1), "recipe": recipe.to_dict(), "command": command,
                                  "partial": True})

    write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {command}\n# recipe {recipe.to_dict()}\n"
          f"# {corpus.name}: {len(corpus.train):,} train / {len(corpus.val):,} validation characters, "
          f"vocabulary {len(corpus.vocab)}; torch threads {torch.get_num_threads()}")
    result = train_charlm(recipe, corpus, seed=args.seed, device=args.device, on_event=on_event,
                          on_validate=on_validate, init_state=init, final_eval=False)
    minutes = (time.perf_counter() - start) / 60
    h = result.history
    model = as_stored(result.model, args.weights)   # the loss of the file, not of the float32 weights
    val = evaluate(model, corpus.val)
    write(f"{h.message} Validation loss (best weights as stored in {args.weights}, all {val['chars']:,} validation "
          f"characters): {val['loss']:.4f} nats/char ({val['bpc']:.4f} bits/char); {minutes:.1f} min")
    meta = {"val_loss": round(val["loss"], 4), "val_bpc": round(val["bpc"], 4),
            "val_chars": val["chars"], "train_chars": len(corpus.train), "train_fraction": TRAIN_FRACTION,
            "corpus": corpus.name, "steps": len(h.steps), "best_step": h.best_step, "minutes": round(minutes, 1),
            "status": h.status, "params": count_params(model), "recipe": recipe.to_dict(),
            "seed": args.seed, "command": command, "device": device_label(pick_device(args.device))}
    if init_meta:   # went on from a saved model: keep how that one was made
        meta["init"] = {k: init_meta[k] for k in ("val_loss", "steps", "best_step", "minutes", "device", "command",
                                                  "command_run", "trained_on") if k in init_meta}
    save_charlm(model, result.vocab, args.out, meta=meta, weights=args.weights)
    if not args.skip_units:
        save_units(args.out, corpus)
    size = sum(f.stat().st_size for f in Path(args.out).iterdir()) / 1e6
    write(f"saved to {args.out} ({size:.1f} MB)\n{sample_text(model, result.vocab, 300)}")
    print(json.dumps({k: meta[k] for k in ("val_loss", "steps", "minutes", "status")}))
    if log:
        log.close()
    return 0
