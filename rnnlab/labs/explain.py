"""What-if edits of a review, made with grammar in mind: text in, edited texts out (no model here; the
Sentiment lab scores both versions with :func:`rnnlab.labs.sentiment.compare`).

Three templates, each giving one candidate edit per place it applies:

* **negate at the verb**: "is good" -> "is not good", "wasn't terrible" -> "was terrible", "it's fun" ->
  "it's not fun", "I loved it" -> "I did not love it", "it has a great cast" -> "it does not have a great
  cast". A negation already there is taken away instead of doubled ("wasn't not terrible" never appears).
* **swap for the antonym**: one sentiment word for its opposite ("brilliant" -> "dreadful"), keeping its
  capitals.
* **drop a clause**: the part after (or before) a "but", "yet", "although"... in one sentence, or a
  sentence that opens with "But" or "However".

English only, by rule, not by a parser: good enough for the reviews a class types, and every rule is
tested (``tests/test_explain.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Auxiliaries and copulas after which "not" goes.
COPULAS = {"is", "was", "are", "were", "am"}
MODALS = {"can", "could", "will", "would", "should", "must", "might", "may", "shall"}
DO = {"do": "do", "does": "does", "did": "did"}
HAVE = {"has": "does", "have": "do", "had": "did"}          # as a main verb: "has a cast" -> "does not have a cast"
#: Contracted negations and the positive form they come from.
CONTRACTED = {"isn't": "is", "wasn't": "was", "aren't": "are", "weren't": "were", "don't": "do", "doesn't": "does",
              "didn't": "did", "hasn't": "has", "haven't": "have", "hadn't": "had", "can't": "can", "cannot": "can",
              "couldn't": "could", "won't": "will", "wouldn't": "would", "shouldn't": "should", "mustn't": "must",
              "isnt": "is", "wasnt": "was", "dont": "do", "doesnt": "does", "didnt": "did", "cant": "can",
              "wont": "will"}
#: Pronoun contractions of "is"/"are"/"am": "it's good" -> "it's not good".
PRONOUN_BE = {"it's", "that's", "he's", "she's", "there's", "here's", "what's", "who's", "they're", "you're",
              "we're", "i'm"}
#: Words after "do/does/did" or "has/have/had" that show it is the main verb ("does a great job").
OBJECT_START = {"a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our",
                "their", "it", "them", "him", "me", "us", "nothing", "everything", "something", "anything", "no",
                "some", "any", "so", "such", "justice", "great", "good", "well", "plenty", "lots", "enough"}
PARTICIPLES = {"been", "seen", "done", "made", "given", "had", "got", "gotten", "found", "left", "lost", "won",
               "become", "taken", "shown", "written", "known", "brought", "thought", "felt", "heard", "kept"}
#: Sentiment verbs that may stand without an auxiliary: base form -> (3rd person, past).
VERBS = {"love": ("loves", "loved"), "like": ("likes", "liked"), "enjoy": ("enjoys", "enjoyed"),
         "hate": ("hates", "hated"), "recommend": ("recommends", "recommended"), "adore": ("adores", "adored"),
         "admire": ("admires", "admired"), "appreciate": ("appreciates", "appreciated"),
         "dislike": ("dislikes", "disliked"), "despise": ("despises", "despised"), "regret": ("regrets", "regretted"),
         "work": ("works", "worked"), "deliver": ("delivers", "delivered"),
         "disappoint": ("disappoints", "disappointed"),
         "impress": ("impresses", "impressed"), "fail": ("fails", "failed"), "deserve": ("deserves", "deserved"),
         "succeed": ("succeeds", "succeeded"), "entertain": ("entertains", "entertained"),
         "satisfy": ("satisfies", "satisfied"), "amaze": ("amazes", "amazed"), "suck": ("sucks", "sucked")}
_VERB_FORMS = {f: (base, "does" if k == 0 else "did") for base, forms in VERBS.items() for k, f in enumerate(forms)}
_VERB_FORMS.update({base: (base, "do") for base in VERBS})
#: Before a main verb, these make it something else (a participle, an infinitive, a noun).
NOT_A_MAIN_VERB_AFTER = COPULAS | set(MODALS) | set(DO) | set(HAVE) | PRONOUN_BE | {
    "be", "been", "being", "get", "gets", "got", "to", "not", "never", "the", "a", "an", "his", "her", "its",
    "their", "my", "your", "our", "this", "that", "these", "those", "n't", "'s"} | set(CONTRACTED)

ANTONYM_PAIRS = [
    ("good", "bad"), ("great", "terrible"), ("best", "worst"), ("better", "worse"), ("excellent", "awful"),
    ("wonderful", "dreadful"), ("brilliant", "dreadful"), ("amazing", "awful"), ("fantastic", "terrible"),
    ("superb", "poor"), ("perfect", "flawed"), ("beautiful", "ugly"), ("interesting", "boring"),
    ("exciting", "dull"), ("gripping", "tedious"), ("funny", "unfunny"), ("hilarious", "unfunny"),
    ("enjoyable", "unbearable"), ("entertaining", "tedious"), ("love", "hate"), ("loved", "hated"),
    ("loves", "hates"), ("like", "dislike"), ("liked", "disliked"), ("masterpiece", "disaster"),
    ("convincing", "unconvincing"), ("believable", "unbelievable"), ("strong", "weak"), ("clever", "stupid"),
    ("smart", "dumb"), ("original", "derivative"), ("fresh", "stale"), ("impressive", "unimpressive"),
    ("satisfying", "unsatisfying"), ("pleasant", "unpleasant"), ("memorable", "forgettable"),
    ("delightful", "irritating"), ("charming", "irritating"), ("success", "failure"), ("gem", "mess"),
    ("moving", "lifeless"), ("powerful", "feeble"), ("worth", "unworthy"),
]
ANTONYMS: dict[str, str] = {}
for _a, _b in ANTONYM_PAIRS:
    ANTONYMS.setdefault(_a, _b)
    ANTONYMS.setdefault(_b, _a)
ANTONYMS["worth"] = "not worth"       # "worth watching" -> "not worth watching" ("unworthy watching" is not English)
ANTONYMS.pop("unworthy", None)

CONTRASTS = ("but", "yet", "although", "though", "whereas")

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Edit:
    kind: str       # "negate" | "antonym" | "drop"
    label: str      # what changes, for a menu: '"is good" → "is not good"'
    text: str       # the whole edited review


def _norm(word: str) -> str:
    return word.lower().replace("’", "'")


def _case_like(model: str, word: str) -> str:
    """``word`` written with ``model``'s capitals (GOOD -> BAD, Good -> Bad)."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _short(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def negations(text: str) -> list[Edit]:
    """One edit per verb that can be negated (or un-negated), in reading order."""
    return list(_negations(text))


