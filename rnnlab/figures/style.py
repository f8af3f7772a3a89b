"""One look for every figure: large type and strong colours that survive a classroom projector."""
from __future__ import annotations

COLORS = {
    "input": "#2e7d32",      # green: what comes in
    "hidden": "#1565c0",     # blue: the memory h
    "output": "#c62828",     # red: what comes out
    "state0": "#cfd8dc",
    "highlight": "#ef6c00",  # the step being looked at
    "encoder": "#6a1b9a",
    "backward": "#00838f",
    "W": "#2e7d32",
    "U": "#1565c0",
    "V": "#c62828",
    "c": "#ef6c00",
}

#: One colour per cell type, the same on every page.
CELL_COLORS = {"RNN": "#c62828", "RNN_TANH": "#c62828", "RNN_RELU": "#8e24aa", "IRNN": "#8e24aa",
               "LSTM": "#1565c0", "GRU": "#2e7d32"}

#: Diverging scale for signed values (h, g, pre-activations), sequential for gates in [0, 1].
DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"

FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=16, color="#111")


def base_layout(height: int = 420, title: str | None = None) -> dict:
    layout = dict(height=height, font=FONT, template="plotly_white",
                  margin=dict(l=60, r=20, t=60 if title else 20, b=50), hoverlabel=dict(font_size=15))
    if title:
        layout["title"] = dict(text=title, x=0.0, xanchor="left")
    return layout
