"""Lessons of the Architectures page, two per tab (keyed ``architectures.<section>.…``).

The checks train the page's own jobs at its defaults (``arch.DEFAULTS``, the sidebar's seed 0, one torch
thread as a job worker), once each (cached): what a class sees after pressing Train.
"""
from __future__ import annotations

import functools
from collections import Counter

import numpy as np

from ..data import seqtasks
from ..labs import architectures as arch
from . import Finding, Lesson, Question, job_context

PAGE = "app_pages/architectures.py"
SEED = 0
TAB = arch.TAB_LABELS
INPUTS = arch.INPUTS
D1 = arch.DEFAULTS["one_to_one"]
#: The widgets drawn when the page opens (the first tab's); the other tabs' defaults are arch.DEFAULTS/INPUTS.
DEFAULTS = {"ar_tab": TAB["one_to_one"], "ar_1_digit": INPUTS["digit"], "ar_1_noise": D1["noise"], "ar_1_draw": 0,
            "ar_one_to_one_hidden": D1["hidden"], "ar_one_to_one_steps": D1["steps"]}
NOISY = 0.35
DATES = ("11/25/26", "25.11.2026", "November 25, 2026")
QUESTION = "did you see the sun over the hill today?"
WORD = "gradient"
TEMPERATURE_DRAW = 1


@functools.cache
def _job(section: str, **changes) -> dict:
    """The section's job at the page's defaults (with ``changes``), as a job worker runs it."""
    job = getattr(arch, arch.JOBS[section])
    return job(job_context(0), **{**arch.DEFAULTS[section], **changes}, seed=SEED)


def _model(section: str, which: str | None = None, **changes):
    return arch.model_from_result(section, _job(section, **changes), which)


# --- 1 → 1 ----------------------------------------------------------------------------------------------
def _stateless() -> Finding:
    digit, noise = INPUTS["digit"], D1["noise"]
    first, _ = seqtasks.digit_images(1, noise, [SEED, 0], digits=[digit])
    second, _ = seqtasks.digit_images(1, noise, [SEED, 1], digits=[digit])
    net = arch.build_model("one_to_one", {"hidden": D1["hidden"]}, SEED)
    before = arch.classify_digit(net, first[0])["probs"]
    arch.classify_digit(net, second[0])
    after = arch.classify_digit(net, first[0])["probs"]
    flipped = int((first != second).sum())
    gap = max(abs(a - b) for a, b in zip(before, after))
    return Finding(flipped > 0 and gap == 0.0,
                   f"images 0 and 1 of the digit {digit} differ in {flipped} of {seqtasks.PIXELS} pixels; the "
                   f"network's answer for image 0 is the same before and after it read image 1 (largest change {gap})")


def _noisy() -> Finding:
    m = _job("one_to_one", noise=NOISY)["metrics"]
    best, acc = m["best_possible_acc"], m["test_acc"]
    return Finding(best <= 0.75 and best - 0.05 <= acc <= best + 0.02,
                   f"at noise {NOISY}: the best possible rule is right {best:.1%} of the time, the trained network "
                   f"{acc:.1%}")


# --- 1 → many -------------------------------------------------------------------------------------------
def _likeliest_path(digit: int, word: str) -> bool:
    """Whether every letter of ``word`` (and its end) is a most likely next letter of the exact distribution."""
    for k, letter in enumerate(list(word) + [seqtasks.SPECIALS[seqtasks.EOS]]):
        ideal = seqtasks.ideal_next_letter(digit, word[:k])
        if ideal.get(letter, 0.0) < max(ideal.values(), default=1.0) - 1e-9:
            return False
    return True


def _greedy() -> Finding:
    digit, model = INPUTS["digit"], _model("one_to_many")
    words = arch.word_samples(model, digit, 0.0, 200, seed=1)   # draw number 0
    first = arch.write_word(model, digit, 1.0, seed=0)["steps"][0]["probs"]
    return Finding(len(set(words)) == 1 and words[0] in seqtasks.word_distribution(digit)
                   and _likeliest_path(digit, words[0]),
                   f"200 draws of {digit} at temperature 0: {sorted(set(words))}; the exact first letters "
                   f"{seqtasks.ideal_next_letter(digit, '')}, the network's most likely {max(first, key=first.get)!r}",
                   value=Counter(words).most_common(1)[0][0])


def _exact_tie(digit: int) -> tuple[str, list[str], float] | None:
    """Where always taking the likeliest next letter of the exact distribution first meets a tie: (the letters
    written so far, the tied symbols, their probability); None if it reaches the end without one."""
    prefix = ""
    while True:
        ideal = seqtasks.ideal_next_letter(digit, prefix)
        top = max(ideal.values())
        best = [sym for sym, p in ideal.items() if p >= top - 1e-9]
        if len(best) > 1:
            return prefix, best, top
        if best[0] == seqtasks.SPECIALS[seqtasks.EOS]:
            return None
        prefix += best[0]


