"""What a forecaster is and how it trains (:class:`ForecastRecipe`, the guide's preset), and the scenarios
that each teach one thing (a series, a window and a horizon)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class ForecastRecipe:
    cell: str = "GRU"
    hidden_sizes: tuple[int, ...] = (64, 32)
    dense: int = 32
    dropout: float = 0.2
    window: int = 30
    horizon: int = 1
    strategy: str = "direct"        # "direct" or "recursive" (for horizon > 1)
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 20
    patience: int = 5
    lr_patience: int = 3
    lr_factor: float = 0.5
    clip: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ForecastRecipe:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "hidden_sizes" in kw:
            kw["hidden_sizes"] = tuple(int(h) for h in kw["hidden_sizes"])
        return cls(**kw)


PRESETS = {"guide": ForecastRecipe()}

#: the page's series when it opens (the trend scenario's)
DEFAULT_SERIES = "sum of sines + trend + noise"
#: the guide's preset as the page's widget values: the scenario buttons set them, the lessons start from them
PRESET_WIDGETS = {"fc_source": "built-in", "fc_cell": "GRU", "fc_sizes": "64, 32", "fc_lr": 1e-3, "fc_patience": 5,
                  "fc_seeds": 3, "fc_strategy": "direct"}


@dataclass(frozen=True)
class Scenario:
    """A series and settings that teach one thing; the page's buttons and the benchmark both use these."""

    title: str
    series: str                       # a key of rnnlab.data.series.BUILTIN
    series_kwargs: dict
    window: int
    horizon: int
    why: str


_CHAOS_SERIES = {"n": 2000, "tau": 17, "every": 6}
_CHAOS_HORIZON = 5

SCENARIOS = {
    "trend": Scenario(
        "Trend: the simple methods win", "sum of sines + trend + noise", {"n": 2000}, 30, 1,
        "The trend lifts the test part above most of what the network saw in training, and a network fitted "
        "to the training part's range rarely produces values beyond it; a linear AR model simply carries the "
        "pattern on. Each next value is also close to a linear function of the last few: nothing for a "
        "nonlinear model to add."),
    "chaos": Scenario(
        "Chaos: the GRU wins", "Mackey-Glass chaos", _CHAOS_SERIES, 20, _CHAOS_HORIZON,
        f"Mackey–Glass with τ = {_CHAOS_SERIES['tau']} is deterministic but chaotic: each value is a smooth "
        f"*nonlinear* function of the recent past. Sampled every {_CHAOS_SERIES['every']} time units and forecast "
        f"{_CHAOS_HORIZON} samples ({_CHAOS_HORIZON * _CHAOS_SERIES['every']} time units) ahead, that function is "
        "far from linear, so AR and ARIMA (linear) miss what the GRU learns."),
}
