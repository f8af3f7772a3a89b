"""The adversarial student of issue 29: every widget and link parameter of every page, fed odd values.

Used by ``tests/test_bad_input.py`` (a few seeded examples in CI) and ``bench/bad_input.py`` (a deeper
search). The inventory comes from two places, and each checks the other:

* the widgets AppTest finds on each *scene* of a page: every tab (a tab bar bound to a key is switched
  through its labels) and the few settings that reveal more controls (:data:`REVEAL`);
* the widget keys and URL keys in the page's source (AST): a key found there that no scene reached, and
  that :data:`NOT_HERE` does not explain, fails the test.

The values come from Hypothesis strategies (:func:`values_for`): the edge cases the issue names (empty,
blank, zero-width only, 10⁶ characters, ``²``/``①``/Arabic-Indic digits, huge and negative numbers, ``nan``,
``inf``, markup and formula characters, right-to-left and combining marks, binary and wrongly encoded
files) and arbitrary text, numbers and bytes around them."""
from __future__ import annotations

import ast
import math
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as hs

from rnnlab.inputs import readable

ROOT = Path(__file__).resolve().parents[1]

# --- the values -----------------------------------------------------------------------------------------
HUGE = "word " * 200_000                                         # 10⁶ characters
TEXT_EDGES = ["", "   ", "\u200b\u200b\u200b", "\u200d\ufeff\u2060", "\n\n\t", "\u0301\u0301", "²①٣",
              "$x^2$ **b** _i_ <b>x</b> <script>alert(1)</script> =cmd()|' # [a](b) ~~s~~",
              "\u202eevil\u202c text", "ש ל ו ם عربي", "e\u0301\u0301\u0301 zalgo\u0336\u0336", "😀" * 50,
              "\x00\x07\x1b[31m", "a", HUGE]
NUMBER_TEXT = ["²", "①", "٣", "٣٣", "nan", "inf", "-inf", "1e999", "-1e9", "1e9", "-5", "0", "7.5", "0x10",
               "1_000", "  ", "", "\u200b", "99999999999999999999999999"]
NUMBER_EDGES = [math.nan, math.inf, -math.inf, 1e308, -1e308, 2.0 ** 63, -(2.0 ** 63), 1e-320, -1.0, 0.0]
FILE_EDGES = [b"", b"\xff\xfe\x00\x00\x01", "caf\xe9,1\nna\xefve,0\n".encode("latin-1"),
              "text,label\nbon,1\n".encode("utf-16"), b"\x00" * 4096, b"=cmd(),=1+1\n@x,-2\n",
              b"text,label\n" + "\u200b,1\n".encode() * 3, b"a,b\n1,2\n", b"PK\x03\x04" + bytes(range(256))]


def _edges(values: list, key: str) -> hs.SearchStrategy:
    """The edge cases, starting at a place that depends on the control: Hypothesis's first example takes
    the first of a list, and with one example a page (CI) every control would otherwise get the same one."""
    k = zlib.crc32(key.encode()) % len(values)
    return hs.sampled_from(values[k:] + values[:k])


def text_values(key: str = "") -> hs.SearchStrategy:
    odd = hs.characters(codec="utf-8", exclude_categories=("Cs",))
    return hs.one_of(_edges(TEXT_EDGES + NUMBER_TEXT[:8], key), hs.text(odd, max_size=60))


def link_values(key: str = "") -> hs.SearchStrategy:
    """What a link can carry: short strings (a URL is a few kilobytes at most)."""
    odd = hs.characters(codec="utf-8", exclude_categories=("Cs",))
    return hs.one_of(_edges(NUMBER_TEXT + TEXT_EDGES[:-1], key), hs.text(odd, max_size=30),
                     hs.integers(-10 ** 12, 10 ** 12).map(str), hs.floats().map(str))


def number_values(key: str = "") -> hs.SearchStrategy:
    return hs.one_of(_edges(NUMBER_EDGES, key), hs.floats(), hs.integers(-2 ** 53, 2 ** 53).map(float))


