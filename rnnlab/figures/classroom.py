"""The class's answers to a checkpoint: how many chose each option (or guessed each power of ten), one bar
group per vote, so a re-vote after discussion stands beside the first; after the reveal, the computed answer's
bar is marked."""
from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go

from .style import COLORWAY, OKABE_ITO, base_layout, rgba

VOTE_NAMES = ("First vote", "After discussion")


def vote_name(round_: int) -> str:
    return VOTE_NAMES[round_ - 1] if 1 <= round_ <= len(VOTE_NAMES) else f"Vote {round_}"


def answers_figure(buckets: list[str], rounds: dict[int, list[str]], truth: str | None = None,
                   mine: str | None = None, height: int = 260) -> go.Figure:
    """Bars of the class's answers over ``buckets`` (the options, in order), one trace per vote in
    ``rounds`` (vote → each answer's bucket). ``truth``: the computed answer's bucket, shaded and named once
    revealed; ``mine``: this student's bucket, named on the axis."""
    fig = go.Figure()
    for i, (round_, given) in enumerate(sorted(rounds.items())):
        counts = Counter(given)
        total = max(len(given), 1)
        fig.add_bar(x=buckets, y=[counts.get(b, 0) for b in buckets], name=f"{vote_name(round_)} ({len(given)})",
                    marker_color=COLORWAY[i % len(COLORWAY)],
                    customdata=[round(100 * counts.get(b, 0) / total) for b in buckets],
                    hovertemplate="%{x}: %{y} answers (%{customdata}%)<extra>%{fullData.name}</extra>")
    ticks = [(f"<b>{b}</b><br>computed" if b == truth else b) + ("<br>(you)" if b == mine else "") for b in buckets]
    fig.update_xaxes(tickmode="array", tickvals=buckets, ticktext=ticks, type="category",
                     categoryorder="array", categoryarray=buckets)
    if truth is not None and truth in buckets:
        k = buckets.index(truth)
        fig.add_vrect(x0=k - 0.5, x1=k + 0.5, fillcolor=rgba(OKABE_ITO["orange"], 0.25), line_width=0, layer="below")
    most = max((Counter(g).most_common(1)[0][1] for g in rounds.values() if g), default=1)
    fig.update_yaxes(title="answers", rangemode="tozero", dtick=max(1, round(most / 5)))
    fig.update_layout(**base_layout(height=height), barmode="group", bargap=0.25,
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, xanchor="left"))
    fig.update_layout(margin=dict(l=60, r=20, t=40, b=70))
    return fig
