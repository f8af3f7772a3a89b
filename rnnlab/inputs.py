"""What a student types or a link carries, checked in one place.

Every page reads numbers, choices and texts from widgets and from its URL. The rules for them live here,
once, so that a value one page accepts is not refused by another:

* :func:`parse_number` reads a bounded whole or decimal number from a string (a link's ``?seed=7``) or
  from a number a client sent. Decimal digits of any script count (``"٣"`` is 3); ``"²"`` and ``"①"``
  are digits to ``str.isdigit`` but not decimal digits, so they are refused with a message rather than
  passed to ``int()``, which raises. ``nan``, ``inf`` and anything outside the bounds are refused too.
* :func:`parse_choice` reads one of a fixed list of options; :func:`parse_flag` a yes/no.
* :func:`readable` is the one rule for "is there any text here": at least one letter, digit, punctuation
  mark or symbol. Spaces, zero-width and other invisible format characters, control characters and
  combining marks with nothing to combine with are not text, on every page.

Each refusal is an :class:`InputError` whose message says what was wrong and what is allowed, written for
the student who sent it."""
from __future__ import annotations

import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

#: characters of a value quoted back in a message (a 10⁶-character link is not printed whole)
SHOWN_CHARS = 40


class InputError(ValueError):
    """A value that cannot be used; ``str(err)`` is the message for the student."""


def shown(raw: Any, limit: int = SHOWN_CHARS) -> str:
    """What was sent, quoted, short and visible: invisible characters as ``\\u200b``, long values cut,
    ``"(empty)"`` for nothing."""
    text = raw if isinstance(raw, str) else repr(raw)
    if not text.strip():
        codes = "".join(f"\\u{ord(c):04x}" for c in text[:limit])
        return f"“{codes}” (blank)" if text else "“” (empty)"
    out = "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else f"\\u{ord(c):04x}" for c in text[:limit])
    return f"“{out}”" + (f"… ({len(text):,} characters)" if len(text) > limit else "")


def _fmt(x: float, integer: bool) -> str:
    return f"{int(x):,}" if integer else f"{x:g}"


def _to_float(raw: Any) -> float:
    """A number from ``raw``; decimal digits of any script are read as digits. Raises InputError."""
    if isinstance(raw, bool):
        raise InputError(f"{shown(raw)} is not a number")
    if isinstance(raw, int | float):
        return float(raw)
    # No NFKC here: it would read "²" as 2 and "①" as 1, numbers nobody typed.
    text = raw if isinstance(raw, str) else None
    if text is None or len(text) > 64:
        raise InputError(f"{shown(raw)} is not a number")
    text = text.strip().replace("\u2212", "-")             # a typographic minus sign is a minus sign
    # Only decimal digits (any script), one sign, one point and an exponent: "²", "①", "0x10", "1_000" are not.
    body = text.lstrip("+-")
    mantissa, _, exponent = body.lower().partition("e")
    ok_mantissa = mantissa.replace(".", "", 1).isdecimal()
    ok_exponent = not exponent or exponent.lstrip("+-").isdecimal()
    if text[:1] in "+-" and len(text) - len(body) > 1 or not ok_mantissa or not ok_exponent:
        raise InputError(f"{shown(raw)} is not a number")
    try:
        return float(text)
    except (ValueError, OverflowError):
        raise InputError(f"{shown(raw)} is not a number") from None


def parse_number(raw: Any, lo: float | None = None, hi: float | None = None, integer: bool = False) -> int | float:
    """``raw`` as a finite number in [lo, hi]; a whole number when ``integer`` (``"7.0"`` is 7, ``"7.5"`` is
    refused). Raises :class:`InputError` with the reason."""
    value = _to_float(raw)
    if not math.isfinite(value):
        raise InputError(f"{shown(raw)} is not a finite number")
    if integer:
        if value != int(value):
            raise InputError(f"{shown(raw)} is not a whole number")
        value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = (f"from {_fmt(lo, integer)} to {_fmt(hi, integer)}" if lo is not None and hi is not None
                else f"at least {_fmt(lo, integer)}" if lo is not None else f"at most {_fmt(hi, integer)}")
        raise InputError(f"{shown(raw)} is outside the allowed range ({span})")
    return value


def parse_choice(raw: Any, options: Sequence[Any]) -> Any:
    """The option whose text is ``raw`` (an option itself is accepted too). Raises :class:`InputError`."""
    for option in options:
        if raw == option or (isinstance(raw, str) and raw == str(option)):
            return option
    listed = ", ".join(str(o) for o in list(options)[:6]) + (", …" if len(options) > 6 else "")
    raise InputError(f"{shown(raw)} is not one of the choices ({listed})")


def parse_flag(raw: Any) -> bool:
    """A yes/no from a link (``true``/``false``, ``1``/``0``, ``yes``/``no``, any case)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{shown(raw)} is neither true nor false")


def readable(text: Any) -> bool:
    """True when ``text`` has at least one letter, digit, punctuation mark or symbol: the one rule, on every
    page, for whether a student typed anything. Spaces, zero-width and direction marks, control characters
    and lone combining marks are invisible: text made only of them is empty."""
    return isinstance(text, str) and any(unicodedata.category(c)[0] in "LNPS" for c in text)


def visible_length(text: str) -> int:
    """The characters of ``text`` a reader can see (letters, digits, punctuation, symbols, marks)."""
    return sum(unicodedata.category(c)[0] in "LNPSM" for c in text)


#: (variable, value) pairs already warned about: the environment is read on every settings load
_warned: set[tuple[str, str]] = set()


def env_number(name: str, lo: float | None = None, hi: float | None = None, integer: bool = True) -> int | float | None:
    """The number in environment variable ``name``, within [lo, hi]; None when it is unset or unusable ("ten",
    "²", "1e999", out of range): the caller's default applies, and the server's log says so once (``int()``
    on such a typo crashed every page)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_number(raw, lo, hi, integer=integer)
    except InputError as err:
        if (name, raw) not in _warned:
            _warned.add((name, raw))
            print(f"rnnlab: ignoring {name}: {err}; the default applies.", file=sys.stderr, flush=True)
        return None
