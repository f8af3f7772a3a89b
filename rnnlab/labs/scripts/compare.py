"""The comparison page's script: the open tab's measurement (memory over distance, Shakespeare in equal time,
speed and memory, or the course's table filled in from the memory test), each a job the page runs."""
from __future__ import annotations

from ..compare import CHAR_LINEUP, RECALL_LINEUP, RECALL_STEPS, RECALL_T, SPEED_LINEUP
from .template import Const, Settings, render

TITLE = "RNN vs CNN vs MLP vs Transformer"
DEFAULTS = {"cmp_tab": "Memory", "cmp_cell": "LSTM", "cmp_size": RECALL_LINEUP.params, "cmp_T": RECALL_T,
            "cmp_steps": RECALL_STEPS, "cmp_window": RECALL_LINEUP.window, "cmp_layers": RECALL_LINEUP.cnn_layers,
            "cmp_context": RECALL_LINEUP.context, "cmp_lm_cell": "LSTM", "cmp_lm_size": CHAR_LINEUP.params,
            "cmp_lm_secs": 30, "cmp_lm_window": CHAR_LINEUP.window, "cmp_lm_layers": CHAR_LINEUP.cnn_layers,
            "cmp_lm_context": CHAR_LINEUP.context, "cmp_sp_cell": "LSTM", "cmp_sp_size": SPEED_LINEUP.params}
JOB_SECONDS = 1800.0

START = '''
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: None, None, max_seconds=MAX_SECONDS)    # the job's events go nowhere
'''

RECALL = '''
lineup = Lineup(params=SIZE, cell=CELL, window=WINDOW, cnn_layers=CNN_LAYERS, context=CONTEXT)
task = RecallTask(T)            # random symbols, one marked; after the last token, say which
result = recall_job(context, lineup.to_dict(), T, task.symbols, STEPS, seed=SEED)

models = result["models"]
print(f"Test accuracy at every k, {result['per_k']} fixed sequences each (chance {result['chance']:.1%})")
for m in models.values():       # holds: the longest distance up to which test accuracy stays >= 90%
    holds = f"k ≤ {m['span']}" if m["span"] >= 0 else "none"
    print(f"{m['label']}: holds: {holds} ({m['mean_acc']:.0%} over all k; {m['params']:,} weights, "
          f"{m['steps']:,} steps in {m['seconds']:.0f} s)")
'''

MEMORY = RECALL + '''
fig = accuracy_figure(models, result["chance"], T)
show(fig, html)
'''

TABLE = RECALL + '''
# The course's table, its claims beside what was measured here (the language model and the speed: their own tabs)
for row in course_table(result, None, None, lineup):
    print(f"\\n{row['aspect']}")
    for kind, claim in row["course"].items():
        print(f"  {lineup.label(kind)}: the course says {claim}; measured: {row['measured'].get(kind, '-')}")
    for note in row["notes"]:
        print(f"  {note}")

fig = accuracy_figure(models, result["chance"], T)
show(fig, html)
'''

SHAKESPEARE = '''
lineup = Lineup(params=SIZE, cell=CELL, embed=EMBED, cnn_layers=CNN_LAYERS, window=WINDOW, context=CONTEXT)
result = charlm_job(context, lineup.to_dict(), float(SECONDS), seed=SEED)   # one after another, SECONDS each

print(f"Validation loss on {result['val_chars']:,} held-out characters (nats per character):")
for m in result["models"].values():
    print(f"{m['label']}: validation loss {m['val_loss']:.3f}, {m['params']:,} weights, {m['steps']:,} steps, "
          f"{m['chars']:,} characters read in {m['train_s']:.1f} s ({m['cpu_s']:.1f} CPU s)")
for m in result["models"].values():
    print(f"\\nA sample from the {m['label']} (temperature 0.8):\\n{m['sample']}")

fig = lm_figure(result["models"], result["chance"])
show(fig, html)
'''

SPEED = '''
lineup = Lineup(**{**SPEED_LINEUP.to_dict(), "params": SIZE, "cell": CELL})
result = speed_job(context, lineup.to_dict(), seed=SEED)    # each time: the fastest of a few runs

print(f"Seconds per training step on batches of {result['batch']} sequences ({result['threads']} torch thread(s)):")
for kind, label in result["labels"].items():
    times = ", ".join(f"T={T}: {s * 1e3:.2f} ms" for T, s in zip(result["Ts"], result["step"][kind]))
    print(f"  {label}: {times}")
print("Seconds to predict one new token after H tokens:")
for kind, label in result["labels"].items():
    times = ", ".join(f"H={H}: {s * 1e3:.2f} ms" for H, s in zip(result["history"], result["token"][kind]))
    print(f"  {label}: {times}")

fig = step_time_figure(result)
show(fig, html)
'''

