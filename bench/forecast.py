"""The guide's forecasting preset on a 2,000-point series with window 30: training time and test metrics
beside the baselines', and a plain PyTorch training loop on the same model and windows as the reference.

    python bench/forecast.py

Target: 50 epochs (or an earlier stop) in at most 30 s on a 2-core CPU.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rnnlab.labs.forecast import Forecaster, ForecastRecipe, train_forecaster  # noqa: E402
from rnnlab.data.series import sines_trend, split_series  # noqa: E402


def plain_loop(series, recipe, epochs):
    """50 epochs of a hand-written PyTorch loop (no validation, no early stopping) on the same windows."""
    split = split_series(series, recipe.window, recipe.horizon)
    X, Y, _ = split.parts["train"]
    X, Y = torch.from_numpy(X).float(), torch.from_numpy(Y).float()
    torch.manual_seed(0)
    model = Forecaster(1, recipe)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(X))
        for s in range(0, len(X), recipe.batch_size):
            idx = perm[s:s + recipe.batch_size]
            opt.zero_grad()
            loss = F.mse_loss(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def main():
    series = sines_trend(2000, seed=0)
    recipe = ForecastRecipe()  # the guide's preset: GRU 64 -> GRU 32 -> Dense 32 -> Dropout 0.2 -> Dense 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; series '{series.name}', {len(series)} points; "
          f"{recipe}")
    t0 = time.perf_counter()
    res = train_forecaster(series, recipe, seed=0, device="cpu")
    total = time.perf_counter() - t0
    h = res.history
    epochs = len(h.evals)
    print(f"\nrnnlab: {epochs} epochs ({h.status}) in {h.seconds:.1f} s of training; {total:.1f} s with the baselines")
    print(f"{'method':<24}{'MAE':>10}{'RMSE':>10}{'MASE':>10}")
    for row in res.table:
        print(f"{row['method']:<24}{row['MAE']:>10.4f}{row['RMSE']:>10.4f}{row['MASE']:>10.4f}")
    plain = plain_loop(series, recipe, epochs)
    print(f"\nplain PyTorch loop, same {epochs} epochs without validation: {plain:.1f} s "
          f"(rnnlab / plain = {h.seconds / plain:.2f})")
    print(f"target: <= 30 s -> {'PASS' if h.seconds <= 30 else 'FAIL'}")


if __name__ == "__main__":
    main()
