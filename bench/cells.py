"""Fused torch.nn.LSTM vs rnnlab's traced (step-by-step) LSTM forward, measured in one run.

    python -m bench.cells

Prints milliseconds per forward pass and the ratio traced / fused for (batch 1, T 200, hidden 64) and
(batch 64, T 200, hidden 128), in inference (torch.no_grad, what the inspection pages do) and with
autograd on. Also times a naive loop over torch.nn.LSTMCell as a reference point. Target: traced
<= 15x fused at batch 1 in inference.
"""
from __future__ import annotations

import argparse

import torch

from bench.timing import median_ms
from rnnlab import LSTM


def naive_loop(cell: torch.nn.LSTMCell, x: torch.Tensor) -> torch.Tensor:
    h = c = x.new_zeros(x.shape[0], cell.hidden_size)
    outs = []
    for t in range(x.shape[1]):
        h, c = cell(x[:, t], (h, c))
        outs.append(h)
    return torch.stack(outs, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'config':<26}{'mode':<10}{'fused ms':>10}{'traced ms':>11}{'ratio':>8}{'naive ms':>10}{'ratio':>8}")
    ratios = {}
    for B, T, H in [(1, 200, 64), (64, 200, 128)]:
        fused = torch.nn.LSTM(H, H, batch_first=True)
        ours = LSTM(H, H, batch_first=True)
        ours.load_state_dict(fused.state_dict())
        cell = torch.nn.LSTMCell(H, H)
        x = torch.randn(B, T, H)
        reps = args.repeats if B == 1 else max(5, args.repeats // 3)
        for mode in ("no_grad", "autograd"):
            ctx = torch.no_grad if mode == "no_grad" else torch.enable_grad
            with ctx():
                f = median_ms(lambda fused=fused, x=x: fused(x), reps, warmup=3)
                t = median_ms(lambda ours=ours, x=x: ours.trace(x), reps, warmup=3)
                n = median_ms(lambda cell=cell, x=x: naive_loop(cell, x), reps, warmup=3)
            ratios[(B, mode)] = t / f
            print(f"{f'B={B} T={T} H={H}':<26}{mode:<10}{f:>10.2f}{t:>11.2f}{t / f:>7.1f}x{n:>10.2f}{n / f:>7.1f}x")
    worst = max(ratios[(1, "no_grad")], ratios[(1, "autograd")])
    print(f"\ntarget: traced <= 15x fused at batch 1: inference {ratios[(1, 'no_grad')]:.1f}x, with autograd "
          f"{ratios[(1, 'autograd')]:.1f}x -> {'PASS' if worst <= 15 else 'FAIL'}")


if __name__ == "__main__":
    main()
