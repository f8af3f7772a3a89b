"""Sentiment training speed on IMDB, measured in one run against plain-PyTorch baselines.

    python bench/sentiment.py [--data ../shared/data/imdb] [--cap 240]

1. Time to 85% IMDB test accuracy (full 25,000-review test split) for
   - our default live recipe ("fast"),
   - a plain 1-layer LSTM-64 classifier on its final state (20k words, 200 tokens, packed, Adam 1e-3),
   - the guide's PyTorch BiLSTM recipe (section 6), capped at --cap seconds of training.
   Only training steps are timed; the clock stops while the test split is scored (every --check steps).
2. Trainer overhead: examples/s of rnnlab's Trainer vs a hand-written PyTorch loop on the same model and
   batches (target ratio >= 0.97).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rnnlab.data.text import find_imdb, load_imdb  # noqa: E402
from rnnlab.runtime.device import device_label, pick_device  # noqa: E402
from rnnlab.nn.models import SentimentClassifier  # noqa: E402
from rnnlab.labs.sentiment import EpochBatches, build_vocab, encode, evaluate, loss_fn, recipe_from  # noqa: E402
from rnnlab.train import TrainConfig, Trainer  # noqa: E402

TARGET = 0.85


def time_to_target(name, recipe, train, test, cap, check, device):
    torch.manual_seed(0)
    vocab = build_vocab(train.texts, recipe.num_words)
    ids, lengths = encode(train.texts, vocab, recipe.maxlen, recipe.truncating)
    t_ids, t_len = encode(test.texts, vocab, recipe.maxlen, recipe.truncating)
    t_y = torch.from_numpy(test.labels)
    model = SentimentClassifier(recipe.classifier_config(len(vocab)))
    trainer = Trainer(model, loss_fn, TrainConfig(lr=recipe.lr, clip=recipe.clip, epochs=recipe.epochs * 10,
                                                  device=device))
    steps = trainer.run(EpochBatches(ids, lengths, torch.from_numpy(train.labels), recipe.batch_size))
    clock, best, reached = 0.0, 0.0, None
    while clock < cap:
        t0 = time.perf_counter()
        try:
            step = next(steps)
        except StopIteration:
            break
        if device.type == "cuda":
            torch.cuda.synchronize()
        clock += time.perf_counter() - t0
        if step % check == 0 or clock >= cap:
            acc = evaluate(model, t_ids, t_len, t_y)["acc"]
            best = max(best, acc)
            print(f"  {name:<14} step {step:>5}  {clock:7.1f} s of training  test acc {acc:.4f}", flush=True)
            if acc >= TARGET:
                reached = clock
                break
    return reached, best, clock


def trainer_overhead(train, device, steps=60, repeats=3):
    recipe = recipe_from("fast")
    vocab = build_vocab(train.texts[:5000], recipe.num_words)
    ids, lengths = encode(train.texts[:steps * recipe.batch_size], vocab, recipe.maxlen)
    from rnnlab.labs.sentiment import batches
    data = batches(ids, lengths, torch.from_numpy(train.labels[:len(lengths)]), recipe.batch_size, seed=0)

    def plain():
        torch.manual_seed(0)
        model = SentimentClassifier(recipe.classifier_config(len(vocab))).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        t0 = time.perf_counter()
        for b_ids, b_len, y in data:
            b_ids, y = b_ids.to(device), y.to(device)
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(b_ids, b_len), y.float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip)
            opt.step()
            float(loss.detach())  # the trainer reads the loss each step too
        if device.type == "cuda":
            torch.cuda.synchronize()
        return len(lengths) / (time.perf_counter() - t0)

    def ours():
        torch.manual_seed(0)
        model = SentimentClassifier(recipe.classifier_config(len(vocab)))
        trainer = Trainer(model, loss_fn, TrainConfig(lr=recipe.lr, clip=recipe.clip, epochs=1, device=str(device)))
        t0 = time.perf_counter()
        trainer.fit(data)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return len(lengths) / (time.perf_counter() - t0)

    plain(), ours()  # warm-up
    p, o = [], []
    for _ in range(repeats):  # interleaved, so that drifts in machine speed hit both alike
        p.append(plain())
        o.append(ours())
    return statistics.median(p), statistics.median(o)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "imdb"))
    ap.add_argument("--cap", type=float, default=240, help="seconds of training for each baseline")
    ap.add_argument("--check", type=int, default=25, help="steps between test-accuracy checks")
    ap.add_argument("--skip-guide", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    args = ap.parse_args()
    folder = find_imdb([args.data])
    if folder is None:
        sys.exit("IMDB not found: pass --data or run `python -m rnnlab train-sentiment --download` once")
    device = pick_device()
    data = load_imdb(folder)
    print(f"device {device_label(device)}; torch {torch.__version__}; IMDB {len(data['train'])}/{len(data['test'])}")

    if not args.skip_overhead:
        p, o = trainer_overhead(data["train"], device)
        print(f"\nTrainer overhead: plain loop {p:.0f} ex/s, rnnlab Trainer {o:.0f} ex/s, ratio {o / p:.3f} "
              "(target >= 0.97)")

    runs = [("ours (fast)", recipe_from("fast", epochs=10), args.cap),
            ("plain LSTM-64", recipe_from("fast", name="plain", cell="LSTM", pooling="last", lr=1e-3, epochs=10), args.cap)]
    if not args.skip_guide:
        runs.append(("guide BiLSTM", recipe_from("guide_pytorch", epochs=10), args.cap))
    results = {}
    for name, recipe, cap in runs:
        print(f"\n{name}: {recipe}")
        # The guide's model is slow to score on 25k reviews: on the CPU it is scored once, at the cap.
        check = args.check if name != "guide BiLSTM" or device.type == "cuda" else 10**9
        results[name] = time_to_target(name, recipe, data["train"], data["test"], cap, check, device)
    print("\nTime to 85% IMDB test accuracy (training seconds):")
    ours_t = results["ours (fast)"][0]
    for name, (reached, best, clock) in results.items():
        shown = f"{reached:7.1f} s" if reached is not None else f"not reached in {clock:.0f} s (best {best:.4f})"
        ratio = ""
        if ours_t and name != "ours (fast)":
            ratio = f"  ratio {reached / ours_t:.1f}x" if reached else f"  ratio > {clock / ours_t:.1f}x"
        print(f"  {name:<14} {shown}{ratio}")
    print(f"target: ours within 60 s -> {'PASS' if ours_t is not None and ours_t <= 60 else 'FAIL'}")


if __name__ == "__main__":
    main()
