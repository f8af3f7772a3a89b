"""The Sentiment lab's script: the pretrained model's prediction for the review, then the open tab (the reading
word by word, the key words, a "what if" edit, or the calibration)."""
from __future__ import annotations

from ..sentiment import MAX_REVIEW_CHARS
from ..sentiment.examples import DEFAULT_EXAMPLE, EXAMPLES
from .template import Const, Settings, render

TITLE = "Sentiment lab"
DEFAULTS = {"sent_tab": "Word by word", "sent_example": DEFAULT_EXAMPLE, "sent_model": "Pretrained on IMDB"}
PRETRAINED = "Pretrained on IMDB"       # how the page's Model box names the shipped model

PREDICTION = '''
model = load_shipped()          # the pretrained IMDB model shipped in assets/sentiment, on the CPU
r = read(model, REVIEW)         # one forward pass, calibrated by the model's temperature
print(f"Prediction: {'positive' if r.prob >= 0.5 else 'negative'}")
print(f"P(positive): {pct(r.prob)}")
print(f"Log-odds: {r.logit:+.2f}")                        # log(p / (1 - p)): 0 is undecided
print(f"({r.known} of the {r.words} words are in the model's vocabulary; {r.dropped} early tokens skipped)")
'''

WORD_BY_WORD = '''
# P(positive) after each token: what the model would say if the review ended there
tr = trajectory(model, REVIEW)
jumps = np.diff(np.concatenate([[0.5], tr.probs]))
print("The largest swings (after the token, P(positive)):")
for k in sorted(np.argsort(-np.abs(jumps))[:5]):
    n = int(tr.positions[k])            # P(positive) after reading the first n tokens
    print(f"  {n}. {tr.tokens[n - 1]!r}: {pct(tr.probs[k])} ({jumps[k]:+.1%})")

fig = probability_trajectory(tr.positions, tr.probs, tr.tokens)
show(fig, html)
'''

KEY_WORDS = '''
# Occlusion: each word removed in turn, the review read again; the change in log-odds it makes
imp = importance(model, REVIEW)
k = imp.strongest
print(f"Strongest: “{imp.tokens[k]}”, {imp.logodds[k]:+.2f} log-odds ({points(imp.dprob[k])} of probability)")
if imp.span > 1:
    print(f"(a long review: words were removed {imp.span} at a time)")
for i in np.argsort(-np.abs(imp.logodds))[:10]:
    print(f"  {imp.tokens[i]!r}: {imp.logodds[i]:+.2f} log-odds")

# The gradient's view beside it: ‖∂ logit / ∂ word vector‖ from one backward pass, no word removed; how they differ
wg = word_gradients(model, REVIEW)
print(compare_explanations(wg.tokens, wg.norms, imp.logodds, imp.span).sentence())

fig = importance_bars(imp.tokens, imp.logodds, imp.dprob)
show(fig, html)
'''

WHAT_IF = '''
# The same model on the edited review: how far one edit moves the prediction
d = compare(model, REVIEW, EDITED)
print(f"Original: {pct(d['p_original'])} positive")
print(f"Edited: {pct(d['p_edited'])} positive ({points(d['d_prob'])})")
print(f"Change in log-odds: {d['d_logodds']:+.2f}")

a, b = trajectory(model, REVIEW), trajectory(model, EDITED)
fig = probability_trajectory(a.positions, a.probs, a.tokens, "original", other=(b.positions, b.probs, b.tokens))
show(fig, html)
'''

CALIBRATION = '''
# How far to trust "90% sure": measured on the test reviews when the model was made, stored with it
cal = model.meta["calibration"]
print(f"Temperature T: {cal['temperature']:.2f}")       # every logit is divided by T
print(f"ECE before (T = 1): {cal['ece_before']:.1%}")
print(f"ECE after: {cal['ece_after']:.1%} ({ece_change_points(cal):+.1f} points)")

fig = reliability_figure(reliability_from_report(cal, "before"), reliability_from_report(cal, "after"),
                         cal["temperature"])
show(fig, html)
'''

TABS = {"Word by word": (WORD_BY_WORD, ["import numpy as np", "from rnnlab.figures.sentiment import "
                                        "probability_trajectory", "from rnnlab.labs.sentiment import trajectory"]),
        "Key words": (KEY_WORDS, ["import numpy as np", "from rnnlab.figures.sentiment import importance_bars",
                                  "from rnnlab.labs.calibration import pct, points",
                                  "from rnnlab.labs.connectivity import compare_explanations, word_gradients",
                                  "from rnnlab.labs.sentiment import importance"]),
        "What if…": (WHAT_IF, ["from rnnlab.figures.sentiment import probability_trajectory",
                               "from rnnlab.labs.calibration import pct, points",
                               "from rnnlab.labs.sentiment import compare, trajectory"]),
        "Calibration": (CALIBRATION, ["from rnnlab.figures.sentiment import reliability_figure",
                                      "from rnnlab.labs.calibration import ece_change_points, pct, "
                                      "reliability_from_report"])}
ABOUT = {"Word by word": "the probability after each token, and its five largest swings",
         "Key words": "which words mattered, by occlusion (each word removed in turn, in log-odds) and by gradient",
         "What if…": "what one edit of the review changes",
         "Calibration": "how well the model's probabilities match how often it is right (temperature scaling)"}


def settings(values) -> Settings:
    s = Settings(values, DEFAULTS)
    if "sent_text" not in s:
        s = Settings({}, {**s, "sent_text": EXAMPLES.get(s["sent_example"], EXAMPLES[DEFAULT_EXAMPLE])})
    return s


def tag(s: Settings) -> str:
    return {"Word by word": "word_by_word", "Key words": "key_words", "What if…": "what_if",
            "Calibration": "calibration"}.get(s["sent_tab"], "")


def _edited(s: Settings, review: str) -> str:
    """The edited review of the What if… tab: the session's edit box, else the first ready-made edit."""
    if "sent_edit" in s and str(s["sent_edit"]).strip():
        return str(s["sent_edit"])[:MAX_REVIEW_CHARS]
    from ..explain import suggest

    edits = suggest(review, per_kind=3)
    return edits[0].text if edits else review


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["sent_tab"] if s["sent_tab"] in TABS else "Word by word"
    body, imports = TABS[tab]
    review = str(s["sent_text"])[:MAX_REVIEW_CHARS]
    consts = [Const("REVIEW", review, "Your review")]
    if tab == "What if…":
        consts.append(Const("EDITED", _edited(s, review), f"Edited review ({s.get('sent_whatif', 'the first edit')})"))
    consts.append(Const("SEED", seed, "the sidebar's seed (reading a review involves no chance)"))
    own = not str(s["sent_model"]).startswith(PRETRAINED)
    note = (" The page was reading with a model trained in its session; this script reads with the pretrained one "
            "(a model of your own: `python -m rnnlab train-sentiment`, then `rnnlab.nn.models.load_text_model`)."
            if own else "")
    return render(
        title=f"Sentiment lab, {tab}: {ABOUT[tab]}.",
        about="The pretrained bidirectional LSTM reads the review and gives its calibrated P(positive) and "
              f"log-odds, as at the top of the page; then the tab's view.{note} (The page's live training is a "
              "job of its own: `python -m rnnlab train-sentiment --help` trains one from the command line.)",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.labs.calibration import pct", "from rnnlab.labs.sentiment import read",
                 "from rnnlab.labs.sentiment.reading import load_shipped", *imports],
        consts=consts, body=PREDICTION + body)
