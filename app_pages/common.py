"""Pieces every page shares: the page list, the sidebar (device, seed), the look, lesson prompts, links
to the next page, a reset button, and small Streamlit helpers. No maths here."""
from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import html
import importlib
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from app_pages import presenter
from app_pages.guard import keep_text_in_url, link_text  # noqa: F401  (re-exported: a link's text, read once)
from rnnlab.nn.models import TextModel, load_text_model
from rnnlab.runtime.device import device_label, pick_device
from rnnlab.runtime.singletons import process_singleton

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = ROOT / "assets" / "sentiment"


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    blurb: str
    default: bool = False

    @property
    def url_path(self) -> str:
        return Path(self.path).stem


#: Every page, in the order of the course; the navigation, the home page's list, "next page" links and the
#: "no such page" page are all made from this.
PAGES: dict[str, list[PageInfo]] = {
    "Start": [
        PageInfo("app_pages/home.py", "What is an RNN?", ":material/home:",
                 "The idea of a memory carried in h, the loop unrolled, and the shapes RNNs take.", default=True),
    ],
    "Look inside": [
        PageInfo("app_pages/step_through.py", "Step through an RNN", ":material/footprint:",
                 "Unroll an RNN, LSTM or GRU one step at a time, with the real numbers in the equations."),
        PageInfo("app_pages/memory.py", "Inside the memory", ":material/neurology:",
                 "Watch every unit and gate while a model reads a review: heatmaps, coloured text, the memory's path."),
        PageInfo("app_pages/scratch.py", "An RNN from scratch (NumPy)", ":material/code:",
                 "The whole network in a few lines of NumPy: the forward pass, backpropagation through time by "
                 "hand, checked against PyTorch, and a character model trained with it."),
    ],
    "Architectures": [
        PageInfo("app_pages/architectures.py", "Architectures", ":material/account_tree:",
                 "Each shape of the course's table trained live in seconds: one-to-one, one-to-many, many-to-one, "
                 "synced tagging one- and two-directional, an encoder–decoder, and the same with attention."),
        PageInfo("app_pages/batches.py", "Batches of sequences", ":material/view_week:",
                 "Padding, masking and packing a batch of sentences (and what packing costs), and the word vectors "
                 "a trained model reads."),
    ],
    "Labs": [
        PageInfo("app_pages/sentiment.py", "Sentiment lab", ":material/sentiment_satisfied:",
                 "Type a review and see the prediction word by word, which words mattered, and what an edit "
                 "changes; train a sentiment model live and watch it learn."),
        PageInfo("app_pages/gradients.py", "Gradients lab", ":material/trending_down:",
                 "Drag the sequence length and watch gradients vanish or explode; clipping, truncated BPTT, and "
                 "a race on the adding problem: which cells learn to add two numbers seen up to T steps apart."),
        PageInfo("app_pages/forecast.py", "Forecasting lab", ":material/show_chart:",
                 "Train a recurrent forecaster live and compare it honestly with naive, seasonal, AR and ARIMA "
                 "baselines."),
        PageInfo("app_pages/textgen.py", "Text generation", ":material/edit_note:",
                 "A character-level LSTM writes Shakespeare from your prompt; train one live and watch gibberish "
                 "turn into words; find the units that count characters in a line."),
        PageInfo("app_pages/compare.py", "RNN vs CNN vs MLP vs Transformer", ":material/compare_arrows:",
                 "The course's comparison table, measured: four models of the same size on a memory task and on "
                 "Shakespeare, and their speed and memory timed on this machine."),
    ],
    "Class": [
        PageInfo("app_pages/board.py", "Class board", ":material/leaderboard:",
                 "Every training the class finished, in any lab: the table, the best runs, and pooled plots of a "
                 "result against a setting, with the spread across seeds."),
        PageInfo("app_pages/teacher.py", "Teacher", ":material/admin_panel_settings:",
                 "The teacher's settings behind a password: limits of one training, trainings at once, IMDB, "
                 "the class code, and exporting or clearing the board."),
    ],
}


def all_pages() -> list[PageInfo]:
    return [p for pages in PAGES.values() for p in pages]


