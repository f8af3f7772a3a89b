"""The shapes a recurrent network can take: which steps read an input and which emit an output.

Each entry is data (no drawing): ``rnnlab.figures.diagrams.architecture_diagram`` draws it. ``tab`` and
``live_task`` say where the Architectures page trains a model of that shape (``rnnlab.labs.architectures``)
and on what.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    key: str
    name: str
    shape: str
    example: str
    explanation: str
    steps: int
    inputs: tuple[int, ...]        # steps that read an input x_t
    outputs: tuple[int, ...]       # steps that emit an output y_t
    encoder_steps: int = 0         # encoder-decoder: the first steps only read (encoder)
    bidirectional: bool = False
    recurrent: bool = True
    tab: str = ""                  # the Architectures page's section that trains this shape live
    live_task: str = ""            # what that section trains it on


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("one_to_one", "One-to-one", "1 → 1", "image classification (no recurrence needed)",
                 "One input, one output, no sequence: a plain feed-forward network, shown for contrast.",
                 1, (0,), (0,), recurrent=False, tab="one_to_one",
                 live_task="a noisy 5×7 image of a digit → the digit"),
    Architecture("one_to_many", "One-to-many", "1 → T", "image captioning, music generation from a seed",
                 "One input starts the sequence; the network keeps producing outputs from its memory.",
                 4, (0,), (0, 1, 2, 3), tab="one_to_many",
                 live_task="a digit → its name, letter by letter, in one of five languages"),
    Architecture("many_to_one", "Many-to-one", "T → 1", "sentiment of a review, classifying a time series",
                 "Read the whole sequence, answer once at the end: from the final hidden state, or from all the "
                 "states pooled.",
                 4, (0, 1, 2, 3), (3,), tab="many_to_one", live_task="a bit string → its parity"),
    Architecture("many_to_many_sync", "Many-to-many (synced)", "T → T", "part-of-speech tagging, frame labelling",
                 "One output for every input, produced as each input arrives.",
                 4, (0, 1, 2, 3), (0, 1, 2, 3), tab="sync",
                 live_task="each character → does its sentence end with ? or ."),
    Architecture("encoder_decoder", "Many-to-many (encoder-decoder)", "T → T'", "machine translation, summarising",
                 "An encoder reads the whole input into its state; a decoder then writes an output of another length.",
                 5, (0, 1, 2), (3, 4), encoder_steps=3, tab="seq2seq",
                 live_task="a date written 10 ways → YYYY-MM-DD; with attention: reversing letters"),
    Architecture("bidirectional", "Bidirectional", "T → T (both directions)", "named-entity recognition, filling a gap",
                 "Two RNNs read the sequence forwards and backwards; each output sees the past and the future.",
                 4, (0, 1, 2, 3), (0, 1, 2, 3), bidirectional=True, tab="sync",
                 live_task="the same tagging, one direction against two"),
)
