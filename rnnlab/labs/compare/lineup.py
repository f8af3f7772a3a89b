"""The four models of the comparison — a recurrent net, a dilated CNN, a windowed MLP and a causal
Transformer — as one :class:`Lineup` of settings, each model's width matched to the same budget of weights
(:func:`rnnlab.nn.seqmodels.matched_width`), and the checks that a line-up can be built."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ...nn.seqmodels import KINDS, matched_settings, size_of
from ...status import Status, worst_status

CELL_LABELS = {"RNN": "RNN (tanh)", "LSTM": "LSTM", "GRU": "GRU"}
SIZE_TOLERANCE = 0.10      # every model's weights within 10% of the budget


@dataclass
class Lineup:
    """Settings of the four models; their widths are chosen to meet ``params`` (weights of each)."""

    params: int = 20_000
    cell: str = "LSTM"            # the recurrent net: RNN (tanh), LSTM or GRU
    rnn_layers: int = 1
    embed: int = 16               # embedding size of the recurrent net and the CNN
    cnn_layers: int = 4           # dilations 1, 2, 4, 8: receptive field 16 with kernel 2
    kernel: int = 2
    window: int = 8               # the MLP's window
    mlp_layers: int = 2
    mlp_embed: int = 16
    context: int = 32             # the Transformer's context
    tf_layers: int = 2
    heads: int = 4

    def fixed(self) -> dict[str, dict]:
        """Each model's settings except its width."""
        return {"RNN": {"cell": self.cell.upper(), "num_layers": self.rnn_layers, "embed_size": self.embed},
                "CNN": {"n_layers": self.cnn_layers, "kernel_size": self.kernel, "embed_size": self.embed},
                "MLP": {"window": self.window, "n_layers": self.mlp_layers, "embed_size": self.mlp_embed},
                "Transformer": {"context": self.context, "n_layers": self.tf_layers, "n_heads": self.heads}}

    def settings(self, vocab_size: int, n_out: int | None = None) -> dict[str, dict]:
        return {k: matched_settings(k, self.params, vocab_size, n_out, **v) for k, v in self.fixed().items()}

    def sizes(self, vocab_size: int, n_out: int | None = None) -> dict[str, int]:
        return {k: size_of(k, vocab_size, n_out, **v) for k, v in self.settings(vocab_size, n_out).items()}

    def views(self) -> dict[str, int | None]:
        """Tokens each model can see from where it predicts (the current one included); None: no limit."""
        return {"RNN": None, "CNN": 1 + (self.kernel - 1) * (2 ** self.cnn_layers - 1), "MLP": self.window,
                "Transformer": self.context}

    def label(self, kind: str) -> str:
        return CELL_LABELS.get(self.cell.upper(), self.cell) if kind == "RNN" else kind

    def labels(self) -> dict[str, str]:
        return {k: self.label(k) for k in KINDS}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Lineup:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


RECALL_LINEUP = Lineup()
CHAR_LINEUP = Lineup(params=200_000, embed=64, cnn_layers=7, window=32, context=128)


def size_problem(sizes: dict[str, int], target: int, labels: dict[str, str] | None = None,
                 tolerance: float = SIZE_TOLERANCE) -> str | None:
    """A message if a model's weights are more than ``tolerance`` away from ``target`` (None if all fit)."""
    labels = labels or {}
    off = {k: n for k, n in sizes.items() if abs(n - target) > tolerance * target}
    if not off:
        return None
    names = ", ".join(f"the {labels.get(k, k)} ({n:,})" for k, n in off.items())
    return (f"Not every model can be built with about {target:,} weights: {names}. A long MLP window needs "
            "a bigger budget (its first layer alone has window × embedding × units weights); choose a larger "
            "size or a shorter window.")


def check_lineup(lu: Lineup) -> None:
    if lu.cell.upper() not in CELL_LABELS:
        raise ValueError("the recurrent cell must be RNN, LSTM or GRU")
    bounds = {"params": (1_000, 3_000_000), "rnn_layers": (1, 3), "embed": (4, 128), "cnn_layers": (1, 10),
              "kernel": (2, 5), "window": (1, 256), "mlp_layers": (1, 4), "mlp_embed": (2, 64), "context": (1, 1024),
              "tf_layers": (1, 6), "heads": (1, 8)}
    for name, (lo, hi) in bounds.items():
        value = getattr(lu, name)
        if not lo <= value <= hi:
            raise ValueError(f"{name.replace('_', ' ')} must be between {lo:,} and {hi:,} (got {value})")


def _job_status(results: dict[str, dict], expected: int = len(KINDS)) -> Status:
    """A comparison job's status: the worst of its models' (one of the ``expected`` never trained counts as a
    stop)."""
    missing = [] if len(results) == expected else [Status.STOPPED]
    return worst_status([r["status"] for r in results.values()] + missing)
