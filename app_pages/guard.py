"""The Streamlit side of :mod:`rnnlab.inputs`: every value a link carries or a client sends, checked once.

* Link parameters a page reads itself (``?tg_draw=3``) go through :func:`link_number`, :func:`link_choice`
  and :func:`link_text`: a value that cannot be used is answered by a message beside the control and the
  page goes on with its default; it never reaches ``int()``.
* Widgets bound to the URL (``bind="query-params"``) and the values a client sends for any widget are
  checked by :func:`install`, which wraps Streamlit's widget functions once per process: a link's value is
  read with the widget's own bounds or options before Streamlit sees it, and a number no widget can hold
  (``nan``, ``inf``, out of its range) is put back to the widget's default, with a message. (Streamlit
  itself raises ``OverflowError`` for ``?seed=inf`` on a whole-number input, before any page code runs.)

No maths here, and no rule of its own: the rules are :mod:`rnnlab.inputs`."""
from __future__ import annotations

import contextlib
import functools
import inspect
import math

import streamlit as st

from rnnlab.inputs import InputError, parse_choice, parse_flag, parse_number, shown
from rnnlab.runtime.singletons import process_singleton

#: widget functions whose values are checked (buttons and uploads hold no value a link can set)
NUMERIC = ("number_input", "slider")
CHOICE = ("selectbox", "radio", "select_slider", "segmented_control", "pills", "multiselect", "tabs")
FLAG = ("toggle", "checkbox")
TEXT = ("text_input", "text_area")
GUARDED = NUMERIC + CHOICE + FLAG + TEXT


def tell(message: str, where=None) -> None:
    """A refused value's message, where the control is (or at the top of the page)."""
    (where or st).warning(message, icon=":material/report:")


# --- link parameters a page reads itself ---------------------------------------------------------------
def _drop(key: str) -> None:
    """The parameter leaves the URL, and Streamlit's copy of the link as opened (a bound widget would read
    it from there)."""
    _forget_link(query_state(), key)
    with contextlib.suppress(Exception):
        del st.query_params[key]


def link_number(key: str, default: int | float, lo: float | None = None, hi: float | None = None,
                integer: bool = True, what: str | None = None) -> int | float:
    """The number in ``?key=…``, or ``default`` when the link has none or one that cannot be used (then a
    message says why, and the parameter leaves the URL)."""
    raw = st.query_params.get(key)
    if raw is None:
        return default
    try:
        return parse_number(raw, lo, hi, integer)
    except InputError as err:
        tell(f"The link's {what or key}: {err}. Showing {default} instead.")
        _drop(key)
        return default


def link_choice(key: str, options, default, what: str | None = None):
    """The option named in ``?key=…``, or ``default`` (with a message when the link named another)."""
    raw = st.query_params.get(key)
    if raw is None:
        return default
    try:
        return parse_choice(raw, list(options))
    except InputError as err:
        tell(f"The link's {what or key}: {err}. Showing {default} instead.")
        _drop(key)
        return default


def link_flag(key: str, default: bool = False, what: str | None = None) -> bool:
    """``?key=1`` / ``true`` / ``yes`` (or their opposites), else ``default`` with a message."""
    raw = st.query_params.get(key)
    if raw is None:
        return default
    try:
        return parse_flag(raw)
    except InputError as err:
        tell(f"The link's {what or key}: {err}. It is {'on' if default else 'off'} instead.")
        _drop(key)
        return default


def link_text(key: str, default: str, max_chars: int = 500) -> None:
    """Give a text widget (keyed ``key``) its value from ``?key=…`` when the page opens. Call before the
    widget; call :func:`keep_text_in_url` after it. A link's text is cut to ``max_chars`` (a link must stay
    short) and the page says so."""
    if key in st.session_state:
        return
    value = st.query_params.get(key)
    if value and len(value) > max_chars:
        tell(f"The link's text had {len(value):,} characters; the first {max_chars:,} are shown.")
        value = value[:max_chars]
    st.session_state[key] = value if value else default


