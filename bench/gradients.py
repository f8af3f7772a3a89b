"""Time to recompute the gradient-flow plot: three cells (tanh RNN, LSTM, GRU) at T = 1,000.

    python bench/gradients.py

rnnlab's path (one step-by-step loop + hand-written BPTT in float64, Jacobian norms included) is compared
with a plain PyTorch baseline measured in the same run: an autograd loop over torch.nn cells that
retains the gradient of every h_t (‖∂L/∂h_t‖ only, no Jacobian). Target: rnnlab under 300 ms.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_ms  # noqa: E402
from rnnlab.labs.gradients import gradient_flow  # noqa: E402

CELLS = ("RNN_TANH", "LSTM", "GRU")
T, H, D = 1000, 32, 8


def ours():
    return [gradient_flow(c, T, H, seed=0) for c in CELLS]


def plain_pytorch():
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
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; cells {', '.join(CELLS)}; T={T}, hidden={H}")
    a = median_ms(ours)
    b = median_ms(plain_pytorch)
    print(f"rnnlab gradient_flow (3 cells, with Jacobian norms): {a:7.1f} ms")
    print(f"plain PyTorch autograd loop (3 cells, ‖∂L/∂h_t‖ only): {b:7.1f} ms")
    print(f"ratio rnnlab / plain: {a / b:.2f}")
    print(f"target: under 300 ms -> {'PASS' if a < 300 else 'FAIL'}")


if __name__ == "__main__":
    main()