def file_values(key: str = "") -> hs.SearchStrategy:
    return hs.one_of(_edges(FILE_EDGES, key), hs.binary(max_size=300))


# --- the pages ------------------------------------------------------------------------------------------
LONG_REVIEW = "The film starts well and the acting is fine, but the plot drags on and on. " * 40
# day-first dates that could be month-first (03/04), and a gap: the upload's date and gap controls appear
CSV = "date,sales,price\n" + "".join(f"{d:02d}/{m:02d}/2024,{'' if d == 9 else 10 + d % 7},{d / 3:.2f}\n"
                                     for m in range(1, 13) for d in range(1, 13))
#: scenes beyond a page's tabs: settings (``state``), a link (``query``) and a button to press and wait for
#: (``click``: a training through the job runner, the fewest steps) that reveal more controls
REVEAL: dict[str, list[dict]] = {
    "app_pages/step_through.py": [{"state": {"st_input": "sine"}}, {"state": {"st_hidden": 8, "st_equations": True}}],
    "app_pages/memory.py": [{"state": {"mem_source": "Freshly initialised (untrained)"}},
                            {"query": {"mem_tab": "Heatmaps"}, "state": {"mem_text": LONG_REVIEW}},
                            {"query": {"mem_tab": "Colour the text", "mem_colour_by": "a gate's mean over units"}}],
    "app_pages/scratch.py": [{"query": {"scr_tab": "Train a character model", "scr_char_steps": "100"},
                              "click": "scr_char_train"}],
    "app_pages/architectures.py": [{"query": {"ar_tab": "Encoder–decoder", "ar_seq2seq_steps": "100"},
                                    "click": "ar_seq2seq_train"}],
    "app_pages/sentiment.py": [{"state": {"sent_source": "upload"}}],
    "app_pages/forecast.py": [{"state": {"fc_source": "upload a CSV"}},
                              {"state": {"fc_source": "upload a CSV"},
                               "upload": ("fc_upload", "sales.csv", CSV.encode())},
                              *({"state": {"fc_series": s}} for s in ("sine", "AR(2) process", "Mackey-Glass chaos",
                                                                      "stock prices (plotly)")),
                              {"query": {"fc_epochs": "1", "fc_seeds": "1", "fc_horizon": "5"}, "click": "fc_go"}],
    "app_pages/gradients.py": [{"state": {"gr_input": "typed sentence"}}],
    "app_pages/textgen.py": [{"state": {"tg_tab": "Train live", "tg_data": "Your own text"}}],
    "app_pages/teacher.py": [{"state": {"teacher_ok": True}}],
}
#: the sidebar's controls are the same code on every page: exercised on the first page only
SIDEBAR = ("nickname", "seed", "present")
#: keys in a page's source that no scene can reach here, and why
NOT_HERE: dict[str, str] = {
    "mem_layer": "drawn only for a model of two layers or more; no shipped or fresh model has two",
}
WIDGET_CALLS = {"text_input", "text_area", "number_input", "slider", "select_slider", "selectbox", "multiselect",
                "radio", "checkbox", "toggle", "file_uploader", "segmented_control", "pills", "date_input"}
KINDS = ("text_input", "text_area", "number_input", "slider", "select_slider", "selectbox", "multiselect", "radio",
         "checkbox", "toggle", "file_uploader", "button_group")


def _render(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values)
    return None


