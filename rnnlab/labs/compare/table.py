"""The course's table of RNN vs CNN vs feed-forward networks with the measurements filled in, one row
per aspect, and where a measurement disagrees with the table, said."""
from __future__ import annotations

from ...nn.seqmodels import KINDS, size_of
from .lineup import RECALL_LINEUP, Lineup
from .recall import SPAN_ACCURACY

#: what the course's table says, per row and network (the Transformer is not in it: the usual claims)
COURSE = {
    "Input type": {"MLP": "a fixed-size vector", "CNN": "a grid of fixed size (an image)",
                   "RNN": "a sequence of any length", "Transformer": "a sequence up to its context length"},
    "Memory": {"MLP": "none", "CNN": "none beyond its receptive field", "RNN": "yes: the hidden state",
               "Transformer": "everything in its context, through attention"},
    "Parameter sharing": {"MLP": "none", "CNN": "across positions (one kernel)", "RNN": "across time steps",
                          "Transformer": "across positions"},
    "Training speed": {"MLP": "fast", "CNN": "fast (parallel)", "RNN": "slow (sequential steps)",
                       "Transformer": "fast (parallel)"},
    "Best use": {"MLP": "tabular data", "CNN": "images, local patterns", "RNN": "sequences: text, speech, time series",
                 "Transformer": "long texts"},
}