# --- the server ------------------------------------------------------------------------------------------
@st.cache_resource
def server_setup() -> int:
    """Once per server: cap the threads torch uses for the web server's own work (predictions, traces),
    leaving the other cores to the training workers (see rnnlab.runtime.jobs.thread_plan)."""
    from rnnlab.runtime.jobs import default_workers, thread_plan

    _, server_threads = thread_plan(default_workers())
    torch.set_num_threads(server_threads)
    return server_threads


@functools.cache   # not st.cache_resource: once per process, whatever a client's clear_cache does
def app_device() -> torch.device:
    """The device the app computes on, chosen once per server: CUDA, then MPS, then CPU."""
    return pick_device()


#: What the Sentiment lab (the page a whole class opens at once) and most other pages import, imported by
#: the warm-up so that the first students do not wait for it and so that it is frozen with the rest.
WARM_MODULES = ("pandas", "plotly.graph_objects", "plotly.subplots", "app_pages.training", "rnnlab.data.text",
                "rnnlab.labs.calibration", "rnnlab.labs.explain", "rnnlab.figures.memory", "rnnlab.figures.sentiment")
WARM_UP_TEXT = "A slow start, but the ending is wonderful."
_WARM_UPS = [0]          # how many times the warm-up ran in this process (once)
_WARM_UP_LOCK = threading.Lock()


def warm_up_once() -> None:
    """Run :func:`warm_up` once per process, in the server's first script run (Streamlit runs no app code
    before a first browser connects); any run arriving meanwhile waits for it, later runs find it done.
    Nothing else runs while it imports: a module half-imported by one thread is seen half-built by another
    (Plotly reads pandas from ``sys.modules``). It makes no Streamlit call, so no stop or rerun of that
    session (raised only at such calls) interrupts it halfway."""
    with _WARM_UP_LOCK:
        if not _WARM_UPS[0]:
            _WARM_UPS[0] += 1
            warm_up()


def warm_up() -> None:
    """Do once per process, at the server's first visit (usually the teacher's, before the class arrives),
    what the first loads of a whole class would otherwise queue behind: import the pages' modules, load the
    pretrained model and hash it, read one review. Then take these long-lived objects out of the garbage
    collector's sight.

    Streamlit collects garbage after every script run of every session (``runner.postScriptGC``). A full
    collection walks every object the process holds: about 220,000 once torch, plotly and the model are
    loaded, 0.15-0.4 s of CPU with the GIL held on a 2-core server, more than the Sentiment page's own work,
    for each of the 30 first loads of a class at once. ``gc.freeze()`` moves the objects that exist now
    (modules, the model) to a generation the collector skips; what later runs create is still collected."""
    try:
        for name in WARM_MODULES:
            importlib.import_module(name)
        tm = load_shipped_model()
        if tm is not None:
            from rnnlab.labs.sentiment import read, trajectory

            # One reading of each kind: torch imports more on first use (a bidirectional model's word-by-word
            # reading brings in sympy, 16,000 functions), which is then frozen with the rest.
            read(tm, WARM_UP_TEXT)
            trajectory(tm, WARM_UP_TEXT)
        import plotly.graph_objects as go

        go.Figure(layout={"template": "plotly_white"})   # Plotly loads a trace class per kind on first use
    except Exception as err:
        print(f"rnnlab: the warm-up stopped ({type(err).__name__}: {err}); pages load what they need themselves.")
    finally:
        gc.collect()      # the garbage of the imports first: frozen objects are never collected
        gc.freeze()
        _FROZEN_WITH[0] = len(sys.modules)


_FROZEN_WITH = [0]        # how many modules were imported when the collector's view was last frozen
_REFREEZE_LOCK = threading.Lock()


def refreeze_after_imports() -> None:
    """After a run that imported modules (the first visit to a page: the Text generation lab brings in
    torch's compiler stack, 79,000 objects, which added 42 ms to every later run of every session), freeze
    them too. Everything is unfrozen and collected first, so that what an earlier freeze held and is garbage
    now (sessions that ended) is freed rather than kept for ever. A page imports its modules once per
    process: once every page has been visited this costs one comparison per run."""
    if len(sys.modules) == _FROZEN_WITH[0] or not _REFREEZE_LOCK.acquire(blocking=False):
        return
    try:
        _FROZEN_WITH[0] = len(sys.modules)
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    finally:
        _REFREEZE_LOCK.release()