def source_keys(path: str) -> tuple[dict[str, str], set[str], str | None]:
    """(widget key pattern -> widget function, URL keys the page reads itself, the tab bar's key) of a page
    script and the page modules it imports (``app_pages.connectivity``, ...)."""
    files = [ROOT / path]
    tree = ast.parse(files[0].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "app_pages":
            files += [ROOT / "app_pages" / f"{a.name}.py" for a in node.names
                      if a.name not in ("common", "presenter", "guard", "classroom", "lead", "classbar", "experiment")
                      and (ROOT / "app_pages" / f"{a.name}.py").exists()]
    widgets, links, tab_key = {}, set(), None
    own = None
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None)
            kw = {k.arg: k.value for k in node.keywords}
            key = _render(kw["key"]) if "key" in kw else None
            if name in WIDGET_CALLS and key and (own is None or key.split("_")[0] in own):
                widgets[key] = name
            if name == "tabs" and key:
                tab_key = key
            bind = kw.get("bind")
            if key and isinstance(bind, ast.Constant) and bind.value == "query-params" and \
                    (own is None or key.split("_")[0] in own):
                links.add(key)
            call = ast.unparse(node.func)
            if call in ("st.query_params.get", "guard.link_number", "guard.link_choice", "guard.link_flag",
                        "guard.link_text", "url_text", "link_number", "link_text") and node.args:
                k = _render(node.args[0])
                if k:
                    links.add(k)
        if own is None:          # the page's own prefixes: an imported module's controls count where they share one
            own = {k.split("_")[0] for k in widgets}
    return widgets, links, tab_key


# --- one page in AppTest --------------------------------------------------------------------------------
@dataclass
class Finding:
    page: str
    what: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.page}: {self.what} = {self.value[:80]!r}: {self.problem}"


@dataclass
class Report:
    exercised: dict[str, set[str]] = field(default_factory=dict)      # page -> widget keys
    links: dict[str, set[str]] = field(default_factory=dict)          # page -> URL keys
    runs: int = 0
    slowest: tuple[float, str] = (0.0, "")
    findings: list[Finding] = field(default_factory=list)


def _messages(at) -> list[str]:
    return [e.value for kind in ("warning", "error", "info") for e in getattr(at, kind)]


