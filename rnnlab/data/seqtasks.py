"""The small tasks of the Architectures page: one per shape an RNN can take, each drawn from an explicit,
seeded generator, each with a fixed test set, and each with a number that says how well it *can* be done.

* one-to-one     noisy 5×7 images of digits → the digit. The best possible rule (nearest clean glyph) is
                 scored on the same test images, so the network's accuracy has a ceiling to compare with.
* one-to-many    a digit → its name in English, French, German, Spanish or Italian, one letter at a time.
                 The language is drawn at random, so the first letters are a real choice: the exact
                 probability of every next letter is known (:func:`ideal_next_letter`).
* many-to-one    a bit string → its parity (is the number of 1s odd?), at every length.
* many-to-many   a text of short sentences → for every character, does its sentence end with "?" or "."?
  (synced)       The end mark comes *after* the characters it tags: a left-to-right reader can only guess
                 (exactly 50%) until it reaches the mark. :func:`causal_ceiling` is that limit.
* seq2seq        dates written in 10 ways ("25 November 2026", "11/25/26", "Nov 25th, 2026") → "2026-11-25";
                 and reversing a string of letters (for the attention experiment: lengths 3 to 16).

Every generator takes a ``numpy.random.Generator`` (or a seed): nothing here touches a global random state.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

TEST_SEED = 20_261_125   # every fixed test set is drawn from this seed (never from the student's seed)


def rng(seed_or_rng) -> np.random.Generator:
    """A generator from a seed, a list of seeds (e.g. [global seed, draw number]) or a generator."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, (list, tuple)):
        return np.random.default_rng([int(s) for s in seed_or_rng])
    return np.random.default_rng(int(seed_or_rng))


# --- characters ↔ ids ---------------------------------------------------------------------------------
PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("␀", "<s>", "</s>")     # how the special ids are shown


