"""Time to recompute the gradient-flow plot: three cells (tanh RNN, LSTM, GRU) at T = 1,000, and at the
page's defaults (T = 100), on the thread count the web server uses.

    python -m bench.gradients

rnnlab's path (one step-by-step loop + a hand-written backward pass in float64, norms kept in log space so
nothing underflows, Jacobian norms included) is compared with a plain PyTorch baseline measured in the same
run: an autograd loop over torch.nn cells that retains the gradient of every h_t (‖∂L/∂h_t‖ only, no
Jacobian, and it underflows to 0 below 1e-308). Each row prints wall time and CPU time (the CPU time is
what a busy machine does not inflate much). Targets: the 3-cell computation at T = 1,000 under 300 ms; the
page's default redraw (computation + the three figures, serialised as Streamlit sends them) well under 1 s.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import torch

from rnnlab.figures.gradients import gradient_flow_figure, jacobian_figure, weight_criterion_figure
from rnnlab.labs.gradients import gradient_flow
from rnnlab.runtime.jobs import default_workers, thread_plan

ROOT = Path(__file__).resolve().parents[1]

CELLS = ("RNN_TANH", "LSTM", "GRU")
H, D = 32, 8


def timed(fn, repeats: int = 5) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn()`` after one untimed call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def ours(T: int):
    return [gradient_flow(c, T, H, seed=0) for c in CELLS]


def redraw(T: int):
    """What one move of the page's slider costs on the server (no cache hit): compute, build, serialise."""
    flows = ours(T)
    for fig in (gradient_flow_figure(flows), jacobian_figure(flows), weight_criterion_figure(flows)):
        fig.to_json()


def plain_pytorch(T: int):
    norms = []
    for cell in CELLS:
        m = {"RNN_TANH": torch.nn.RNNCell, "LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}[cell](D, H).double()
        x = torch.randn(T, 1, D, dtype=torch.float64)
        h = torch.zeros(1, H, dtype=torch.float64)
        c = torch.zeros_like(h)
        hs = []
        for t in range(T):
            if cell == "LSTM":
                h, c = m(x[t], (h, c))
            else:
                h = m(x[t], h)
            h.retain_grad()
            hs.append(h)
        w = torch.randn(H, dtype=torch.float64)
        (hs[-1][0] @ (w / w.norm())).backward()
        norms.append([float(v.grad.norm()) for v in hs])
    return norms


def main():
    server_threads = thread_plan(default_workers())[1]
    torch.set_num_threads(server_threads)
    load = f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) (the web server's share); {load}")
    print(f"cells {', '.join(CELLS)}; hidden {H}\n")
    rows = [("rnnlab gradient_flow, 3 cells, T=1000 (with Jacobian norms)", lambda: ours(1000), 300),
            ("plain PyTorch autograd loop, 3 cells, T=1000 (‖∂L/∂h_t‖ only)", lambda: plain_pytorch(1000), None),
            ("page redraw at the defaults, T=100: compute + 3 figures to JSON", lambda: redraw(100), 1000),
            ("page redraw at T=1000: compute + 3 figures to JSON", lambda: redraw(1000), 1000)]
    results = {}
    for name, fn, target in rows:
        wall, cpu = timed(fn)
        results[name] = wall
        verdict = "" if target is None else f"  target < {target} ms -> {'PASS' if wall < target else 'FAIL'}"
        print(f"{name:<66} {wall:8.1f} ms wall {cpu:8.1f} ms CPU{verdict}")
    print(f"\nratio rnnlab / plain PyTorch at T=1000: {results[rows[0][0]] / results[rows[1][0]]:.2f}")


if __name__ == "__main__":
    main()