def _texts(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "code", "text", "error", "warning", "info"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def open_scene(path: str, scene: dict, tab_key: str | None, timeout: float = 120):
    """A page opened on one scene: its tab and settings, and its button pressed (the training waited for)."""
    state = {k: v for k, v in scene.get("state", {}).items() if k != tab_key}
    query = dict(scene.get("query", {}))
    if tab_key and tab_key in scene.get("state", {}):
        query[tab_key] = scene["state"][tab_key]
    at = open_page(path, state=state, query=query, timeout=timeout)
    if scene.get("upload") and not at.exception:
        key, name, content = scene["upload"]
        at.file_uploader(key=key).upload(name, content, "text/csv").run()
    if scene.get("click") and not at.exception:
        from app_pages import training

        before = {k for k in at.session_state}
        button = next((b for b in at.button if b.key == scene["click"] and not b.disabled), None)
        if button is None:                   # not drawn or disabled here: the coverage check names what it hid
            return at
        button.click().run()
        for k in at.session_state:
            job = at.session_state[k] if k not in before or str(k).startswith("job_") else None
            if hasattr(job, "end_state") and hasattr(job, "wait"):
                training.wait_for(job, 180)
        at.run()
    return at


def open_page(path: str, state: dict | None = None, query: dict | None = None, timeout: float = 120):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in (query or {}).items():          # a link opened directly: the page is the first to run
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    if path != "app_pages/home.py":
        at.switch_page(path)
    return at.run()


def check_run(at, report: Report, page: str, what: str, value, seconds: float, bound: float) -> bool:
    """The property after one run: no exception, no traceback text, within the time bound."""
    report.runs += 1
    if seconds > report.slowest[0]:
        report.slowest = (seconds, f"{page}: {what}")
    shown = value if isinstance(value, str) else repr(value)
    if at.exception:
        report.findings.append(Finding(page, what, shown, "uncaught " + "; ".join(
            (str(e.value).splitlines()[0][:120] + " | " + " / ".join(list(getattr(e, "stack_trace", []))[-3:]))[:600]
            for e in at.exception)))
        return False
    if any("Traceback (most recent call last)" in t for t in _texts(at)):
        report.findings.append(Finding(page, what, shown, "traceback text on the page"))
        return False
    if seconds > bound:
        report.findings.append(Finding(page, what, shown, f"the run took {seconds:.1f} s (bound {bound:g} s)"))
    return True


def widgets_of(at) -> list:
    out = []
    for kind in KINDS:
        out += [w for w in getattr(at, kind) if getattr(w, "key", None)]
    return out


def send(w, state) -> None:
    """Make the next run carry ``state`` (a WidgetState) for widget ``w``: exactly what a browser sends."""
    w._rnnlab_state = state


def current_state(w):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    ws = WidgetState()
    ws.CopyFrom(w._widget_state)
    return ws


def _patched_state(real):
    def state(self):
        sent = getattr(self, "_rnnlab_state", None)
        return sent if sent is not None else real.fget(self)
    return property(state)


def patch_apptest() -> None:
    """AppTest sends a choice widget's value by the option's Python value; a browser sends its label. The
    harness sends labels (and restores a widget's earlier state) through :func:`send`."""
    from streamlit.testing.v1 import element_tree as e

    for cls in (e.Selectbox, e.Radio, e.SelectSlider, e.Multiselect, e.Slider, e.NumberInput, e.TextInput,
                e.TextArea, e.Checkbox, e.Toggle, e.ButtonGroup):
        if not getattr(cls, "_rnnlab_patched", False):
            cls._widget_state = _patched_state(cls._widget_state)
            cls._rnnlab_patched = True


def label_state(w, labels: list[str]):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    ws = WidgetState()
    ws.id = w.id
    if w.type in ("selectbox", "radio"):
        ws.string_value = labels[0]
    else:
        ws.string_array_value.data[:] = labels
    return ws


def draw_for(w, data, label: str):
    """A value for widget ``w`` drawn by Hypothesis (``data``): a Python value for AppTest's set_value, or a
    list of option labels for a choice widget (sent through :func:`label_state`)."""
    kind = w.type
    if kind in ("text_input", "text_area"):
        return data.draw(text_values(label), label=label)
    if kind == "number_input":
        return data.draw(number_values(label), label=label)
    if kind == "slider":
        v = w.value
        if not all(isinstance(x, int | float) for x in (v if isinstance(v, list | tuple) else [v])):
            return v                                          # a date or time slider: none here
        a = data.draw(number_values(label), label=label)
        return (a, w.max) if isinstance(v, list | tuple) else a
    if kind in ("selectbox", "radio", "select_slider"):
        options = list(w.options)
        return [data.draw(hs.sampled_from(options), label=label)] if options else None
    if kind == "button_group":                                # segmented control, pills: one label sent
        options = [getattr(o, "content", str(o)) for o in w.options]
        return [data.draw(hs.sampled_from(options), label=label)] if options else None
    if kind == "multiselect":
        options = list(w.options)
        return data.draw(hs.lists(hs.sampled_from(options), unique=True, max_size=len(options)), label=label) \
            if options else []
    if kind in ("checkbox", "toggle"):
        return data.draw(hs.booleans(), label=label)
    if kind == "file_uploader":
        return data.draw(file_values(label), label=label)
    return None


def apply(w, value) -> bool:
    """Put ``value`` on widget ``w`` for the next run; False where no client could send it at all (the wire
    format refuses it, e.g. an int64 out of range) and for a disabled widget (Streamlit drops what a client
    sends for one)."""
    from streamlit.testing.v1.errors import AppTestError

    if getattr(w, "disabled", False) or getattr(getattr(w, "proto", None), "disabled", False):
        return False
    try:
        if w.type == "file_uploader":
            if value is None:
                w.set_value(None)
            else:
                name = "upload.csv" if any("csv" in t for t in w.allowed_type) else "upload.txt"
                w.upload(name, value, "text/csv" if name.endswith("csv") else "text/plain")
        elif w.type in ("selectbox", "radio", "select_slider", "multiselect", "button_group"):
            if value is None:
                return False
            send(w, label_state(w, value))
        else:
            w.set_value(value)
            send(w, None)
            current_state(w)                                  # encodes now: a refusal is raised here
    except (ValueError, TypeError, OverflowError, AppTestError):
        return False
    return True


def needs_message(w, value) -> bool:
    """Text that is not readable must be answered by a message, on every page whose box asks for text."""
    return w.type in ("text_input", "text_area") and isinstance(value, str) and not readable(value)


def timed_run(at) -> float:
    t = time.perf_counter()
    at.run()
    return time.perf_counter() - t