STYLE = """
<style>
/* Long equations scroll inside their own box instead of widening the page (projector, phone). */
.katex-display, [data-testid="stMarkdownContainer"] .katex-display { overflow-x: auto; overflow-y: hidden;
  padding: 2px 0; max-width: 100%; }
[data-testid="stMarkdownContainer"] pre, [data-testid="stCode"] pre { overflow-x: auto; max-width: 100%; }
/* Widget labels wrap rather than being cut with an ellipsis. */
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] div { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
/* Buttons keep their whole label: the text wraps if a column is narrow. */
.stButton button p, .stDownloadButton button p { white-space: normal; overflow-wrap: anywhere; }
/* Less empty space above the title, so more of the lesson fits on a 768-pixel projector. */
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
/* The class bar (and a checkpoint drawn first) sits above the title: it clears the fixed top header as the
   title's own padding does. */
.st-key-class_bar, .st-key-class_teacher, .st-key-class_checkpoint_top { margin-top: 1.6rem; }
/* Tables and coloured text never push the page wider than the screen. */
[data-testid="stHtml"] { max-width: 100%; overflow-x: auto; }
.rnnlab-lesson li { margin-bottom: 0.1rem; }
/* A projector (1024 x 768) or a short laptop screen: a smaller title and a tighter lesson box, so that the
   page's first figure starts higher on the first screen. Phones (narrow) keep Streamlit's own sizes. */
@media (max-height: 820px) and (min-width: 768px) {
  .block-container h1, [data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding: 1rem 0 0.5rem; }
  .rnnlab-lesson { margin-bottom: 0; }
  .rnnlab-lesson li { margin-bottom: 0; line-height: 1.45; }
}
/* Accessibility (WCAG 2.1 AA, checked by axe-core in tests/test_accessibility.py). Code colours dark enough
   for 4.5:1 on a code block's and an info box's light background (Streamlit's own reach 2.2-3.7). */
pre .token.comment, pre .token.prolog, pre .token.doctype, pre .token.cdata, pre .token.punctuation,
pre .token.unchanged { color: #5a5f6e !important; }
pre .token.attr-name, pre .token.property, pre .token.variable { color: #006a8e !important; }
pre .token.boolean, pre .token.constant, pre .token.symbol, pre .token.inserted { color: #1b6e3a !important; }
pre .token.number, pre .token.regex { color: #00677a !important; }
pre .token.string, pre .token.char, pre .token.attr-value { color: #1a6b32 !important; }
pre .token.operator, pre .token.entity, pre .token.decorator, pre .token.atrule { color: #9a4a00 !important; }
pre .token.url { color: #6b3fa0 !important; }
pre .token.keyword, pre .token.tag, pre .token.function, pre .token.class-name, pre .token.selector {
  color: #0b55a3 !important; }
pre .token.important, pre .token.deleted { color: #b00020 !important; }
/* A switched-off control's label stays readable (4.9:1 instead of 2.6:1) and still looks paler than the rest. */
[data-testid="stWidgetLabel"][disabled], [data-testid="stWidgetLabel"][disabled] * {
  color: rgba(17, 17, 17, 0.62) !important; }
/* A figure's text alternative (plot()): read by screen readers, not drawn; its element takes no room either. */
.rnnlab-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip-path: inset(50%); white-space: nowrap; border: 0; }
[data-testid="stElementContainer"]:has(.rnnlab-sr-only) { position: absolute !important; width: 1px;
  height: 1px; overflow: hidden; clip-path: inset(50%); }
</style>
"""