def _tie_words(digit: int) -> str:
    """The explanation's sentence on the tie greedy meets for ``digit`` (empty if none)."""
    tie = _exact_tie(digit)
    if tie is None:
        return ""
    prefix, best, p = tie
    names = [("the end" if sym == seqtasks.SPECIALS[seqtasks.EOS] else sym) for sym in best]
    return (f" After “{prefix}” the exact shares tie ({' and '.join(names)}, {p:.0%} each): there the network's "
            "own slight preference decides.")


def _shares(words: list[str], digit: int) -> tuple[float, float]:
    """(the largest gap between a real name's share of the draws and its true share, the share of invented words)."""
    true = seqtasks.word_distribution(digit)
    gap = max(abs(sum(w == name for w in words) / len(words) - p) for name, p in true.items())
    return gap, sum(w not in true for w in words) / len(words)


def _temperature() -> Finding:
    digit, model = INPUTS["digit"], _model("one_to_many")
    seed = TEMPERATURE_DRAW + 1   # the page's 200 draws after draw number n use the seed n + 1
    gap1, invented1 = _shares(arch.word_samples(model, digit, 1.0, 200, seed=seed), digit)
    gap2, invented2 = _shares(arch.word_samples(model, digit, 2.0, 200, seed=seed), digit)
    m = _job("one_to_many")["metrics"]
    return Finding(invented1 <= 0.05 and gap1 >= 0.1 and invented2 >= 0.3,
                   f"200 draws of {digit}: at temperature 1, {invented1:.0%} invented, but a name up to "
                   f"{gap1:.0%} off its true share (loss {m['nll_per_word']:.2f} nats per name, the least possible "
                   f"{m['entropy_per_word']:.2f}); at 2, {invented2:.0%} invented")


# --- many → 1 -------------------------------------------------------------------------------------------
SWITCH_STRINGS = ("1", "11", "111", "1111", "10100", INPUTS["bits"])


def _switch() -> Finding:
    model = _model("many_to_one")
    wrong, margin = [], 1.0
    for s in SWITCH_STRINGS:
        bits = seqtasks.parse_bits(s)
        p = np.array(arch.read_bits(model, bits)["p_odd"])
        truth = np.cumsum(bits) % 2
        if ((p > 0.5) != truth).any():
            wrong.append(s)
        margin = min(margin, float(np.abs(p - 0.5).min()))
    return Finding(not wrong and margin >= 0.3,
                   f"the answer after every bit of {', '.join(SWITCH_STRINGS)}: "
                   + (f"wrong somewhere in {wrong}" if wrong else "the parity so far, every time")
                   + f"; P(odd) at least {0.5 + margin:.0%} sure")


def _generalise() -> Finding:
    short = 4
    gru = _job("many_to_one", train_len=short)["acc_by_length"]
    rnn = _job("many_to_one", train_len=short, cell="RNN")["acc_by_length"]
    longer = {"GRU": float(np.mean(gru[short:])), "RNN": float(np.mean(rnn[short:]))}
    return Finding(min(gru[:short] + rnn[:short]) >= 0.99 and longer["GRU"] >= 0.85 and rnn[-1] <= 0.7
                   and longer["GRU"] >= longer["RNN"] + 0.1,
                   f"trained on lengths 1–{short}: both right on all of them; on lengths {short + 1}–{len(gru)} the "
                   f"GRU {longer['GRU']:.0%} (at {len(gru)}: {gru[-1]:.0%}), the RNN {longer['RNN']:.0%} "
                   f"(at {len(rnn)}: {rnn[-1]:.0%})")


# --- many → many, synced --------------------------------------------------------------------------------
def _taggers() -> dict:
    return {n: _model("sync", n) for n in ("unidirectional", "bidirectional")}


def _one_direction() -> Finding:
    text = INPUTS["qa_text"]
    out = arch.tag_text(_taggers(), text)
    p, truth = np.array(out["probs"]["unidirectional"]), out["truth"]
    marks = [k for k, c in enumerate(text) if c in ".?"]
    others = [k for k, t in enumerate(truth) if t >= 0 and k not in marks]
    sure_on_marks = min(abs(p[k] - 0.5) for k in marks) + 0.5
    unsure = max(abs(p[k] - 0.5) for k in others) + 0.5
    right_on_marks = all((p[k] > 0.5) == bool(truth[k]) for k in marks)
    return Finding(right_on_marks and sure_on_marks >= 0.9 and unsure <= 0.75,
                   f"on {text!r}: on each end mark right and at least {sure_on_marks:.0%} sure; on the "
                   f"{len(others)} other characters never more than {unsure:.0%} sure")