def _fmt_time(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def _fmt_bytes(b: float) -> str:
    return f"{b / 1e6:.1f} MB" if b >= 1e5 else f"{b / 1e3:.1f} kB"


def weights_per_extra_token(lu: Lineup, vocab_size: int, n_out: int | None = None) -> dict[str, int]:
    """Weights a model adds to see one more token back (the CNN: per token gained by one more layer),
    its width kept: what parameter sharing saves."""
    s = lu.settings(vocab_size, n_out)
    out = {"RNN": 0, "Transformer": 0}
    mlp = dict(s["MLP"])
    out["MLP"] = (size_of("MLP", vocab_size, n_out, **{**mlp, "window": mlp["window"] + 1})
                  - size_of("MLP", vocab_size, n_out, **mlp))
    cnn = dict(s["CNN"])
    gained = (lu.kernel - 1) * 2 ** lu.cnn_layers
    extra = (size_of("CNN", vocab_size, n_out, **{**cnn, "n_layers": cnn["n_layers"] + 1})
             - size_of("CNN", vocab_size, n_out, **cnn))
    out["CNN"] = round(extra / gained)
    return out


def course_table(recall: dict | None = None, charlm: dict | None = None, speed: dict | None = None,
                 lineup: Lineup | None = None) -> list[dict]:
    """The course's table with the numbers filled in: rows ``{"aspect", "course": {kind: claim},
    "measured": {kind: text}, "notes": [sentences where a measurement contradicts or qualifies the claim]}``.
    Each of ``recall``/``charlm``/``speed`` is a job's result (or None: that row says it was not measured)."""
    lu = lineup or (Lineup.from_dict(recall["lineup"]) if recall else RECALL_LINEUP)
    rows = [_input_type_row(lu), _memory_row(recall, lu.labels()), _sharing_row(lu, recall),
            _training_speed_row(speed)]
    # two rows the course's table does not have, once every next-token time is in
    if speed and all(len(v) == len(speed["history"]) for v in speed["token"].values()):
        rows += [_token_cost_row(speed), _memory_use_row(speed)]
    rows.append(_best_use_row(recall, charlm))
    return rows


def _row(aspect: str, measured: dict[str, str], notes: list[str], course: dict[str, str] | None = None) -> dict:
    return {"aspect": aspect, "course": COURSE[aspect] if course is None else course, "measured": measured,
            "notes": notes}


def _input_type_row(lu: Lineup) -> dict:
    """What each model reads, from its settings (the views are tested)."""
    views = lu.views()
    reads = {"RNN": "any number of tokens, one at a time", "CNN": f"the last {views['CNN']} tokens",
             "MLP": f"the last {views['MLP']} tokens, as one vector",
             "Transformer": f"up to {views['Transformer']} tokens at once"}
    return _row("Input type", reads, ["Here all four read the same sequences: the MLP and the CNN handle a sequence "
                                      "of any length by sliding a window along it, but see only that window at a "
                                      "time."])


def _memory_row(recall: dict | None, labels: dict[str, str]) -> dict:
    """How far back each model recalled the marked symbol (the recall job)."""
    if not (recall and recall.get("models")):
        return _row("Memory", {k: "not measured yet: train in the Memory tab" for k in KINDS}, [])
    measured = {k: _recall_reach(r, recall) for k, r in recall["models"].items()}
    return _row("Memory", measured, _memory_notes(recall["models"], recall["task"]["T"], labels))


def _recall_reach(r: dict, recall: dict) -> str:
    """One model's reliable span, and its accuracy beyond its view (where it has one) against chance."""
    T = recall["task"]["T"]
    s = r["span"]
    far = [a for kk, a in enumerate(r["acc"]) if r["view"] > 0 and kk >= r["view"]]
    text = (f"recalls up to k = {s}" if s >= 0 else "recalls nothing reliably") + f" (of {T - 1})"
    if far:
        text += f"; beyond its view {sum(far) / len(far):.0%} (chance {recall['chance']:.0%})"
    return text


def _memory_notes(models: dict[str, dict], T: int, labels: dict[str, str]) -> list[str]:
    """Whether the recurrent net's memory reached every distance, and an alarm if a bounded view was beaten."""
    notes = []
    rnn = models.get("RNN")
    if rnn is not None:
        if rnn["span"] >= T - 1:
            notes.append(f"The {rnn['label']} held the marked symbol over every distance up to {T - 1}: its "
                         "state is a memory with no fixed horizon, as the table says.")
        else:
            far = rnn["acc"][rnn["span"] + 1:]
            notes.append(f"The table says an RNN has memory; this {rnn['label']} recalled reliably (≥ "
                         f"{SPAN_ACCURACY:.0%}) only up to k = {rnn['span']} of {T - 1} after {rnn['steps']:,} "
                         f"steps ({sum(far) / len(far):.0%} on average beyond) — a memory in principle, "
                         "limited in practice by the gradient that must teach it (see how its dependence on the "
                         "marked token fades with k).")
    for k in ("MLP", "CNN", "Transformer"):
        r = models.get(k)
        if r is not None and r["view"] > 0 and r["span"] >= r["view"]:
            notes.append(f"The {labels[k]} recalled beyond its view — impossible; report this.")
    return notes


def _sharing_row(lu: Lineup, recall: dict | None) -> dict:
    """Each model's weights, and the weights it would add to see one token further back."""
    vocab, n_out = (2 * recall["task"]["symbols"], recall["task"]["symbols"]) if recall else (16, 8)
    sizes = lu.sizes(vocab, n_out)
    extra = weights_per_extra_token(lu, vocab, n_out)
    measured = {k: f"{sizes[k]:,} weights; +{extra[k]:,} to see one token further back" for k in KINDS}
    measured["RNN"] = f"{sizes['RNN']:,} weights; the same at any length"
    measured["Transformer"] = f"{sizes['Transformer']:,} weights; the same up to its context"
    return _row("Parameter sharing", measured,
                [f"The MLP has separate weights for every position of its window: {extra['MLP']:,} more per "
                 f"extra token. The CNN shares one kernel along the sequence: {extra['CNN']:,} per token "
                 "its next layer adds to its view (dilations double it)."])


def _training_speed_row(speed: dict | None) -> dict:
    """A training step's time at the longest sequence every model was timed at (the speed job)."""
    if not (speed and any(speed["step"].values())):
        return _row("Training speed", {k: "not measured yet: measure in the Speed tab" for k in KINDS}, [])
    n = min(len(v) for v in speed["step"].values())
    if not n:
        return _row("Training speed", {}, [])
    Ts = speed["Ts"]
    T0, T1 = Ts[0], Ts[n - 1]
    measured = {}
    for k in KINDS:
        v = speed["step"][k]
        measured[k] = f"{_fmt_time(v[n - 1])} per step at T = {T1} ({v[n - 1] / v[0]:.1f}× T = {T0})"
    return _row("Training speed", measured, [_slowest_note(speed, n)])


def _slowest_note(speed: dict, n: int) -> str:
    """Whether the recurrent net was the slowest to train at the ``n``-th sequence length, as the table says."""
    T1 = speed["Ts"][n - 1]
    slowest = max(KINDS, key=lambda k: speed["step"][k][n - 1])
    rnn = speed["step"]["RNN"][n - 1]
    if slowest == "RNN":
        others = min(speed["step"][k][n - 1] for k in KINDS if k != "RNN")
        return (f"At T = {T1} the {speed['labels']['RNN']} was the slowest to train, {rnn / others:.1f}× "
                "the fastest parallel model: the table's \"slow (sequential)\" holds here.")
    return (f"The table says RNNs train slowly; here, at T = {T1}, the {speed['labels'][slowest]} was "
            f"slower ({_fmt_time(speed['step'][slowest][n - 1])} against {_fmt_time(rnn)}). On "
            f"{speed.get('threads', 1)} CPU thread(s) the parallel models cannot run their "
            "positions side by side, and attention's work grows with T²: the sequential steps "
            "cost most where many cores (a GPU) would otherwise work at once.")


def _token_cost_row(speed: dict) -> dict:
    """The time of one new token after the longest history (not in the course's table)."""
    H0, H1 = speed["history"][0], speed["history"][-1]
    measured = {k: f"{_fmt_time(v[-1])} per token after {H1:,} tokens ({v[-1] / v[0]:.1f}× after {H0})"
                for k, v in speed["token"].items()}
    return _row("Cost of one new token", measured,
                ["Not in the course's table. A running state makes each new token cost the same "
                 "however long the text; a Transformer without a cache rereads its whole context "
                 "for every token."], course={k: "—" for k in KINDS})


def _memory_use_row(speed: dict) -> dict:
    """What a training step keeps for its backward pass, and what generating keeps between tokens."""
    Tm = speed["Ts"][-1]
    measured = {k: (f"{_fmt_bytes(speed['memory'][k][-1])} kept for backward at T = {Tm} (batch "
                    f"{speed['batch']}); {speed['state'][k][-1]:,} numbers kept between tokens")
                for k in KINDS if len(speed["memory"][k]) == len(speed["Ts"])}
    return _row("Memory use", measured,
                ["Not in the course's table. Training keeps every step's activations for the "
                 "backward pass: every model's grows with T. PyTorch's fused attention keeps no T × T "
                 "score matrix (its work grows with T², its memory with T); generating, a recurrent net "
                 "keeps only its state."], course={k: "—" for k in KINDS})


def _best_use_row(recall: dict | None, charlm: dict | None) -> dict:
    """Each model's score on the two tasks, and whether the recurrent net wrote the best text."""
    measured, notes = {}, []
    if recall and recall.get("models"):
        for k, r in recall["models"].items():
            measured[k] = f"recall: {r['mean_acc']:.0%} over every k"
    if charlm and charlm.get("models"):
        for k, r in charlm["models"].items():
            text = f"tiny-shakespeare: {r['val_loss']:.2f} nats/char after {r['train_s']:.0f} s"
            measured[k] = f"{measured[k]}; {text}" if k in measured else text
        notes.append(_best_text_note(charlm["models"]))
    for k in KINDS:
        measured.setdefault(k, "not measured yet: train in the Memory and Shakespeare tabs")
    return _row("Best use", measured, notes)


def _best_text_note(models: dict[str, dict]) -> str:
    best = min(models.values(), key=lambda r: r["val_loss"])
    if best["model"] == "RNN":
        return (f"With the same training time the {best['label']} wrote the best Shakespeare: the table's "
                "\"best for text\" holds here.")
    return (f"The table names RNNs for text; with the same training time here the {best['label']} "
            f"reached the lowest validation loss ({best['val_loss']:.2f} nats/char).")