def _negations(text: str):
    words = _words(text)
    for k, m in enumerate(words):
        w = _norm(m.group())
        nxt = words[k + 1] if k + 1 < len(words) else None
        nw = _norm(nxt.group()) if nxt else ""
        prev = _norm(words[k - 1].group()) if k else ""
        gap_to_next = text[m.end():nxt.start()] if nxt else ""
        joined = nxt is not None and gap_to_next.strip() == ""   # no punctuation between the two words
        before = after = None
        span = (m.start(), m.end())
        if w in CONTRACTED:                                     # wasn't terrible -> was terrible
            positive = CONTRACTED[w]
            before, after = m.group(), _case_like(m.group(), positive)
        elif ((w in COPULAS or w in MODALS or w in PRONOUN_BE or w in DO or w in HAVE) and joined
                and nw in ("not", "never")):
            span = (m.start(), nxt.end())                       # is not good -> is good
            before, after = text[m.start():nxt.end()], m.group()
        elif (w in COPULAS or w in MODALS or w in PRONOUN_BE) and joined:
            before, after = m.group(), m.group() + " not"       # is good -> is not good
        elif w in DO and joined:
            if nw in OBJECT_START:                              # does a great job -> does not do a great job
                before, after = m.group(), f"{m.group()} not do"
            else:                                               # did enjoy -> did not enjoy
                before, after = m.group(), m.group() + " not"
        elif w in HAVE and joined and prev not in ("to", "would", "could", "should", "might", "must", "will"):
            if nw in PARTICIPLES or nw.endswith("ed") or nw.endswith("en"):
                before, after = m.group(), m.group() + " not"   # has been -> has not been
            elif nw in OBJECT_START or nxt is not None:         # has a great cast -> does not have a great cast
                before, after = m.group(), _case_like(m.group(), f"{HAVE[w]} not have")
        elif w in _VERB_FORMS and prev not in NOT_A_MAIN_VERB_AFTER and not (prev.endswith("n't")):
            base, aux = _VERB_FORMS[w]                          # I loved it -> I did not love it
            if w == base and prev in ("he", "she", "it", "this", "that", "film", "movie"):
                continue  # "it love" is not English: leave it alone
            before, after = m.group(), _case_like(m.group(), f"{aux} not {base}")
        if before is None:
            continue
        edited = text[:span[0]] + after + text[span[1]:]
        following = next((w for w in words[k + 1:] if w.start() >= span[1]), None)   # one word of context
        context_end = following.end() if following is not None and text[span[1]:following.start()].strip() == "" \
            else span[1]
        shown_before = text[span[0]:context_end]
        shown_after = after + text[span[1]:context_end]
        yield Edit("negate", f"“{_short(shown_before)}” → “{_short(shown_after)}”", edited)


