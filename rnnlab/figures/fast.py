"""Figures built from plain dicts, for views that redraw on every click.

Plotly validates every property of a ``go.Figure`` as it is built, and copies the whole "plotly_white"
template into each figure: 30-40 ms per small figure, most of a step's time on the Step-through page
(four figures per click). :func:`figure` skips both: traces and layout are plain dicts, the template is
the few layout settings of "plotly_white" that our figures use. Validation is not lost, it moves to the
tests: :func:`validated` rebuilds a figure with Plotly's checks on (an unknown or misspelt property raises).
"""
from __future__ import annotations

import plotly.graph_objects as go

_GRID = "#EBF0F8"
_AXIS = dict(gridcolor=_GRID, linecolor=_GRID, zerolinecolor=_GRID, zerolinewidth=2, ticks="", automargin=True,
             title=dict(standoff=15))

#: The layout part of Plotly's "plotly_white" template (what our figures use of it), small enough to send
#: with every figure.
LIGHT_TEMPLATE = {"layout": {
    "autotypenumbers": "strict", "font": {"color": "#2a3f5f"}, "hovermode": "closest", "hoverlabel": {"align": "left"},
    "paper_bgcolor": "white", "plot_bgcolor": "white", "title": {"x": 0.05},
    "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
                 "#FF97FF", "#FECB52"],
    "xaxis": _AXIS, "yaxis": _AXIS, "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
    "shapedefaults": {"line": {"color": "#2a3f5f"}},
    "annotationdefaults": {"arrowcolor": "#2a3f5f", "arrowhead": 0, "arrowwidth": 1},
}}


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A ``go.Figure`` from plain dicts (``{"type": "bar", ...}``), unvalidated, with the light template.

    ``layout`` may come from :func:`rnnlab.figures.style.base_layout`: its template name is replaced."""
    layout = dict(layout)
    if layout.get("template") in (None, "plotly_white"):
        layout["template"] = LIGHT_TEMPLATE
    return go.Figure({"data": list(data), "layout": layout}, _validate=False)


def validated(fig: go.Figure) -> go.Figure:
    """The same figure rebuilt with Plotly's validation (raises ValueError on any invalid property)."""
    return go.Figure(fig.to_dict())