def _first_letter() -> Finding:
    out = arch.tag_text(_taggers(), QUESTION)
    uni, bi = out["probs"]["unidirectional"][0], out["probs"]["bidirectional"][0]
    return Finding(bi >= 0.9 and abs(uni - 0.5) <= 0.2,
                   f"on {QUESTION!r}, P(question) at its first letter: bidirectional {bi:.0%}, "
                   f"one-directional {uni:.0%}")


# --- encoder–decoder ------------------------------------------------------------------------------------
def _lengths() -> Finding:
    model = _model("seq2seq")
    outs = {d: arch.translate(model, "dates", d)["output"] for d in DATES}
    truth = {d: seqtasks.reference_date(d)[0] for d in DATES}
    return Finding(outs == truth and len(set(outs.values())) == 1,
                   "; ".join(f"{d} ({len(d)} symbols) → {o}" for d, o in outs.items()))


def _mistake() -> Finding:
    at, wrong = 3, INPUTS["mistake"]
    target = seqtasks.reference_date(INPUTS["date"])[0]
    demo = arch.forcing_demo(_model("seq2seq"), "dates", INPUTS["date"], target, at - 1, wrong)
    expected = target[:at - 1] + wrong + target[at:]
    return Finding(demo["free"] == target and demo["mistake"] == expected,
                   f"{INPUTS['date']}: free running {demo['free']}; with “{wrong}” forced at symbol {at}: "
                   f"{demo['mistake']}")


# --- attention ------------------------------------------------------------------------------------------
def _first_failing(exact: list[float], below: float = 0.5) -> int:
    return next((k for k, v in enumerate(exact) if v < below), len(exact))


def _gives_up() -> Finding:
    by = {n: p["by_length"] for n, p in _job("attention")["models"].items()}
    bins = by["with attention"]["bins"]
    fixed, att = by["without attention"]["exact"], by["with attention"]["exact"]
    k_fixed, k_att = _first_failing(fixed), _first_failing(att)
    where = lambda k: f"from {bins[k]} letters" if k < len(bins) else "never"  # noqa: E731
    return Finding(k_fixed < k_att and att[-1] >= fixed[-1] + 0.3,
                   f"whole reversal right under 50%: without attention {where(k_fixed)}, with attention "
                   f"{where(k_att)}; at {bins[-1]} letters {fixed[-1]:.0%} and {att[-1]:.0%}")


def _anti_diagonal() -> Finding:
    info = arch.translate(_model("attention", "with attention"), "reverse", WORD)
    a, n = info["attention"], len(WORD)
    looks = [int(row.argmax()) for row in a]
    # row i (i ≥ 1) is written after the letter at n - i was fed back; that letter's encoder state is where it looks
    on_line = sum(looks[i] == n - i for i in range(1, min(len(looks), n + 1)))
    return Finding(info["output"] == WORD[::-1] and looks[0] == n - 1 and on_line >= n - 1,
                   f"{WORD} → {info['output']}; the letter each output row looks at most: {looks} "
                   f"({on_line} of rows 2–{n + 1} on the line one step right of the mirror)")


def _tab(section: str, **settings) -> dict:
    return {"ar_tab": TAB[section], **settings}


_T_FIRST = seqtasks.ideal_next_letter(INPUTS["digit"], "")