def antonym_swaps(text: str) -> list[Edit]:
    """One edit per sentiment word that has an opposite, in reading order."""
    return list(_antonym_swaps(text))


def _antonym_swaps(text: str):
    for m in _WORD.finditer(text):
        w = _norm(m.group())
        if w in ANTONYMS:
            new = _case_like(m.group(), ANTONYMS[w])
            yield Edit("antonym", f"“{m.group()}” → “{new}”", text[:m.start()] + new + text[m.end():])


def _capitalise(s: str) -> str:
    s = s.lstrip()
    return s[:1].upper() + s[1:]


def clause_drops(text: str) -> list[Edit]:
    """Edits that drop one side of a contrast: "A, but B." -> "A." and "B."; "Although A, B." -> "B.";
    a sentence opening with "But"/"However"/"Yet" -> without it, or without the sentence before it."""
    return list(_clause_drops(text))


def _clause_drops(text: str):
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]

    def joined(parts: list[str]) -> str:
        return " ".join(p for p in parts if p.strip())

    for i, s in enumerate(sentences):
        end = re.search(r"[.!?]+[\"')\]]*$", s)
        punct = end.group() if end else ""
        body = s[: len(s) - len(punct)] if punct else s
        opener = re.match(r"\s*(however|but|yet)\b[,]?\s*", body, re.IGNORECASE)
        if opener and i > 0:
            rest = _capitalise(body[opener.end():]) + punct
            yield Edit("drop", f"Drop “{_short(s, 36)}”", joined(sentences[:i] + sentences[i + 1:]))
            yield Edit("drop", f"Drop “{_short(sentences[i - 1], 36)}”",
                       joined(sentences[:i - 1] + [rest] + sentences[i + 1:]))
            continue
        leading = re.match(r"\s*(although|though|while|whereas)\b(.+?),\s*(.+)$", body, re.IGNORECASE)
        if leading:
            main = _capitalise(leading.group(3)) + punct
            yield Edit("drop", f"Drop “{_short(body[:leading.start(3)].strip(), 36)}”",
                       joined(sentences[:i] + [main] + sentences[i + 1:]))
            continue
        for m in re.finditer(r",?\s+\b(" + "|".join(CONTRASTS) + r")\b\s+", body, re.IGNORECASE):
            if m.start() == 0:
                continue
            first, second = body[: m.start()].rstrip(" ,;"), body[m.end():]
            if not first.strip() or not second.strip():
                continue
            yield Edit("drop", f"Drop “{_short(body[m.start():].strip(' ,'), 36)}”",
                       joined(sentences[:i] + [first + punct] + sentences[i + 1:]))
            if m.group(1).lower() in ("but", "yet"):
                yield Edit("drop", f"Drop “{_short(first.strip(), 36)}”",
                           joined(sentences[:i] + [_capitalise(second) + punct] + sentences[i + 1:]))
            break  # one contrast per sentence


TEMPLATES = {"negate": "Negate at the verb", "antonym": "Swap for the antonym", "drop": "Drop a clause"}


def suggest(text: str, per_kind: int = 4) -> list[Edit]:
    """Candidate edits of every template (at most ``per_kind`` of each), in the order of ``TEMPLATES``."""
    text = str(text)
    out = []
    for _kind, fn in (("negate", _negations), ("antonym", _antonym_swaps), ("drop", _clause_drops)):
        seen = set()
        for e in fn(text):
            if e.text != text and e.text not in seen:
                seen.add(e.text)
                out.append(e)
                if len(seen) >= per_kind:
                    break
    return out