#: On a narrow screen (below 768 px) the top navigation folds into the sidebar, which Streamlit leaves open
#: over the page after a choice (319 of 390 px on a phone): close it once a page is picked. And a box that
#: scrolls sideways (a long equation, code, a wide table) takes keyboard focus, so that it can be scrolled
#: without a mouse (WCAG 2.1.1): tabindex=0 while it overflows, removed when it fits again (no useless tab
#: stops). Static code, no user input.
NAV_SCRIPT = """<script>
if (!window.__rnnlabNavHook) {
  window.__rnnlabNavHook = true;
  document.addEventListener("click", (event) => {
    if (window.innerWidth >= 768 || !event.target.closest('[data-testid="stSidebarNav"] a')) return;
    setTimeout(() => {
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }, 150);
  }, true);
}
if (!window.__rnnlabScrollHook) {
  window.__rnnlabScrollHook = true;
  const boxes = '.katex-display, [data-testid="stCode"] pre, [data-testid="stMarkdownContainer"] pre, '
    + '[data-testid="stHtml"]';
  const mark = () => {
    for (const box of document.querySelectorAll(boxes)) {
      const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
        box.dataset.rnnlabScroll = '1';
      } else if (!scrolls && box.dataset.rnnlabScroll) {
        box.removeAttribute('tabindex');
        delete box.dataset.rnnlabScroll;
      }
    }
  };
  let pending = null;
  const later = () => { clearTimeout(pending); pending = setTimeout(mark, 60); };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
  window.addEventListener('resize', later);
  later();
}
</script>"""


def style() -> None:
    st.html(STYLE)
    st.sidebar.html(NAV_SCRIPT, unsafe_allow_javascript=True)


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### :material/settings: Session")   # a Material icon: drawn by Streamlit's own font
        device = app_device()
        icon = "●" if device.type != "cpu" else "○"   # drawn by DejaVu Sans: no emoji font needed
        st.markdown(f"{icon} **Device:** {device_label(device)}")
        if device.type == "cpu":
            st.caption("No GPU found: models train on the CPU. The small models here are fast enough for class.")
        st.number_input("Global seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                        bind="query-params",
                        help="Every random choice (weights, data, training order) follows this seed, "
                             "so the whole class sees the same numbers. It is kept in the page's URL.")
        st.text_input("Nickname on the class board (optional)", key="nickname", max_chars=24,
                      placeholder="e.g. Ada", help="Shown beside the trainings you finish on the Class board, so "
                      "you can find them. Nothing else about you is recorded. Not kept in the page's URL.")
        presenter.switch()


def seed() -> int:
    """The global seed chosen in the sidebar (shared in the URL as ``?seed=``)."""
    return int(st.session_state.get("seed", 0))


