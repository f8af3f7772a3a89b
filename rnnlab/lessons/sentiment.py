"""Lessons of the Sentiment lab: log-odds show what a saturated probability hides; a learning rate that Adam's
scale-free steps make diverge, clipping or not."""
from __future__ import annotations

import functools
from types import SimpleNamespace

from ..labs import explain
from ..labs.calibration import pct, points
from ..labs.sentiment import PRESETS, compare, importance, recipe_from, recipe_to_dict, sentiment_job
from ..labs.sentiment.examples import DEFAULT_EXAMPLE, EXAMPLES
from ..labs.sentiment.reading import load_shipped
from ..runtime.jobs.context import JobContext
from ..status import Status
from . import Finding, Lesson, Question

PAGE = "app_pages/sentiment.py"
FAST = PRESETS["fast"]
DEFAULTS = {"sent_example": DEFAULT_EXAMPLE, "sent_tab": "Word by word", "sent_source": "compact",
            "sent_preset": "fast", "sent_lr_fast": FAST.lr, "sent_clipon_fast": FAST.clip is not None,
            "sent_subset": 100}
NEGATION = EXAMPLES["Negation"]
EDIT = "“is not boring” → “is boring”"
#: The What if… option of that edit, as the page labels it (template: edit).
EDIT_OPTION = next(f"{explain.TEMPLATES[e.kind]}: {e.label}" for e in explain.suggest(NEGATION, per_kind=3)
                   if e.label == EDIT)
STEPS = 27          # training steps each run of the training check takes (3 validations of the fast recipe)


def _key_words() -> Finding:
    tm = load_shipped()
    imp = importance(tm, NEGATION)
    k = imp.strongest
    down = [f"“{imp.tokens[i]}” {imp.logodds[i]:+.2f} ({points(imp.dprob[i])})" for i in range(len(imp.tokens))
            if imp.logodds[i] <= -1]
    return Finding(imp.prob < 0.01 and imp.logodds[k] <= -1 and abs(imp.dprob[k]) < 0.05 and len(down) >= 2,
                   f"P(positive) {pct(imp.prob)}; words whose removal moves the log-odds by 1 or more towards "
                   f"negative: {', '.join(down)}")


def _what_if() -> Finding:
    tm = load_shipped()
    edited = next(e.text for e in explain.suggest(NEGATION, per_kind=3) if e.label == EDIT)
    d = compare(tm, NEGATION, edited)
    return Finding(d["d_logodds"] <= -1 and abs(d["d_prob"]) < 0.01,
                   f"log-odds {d['logit_original']:+.2f} → {d['logit_edited']:+.2f} ({d['d_logodds']:+.2f}); "
                   f"P(positive) {pct(d['p_original'])} → {pct(d['p_edited'])} ({points(d['d_prob'])})",
                   value=abs(d["d_prob"]) * 100)      # in percentage points, as the page's metric shows it


class _Ctx(JobContext):
    """The page's job context, in this process, with Stop pressed after ``steps`` training steps."""

    def __init__(self, steps: int):
        self.steps = steps
        super().__init__(0, self._seen, SimpleNamespace(value=0), 120.0)

    def _seen(self, msg) -> None:
        if msg.event.kind == "step" and msg.event.step >= self.steps:
            self._flag.value = 1


@functools.lru_cache(maxsize=2)
def _train(lr: float) -> dict:
    """The page's live training (the fast recipe on the compact IMDB subset, seed 0) at ``lr``, stopped after
    STEPS steps: the first validations of a run, a few seconds of one core."""
    recipe = recipe_to_dict(recipe_from("fast", lr=lr))
    return sentiment_job(_Ctx(STEPS), recipe, source="compact", seed=0, eval_sample=200)


def _diverges() -> Finding:
    good, bad = _train(FAST.lr), _train(1.0)
    accs = [e["acc"] for e in good["evals"]]
    loss = bad["history"]["loss"]
    return Finding(accs[-1] >= accs[0] + 0.05 and bad["status"] == Status.DIVERGED and max(loss) >= 4 * loss[0]
                   and FAST.clip is not None,
                   f"lr {FAST.lr:g}: validation accuracy {' → '.join(f'{a:.0%}' for a in accs)} over "
                   f"{good['evals'][-1]['step'] * FAST.batch_size:,} reviews; lr 1 (clipping on, norm {FAST.clip:g}): "
                   f"the loss went from {loss[0]:.2f} to {max(loss):.1f}, status {bad['status']}")


LESSONS = (
    Lesson("sentiment.key_words", "Pick the <b>Negation</b> example, then open <i>Key words</i>: P(positive) is "
           "pinned near 0%, yet the bars still show which words pushed it down, measured in log-odds.",
           {"sent_example": "Negation", "sent_text": NEGATION, "sent_tab": "Key words"},
           "P(positive) below 1%, and words whose bars reach a log-odds change of 1 or more while the probability "
           "moves by a few points at most",
           "Near 0% the probability barely moves whatever a word does; log-odds, log(p / (1 − p)), do not "
           "saturate. (The model also gets this review wrong: “not bad”, “not boring”, “not without charm” is "
           "praise.)", _key_words),
    Lesson("sentiment.what_if", f"Still on <b>Negation</b>, open <i>What if…</i> and choose {EDIT}: how far does "
           "one word move the log-odds, and how far the probability?",
           {"sent_example": "Negation", "sent_text": NEGATION, "sent_tab": "What if…", "sent_whatif": EDIT_OPTION},
           "the log-odds fall by more than 1, the probability by less than 1 point",
           "The same change of log-odds moves a probability near 0% or 100% very little and one near 50% a lot: "
           "sigmoid is flat at its ends.", _what_if,
           question=Question("On Negation, by how many percentage points does P(positive) move when "
                             f"{EDIT.replace(' → ', ' becomes ')}?",
                             low=1e-3, high=1e2, per_decade=2)),
    Lesson("sentiment.diverge", "Train the fast recipe below: the validation accuracy climbs as reviews are read. "
           "Then set the <b>learning rate</b> to 1 and train again: the loss leaps far above its start and the "
           "run is stopped as diverged, although gradient clipping is on.",
           {"sent_lr_fast": 1.0},
           "validation accuracy up by 5 points or more within the first validations at the recipe's rate; at "
           "lr = 1 the loss 4× its start or more, and the run ends diverged",
           "The trainer uses Adam, which divides each step by the gradient's own running size: its steps are "
           "about lr per weight whatever the gradient's norm, so clipping the norm cannot shrink them. Only a "
           "lower learning rate helps.", _diverges, slow=True),
)
