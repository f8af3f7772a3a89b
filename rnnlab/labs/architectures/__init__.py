"""The Architectures page's six experiments: one small model per shape an RNN can take, each trained by
the one trainer inside a job, each evaluated on a fixed test set against what *can* be done.

| section       | task (``rnnlab.data.seqtasks``)           | model                                         |
| ------------- | ----------------------------------------- | --------------------------------------------- |
| one_to_one    | noisy 5×7 digit image → digit             | feed-forward net, no recurrence               |
| one_to_many   | digit → its name in one of five languages | digit → h₀, GRU/LSTM writes letters, fed back |
| many_to_one   | bit string → parity                       | GRU/LSTM, answer read from the last state     |
| sync          | character → "its sentence ends with ?"    | GRU/LSTM tagger, one- vs two-directional      |
| seq2seq       | a written date → ISO date                 | encoder → decoder (``rnnlab.nn.seq2seq``)     |
| attention     | reversing letters (or dates)              | the same seq2seq without and with attention   |

Every job function here follows ``rnnlab.runtime.jobs``: it returns plain data and tensors (weights only),
its ``metrics`` for the class board, and what the page draws (accuracies by length, by position, …).
Models are rebuilt on the page with :func:`model_from_result`.

The package: :mod:`.models` (the six sections' networks), :mod:`.training` (the runs trained side by side and
the result every job returns), one module of job and measurements per section (:mod:`.one_to_one`,
:mod:`.one_to_many`, :mod:`.many_to_one`, :mod:`.sync`, :mod:`.seq2seq` with the attention job) and
:mod:`.probes` (one input through a trained model, for the page). Every name is importable from here; job
targets are ``rnnlab.labs.architectures:<section>_job``.
"""
from __future__ import annotations

from .many_to_one import many_to_one_job, parity_by_length
from .models import DigitNet, ParityNet, Tagger, WordWriter, build_model, model_from_result, n_params, total_params
from .one_to_many import one_to_many_job, valid_share, word_nll, word_samples
from .one_to_one import DIGIT_TEST, digit_test_set, glyph_distance, most_confused, one_to_one_job
from .probes import classify_digit, forcing_demo, read_bits, seq2seq_shapes, shape_text, tag_text, translate, write_word
from .seq2seq import (
    DATE_LENGTH_BINS,
    LENGTH_BINS,
    accuracy_by_length,
    attention_job,
    decode_pairs,
    forcing_errors,
    seq2seq_config,
    seq2seq_job,
)
from .sync import QA_LENGTH, QA_TEST, qa_limits, qa_test_set, sync_job, tagger_accuracy
from .training import EVAL_RESERVE, Run

__all__ = [
    "DATE_LENGTH_BINS", "DEFAULTS", "DIGIT_TEST", "EVAL_RESERVE", "JOBS", "LENGTH_BINS", "QA_LENGTH", "QA_TEST",
    "SECTIONS", "TARGETS", "DigitNet", "ParityNet", "Run", "Tagger", "WordWriter", "accuracy_by_length",
    "attention_job", "build_model", "classify_digit", "decode_pairs", "digit_test_set", "forcing_demo",
    "forcing_errors", "many_to_one_job", "model_from_result", "most_confused", "n_params", "one_to_many_job",
    "one_to_one_job", "parity_by_length", "qa_limits", "qa_test_set", "read_bits", "seq2seq_config", "seq2seq_job",
    "seq2seq_shapes", "shape_text", "sync_job", "tag_text", "tagger_accuracy", "translate", "valid_share",
    "word_nll", "word_samples", "write_word", "total_params", "TAB_LABELS", "INPUTS", "glyph_distance",
]

SECTIONS = ("one_to_one", "one_to_many", "many_to_one", "sync", "seq2seq", "attention")

#: The page's default settings for each section (also what bench/architectures.py times): each trains in
#: well under 20 s on one core of a 2-core CPU.
DEFAULTS = {
    "one_to_one": {"noise": 0.15, "hidden": 32, "steps": 300},
    "one_to_many": {"cell": "GRU", "hidden": 64, "steps": 300},
    "many_to_one": {"cell": "GRU", "hidden": 32, "train_len": 10, "steps": 400},
    "sync": {"cell": "GRU", "hidden": 32, "steps": 100},
    "seq2seq": {"task": "dates", "cell": "GRU", "hidden": 64, "steps": 400},
    "attention": {"task": "reverse", "cell": "GRU", "hidden": 64, "attention": "luong", "steps": 300},
}
JOBS = {s: f"{s}_job" for s in SECTIONS}

#: The page's tab of each section (the tabs' key ``ar_tab`` holds the label).
TAB_LABELS = {"one_to_one": "1 → 1", "one_to_many": "1 → many", "many_to_one": "many → 1",
              "sync": "many → many, synced", "seq2seq": "Encoder–decoder", "attention": "Attention"}
#: The page's inputs at their defaults (its lessons are checked at these).
INPUTS = {"digit": 3, "temperature": 1.0, "bits": "1101001", "qa_text": "did you see the sun? we saw it. who ran?",
          "date": "Nov 25th, 2026", "letters": "attention", "mistake_at": 4, "mistake": "9"}

#: What each section states it reaches (validation accuracy, the metric its live curve shows), and in words.
TARGETS = {
    "one_to_one": (0.95, "95% of validation images right (the best possible rule: about 97.7%)"),
    "one_to_many": (0.90, "90% of names drawn at temperature 1 real"),
    "many_to_one": (0.99, "99% of validation strings (lengths 1-10) right"),
    "sync": (0.99, "bidirectional: 99% of validation characters tagged right"),
    "seq2seq": (0.90, "90% of validation dates entirely right"),
    "attention": (0.70, "with attention: 70% of validation strings entirely reversed"),
}