def keep_text_in_url(key: str, default: str, max_chars: int = 500) -> None:
    """The text widget's value in the link while it is short and not the default; out of it otherwise."""
    value = st.session_state.get(key, default)
    if isinstance(value, str) and value != default and len(value) <= max_chars:
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    elif key in st.query_params:
        _drop(key)


# --- every widget: its link value and the value a client sent ------------------------------------------
@functools.cache
def _signature(name: str, method) -> inspect.Signature:
    return inspect.signature(method)


def _label(name: str, a: dict, key: str) -> str:
    if name == "tabs":
        return "the tab"
    label = a.get("label")
    return f"“{label}”" if isinstance(label, str) and label and len(label) <= 60 else key


def _number_spec(name: str, a: dict) -> tuple[float | None, float | None, bool] | None:
    """(lo, hi, whole numbers only) of a number input or slider, or None for a date or time slider."""
    lo, hi, value, step = (a.get(k) for k in ("min_value", "max_value", "value", "step"))
    given = [x for x in (lo, hi, value, step) if x is not None and not isinstance(x, str)]
    flat = [y for x in given for y in (x if isinstance(x, list | tuple) else [x])]
    if any(not isinstance(x, int | float) or isinstance(x, bool) for x in flat):
        return None
    integer = all(isinstance(x, int) for x in flat) if flat else name == "slider"
    if name == "slider":    # a slider without bounds runs 0..100 (ints) or 0.0..1.0 (floats)
        lo = 0 if lo is None else lo
        hi = (100 if integer else 1.0) if hi is None else hi
    return lo, hi, integer


def query_state():
    """Streamlit's query-parameter state of this session (its initial values and bindings), or None."""
    try:
        from streamlit.runtime.state.session_state_proxy import get_session_state

        with get_session_state().query_params() as qp:
            return qp
    except Exception:
        return None


def _forget_link(qp, key: str) -> None:
    """The link's value for ``key`` is not seeded into its widget: Streamlit never parses it."""
    with contextlib.suppress(Exception):
        qp._initial_query_params.pop(key, None)
        qp.remove_param(key)


def _check_link_number(name: str, a: dict, key: str, raw, qp, where) -> None:
    """Before a bound number widget first renders: its link value ``raw`` read with the widget's own bounds;
    an unusable one is forgotten (Streamlit never parses it) and answered by a message."""
    spec = _number_spec(name, a)
    if spec is None:
        return
    lo, hi, integer = spec
    values = raw if isinstance(raw, list) else [raw]
    try:
        for v in values[-2:] if name == "slider" else values[-1:]:
            parse_number(v, lo, hi, integer)
    except InputError as err:
        _forget_link(qp, key)
        tell(f"The link's value for {_label(name, a, key)}: {err}. It shows its default instead.", where)


def _formatted(name: str, a: dict, value) -> list[str]:
    fmt = a.get("format_func") or str
    values = value if isinstance(value, list | tuple) else [value]
    with contextlib.suppress(Exception):
        return [str(fmt(v)) for v in values if v is not None]
    return []


def _after_link(name: str, a: dict, key: str, raw, value, where) -> None:
    """After a bound choice, flag or text widget first rendered: if Streamlit dropped the link's value as
    unusable (rather than because it was the default), say so."""
    values = raw if isinstance(raw, list) else [raw]
    if name in TEXT:
        limit = a.get("max_chars")
        if limit and any(len(v) > limit for v in values):
            tell(f"The link's text for {_label(name, a, key)} had more than {limit:,} characters; only the "
                 f"first {limit:,} are used.", where)
        return
    if name in FLAG:
        if str(values[-1]).lower() != str(bool(value)).lower():
            try:
                parse_flag(values[-1])
                message = f"{shown(values[-1])} is neither true nor false"
            except InputError as err:
                message = str(err)
            tell(f"The link's value for {_label(name, a, key)}: {message}. It shows its default instead.", where)
        return
    shown_now = _formatted(name, a, value)
    if [str(v) for v in values] == shown_now or (name != "multiselect" and str(values[-1]) in shown_now):
        return
    options = a.get("options", a.get("tabs")) or []
    with contextlib.suppress(Exception):
        choices = [str((a.get("format_func") or str)(o)) for o in options]
        bad = next((v for v in values if v not in choices), None)
        if bad is None:
            return
        try:
            parse_choice(bad, choices)
        except InputError as err:
            tell(f"The link's value for {_label(name, a, key)}: {err}. It shows its default instead.", where)


