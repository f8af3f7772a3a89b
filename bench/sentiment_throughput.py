"""Reviews per second a sentiment classifier trains on, float32 against bfloat16 mixed precision, by batch size:
the measurement behind the 3-minute recipe's choice of bfloat16 and batches of 64 (docs/benchmarks.md,
"Sentiment throughput").

    python -m bench.sentiment_throughput                      # LSTM-64 and LSTM-128, batches 64/128/256
    python -m bench.sentiment_throughput --hidden 128 --batch 64 --threads 1

Each configuration is the 3-minute recipe's classifier (``recipe_from("fast_3min")``, 30k words, embed 64,
max/mean pooling) with the hidden size given, trained for a few steps of ``rnnlab.train.Trainer.train_step``
(forward under bfloat16 autocast or not, backward, clipping, Adam: the step ``train_sentiment`` runs) on random
token batches of ``--tokens`` tokens (270: about the median IMDB review) with all rows the same length. The
baseline is float32 at batch 128 for the same hidden size, measured in the same run. bfloat16 is fast only
where the CPU has it natively (Intel AMX, ``rnnlab.runtime.device.native_bf16``): the run says whether this
one has.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from rnnlab.labs.sentiment import loss_fn, recipe_from
from rnnlab.nn.init import seeded
from rnnlab.nn.models import SentimentClassifier
from rnnlab.runtime.device import native_bf16
from rnnlab.train import TrainConfig, Trainer


def reviews_per_second(hidden: int, batch: int, precision: str, tokens: int, examples: int = 1024,
                       seed: int = 0) -> float:
    recipe = recipe_from("fast_3min", hidden_sizes=(hidden,))
    model = seeded(lambda: SentimentClassifier(recipe.classifier_config(recipe.num_words + 2)), seed)
    # the trainer's own step (autocast, clipping, Adam), as train_sentiment runs it
    trainer = Trainer(model, loss_fn, TrainConfig(lr=recipe.lr, clip=recipe.clip, precision=precision, device="cpu"))
    g = torch.Generator().manual_seed(seed)
    data = (torch.randint(2, recipe.num_words, (batch, tokens), generator=g), torch.full((batch,), tokens),
            torch.randint(0, 2, (batch,), generator=g))
    for _ in range(2):
        trainer.train_step(data)
    n = max(3, examples // batch)
    t0 = time.perf_counter()
    for _ in range(n):
        trainer.train_step(data)
    return batch * n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, action="append", help="LSTM hidden size (64 and 128)")
    ap.add_argument("--batch", type=int, action="append", help="batch size (64, 128, 256)")
    ap.add_argument("--tokens", type=int, default=270)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, load average {load:.2f}; "
          f"native bfloat16 (AMX): {'yes' if native_bf16('cpu') else 'no'}; batches of {args.tokens} tokens")
    print(f"{'hidden':>6} {'batch':>5} {'fp32 rev/s':>10} {'bf16 rev/s':>10} {'bf16/fp32':>9} "
          f"{'vs fp32 @128':>12}")
    for hidden in args.hidden or [64, 128]:
        base = reviews_per_second(hidden, 128, "fp32", args.tokens)
        for batch in args.batch or [64, 128, 256]:
            fp32 = base if batch == 128 else reviews_per_second(hidden, batch, "fp32", args.tokens)
            bf16 = reviews_per_second(hidden, batch, "bf16", args.tokens)
            print(f"{hidden:>6} {batch:>5} {fp32:>10.0f} {bf16:>10.0f} {bf16 / fp32:>8.2f}x {bf16 / base:>11.2f}x",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
