"""The cell equations as LaTeX, symbolic or with one step's actual numbers substituted.

``step_equations(mode, weights, values, t)`` returns a list of LaTeX lines, one per gate/state.
With ``numbers=True`` every matrix and vector is written out (sensible up to hidden size 4):

    i_t = σ(W_i x_t + U_i h_(t-1) + b_i) = σ([..][..] + [..][..] + [..]) = σ([..]) = [..]
"""
from __future__ import annotations

import numpy as np

SYMBOLIC = {
    "RNN": [r"h_{t} = \tanh\left(W\,x_{t} + U\,h_{t-1} + b\right)"],
    "LSTM": [
        r"i_{t} = \sigma\left(W_i\,x_{t} + U_i\,h_{t-1} + b_i\right)",
        r"f_{t} = \sigma\left(W_f\,x_{t} + U_f\,h_{t-1} + b_f\right)",
        r"g_{t} = \tanh\left(W_g\,x_{t} + U_g\,h_{t-1} + b_g\right)",
        r"o_{t} = \sigma\left(W_o\,x_{t} + U_o\,h_{t-1} + b_o\right)",
        r"c_{t} = f_{t} \odot c_{t-1} + i_{t} \odot g_{t}",
        r"h_{t} = o_{t} \odot \tanh(c_{t})",
    ],
    "GRU": [
        r"r_{t} = \sigma\left(W_r\,x_{t} + U_r\,h_{t-1} + b_r\right)",
        r"z_{t} = \sigma\left(W_z\,x_{t} + U_z\,h_{t-1} + b_z\right)",
        r"n_{t} = \tanh\left(W_n\,x_{t} + b_{in} + r_{t} \odot (U_n\,h_{t-1} + b_{hn})\right)",
        r"h_{t} = (1 - z_{t}) \odot n_{t} + z_{t} \odot h_{t-1}",
    ],
}

#: Which GRU these equations are: say it wherever they are shown.
GRU_NOTE = ("This is PyTorch's GRU: the \"reset-after\" variant of Cho et al. (2014). The reset gate r multiplies "
            "U_n h_(t-1) + b_hn after the matrix product; Cho et al. reset the state first, U_n (r ⊙ h_(t-1)). "
            "cuDNN and Keras (reset_after=True) use the same variant as PyTorch.")

ACT = {"i": r"\sigma", "f": r"\sigma", "o": r"\sigma", "r": r"\sigma", "z": r"\sigma", "g": r"\tanh", "n": r"\tanh"}


#: from this size on a number is written as a power of ten: 3.4e38 in fixed notation is 39 digits (issue 29)
BIG = 1e4


def num(v: float, decimals: int = 2) -> str:
    r"""``v`` in LaTeX: fixed with ``decimals`` places; from :data:`BIG` on as ``3.4\times10^{38}``; infinity
    as ``\infty`` and NaN as ``\text{nan}`` (an overflowed state is shown as what it is)."""
    v = float(v)
    if v != v:
        return r"\text{nan}"
    if abs(v) == float("inf"):
        return r"\infty" if v > 0 else r"-\infty"
    if abs(v) >= BIG:
        mantissa, exponent = f"{v:.{max(decimals - 1, 0)}e}".split("e")
        return rf"{mantissa}\times10^{{{int(exponent)}}}"
    s = f"{v:.{decimals}f}"
    return "0." + "0" * decimals if s in ("-0." + "0" * decimals,) else s


def matrix(m: np.ndarray, decimals: int = 2) -> str:
    """A 2-D array as a LaTeX bmatrix; a 1-D array as a column vector."""
    m = np.asarray(m)
    if m.ndim == 1:
        m = m[:, None]
    rows = [" & ".join(num(v, decimals) for v in row) for row in m]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def aligned(first: str, *rest: str) -> str:
    """``first = rest[0] = rest[1] ...`` with each ``=`` on its own line (long numeric lines stay readable)."""
    lhs, rhs = first.split(" = ", 1)
    rows = [f"{lhs} &= {rhs}"] + [f"&= {r}" for r in rest]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _family(mode: str) -> str:
    return "RNN" if mode.startswith("RNN") else mode


def symbolic(mode: str) -> list[str]:
    lines = list(SYMBOLIC[_family(mode)])
    if mode == "RNN_RELU":
        lines = [lines[0].replace(r"\tanh", r"\mathrm{relu}")]
    return lines


def step_equations(mode: str, weights: dict, values: dict, t: int, numbers: bool = True,
                   decimals: int = 2) -> list[str]:
    """LaTeX lines for step ``t`` (1-based in the text). ``weights`` from ``unroll.gate_weights``,
    ``values`` from ``unroll.step_values``. With ``numbers=False`` only the symbolic lines (indexed by t)."""
    sym = [line.replace("{t}", f"{{{t}}}").replace("{t-1}", f"{{{t - 1}}}") for line in symbolic(mode)]
    if not numbers:
        return sym
    M = lambda a: matrix(a, decimals)  # noqa: E731
    x, hp = values["x"], values["h_prev"]
    fam = _family(mode)
    if fam == "RNN":
        w = weights["h"]
        act = r"\mathrm{relu}" if mode == "RNN_RELU" else r"\tanh"
        return [aligned(sym[0], rf"{act}\left({M(w['W'])}{M(x)} + {M(w['U'])}{M(hp)} + {M(w['b'])}\right)",
                        rf"{act}\left({M(values['pre_h'])}\right) = {M(values['h'])}")]
    lines = []
    gates = ("i", "f", "g", "o") if fam == "LSTM" else ("r", "z")
    for k, g in enumerate(gates):
        w = weights[g]
        lines.append(aligned(sym[k], rf"{ACT[g]}\left({M(w['W'])}{M(x)} + {M(w['U'])}{M(hp)} + {M(w['b'])}\right)",
                             rf"{ACT[g]}\left({M(values['pre_' + g])}\right) = {M(values[g])}"))
    if fam == "LSTM":
        lines.append(aligned(sym[4], rf"{M(values['f'])} \odot {M(values['c_prev'])} + {M(values['i'])} \odot "
                             rf"{M(values['g'])}", M(values['c'])))
        lines.append(aligned(sym[5], rf"{M(values['o'])} \odot \tanh\left({M(values['c'])}\right)", M(values['h'])))
    else:
        w = weights["n"]
        lines.append(aligned(sym[2], rf"\tanh\left({M(w['W'])}{M(x)} + {M(w['b'])} + {M(values['r'])} \odot "
                             rf"\left({M(w['U'])}{M(hp)} + {M(w['b_hn'])}\right)\right)",
                             rf"\tanh\left({M(values['pre_n'])}\right) = {M(values['n'])}"))
        lines.append(aligned(sym[3], rf"\left(1 - {M(values['z'])}\right) \odot {M(values['n'])} + {M(values['z'])} "
                             rf"\odot {M(hp)}", M(values['h'])))
    return lines


def gathered(lines: list[str], gap: str = "10pt") -> str:
    """Several equations as one display block, one under the other with ``gap`` between them."""
    return r"\begin{gathered}" + (rf" \\[{gap}] ").join(lines) + r"\end{gathered}"
