"""Lessons of the Text generation page: temperature trades repetition for invention, spaces are learnt before
words, and a trained unit follows the position in the line far better than any unit of an untrained model."""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from ..data.chars import shakespeare
from ..labs.connectivity import DEFAULT_BACK, DEFAULT_POSITION, MAX_PASSAGE, NEAR, char_connectivity
from ..labs.memory import model_digest
from ..labs.textgen import (
    DEFAULT_LENGTH,
    DEFAULT_PROMPT,
    DEFAULT_TEMPERATURE,
    PRESETS,
    build_model,
    passages,
    sample_text,
    shipped_model,
    shipped_units,
    train_charlm,
)
from ..nn.charlm import generate
from . import Finding, Lesson, Question

PAGE = "app_pages/textgen.py"
DEFAULTS = {"tg_tab": "Generate", "tg_prompt": DEFAULT_PROMPT, "tg_temp": DEFAULT_TEMPERATURE, "tg_topk": 0,
            "tg_len": DEFAULT_LENGTH}
COLD, HOT = 0.2, 1.5
#: training steps of the live recipe the spaces-first check takes (a few seconds of the page's 3 minutes)
LIVE_STEPS = 8
NGRAM = 10          # a phrase repeats when a run of this many characters already occurred in the sample
#: where the checkpoint's answers about the untrained model's best |r| for the position in the line part
R_EDGES = (0.2, 0.4, 0.6, 0.8)
R_BINS = (f"|r| below {R_EDGES[0]:g}", *(f"|r| from {a:g} to {b:g}" for a, b in zip(R_EDGES, R_EDGES[1:])),
          f"|r| of {R_EDGES[-1]:g} or more")


def r_bin(r: float) -> str:
    """The choice of :data:`R_BINS` that holds ``|r|``."""
    return R_BINS[sum(abs(r) >= e for e in R_EDGES)]


@lru_cache(maxsize=1)
def _shipped():
    return shipped_model()


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """The words of the text the models train on (the first 90% of tiny-shakespeare), lower case."""
    return frozenset(w.lower() for w in re.findall(r"[A-Za-z]+", shakespeare().train_text))


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z]+", text)]


def invented(text: str) -> float:
    """The share of the words of ``text`` that never occur in the training text."""
    words = _words(text)
    return sum(w not in _known_words() for w in words) / max(len(words), 1)


def repeated(text: str, n: int = NGRAM) -> float:
    """The share of the runs of ``n`` characters of ``text`` that already occurred earlier in it."""
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    return 1 - len(set(grams)) / max(len(grams), 1)


def _written(temperature: float) -> str:
    """What the Generate tab writes at its defaults (seed 0, first draw) at ``temperature``."""
    model, vocab, _ = _shipped()
    return "".join(s.char for s in generate(model, vocab, DEFAULTS["tg_prompt"], DEFAULTS["tg_len"],
                                            temperature, None, seed=0))


def _temperature() -> Finding:
    cold, hot = _written(COLD), _written(HOT)
    rep_cold, rep_hot, new_cold, new_hot = repeated(cold), repeated(hot), invented(cold), invented(hot)
    return Finding(rep_cold > max(0.02, rep_hot + 0.02) and new_hot > 0.15 and new_cold < 0.05,
                   f"T = {COLD}: {rep_cold:.1%} of its {NGRAM}-character runs repeat an earlier one, "
                   f"{new_cold:.0%} of its words are not in the training text; T = {HOT}: {rep_hot:.1%} repeat, "
                   f"{new_hot:.0%} of its words are invented")


def _spaces_first() -> Finding:
    """The live recipe (fp32, steps instead of seconds, seed 0): its sample before training and after
    :data:`LIVE_STEPS` steps, as the page's samples are written."""
    corpus = shakespeare()
    recipe = replace(PRESETS["live"], seconds=None, max_steps=LIVE_STEPS, eval_every=0, sample_every=0,
                     precision="fp32")
    run = train_charlm(recipe, corpus, seed=0, final_eval=False)
    before = sample_text(build_model(recipe, len(corpus.vocab), seed=0).eval(), corpus.vocab, 400)
    after = sample_text(run.model, corpus.vocab, 400)
    text = corpus.train_text
    share = text.count(" ") / len(text)
    sp0, sp1 = before.count(" ") / len(before), after.count(" ") / len(after)
    real = 1 - invented(after)
    return Finding(sp0 < share / 2 and 2 / 3 < sp1 / share < 3 / 2 and real < 0.5,
                   f"spaces: {sp0:.0%} of the untrained model's sample, {sp1:.0%} after {LIVE_STEPS} steps "
                   f"({share:.0%} of the text); only {real:.0%} of its words are real words yet")


