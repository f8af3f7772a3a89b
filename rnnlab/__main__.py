"""Command line: ``python -m rnnlab train-sentiment [--data DIR] [--preset shipped] [--out assets/sentiment]``;
``python -m rnnlab train-charlm`` (see :mod:`rnnlab.labs.textgen_cli`).

Trains a sentiment model on the IMDB training split (from a folder with aclImdb/ or imdb_*.csv(.gz),
or the cache, downloading the official archive there if allowed), reports test accuracy on the full
test split, and saves weights (weights-only torch file), vocabulary and config to ``--out``.
"""
from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path

from .data.text import ImdbUnavailable, download_imdb, find_imdb, load_imdb
from .labs.sentiment import PRESETS, recipe_from, train_sentiment
from .nn.models import load_text_model, save_text_model
from .runtime.device import seed_everything


def _bar(done: int, total: int, width: int = 30, extra: str = "") -> None:
    frac = 0 if total <= 0 else min(done / total, 1)
    sys.stderr.write(f"\r[{'#' * int(frac * width):<{width}}] {frac:6.1%} {extra}")
    sys.stderr.flush()


def recipe_changes(pairs: list[str]) -> dict:
    """``["hidden_sizes=256", "lr=2e-3"]`` -> changes to a :class:`Recipe`, each converted to its field's type
    (tuples as comma-separated numbers; ``none`` for None)."""
    from .inputs import InputError, parse_flag, parse_number
    from .labs.sentiment import Recipe

    kinds = {f.name: type(f.default) for f in dataclasses.fields(Recipe)}
    optional_float = {"clip", "ema"}
    changes = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in kinds:
            raise ValueError(f"{pair!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(kinds))}")
        kind = float if key in optional_float else kinds[key]
        # Numbers and flags are read by rnnlab.inputs, as the app reads them ("²" is a digit int() refuses).
        if value.lower() == "none":
            changes[key] = None
        elif kind is tuple:
            changes[key] = tuple(parse_number(v, 1, None, integer=True) for v in value.split(","))
        elif kind is bool:
            changes[key] = parse_flag(value)
        elif kind is type(None):
            try:
                changes[key] = parse_number(value, integer=True)
            except InputError:
                changes[key] = value
        elif kind in (int, float):
            changes[key] = parse_number(value, integer=kind is int)
        else:
            changes[key] = kind(value)
    return changes


def train_sentiment_command(args) -> int:
    folder = find_imdb([args.data] if args.data else [])
    if folder is None:
        if not args.download:
            print(f"IMDB not found. Run again with --download, or: {ImdbUnavailable.__doc__}", file=sys.stderr)
            from .data.text import unavailable_message
            print(unavailable_message(), file=sys.stderr)
            return 2
        print("Downloading IMDB…", file=sys.stderr)
        try:
            folder = download_imdb(progress=lambda d, t: _bar(d, t, extra=f"{d / 1e6:.0f} MB"))
        except ImdbUnavailable as err:
            print(f"\n{err}", file=sys.stderr)
            return 2
        print(file=sys.stderr)
    seed_everything(args.seed)  # this process runs one training: dropout and batch order follow the seed
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    data = load_imdb(folder)
    try:
        changes = recipe_changes(args.set or [])
    except ValueError as err:
        print(f"--set: {err}", file=sys.stderr)
        return 2
    if args.epochs:
        changes["epochs"] = args.epochs
    recipe = recipe_from(args.preset, **changes)
    print(f"IMDB from {folder}: {len(data['train'])} train, {len(data['test'])} test reviews; recipe {recipe}",
          file=sys.stderr)
    total_steps = recipe.epochs * -(-int(len(data["train"]) * (1 - recipe.val_fraction)) // recipe.batch_size)
    start = time.perf_counter()
    state = {"acc": float("nan")}

    def on_event(e):
        if e.kind == "step" and e.step % 5 == 0:
            _bar(e.step, total_steps, extra=f"step {e.step}/{total_steps} loss {e.data['loss']:.3f} "
                                            f"val acc {state['acc']:.4f} {time.perf_counter() - start:.0f}s")
        elif e.kind == "eval":
            state["acc"] = e.data.get("acc", float("nan"))
        elif e.kind in ("lr", "early_stop", "diverged"):
            print(f"\n{e.kind} at step {e.step}: {e.data}", file=sys.stderr)

    init = None
    if args.init:
        init = load_text_model(args.init)
        print(f"going on from the model in {args.init} ({init.meta.get('test_accuracy')} test accuracy)",
              file=sys.stderr)
    run = train_sentiment(recipe, data["train"], data["test"], seed=args.seed, device=args.device, on_event=on_event,
                          init=init, time_budget=args.minutes * 60 if args.minutes else None)
    h = run.history
    run.text_model.meta.update({"val_accuracy": h.best_value, "best_step": h.best_step,
                                "command": "python -m rnnlab " + " ".join(shlex.quote(a) for a in args.argv)})
    if init is not None:
        run.text_model.meta["init"] = {"from": str(args.init), **init.meta}
    print(file=sys.stderr)
    print(f"{run.history.message} test accuracy {run.test['acc']:.4f} on {len(data['test'])} reviews; "
          f"confusion [[TN, FP], [FN, TP]] = {run.test['confusion'].tolist()}; "
          f"{run.history.seconds:.0f} s of training; "
          f"best validation accuracy {h.best_value} at step {h.best_step}")
    out = Path(args.out)
    save_text_model(run.text_model, out)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"saved to {out} ({size:.1f} MB)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rnnlab")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train-sentiment", help="train a sentiment model on IMDB and save it",
        description="Train on the IMDB training split (10% of it held out for validation, early stopping and the "
                    "calibration temperature), report accuracy and calibration on the full test split, and save "
                    "weights, vocabulary and config. The shipped model is `--preset shipped`, one stage: a "
                    "bidirectional LSTM-256 over 128-d word vectors (30,000 words) reading whole reviews (up to "
                    "1,000 tokens) in equal-length batches of 64, its outputs max- and mean-pooled over time; "
                    "dropout 0.5 on the word vectors and before the head; 10 epochs of Adam 2e-3 on a cosine "
                    "schedule, weights averaged (EMA 0.998), the best validated weights kept (90.23% on the "
                    "test split; 124 s of training on an H200 GPU). `--set KEY=VALUE` changes "
                    "any field of the preset.")
    t.add_argument("--data", default=None, help="folder with aclImdb/ or imdb_train/test.csv(.gz)")
    t.add_argument("--preset", default="shipped", choices=sorted(PRESETS))
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    t.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "assets" / "sentiment"))
    t.add_argument("--download", action="store_true", help="download the official archive if IMDB is not found")
    t.add_argument("--init", default=None, help="go on training a saved model (folder with model.pt, vocab.json)")
    t.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    t.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="change one setting of the preset, e.g. --set hidden_sizes=256 --set lr_schedule=cosine "
                        "(any field of rnnlab.labs.sentiment.Recipe; repeatable)")
    t.add_argument("--minutes", type=float, default=None,
                   help="training time limit; a cosine schedule then ends with whichever runs out first")
    from .labs import textgen_cli
    textgen_cli.add_parser(sub)
    args = ap.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)   # recorded in the saved model's config
    if args.command == "train-sentiment":
        return train_sentiment_command(args)
    if args.command == "train-charlm":
        return textgen_cli.run(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