@dataclass(frozen=True)
class CharVocab:
    """Characters and their ids: 0 is padding, 1 the start symbol, 2 the end symbol, then the alphabet."""

    alphabet: str

    @property
    def size(self) -> int:
        return len(SPECIALS) + len(self.alphabet)

    def symbol(self, i: int) -> str:
        return SPECIALS[i] if i < len(SPECIALS) else self.alphabet[i - len(SPECIALS)]

    def ids(self, text: str) -> list[int]:
        index = {c: k + len(SPECIALS) for k, c in enumerate(self.alphabet)}
        return [index[c] for c in text]

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` this vocabulary does not have (each once, in order)."""
        return list(dict.fromkeys(c for c in text if c not in self.alphabet))

    def encode(self, texts: list[str], bos: bool = False, eos: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(ids (B, L) padded with 0, lengths (B,)) for a list of strings."""
        rows = [([BOS] if bos else []) + self.ids(t) + ([EOS] if eos else []) for t in texts]
        L = max(max((len(r) for r in rows), default=1), 1)
        ids = torch.zeros(len(rows), L, dtype=torch.long)
        for k, r in enumerate(rows):
            ids[k, :len(r)] = torch.tensor(r, dtype=torch.long)
        return ids, torch.tensor([max(len(r), 1) for r in rows], dtype=torch.long)

    def decode(self, ids) -> str:
        """Ids back to text, stopping at the end symbol (padding and start symbols dropped)."""
        out = []
        for i in (ids.tolist() if torch.is_tensor(ids) else ids):
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.alphabet[i - len(SPECIALS)])
        return "".join(out)


# --- one-to-one: noisy digit images ---------------------------------------------------------------------
GLYPH_ROWS, GLYPH_COLS = 7, 5
_GLYPHS = {
    0: ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    1: ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    2: ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    3: ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
    4: ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    5: ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    6: ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    7: ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    8: ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    9: ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
}
GLYPHS = torch.tensor([[int(c) for row in _GLYPHS[d] for c in row] for d in range(10)], dtype=torch.float32)
PIXELS = GLYPH_ROWS * GLYPH_COLS


def digit_images(n: int, noise: float, seed_or_rng, digits=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 35) of random digits (or of ``digits``), each pixel flipped with probability ``noise``."""
    if not 0.0 <= noise < 0.5:
        raise ValueError("the pixel noise must be in [0, 0.5): at 0.5 an image says nothing about its digit")
    g = rng(seed_or_rng)
    y = np.asarray(digits) if digits is not None else g.integers(0, 10, n)
    flips = g.random((len(y), PIXELS)) < noise
    x = np.abs(GLYPHS.numpy()[y] - flips)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def digit_posterior(x: torch.Tensor, noise: float) -> torch.Tensor:
    """P(digit | image) exactly, for digits drawn uniformly and pixels flipped independently: (n, 10)."""
    flips = (x[:, None, :] != GLYPHS[None]).sum(-1).double()          # Hamming distance to each glyph
    p = min(max(noise, 1e-12), 0.5 - 1e-12)
    log_lik = flips * np.log(p) + (PIXELS - flips) * np.log1p(-p)
    return torch.softmax(log_lik, dim=1).float()


def bayes_accuracy(x: torch.Tensor, y: torch.Tensor, noise: float) -> float:
    """The accuracy of the best possible rule on these images (the most probable digit; a tie between k
    digits counts 1/k, as a fair coin would break it): no classifier can expect more."""
    post = digit_posterior(x, noise)
    best = post.max(dim=1, keepdim=True).values
    ties = torch.isclose(post, best, rtol=1e-6, atol=0)
    credit = ties[torch.arange(len(y)), y].float() / ties.sum(1).float()
    return float(credit.mean())


# --- one-to-many: the name of a digit in five languages ----------------------------------------------------
NUMBER_WORDS = {
    "English": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "French": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "German": ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "Spanish": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "Italian": ["zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"],
}
LANGUAGES = tuple(NUMBER_WORDS)
WORD_VOCAB = CharVocab("".join(sorted({c for words in NUMBER_WORDS.values() for w in words for c in w})))


def word_distribution(digit: int) -> dict[str, float]:
    """The true probability of each spelling of ``digit`` (languages equally likely; "uno" is two of them)."""
    counts = Counter(NUMBER_WORDS[lang][digit] for lang in LANGUAGES)
    return {w: c / len(LANGUAGES) for w, c in counts.items()}


def ideal_next_letter(digit: int, prefix: str) -> dict[str, float]:
    """The exact probability of each next symbol after ``prefix`` ("</s>" for the end): the share of the
    languages whose word starts with the prefix and continues that way. Empty if no word starts so."""
    words = [NUMBER_WORDS[lang][digit] for lang in LANGUAGES]
    live = [w for w in words if w.startswith(prefix)]
    counts = Counter(w[len(prefix)] if len(w) > len(prefix) else SPECIALS[EOS] for w in live)
    return {s: c / len(live) for s, c in counts.items()}


def number_word_batch(n: int, seed_or_rng) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(digits (n,), decoder inputs "<s> word" (n, L), targets "word </s>" (n, L)); padding 0."""
    g = rng(seed_or_rng)
    digits = g.integers(0, 10, n)
    langs = g.integers(0, len(LANGUAGES), n)
    words = [NUMBER_WORDS[LANGUAGES[lang]][d] for d, lang in zip(digits, langs)]
    x, _ = WORD_VOCAB.encode(words, bos=True)
    y, _ = WORD_VOCAB.encode(words, eos=True)
    return torch.tensor(digits, dtype=torch.long), x, y


# --- many-to-one: parity ---------------------------------------------------------------------------------
PARITY_MAX = 64      # the longest bit string tested or typed
def parity_batch(n: int, min_len: int, max_len: int, seed_or_rng) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(bits (n, max_len) as 0/1 ids padded with 0, lengths (n,), parity (n,)); lengths uniform."""
    g = rng(seed_or_rng)
    lengths = g.integers(min_len, max_len + 1, n)
    bits = g.integers(0, 2, (n, max_len))
    bits[np.arange(max_len)[None, :] >= lengths[:, None]] = 0   # padding is 0, which leaves parity unchanged
    return (torch.tensor(bits, dtype=torch.long), torch.tensor(lengths, dtype=torch.long),
            torch.tensor(bits.sum(1) % 2, dtype=torch.long))


def parity_test_set(max_len: int, per_length: int = 100) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed test set: ``per_length`` strings of every length 1..max_len (all 2^L strings when fewer)."""
    g = rng(TEST_SEED)
    rows, lengths = [], []
    for L in range(1, max_len + 1):
        if per_length >= 2 ** L:
            strings = [[(k >> i) & 1 for i in range(L)] for k in range(2 ** L)]
        else:
            strings = g.integers(0, 2, (per_length, L)).tolist()
        for s in strings:
            rows.append(s + [0] * (max_len - L))
            lengths.append(L)
    bits = torch.tensor(rows, dtype=torch.long)
    return bits, torch.tensor(lengths), bits.sum(1) % 2


def parse_bits(text: str, max_len: int = PARITY_MAX) -> list[int]:
    """A student's bit string ("0110 1"; spaces ignored) as a list of 0/1, or ValueError with the reason."""
    s = re.sub(r"\s+", "", text or "")
    if not s:
        raise ValueError("Type a string of 0s and 1s, e.g. 0110100.")
    bad = sorted(set(s) - {"0", "1"})
    if bad:
        raise ValueError(f"Only 0 and 1 are allowed; found {', '.join(repr(c) for c in bad[:5])}.")
    if len(s) > max_len:
        raise ValueError(f"At most {max_len} bits, please ({len(s)} typed).")
    return [int(c) for c in s]


# --- many-to-many synced: is this character part of a question? ----------------------------------------------
QA_WORDS = ["the", "cat", "dog", "sun", "sea", "map", "hat", "red", "big", "old", "new", "you", "we", "it", "is",
            "was", "did", "can", "go", "ran", "sat", "saw", "ate", "was", "here", "there", "now", "then", "why",
            "how", "who", "what", "when", "it", "so", "all", "one", "two", "a", "an", "my", "our"]
QA_VOCAB = CharVocab(" .?abcdefghijklmnopqrstuvwxyz")
QA_MARKS = {".": 0, "?": 1}
IGNORE = -100    # the tag of characters after the last end mark: no mark follows, nothing to learn


def qa_sentence(g: np.random.Generator, max_words: int = 4) -> str:
    words = g.choice(QA_WORDS, size=int(g.integers(1, max_words + 1)))
    return " ".join(words) + (".", "?")[int(g.integers(0, 2))]


def qa_tags(text: str) -> tuple[list[int], list[int]]:
    """For each character: the tag of its sentence (0 ".", 1 "?", IGNORE after the last mark) and the
    number of characters until that sentence's mark (0 on the mark itself; -1 after the last mark)."""
    tags, dist = [IGNORE] * len(text), [-1] * len(text)
    start = 0
    for k, c in enumerate(text):
        if c in QA_MARKS:
            for j in range(start, k + 1):
                tags[j], dist[j] = QA_MARKS[c], k - j
            start = k + 1
    return tags, dist


def qa_text(length: int, seed_or_rng) -> str:
    """Sentences separated by spaces, cut to ``length`` characters (the cut sentence has no mark)."""
    g = rng(seed_or_rng)
    parts, n = [], -1          # n: the length of the sentences joined by spaces
    while n < length:
        s = qa_sentence(g)
        parts.append(s)
        n += len(s) + 1
    return " ".join(parts)[:length]


def qa_batch(n: int, length: int, seed_or_rng) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(characters (n, length) ids, tags (n, length) with IGNORE, distance to the mark (n, length))."""
    g = rng(seed_or_rng)
    texts = [qa_text(length, g) for _ in range(n)]
    ids, _ = QA_VOCAB.encode(texts)
    tags, dist = zip(*(qa_tags(t) for t in texts))
    return ids, torch.tensor(tags), torch.tensor(dist)


def causal_ceiling(tags: torch.Tensor, dist: torch.Tensor) -> float:
    """The expected accuracy of the best left-to-right reader on these tagged characters.

    A sentence's end mark is drawn independently of its words (a fair coin), so before the mark nothing
    read so far says anything about it: any causal rule is right with probability exactly 1/2 there, and
    can be right every time on the mark itself. Ceiling = (marks + ½ · other characters) / characters."""
    scored = tags != IGNORE
    marks = (dist == 0) & scored
    return float((marks.sum() + 0.5 * (scored & ~marks).sum()) / scored.sum())


def causal_band(tags: torch.Tensor, dist: torch.Tensor, z: float = 1.96) -> float:
    """How far above :func:`causal_ceiling` a left-to-right reader may land on *these* texts by luck (95%).

    All characters of a sentence share one coin flip, so the luck does not average out character by
    character: a rule's score on sentence i varies by at most n_i/2 (n_i: its characters before the mark),
    and the sentences' luck adds up as a martingale: sd ≤ sqrt(Σ n_i²)/2 / (characters scored)."""
    scored = tags != IGNORE
    total = 0.0
    for row_t, row_d in zip(tags.tolist(), dist.tolist()):
        n = 0
        for t, d in zip(row_t, row_d):
            if t == IGNORE:
                continue
            if d > 0:
                n += 1
            else:             # the mark closes the sentence
                total += n * n
                n = 0
    return float(z * np.sqrt(total) / 2 / scored.sum())


def ceiling_by_distance(max_dist: int) -> list[float]:
    """The best a left-to-right reader can expect k characters before the mark: 1 on it, ½ before it."""
    return [1.0] + [0.5] * max_dist


def parse_qa(text: str, max_len: int = 120) -> str:
    """A student's text for the tagger: lower-cased; only letters a–z, spaces, "." and "?"."""
    s = re.sub(r"\s+", " ", (text or "").lower()).strip()
    if not s:
        raise ValueError("Type a few short sentences, each ending with . or ?")
    bad = QA_VOCAB.unknown(s)
    if bad:
        raise ValueError("Only letters a–z, spaces, '.' and '?' are allowed; found "
                         + ", ".join(repr(c) for c in bad[:6]) + ".")
    if len(s) > max_len:
        raise ValueError(f"At most {max_len} characters, please ({len(s)} typed).")
    if not any(c in QA_MARKS for c in s):
        raise ValueError("End at least one sentence with '.' or '?': the tag of a character is the mark that "
                         "ends its sentence.")
    return s


# --- seq2seq: dates ------------------------------------------------------------------------------------------
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# two-digit years: 50–99 → 19xx, 00–49 → 20xx
FIRST_DATE, LAST_DATE = dt.date(1950, 1, 1), dt.date(2049, 12, 31)


def _ordinal(d: int) -> str:
    return f"{d}{'th' if 10 <= d % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


DATE_FORMATS = {
    "25 November 2026": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "November 25, 2026": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Nov 25th, 2026": lambda d: f"{MONTHS[d.month - 1][:3]} {_ordinal(d.day)}, {d.year}",
    "11/25/26": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
    "25.11.2026": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "25 nov 26": lambda d: f"{d.day} {MONTHS[d.month - 1][:3].lower()} {d.year % 100:02d}",
    "2026/11/25": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "Wednesday, 25 November 2026": lambda d: f"{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}",
    "Wed 25 Nov 2026": lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "25-NOV-2026": lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3].upper()}-{d.year}",
}
DATE_VOCAB = CharVocab(" ,-./0123456789" + "".join(sorted(set("".join(MONTHS + WEEKDAYS)
                                                                       + "".join(MONTHS).upper()
                                                                       + "".join(MONTHS).lower() + "stndrdth"))))
ISO_VOCAB = CharVocab("-0123456789")
DATE_MAX_CHARS = 32


def iso(d: dt.date) -> str:
    return d.isoformat()


def random_dates(n: int, seed_or_rng) -> list[dt.date]:
    g = rng(seed_or_rng)
    span = (LAST_DATE - FIRST_DATE).days
    return [FIRST_DATE + dt.timedelta(days=int(k)) for k in g.integers(0, span + 1, n)]


def date_pairs(n: int, seed_or_rng, formats: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """``n`` (written date, ISO date, format name) triples, dates uniform in 1950–2049, formats uniform."""
    g = rng(seed_or_rng)
    names = formats or tuple(DATE_FORMATS)
    out = []
    for d, k in zip(random_dates(n, g), g.integers(0, len(names), n)):
        out.append((DATE_FORMATS[names[k]](d), iso(d), names[k]))
    return out


_MONTH_INDEX = {m.lower(): k + 1 for k, m in enumerate(MONTHS)} | {m[:3].lower(): k + 1 for k, m in enumerate(MONTHS)}


def reference_date(text: str) -> tuple[str, str] | None:
    """(ISO date, format name) if ``text`` is a valid date in one of the formats the model was taught, else
    None: the answer key the page compares the model's output with (a parser, not the network)."""
    for d in _candidates(text.strip()):
        if FIRST_DATE <= d <= LAST_DATE:
            for name, fmt in DATE_FORMATS.items():
                if fmt(d) == text.strip():
                    return iso(d), name
    return None


def _candidates(text: str):
    """Dates that ``text`` might spell (every reading of its numbers and month names)."""
    nums = [int(x) for x in re.findall(r"\d+", text)]
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    months = [_MONTH_INDEX[w] for w in words if w in _MONTH_INDEX]
    for y in nums:
        years = [y] if y >= 100 else [1900 + y if y >= 50 else 2000 + y]
        for year in years:
            for m in months or nums:
                for day in nums:
                    try:
                        yield dt.date(year, m, day)
                    except ValueError:
                        continue


def parse_date_input(text: str) -> str:
    """A student's date for the decoder: at most 32 characters the model knows, or ValueError."""
    s = re.sub(r"\s+", " ", text or "").strip()
    if not s:
        raise ValueError("Type a date, e.g. 25 November 2026 or 11/25/26.")
    if len(s) > DATE_MAX_CHARS:
        raise ValueError(f"At most {DATE_MAX_CHARS} characters, please ({len(s)} typed).")
    bad = DATE_VOCAB.unknown(s)
    if bad:
        raise ValueError("The model never saw " + ", ".join(repr(c) for c in bad[:6]) + ": use letters of "
                         "month and day names, digits, spaces and , - . /")
    return s


# --- seq2seq: reversing a string ----------------------------------------------------------------------------
REV_VOCAB = CharVocab("abcdefghijklmnopqrstuvwxyz")
REV_MIN, REV_MAX = 3, 16


def reverse_pairs(n: int, seed_or_rng, min_len: int = REV_MIN, max_len: int = REV_MAX) -> list[tuple[str, str]]:
    """``n`` (letters, the same letters reversed) pairs, lengths uniform in [min_len, max_len]."""
    g = rng(seed_or_rng)
    out = []
    for L in g.integers(min_len, max_len + 1, n):
        s = "".join(REV_VOCAB.alphabet[i] for i in g.integers(0, 26, int(L)))
        out.append((s, s[::-1]))
    return out


def parse_letters(text: str, max_len: int = REV_MAX) -> str:
    s = re.sub(r"\s+", "", (text or "").lower())
    if not s:
        raise ValueError("Type a few letters, e.g. attention.")
    bad = REV_VOCAB.unknown(s)
    if bad:
        raise ValueError("Only the letters a–z are allowed; found " + ", ".join(repr(c) for c in bad[:6]) + ".")
    if len(s) > max_len:
        raise ValueError(f"At most {max_len} letters (the longest the models were trained on); {len(s)} typed.")
    return s


# --- the fixed test sets ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def held_out_pairs(task: str, n: int = 1000) -> tuple[tuple, ...]:
    """The fixed seq2seq test set of ``task`` ("dates" or "reverse"), drawn once from :data:`TEST_SEED`."""
    if task == "dates":
        return tuple((s, t) for s, t, _ in date_pairs(n, TEST_SEED))
    if task == "reverse":
        return tuple(reverse_pairs(n, TEST_SEED))
    raise ValueError(f"unknown task {task!r}")


SEQ2SEQ_TASKS = {"dates": (DATE_VOCAB, ISO_VOCAB), "reverse": (REV_VOCAB, REV_VOCAB)}


def seq2seq_pairs(task: str, n: int, seed_or_rng) -> list[tuple[str, str]]:
    if task == "dates":
        return [(s, t) for s, t, _ in date_pairs(n, seed_or_rng)]
    if task == "reverse":
        return reverse_pairs(n, seed_or_rng)
    raise ValueError(f"unknown task {task!r}")


def seq2seq_batch(task: str, pairs: list[tuple[str, str]]):
    """(source ids, source lengths, decoder inputs "<s> target", targets "target </s>") for ``pairs``."""
    src_vocab, tgt_vocab = SEQ2SEQ_TASKS[task]
    src, src_len = src_vocab.encode([s for s, _ in pairs])
    dec_in, _ = tgt_vocab.encode([t for _, t in pairs], bos=True)
    dec_out, _ = tgt_vocab.encode([t for _, t in pairs], eos=True)
    return src, src_len, dec_in, dec_out