# --- pages that do not exist -------------------------------------------------------------------------------
def page_not_found() -> bool:
    """True when the browser asked for a page path that no page has (e.g. a mistyped link)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        asked = ctx.pages_manager.intended_page_name if ctx is not None else None
    except Exception:
        return False
    if not asked:
        return False
    return asked.strip("/") not in {p.url_path for p in all_pages()} | {""}


def not_found() -> None:
    st.title("No such page")
    st.markdown("This link does not lead to a page of rnnlab (is it mistyped?). Here are the pages there are:")
    for p in all_pages():
        st.page_link(p.path, label=p.title, icon=p.icon)


# --- teaching helpers -------------------------------------------------------------------------------------
def tips(*prompts: str, title: str) -> None:
    """How-to tips (the Teacher and Class board pages), one click away in a closed expander. Lessons whose
    effect can be checked are :func:`lessons`, not tips. Hidden in presenter mode."""
    if presenter.presenting():
        return
    items = "".join(f"<li>{p}</li>" for p in prompts)
    with st.expander(title, icon=":material/lightbulb:"):
        st.markdown(f"<ul class='rnnlab-lesson'>{items}</ul>", unsafe_allow_html=True)


def _apply_lesson(settings: dict) -> None:
    # In a callback, before the page runs again: every widget is drawn with the lesson's values.
    for k, v in settings.items():
        st.session_state[k] = list(v) if isinstance(v, tuple) else v


def lessons(page: str, part: str | None = None) -> None:
    """'What to notice': the page's lessons (``rnnlab.lessons``) one click away, in a closed expander under the
    page's main control and result, each with a button that applies its settings and a link that opens the
    page with them; the explanations wait in a popover until the student looked. ``part`` shows only the
    lessons keyed ``<page>.<part>.…`` (a tab's own box). Hidden in presenter mode."""
    from rnnlab.lessons import page_lessons

    if presenter.presenting():
        return        # the projector shows the result; the students' own screens keep the prompts
    shown = [le for le in page_lessons(page) if part is None or le.key.startswith(f"{page}.{part}.")]
    items = "".join(f"<li>{item.prompt} <a href='?{item.query()}' target='_self' title='Open this page with "
                    f"lesson {n}&#39;s settings (a link to share)'>link ↗</a></li>" if item.settings
                    else f"<li>{item.prompt}</li>" for n, item in enumerate(shown, start=1))
    label = f"What to notice: {len(shown)} thing{'s' if len(shown) > 1 else ''} to try"
    with st.expander(label, icon=":material/visibility:"):
        st.markdown(f"<ol class='rnnlab-lesson'>{items}</ol>", unsafe_allow_html=True)
        cols = st.columns(len(shown) + 1, gap="small")
        for i, (col, item) in enumerate(zip(cols, shown), start=1):
            if item.settings:
                col.button(f"Show me {i}", key=f"_lesson_{item.key}", on_click=_apply_lesson,
                           args=(dict(item.settings),), width="stretch",
                           help=f"Sets what lesson {i} asks for, as its \"link ↗\" does.")
        with cols[-1].popover("Why?", width="stretch"):
            st.markdown("Read these after you looked:")
            for i, item in enumerate(shown, start=1):
                st.markdown(f"**{i}.** {item.explain}")


def bf16_note(more: str, scored: str) -> str:
    """The caption under a live result trained in bfloat16 mixed precision (``History.precision == "bf16"``):
    ``more`` is what fits in the same time, ``scored`` what was measured afterwards in float32."""
    return ("Trained in bfloat16 mixed precision: this server's CPU multiplies 16-bit numbers natively "
            f"(Intel AMX), so more {more} fit in the same time; the weights and the optimizer stay in float32, "
            f"and {scored} is measured in float32.")


def next_page(current: str) -> None:
    """A link to the next page of the course (and back to the start from the last one)."""
    pages = all_pages()
    paths = [p.path for p in pages]
    k = paths.index(current) if current in paths else -1
    nxt = pages[(k + 1) % len(pages)]
    st.divider()
    # the link on its own row: a long title ("RNN vs CNN vs MLP vs Transformer") fits a projector's width
    st.page_link(nxt.path, label=f"Next: {nxt.title} →", icon=nxt.icon)
    st.caption(nxt.blurb)


def reset_button(prefix: str, label: str = "↺ Reset this page") -> None:
    """A button that puts every setting of this page (session keys starting with ``prefix``) back to its
    default, in the URL too."""
    pending = f"_reset_{prefix}"
    if pending in st.session_state:
        # A widget bound to the URL (bind="query-params") takes its value back from the URL, and Streamlit
        # refuses to delete a bound parameter: reopen the page with the other parameters only. (Here, not in
        # the callback: the pages are known only once the navigation has run.)
        keep = st.session_state.pop(pending)
        for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
            del st.session_state[k]
        page = _current_page_path()
        if page is not None:
            st.switch_page(page, query_params=keep)

    def _reset():
        # Parameters of other widgets bound to the URL (the sidebar's seed) come back by themselves from their
        # widgets' values, and Streamlit refuses to set them directly: keep only the unbound ones.
        st.session_state[pending] = {k: st.query_params.get_all(k) for k in st.query_params
                                     if not k.startswith(prefix) and k not in st.session_state}
        for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
            del st.session_state[k]
        for k in [k for k in st.query_params if k.startswith(prefix)]:
            with contextlib.suppress(Exception):
                del st.query_params[k]

    st.button(label, key=f"{prefix}_reset_page", on_click=_reset, help="Every setting back to its default.")


def _current_page_path() -> str | None:
    """The registry path of the page being shown (None if it cannot be told)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        for p in all_pages():
            if st.Page(p.path, title=p.title, default=p.default)._script_hash == ctx.page_script_hash:
                return p.path
    except Exception:
        pass
    return None


url_text = link_text          # the pages' name for it


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>])")


def escape_md(text: str) -> str:
    """User text made safe inside st.markdown / captions: no markdown, LaTeX ($) or HTML takes effect."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def plot(fig, key: str | None = None, toolbar: bool = True, summary: str | None = None,
         caption: bool = False) -> None:
    """Draw a Plotly figure at full width. Diagrams pass ``toolbar=False``: no zoom buttons over the drawing.

    Right after it, its text alternative for screen readers: ``summary`` (a page's own sentence, markdown in a
    caption) or else one computed from the figure's data (rnnlab.figures.describe); ``caption=True`` shows it to
    everyone."""
    from rnnlab.figures.describe import describe

    config = {"displaylogo": False, "displayModeBar": "hover" if toolbar else False, "responsive": True}
    st.plotly_chart(presenter.enlarge(fig) if presenter.presenting() else fig, width="stretch", key=key,
                    config=config)
    computed = summary is None
    if computed:
        try:
            summary = describe(fig)
        except Exception as err:   # a text alternative must never break the page that draws the figure
            print(f"rnnlab: no summary for a figure ({type(err).__name__}: {err})")
            summary = ""
    if caption and summary:
        st.caption(escape_md(summary) if computed else summary)   # names like W_hh are not markdown
    elif summary:
        st.html(f'<p class="rnnlab-sr-only" data-rnnlab-summary="{html.escape(key or "", quote=True)}">'
                f"Figure: {html.escape(summary)}</p>")