LESSONS = (
    Lesson("architectures.one_to_one.stateless", "Change the <b>Image number</b>: the same digit with other pixels "
           "flipped. One image in, one answer out: nothing remembered from the image before.",
           _tab("one_to_one", ar_1_draw=1), "other pixels flipped; the answer to an image never depends on the "
           "images before it", "A feed-forward network has no hidden state to carry over: its answer is a function "
           "of this image alone, so the same image always gets the same answer.", _stateless),
    Lesson("architectures.one_to_one.noise", f"Drag the noise to {NOISY}: how far below 100% is even the best "
           "possible rule? Does the network get close?", _tab("one_to_one", ar_1_noise=NOISY),
           "the best possible rule far below 100%; the trained network within a few points of it",
           f"With {NOISY:.0%} of the pixels flipped, many images are nearer another digit's glyph than their own: "
           "no rule can tell them apart, however well trained.", _noisy, slow=True),
    Lesson("architectures.one_to_many.greedy", "Drag the temperature to 0: it always writes the same name. Which "
           "one, and why that one? (Look at the first letter's probabilities.)", _tab("one_to_many", ar_2_temp=0.0),
           "one name, every time: the likeliest letter at every step",
           f"Temperature 0 takes the most likely letter at every step: the first letter most names of "
           f"{INPUTS['digit']} share ({', '.join(f'{k} {v:.0%}' for k, v in _T_FIRST.items())}), then again the "
           "likeliest next letter. The first letters choose the language; no draw is left."
           + _tie_words(INPUTS["digit"]), _greedy, slow=True,
           question=Question(f"At temperature 0, which name does the trained network write for the digit "
                             f"{INPUTS['digit']}, every time?",
                             choices=tuple(seqtasks.word_distribution(INPUTS["digit"])))),
    Lesson("architectures.one_to_many.temperature", "At temperature 1, do the names come out as often as the black "
           "ticks say? At 2?", _tab("one_to_many", ar_2_temp=1.0, ar_2_draw=TEMPERATURE_DRAW),
           "at 1 almost only real names, but not at their true shares; at 2 many invented words",
           "Only a loss down at the entropy (the 'Loss per name' metric's least possible value) gives the true "
           "shares: after the default training it is not there yet. Temperature 2 flattens every letter's "
           "distribution, even where one letter is certain, so letters no name has slip in.", _temperature,
           slow=True),
    Lesson("architectures.many_to_one.switch", "After training, type 1, then 11, 111, 1111, then 10100: does the "
           "answer after each bit flip at every 1 and stay put at every 0?", _tab("many_to_one", ar_3_bits="1111"),
           "after every bit, the parity of the bits so far", "Parity needs one bit of memory: the hidden state "
           "works as a switch that each 1 toggles and each 0 leaves alone.", _switch, slow=True),
    Lesson("architectures.many_to_one.generalise", "Train on strings up to 4 long and look at lengths 5 to 12: did it "
           "learn the rule or the examples? Try the RNN cell too.", _tab("many_to_one", ar_3_len=4),
           "the GRU stays mostly right beyond 4 (fraying at 12); the RNN slides toward a coin flip",
           "Both are right on every string of length 1–4, so training accuracy cannot tell a rule from memorised "
           "examples; only longer strings can. A GRU's gates can keep its state as it is; a plain RNN rewrites "
           "its state at every bit, and the small errors add up.", _generalise, slow=True),
    Lesson("architectures.sync.one_direction", "Read the <i>unidirectional</i> line of the coloured text: where is "
           "it sure, and where is it a coin flip?", _tab("sync"),
           "sure on each ? and . ; close to a coin flip everywhere before them",
           "Each sentence's mark is a coin flip, and a one-directional RNN has read only the past: before the mark "
           "nothing it has read says how the sentence ends.", _one_direction, slow=True),
    Lesson("architectures.sync.first_letter", "Type a long question: which model is sure from its first letter "
           "that it is a question, and how could it know?", _tab("sync", ar_4_text=QUESTION),
           "the bidirectional model is sure at the first letter; the one-directional one guesses",
           "The bidirectional RNN's backward half reads the text from the end, so its state at the first letter "
           "has already seen the ?.", _first_letter, slow=True),
    Lesson("architectures.seq2seq.lengths", f"Type {DATES[0]}, then {DATES[1]} and {DATES[2]}: different lengths "
           "in, the same output?", _tab("seq2seq", ar_5_date=DATES[0]),
           f"the same ISO date from inputs of {', '.join(str(len(d)) for d in DATES)} symbols",
           "The encoder squeezes any input into one context vector of a fixed size, and the decoder writes from it "
           "until it writes its end symbol: the output's length is the decoder's, not the input's.", _lengths,
           slow=True),
    # the slider for the mistake is drawn only after a training: the lesson opens the tab
    Lesson("architectures.seq2seq.mistake", "Train, then put a mistake at symbol 3: running free, does the decoder "
           "recover, or does the rest go wrong too?", _tab("seq2seq"),
           "here it recovers: only the forced symbol is wrong, the rest is right",
           "Month and day come from the input, not from the year written so far, so the decoder finds them again. "
           "Where the next symbols hang on the written ones, a mistake drags them along: the teacher forcing chart "
           "counts how often.", _mistake, slow=True),
    Lesson("architectures.attention.gives_up", "Train both: at which input length does the fixed context vector "
           "give up, and the attention model?", _tab("attention"),
           "without attention, under half the reversals right from 5–6 letters; with attention, never below half",
           "One fixed-size vector must hold every letter until the decoder needs it; attention reads each encoder "
           "state again when it writes, so length costs it much less (Bahdanau et al. 2015).", _gives_up,
           slow=True),
    Lesson("architectures.attention.anti_diagonal", f"Type your own word (try <i>{WORD}</i>): where does each output "
           "letter look? Is the heatmap an anti-diagonal?", _tab("attention", ar_6_letters=WORD),
           "an anti-diagonal, one step right of the mirror after the first row: each row looks at the letter "
           "written last", "The encoder reads left to right, so its state at a letter still holds the letter "
           "before it: the decoder finds the letter it has just written and reads the next one from there.",
           _anti_diagonal, slow=True),
)
