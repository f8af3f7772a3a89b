"""One look for every figure: large type and strong colours that survive a classroom projector."""
from __future__ import annotations

#: Okabe–Ito colours (Okabe & Ito 2008, "Color Universal Design"), which stay apart for red–green colour-blind
#: eyes (deuteranopia, protanopia: tests/test_palette.py simulates both); the old red/green pair of inputs and
#: outputs looked alike to about one man in twelve. Wine (Paul Tol's palette) is the one colour added: darker
#: than Okabe–Ito's reddish purple, which a protanope sees as the hidden blue. Vermillion is darkened (VERMILLION):
#: white labels on it reach 5:1 (3.9 before), and a deuteranope tells it from the orange highlight (ΔE 15 → 21).
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}
WINE = "#882255"
VERMILLION = "#B84F00"

COLORS = {
    "input": OKABE_ITO["bluish_green"],   # what comes in
    "hidden": OKABE_ITO["blue"],          # the memory h
    "output": VERMILLION,                 # what comes out
    "state0": "#cfd8dc",
    "highlight": OKABE_ITO["orange"],     # the step being looked at
    "encoder": WINE,
    "backward": OKABE_ITO["sky_blue"],
    "W": OKABE_ITO["bluish_green"],
    "U": OKABE_ITO["blue"],
    "V": VERMILLION,
    "c": OKABE_ITO["orange"],
}

#: One colour per cell type, the same on every page.
CELL_COLORS = {"RNN": VERMILLION, "RNN_TANH": VERMILLION, "RNN_RELU": WINE, "IRNN": WINE,
               "LSTM": OKABE_ITO["blue"], "GRU": OKABE_ITO["bluish_green"]}

#: Colours of traces given none (Plotly's default cycle pairs red with green): Okabe–Ito's, yellow left out
#: (too pale on white).
COLORWAY = [OKABE_ITO["blue"], VERMILLION, OKABE_ITO["bluish_green"], OKABE_ITO["orange"], WINE,
            OKABE_ITO["sky_blue"], OKABE_ITO["reddish_purple"], OKABE_ITO["black"]]

#: The two sides of a signed mark or bar (a word's push on the log-odds), as in DIVERGING: vermillion up, blue
#: down; blue against vermillion stays apart for every colour-blind eye.
SIGN = {"positive": VERMILLION, "negative": OKABE_ITO["blue"]}

#: Light fills under dark text (table cells of words, unknown words, notes); their hues are Okabe–Ito's blue and
#: orange, lightened.
TINTS = {"word": "#bbdefb", "unknown": "#ffcc80", "note": "#fff8e1"}

#: Diverging scale for signed values (h, g, pre-activations), sequential for gates in [0, 1].
DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"


def text_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (a #rrggbb box colour): the WCAG contrast ratio."""
    def luminance(hex_colour: str) -> float:
        h = hex_colour.lstrip("#")
        c = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    lum = luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def rgba(colour: str, alpha: float) -> str:
    """A palette colour (#rrggbb) made see-through: shaded regions, arcs as strong as a weight."""
    h = colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha:.3f})"


FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=16, color="#111")


def base_layout(height: int = 420, title: str | None = None) -> dict:
    layout = dict(height=height, font=FONT, template="plotly_white", colorway=COLORWAY,
                  margin=dict(l=60, r=20, t=60 if title else 20, b=50), hoverlabel=dict(font_size=15))
    if title:
        layout["title"] = dict(text=title, x=0.0, xanchor="left")
    return layout