def intro(text: str) -> None:
    """A page's introduction (markdown): hidden in presenter mode, where the teacher says it."""
    if not presenter.presenting():
        st.markdown(text)


# --- uploads --------------------------------------------------------------------------------------------
def oversize(upload, limit_mb: float, advice: str) -> str | None:
    """The message for an uploaded file over ``limit_mb`` MB, else None. The browser checks the size too,
    but a client can skip the browser: the page checks before it reads a byte."""
    if upload.size <= limit_mb * 1e6:
        return None
    return f"This file is {upload.size / 1e6:.1f} MB; the limit is {limit_mb:g} MB. {advice}"


def upload_digest(upload, key: str) -> str:
    """SHA-256 of an uploaded file, hashed once per upload (remembered in this session under ``key``), not on
    every rerun (40 MB take about 0.1 s): the key of the caches that parse each upload once."""
    memo = st.session_state.get(key)
    if not memo or memo[0] != upload.file_id:
        memo = (upload.file_id, hashlib.sha256(upload.getvalue()).hexdigest())
        st.session_state[key] = memo
    return memo[1]


# --- models ---------------------------------------------------------------------------------------------
def load_shipped_model() -> TextModel | None:
    """The pretrained IMDB model in assets/ (None if it is not there), loaded once per process by the warm-up
    or by the first page that needs it, whichever comes first (the other waits for it)."""
    return process_singleton("shipped-sentiment-model", _load_shipped_model)


def _load_shipped_model() -> TextModel | None:
    from rnnlab.labs.sentiment import fingerprint

    if not (SHIPPED_MODEL / "model.pt").exists():
        return None
    tm = load_text_model(SHIPPED_MODEL, app_device())
    fingerprint(tm)   # the key of the caches all sessions share: hashed here once, not by each first run
    return tm


@st.cache_resource(show_spinner="Loading the pretrained sentiment model…")
def shipped_model() -> TextModel | None:
    """The pretrained IMDB model in assets/, or None if it is not there."""
    return load_shipped_model()


def text_models() -> dict[str, TextModel]:
    """Every text model this session can use: the shipped one, then those trained in this session."""
    models = {}
    shipped = shipped_model()
    if shipped is not None:
        acc = shipped.meta.get("test_accuracy")
        models["Pretrained on IMDB" + (f" ({acc:.1%} test accuracy)" if acc else "")] = shipped
    models.update(st.session_state.get("text_models", {}))
    return models