def _sent_value(name: str, a: dict, key: str, where) -> None:
    """Before a widget renders: a value the client sent that Streamlit cannot even read back is put back to
    the default, and a text longer than its box allows is cut, each with a message. (Out-of-range and
    non-finite numbers never get this far: Streamlit and :func:`_finite_numbers` put them back to the
    default, as the browser's own control would refuse them.)"""
    try:
        value = st.session_state.get(key)
    except (OverflowError, ValueError, TypeError):
        with contextlib.suppress(Exception):
            del st.session_state[key]
        tell(f"The value sent for {_label(name, a, key)} could not be read; it is back to its default.", where)
        return
    limit = a.get("max_chars") if name in TEXT else None
    if limit and isinstance(value, str) and len(value) > limit:
        # The browser keeps a box to its max_chars and Streamlit cuts what a client sends, but a value already
        # in the session (a lesson, a link, a follow) is not: cut it before the box reads it, so the box, the
        # link and the downloadable script hold what is read.
        st.session_state[key] = value[:limit]
        tell(f"The text had {len(value):,} characters: only the first {limit:,} are read.", where)


def _finite_numbers() -> None:
    """Streamlit's whole-number input runs ``int()`` on a sent ``nan`` or ``inf`` before any page code (an
    uncaught error on every page, the sidebar's seed included): such a value becomes the default instead,
    as an out-of-range one already does."""
    from streamlit.elements.widgets import number_input as ni

    serde = ni.NumberInputSerde
    if getattr(serde.deserialize, "__rnnlab_guarded__", False):
        return
    real = serde.deserialize

    @functools.wraps(real)
    def deserialize(self, ui_value):
        if isinstance(ui_value, float) and not math.isfinite(ui_value):
            ui_value = None
        return real(self, ui_value)

    deserialize.__rnnlab_guarded__ = True
    serde.deserialize = deserialize


def _guarded(name: str, method):
    @functools.wraps(method)
    def widget(self, *args, **kwargs):
        key = kwargs.get("key")
        if not isinstance(key, str):
            return method(self, *args, **kwargs)
        try:
            a = _signature(name, method).bind_partial(self, *args, **kwargs).arguments
        except TypeError:
            return method(self, *args, **kwargs)
        bound = kwargs.get("bind") == "query-params"
        qp = query_state() if bound else None
        raw = qp.get_initial_value(key) if qp is not None and key not in st.session_state else None
        if raw is not None and name in NUMERIC:
            _check_link_number(name, a, key, raw, qp, self)
            raw = None
        _sent_value(name, a, key, self)
        try:
            value = method(self, *args, **kwargs)
        except (OverflowError, ValueError) as err:     # a sent value Streamlit itself cannot read back
            if key not in st.session_state and not isinstance(err, OverflowError):
                raise
            with contextlib.suppress(Exception):
                del st.session_state[key]
            tell(f"The value sent for {_label(name, a, key)} could not be read; it is back to its default.", self)
            value = method(self, *args, **kwargs)
        if raw is not None:          # st.tabs returns its containers: the tab chosen is in the session
            _after_link(name, a, key, raw, st.session_state.get(key) if name == "tabs" else value, self)
        return value

    widget.__rnnlab_guarded__ = True
    return widget


def _patch() -> bool:
    from streamlit.delta_generator import DeltaGenerator

    with contextlib.suppress(Exception):       # another Streamlit: its own reading of numbers
        _finite_numbers()
    for name in GUARDED:
        method = getattr(DeltaGenerator, name)
        if not getattr(method, "__rnnlab_guarded__", False):
            method = _guarded(name, method)
            setattr(DeltaGenerator, name, method)
        setattr(st, name, functools.partial(method, st._main))
    return True


def install() -> None:
    """Wrap Streamlit's widget functions once per process (after the class locks, which wrap them too)."""
    process_singleton("input-guard", _patch)