JOB_IMPORTS = ["import torch", "from rnnlab.runtime.device import seed_everything",
               "from rnnlab.runtime.jobs import JobContext"]


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    tab = s["cmp_tab"]
    if tab == "Shakespeare":
        return f"shakespeare_{s.num('cmp_lm_secs', int)}s"
    if tab == "Speed":
        return "speed"
    return f"{'table' if tab == 'Table' else 'memory'}_T{s.num('cmp_T', int)}"


def _recall_consts(s: Settings) -> list[Const]:
    return [Const("CELL", s["cmp_cell"], "Recurrent cell"),
            Const("SIZE", s.num("cmp_size", int), "Weights per model"),
            Const("T", s.num("cmp_T", int), "Sequence length T"),
            Const("STEPS", s.num("cmp_steps", int), "Training steps (batches of 64 sequences)"),
            Const("WINDOW", s.num("cmp_window", int), "MLP window (tokens)"),
            Const("CNN_LAYERS", s.num("cmp_layers", int), "CNN layers (kernel 2, dilations 1, 2, 4 ...)"),
            Const("CONTEXT", s.num("cmp_context", int), "Transformer context (tokens)")]


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["cmp_tab"]
    tail = [Const("SEED", seed, "the sidebar's seed"), Const("MAX_SECONDS", JOB_SECONDS, "stop after this long")]
    if tab == "Shakespeare":
        consts = [Const("CELL", s["cmp_lm_cell"], "Recurrent cell"),
                  Const("SIZE", s.num("cmp_lm_size", int), "Weights per model"),
                  Const("SECONDS", s.num("cmp_lm_secs", int), "Training seconds per model"),
                  Const("WINDOW", s.num("cmp_lm_window", int), "MLP window"),
                  Const("CNN_LAYERS", s.num("cmp_lm_layers", int), "CNN layers"),
                  Const("CONTEXT", s.num("cmp_lm_context", int), "Transformer context"),
                  Const("EMBED", CHAR_LINEUP.embed, "embedding size of the recurrent net and the CNN")]
        return render(
            title="RNN vs CNN vs MLP vs Transformer, Shakespeare: four models of the same size, equal training time.",
            about="The page's live training (its job function, run here): each model trains on tiny-shakespeare for "
                  "SECONDS of its own training time, one after the other, validated on the same held-out characters. "
                  "It takes about four times SECONDS plus the validations.",
            page_title=TITLE, file_name=file_name,
            imports=[*JOB_IMPORTS, "from rnnlab.figures.compare import lm_figure",
                     "from rnnlab.labs.compare import Lineup, charlm_job"],
            consts=consts + tail, body=START + SHAKESPEARE)
    if tab == "Speed":
        consts = [Const("CELL", s["cmp_sp_cell"], "Recurrent cell"),
                  Const("SIZE", s.num("cmp_sp_size", int), "Weights per model")]
        return render(
            title="RNN vs CNN vs MLP vs Transformer, Speed: time and memory of the four models on this machine.",
            about="The page's measurement job, run here: one training step of each model on sequences of growing "
                  "length, and the time to predict one new token after a growing history. Times depend on the "
                  "machine and on what else runs on it.",
            page_title=TITLE, file_name=file_name,
            imports=[*JOB_IMPORTS, "from rnnlab.figures.compare import step_time_figure",
                     "from rnnlab.labs.compare import SPEED_LINEUP, Lineup, speed_job"],
            consts=consts + tail, body=START + SPEED)
    table = tab == "Table"
    return render(
        title="RNN vs CNN vs MLP vs Transformer, " + ("Table: the course's claims against measurements." if table
                                                      else "Memory: how far back each model can remember."),
        about="A sequence of random symbols, one of them marked; after the last token, say which. Four models of "
              "about the same number of weights train on the same batches (the page's live training, its job "
              "function run here), then are tested at every distance k between the marked token and the end."
              + (" Then the course's table with the memory test filled in (the language model and the speed are "
                 "the other tabs' scripts)." if table else ""),
        page_title=TITLE, file_name=file_name,
        imports=[*JOB_IMPORTS, "from rnnlab.data.recall import RecallTask",
                 "from rnnlab.figures.compare import accuracy_figure",
                 "from rnnlab.labs.compare import Lineup, recall_job"
                 + (", course_table" if table else "")],
        consts=_recall_consts(s) + tail, body=START + (TABLE if table else MEMORY))
