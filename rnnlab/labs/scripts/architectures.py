"""The Architectures page's script: the open tab's shape trained on its task (the tab's live training), with
the numbers the page shows once it has trained."""
from __future__ import annotations

from ..architectures import DEFAULTS as SECTION_DEFAULTS
from ..architectures import TAB_LABELS
from .template import Const, Settings, render

TITLE = "Architectures"
SECTIONS = {label: section for section, label in TAB_LABELS.items()}
DEFAULTS = {"ar_tab": TAB_LABELS["one_to_one"], "ar_1_noise": SECTION_DEFAULTS["one_to_one"]["noise"],
            "ar_3_len": SECTION_DEFAULTS["many_to_one"]["train_len"], "ar_6_task": "reverse", "ar_6_kind": "luong",
            **{f"ar_{s}_{k}": v for s, d in SECTION_DEFAULTS.items() for k, v in d.items()
               if k in ("cell", "hidden", "steps")}}
#: what each section trains on (the page's words), and the label of its live curve
TASKS = {"one_to_one": ("a feed-forward network reads a 5×7 image of a digit, some pixels flipped, and names the "
                        "digit", "validation accuracy"),
         "one_to_many": ("from a digit alone, a recurrent network writes the digit's name letter by letter, in one "
                         "of five languages", "real names written (T = 1)"),
         "many_to_one": ("a recurrent network reads a bit string and answers at the end: is the number of 1s odd?",
                         "validation accuracy"),
         "sync": ("a recurrent network tags every character: does its sentence end with ? or with . (one- and "
                  "two-directional side by side)", "validation accuracy"),
         "seq2seq": ("an encoder-decoder rewrites a date written in one of several ways as YYYY-MM-DD",
                     "validation: whole date right"),
         "attention": ("the same encoder-decoder with and without attention, side by side",
                       "validation: whole output right")}
#: the tab's controls, as the page labels them
LABELS = {"noise": "Pixel noise", "cell": "Cell", "hidden": "Hidden units", "steps": "Training steps",
          "train_len": "Longest string in training", "task": "Task", "attention": "Attention"}
#: the numbers the page shows under a finished training, with its labels
NUMBERS = {
    "one_to_one": '''
print(f"Test accuracy: {m['test_acc']:.1%}")
print(f"Best possible: {m['best_possible_acc']:.1%}")
print("Chance: 10%")
''',
    "one_to_many": '''
print(f"Real names at temperature 1: {m['valid_words']:.1%}")
print(f"Loss per name (nats): {m['nll_per_word']:.2f}")
''',
    "many_to_one": '''
L = result["train_len"]
print(f"Test, lengths 1–{L}: {m['test_acc_trained_lengths']:.1%}")
print(f"Test, lengths {L + 1}–{len(result['acc_by_length'])}: {m['test_acc_longer']:.1%}")
print("Chance: 50%")
''',
    "sync": '''
print(f"Unidirectional, test: {m['test_acc_unidirectional']:.1%}")
print(f"Its limit: {m['causal_ceiling']:.1%}")
print(f"Bidirectional, test: {m['test_acc_bidirectional']:.1%}")
''',
    "seq2seq": '''
print(f"Test dates right: {m['test_exact']:.1%}")
print(f"Wrong symbols, teacher forcing: {m['teacher_symbol_error']:.1%}")
print(f"Wrong symbols, free running: {m['free_symbol_error']:.1%}")
''',
    "attention": '''
for name, value in m.items():
    print(f"{name}: {value:.1%}" if isinstance(value, float) and 0 <= value <= 1 else f"{name}: {value}")
''',
}

BODY = '''
events = []                     # what the page's live panel draws: each validation
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: events.append(message.event), None, max_seconds=MAX_SECONDS)
result = {job}(context, {arguments}, seed=SEED)
print(result["message"])

m = result["metrics"]           # the numbers under the page's finished training
{numbers}

curves = {{}}                     # validation accuracy against the step, one curve per model
for e in events:
    if e.kind == "eval":
        steps, accuracy = curves.setdefault(e.data.get("model", "model"), ([], []))
        steps.append(e.step)
        accuracy.append(e.data["acc"])
if len(curves) == 1:
    curves = {{YLABEL: next(iter(curves.values()))}}
fig = training_figure(curves, STEPS, YLABEL)
show(fig, html)
'''


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def section_of(s: Settings) -> str:
    return SECTIONS.get(s["ar_tab"], "one_to_one")


def tag(s: Settings) -> str:
    return section_of(s)


def job_settings(section: str, s: Settings) -> dict:
    """The keyword arguments the page's Train button sends the section's job (the seed aside)."""
    base = {"hidden": s.num(f"ar_{section}_hidden", int), "steps": s.num(f"ar_{section}_steps", int)}
    if section != "one_to_one":
        base = {"cell": s[f"ar_{section}_cell"], **base}
    if section == "one_to_one":
        return {"noise": s.num("ar_1_noise"), **base}
    if section == "many_to_one":
        return {**base, "train_len": s.num("ar_3_len", int)}
    if section == "seq2seq":
        return {"task": "dates", **base}
    if section == "attention":
        return {"task": s["ar_6_task"], **base, "attention": s["ar_6_kind"]}
    return base


def script(s: Settings, seed: int, file_name: str) -> str:
    section = section_of(s)
    task, ylabel = TASKS[section]
    job = f"{section}_job"
    kwargs = job_settings(section, s)
    consts = [Const(k.upper(), v, LABELS[k]) for k, v in kwargs.items()]
    consts += [Const("YLABEL", ylabel, "what the live curve measures"),
              Const("SEED", seed, "the sidebar's seed"),
              Const("MAX_SECONDS", 600.0, "stop the training after this long")]
    body = BODY.format(job=job, numbers=NUMBERS[section].strip("\n"),
                       arguments=", ".join(f"{k}={k.upper()}" for k in kwargs))
    return render(
        title=f"Architectures, {TAB_LABELS[section]}: {task}.",
        about="The tab's live training (its job function, run here in this process) with the tab's settings: a "
              "small model trained on a task whose best possible score is known, in seconds to a minute on a "
              "laptop's CPU. The script prints the numbers the page shows once it has trained and draws the "
              "validation curve.",
        page_title=TITLE, file_name=file_name,
        imports=["import torch", "from rnnlab.figures.architectures import training_figure",
                 f"from rnnlab.labs.architectures import {job}", "from rnnlab.runtime.device import seed_everything",
                 "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=body)