def _position_unit() -> Finding:
    model, _, _ = _shipped()
    report = shipped_units()
    if report is None or report.get("digest") != model_digest(model):
        return Finding(False, "no unit finder report for the shipped model")
    best = max(abs(r["r"]) for r in report["rows"] if r["feature"] == "position in the line")
    control = max(abs(r["r"]) for r in report["control"] if r["feature"] == "position in the line")
    return Finding(best >= 0.8 and control < 0.6 and best - control > 0.25,
                   f"the trained model's best unit: |r| = {best:.2f}; the untrained model's best: |r| = {control:.2f}"
                   f" ({report['chars']:,} held-out characters)", value=r_bin(control))


#: inside a word of the Connectivity tab's default passage ("affability"), 25 characters before its default position
IN_WORD = DEFAULT_POSITION - 25


def _reach() -> Finding:
    """The shipped LSTM's bars at the tab's defaults (first held-out piece, 60 back) inside a word and where a
    phrase ends (the default position)."""
    model, vocab, _ = _shipped()
    text = passages(shakespeare().val_text, length=MAX_PASSAGE)[0][1]
    ids = vocab.encode(text)
    word, phrase = (char_connectivity(model, vocab, ids, t, DEFAULT_BACK) for t in (IN_WORD, DEFAULT_POSITION))
    w_near, p_near, p_far = word.share_within(NEAR - 1), phrase.share_within(NEAR - 1), 1 - phrase.share_within(20)
    before = text[IN_WORD - 4:IN_WORD + 1], text[DEFAULT_POSITION - 6:DEFAULT_POSITION + 1]
    return Finding(w_near >= 0.9 and p_near <= 0.6 and p_far >= 0.15,
                   f"at {IN_WORD} ({before[0]!r} → {word.target!r}) {w_near:.0%} of the bars on the last {NEAR} "
                   f"characters; at {DEFAULT_POSITION} ({before[1]!r} → {phrase.target!r}) {p_near:.0%}, and "
                   f"{p_far:.0%} from more than 20 characters back")


LESSONS = (
    Lesson("textgen.temperature",
           "In <b>Generate</b>, set the temperature to 0.2, then to 1.5: when does it repeat itself, and when "
           "does it invent words? Hover a character for its probability.",
           {"tg_tab": "Generate", "tg_temp": COLD},
           f"at {COLD} runs of characters repeat and every word is a real one; at {HOT} many words are invented",
           "Dividing the logits by T < 1 sharpens the softmax: the likeliest character wins almost every time, so "
           "the same phrases come back. T > 1 flattens it: unlikely letters get drawn, and words that never "
           "existed appear.", _temperature),
    Lesson("textgen.spaces",
           "In <b>Train live</b>, press Train and read the samples every few seconds: which comes first, "
           "spaces, real words or speaker names?",
           {"tg_tab": "Train live"},
           "after a few steps spaces come about as often as in the text (within a half), while most words are not "
           "real words yet",
           "Spaces first: how often each character comes is the first thing a model learns, and the space is "
           "the commonest character of the text. Real words need their letters in the right order, and a "
           "speaker name a whole pattern (a name in capitals on a line of its own, ending with a colon): they "
           "take longer.", _spaces_first, slow=True),
    Lesson("textgen.position",
           "In <b>Inside the model</b>, pick <i>position in the line</i>: one unit follows the number of "
           "characters since the last newline. Does an untrained model have such a unit too?",
           {"tg_tab": "Inside the model", "tg_feature": "position in the line"},
           "a trained unit with |r| of 0.8 or more; the untrained model's best is much weaker",
           "Not as clearly: a recurrent state adds up its inputs, so some random units drift with the position "
           "a little, but only training makes a unit that resets at each newline and tracks the line's length.",
           _position_unit,
           question=Question("How closely does the best unit of an untrained model follow the position in the line "
                             "(its |r|)?", choices=R_BINS)),
    Lesson("textgen.reach",
           f"In <b>Connectivity</b>, the position {DEFAULT_POSITION} ends a phrase: the LSTM must choose what comes "
           f"after it. Move to {IN_WORD}, inside a long word: how far back do the bars reach now?",
           {"tg_tab": "Connectivity", "tg_conn_t": IN_WORD},
           f"inside the word 90% or more of the bars fall on the last {NEAR} characters; where the phrase ends at most "
           "60% do, and 15% or more comes from over 20 characters back",
           "The next letter of a word follows from the letters just before it; what follows a phrase (a comma, a "
           "full stop, a new line) depends on the whole phrase and on where it sits in the line, so the prediction "
           "stays sensitive to characters much further back.", _reach),
)
