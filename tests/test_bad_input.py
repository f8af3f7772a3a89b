"""Issue 29: every text box, number input, slider, select, uploader, tab and link parameter of every page,
fed what a mischievous student sends (Hypothesis, seeded: a failure names its input and reproduces).

For each page, each *scene* (every tab, and the settings in ``badinput.REVEAL`` that show more controls) is
opened in AppTest; every widget found there gets a drawn value, the page reruns, and the widget is put back.
Then the page is opened from a link whose every parameter carries a drawn value. The property after each
run: no uncaught exception, no traceback text, the run within ``BOUND_S`` seconds; text that is not readable
(``rnnlab.inputs.readable``) is answered by a message on the page, and so is every upload here (none is a
usable file) and every link value the page cannot use. Finally every widget key and link key in the page's
source must have been exercised (the test prints how many it found per page).

CI runs ``RNNLAB_BAD_INPUT_EXAMPLES`` = 1 example per page (each example sweeps every widget of every scene);
``python -m bench.bad_input`` runs many more with other seeds."""
from __future__ import annotations

import os
import re

import badinput as B
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as hs

from app_pages.common import all_pages
from rnnlab.inputs import InputError, parse_number, readable

EXAMPLES = int(os.environ.get("RNNLAB_BAD_INPUT_EXAMPLES", "1"))
SEED = int(os.environ.get("RNNLAB_BAD_INPUT_SEED", "29"))
BOUND_S = float(os.environ.get("RNNLAB_BAD_INPUT_BOUND_S", "20"))
PAGES = [p.path for p in all_pages()]
#: text boxes where nothing at all is a fine answer (a nickname is optional; a blank password is just wrong)
OPTIONAL_TEXT = {"nickname", "teacher_attempt",
                 "teacher_imdb", "teacher_code"}      # no IMDB folder, no class code: both mean "none"
#: controls whose odd value asks for a message: put back after each, so that the next one's message is its own
ASKS = ("text_input", "text_area", "file_uploader")
#: link parameters a page reads itself: (kind, lowest, highest)
PAGE_LINKS = {"tg_draw": ("int", 0, 10 ** 6), "st_t": ("int", 1, None), "present": ("flag", None, None)}


def _scenes(page: str, at, tab_key: str | None) -> list[dict]:
    scenes = [{}]
    if tab_key:
        scenes = [{"state": {tab_key: t.label}} for t in at.tabs if t.label] or [{}]
    return scenes + [dict(e) for e in B.REVEAL.get(page, [])]


def _find(at, kind: str, key: str):
    for w in getattr(at, kind):
        if getattr(w, "key", None) == key:
            return w
    return None


def _new_messages(at, before: set[str]) -> list[str]:
    return [m for m in B._messages(at) if m not in before]


def _name(scene: dict) -> str:
    return " ".join(f"{k}={v}" for part in ("state", "query") for k, v in scene.get(part, {}).items()) + \
        (f" +{scene['click']}" if scene.get("click") else "")


def _exercise_widgets(page: str, scene: dict, data, report: B.Report, done: set, specs: dict, tab_key) -> None:
    at = B.open_scene(page, scene, tab_key)
    where = _name(scene)
    if not B.check_run(at, report, page, f"open {where}", "", 0.0, BOUND_S * 10):
        return
    first_page = page == PAGES[0]
    keys = [(w.type, w.key) for w in B.widgets_of(at)]
    for kind, key in keys:
        if key in done or (key in B.SIDEBAR and not first_page):
            continue
        w = _find(at, kind, key)
        if w is None:                                  # gone after an earlier widget's value: found again later
            continue
        specs[key] = _spec(w)
        before = set(B._messages(at))
        unchanged = getattr(w, "value", None)
        restore = None if kind == "file_uploader" else B.current_state(w)
        value = B.draw_for(w, data, f"{page} [{where}] {key}")
        done.add(key)
        report.exercised.setdefault(page, set()).add(key)
        if not B.apply(w, value):
            continue
        seconds = B.timed_run(at)
        what = f"{kind} {key} [{where}]"
        if B.check_run(at, report, page, what, value, seconds, BOUND_S):
            asks = kind == "file_uploader" or (B.needs_message(w, value) and key not in OPTIONAL_TEXT)
            said = _new_messages(at, before) or (value == unchanged and B._messages(at))   # already said
            if asks and not said:
                report.findings.append(B.Finding(page, what, repr(value)[:80], "no message for an unusable value"))
        back = None if at.exception else _find(at, kind, key)
        if back is None:
            at = B.open_scene(page, scene, tab_key)
            continue
        if kind not in ASKS and {w.key for w in B.widgets_of(at)} >= {k for _, k in keys}:
            continue              # nothing hidden: the odd value stays, and the next control meets it too
        if kind == "file_uploader":
            B.apply(back, None)
        else:
            B.send(back, restore)
        B.check_run(at, report, page, f"{what} put back", "", B.timed_run(at), BOUND_S)
        if at.exception:
            at = B.open_scene(page, scene, tab_key)


def _spec(w) -> dict:
    spec = {"kind": w.type, "label": getattr(w, "label", "") or ""}
    if w.type in ("number_input", "slider"):
        spec.update(lo=getattr(w, "min", None), hi=getattr(w, "max", None),
                    integer=getattr(getattr(w, "proto", None), "data_type", 1) == 0)
    elif w.type in ("selectbox", "radio", "select_slider", "multiselect"):
        spec["options"] = [str(o) for o in w.options]
    elif w.type == "button_group":
        spec["options"] = [getattr(o, "content", str(o)) for o in w.options]
    elif w.type in ("text_input", "text_area"):
        spec["max_chars"] = getattr(w.proto, "max_chars", 0) or None
    return spec


def _usable(key: str, raw: str, spec: dict | None, tab_labels: list[str], tab_key: str | None) -> bool | None:
    """Whether a link's value for ``key`` can be used (None: any text can; the page judges it)."""
    if key == tab_key:
        return raw in tab_labels
    if key in PAGE_LINKS:
        kind, lo, hi = PAGE_LINKS[key]
        if kind == "flag":
            return raw.strip().lower() in ("1", "0", "true", "false", "yes", "no", "on", "off")
        spec = {"kind": "number_input", "lo": lo, "hi": hi, "integer": True}
    if spec is None:
        return None
    kind = spec["kind"]
    if kind in ("number_input", "slider"):
        try:
            parse_number(raw, spec["lo"], spec["hi"], integer=spec["integer"])
        except InputError:
            return False
        return True
    if kind in ("selectbox", "radio", "select_slider", "multiselect", "button_group"):
        return raw in spec["options"]
    if kind in ("checkbox", "toggle"):
        return raw.lower() in ("true", "false")
    return None


def _exercise_links(page: str, scenes: list[dict], query: dict, report: B.Report, specs: dict,
                    tab_key: str | None, tab_labels: list[str]) -> None:
    """The page opened from links whose every parameter carries a drawn value, once per scene (a control
    reads its link where it is drawn): each value the page cannot use must be answered somewhere."""
    bad, answered_somewhere = {}, set()
    for scene in [{}] + scenes:                               # {}: the link alone chooses the tab too
        fixed = {**scene.get("state", {}), **scene.get("query", {})}
        link = {k: v for k, v in query.items() if k not in fixed}
        at = B.open_scene(page, {**scene, "query": {**scene.get("query", {}), **link}}, tab_key)
        report.links.setdefault(page, set()).update(link)
        if not B.check_run(at, report, page, f"link [{_name(scene)}]", repr(link)[:300], 0.0, BOUND_S * 10):
            continue
        said = " ".join(B._messages(at))
        # Controls a training reveals are drawn runs after the link was opened (Streamlit reads a link's values
        # on the page's first run): there the property is only that nothing breaks.
        drawn = {w.key for w in B.widgets_of(at)} if not scene.get("click") else set()
        for key, raw in link.items():
            if key in B.SIDEBAR and page != PAGES[0]:
                continue
            spec = specs.get(key)
            ok = _usable(key, raw, spec, tab_labels, tab_key)
            names = [n[:60] for n in ([key, spec["label"]] if spec else [key]) if n]
            answered = any(n in said for n in names) or (key in PAGE_LINKS and "link" in said) or \
                (key == tab_key and "The link's value for the tab" in said)
            if ok is None and spec and spec["kind"] in ("text_input", "text_area") and key in drawn:
                if not readable(raw) and key not in OPTIONAL_TEXT and not said:
                    report.findings.append(B.Finding(page, f"link {key}", raw, "no message for unreadable text"))
            elif ok is False and (key in drawn or key in PAGE_LINKS or (key == tab_key and len(at.tabs))):
                if answered:
                    answered_somewhere.add(key)
                else:
                    bad[key] = raw
    for key in bad.keys() - answered_somewhere:
        report.findings.append(B.Finding(page, f"link {key}", bad[key], "an unusable link value without a message"))


def _check_coverage(page: str, report: B.Report) -> list[str]:
    widgets, links, _ = B.source_keys(page)
    done = report.exercised.get(page, set())
    missed = []
    for pattern in widgets:
        if pattern in B.SIDEBAR or pattern in B.NOT_HERE:
            continue
        if not any(re.fullmatch(pattern, k) for k in done):
            missed.append(f"widget {pattern}")
    for key in links:
        if not any(re.fullmatch(key, k) for k in report.links.get(page, set())) and key not in B.NOT_HERE:
            missed.append(f"link {key}")
    return missed


@pytest.fixture
def board_rows(request):
    """A few runs on the class board (its filters are drawn only when there are runs), removed afterwards."""
    if "board" not in request.node.name:
        yield
        return
    from rnnlab.runtime import board as RB
    from rnnlab.runtime.database import runs

    b = RB.shared_board()
    ids = [b.record({"lab": lab, "task": "adding", "cell": cell, "params": {"T": T, "hidden": 32}, "seed": s,
                     "device": "CPU", "wall_seconds": 2.0, "end_state": state, "metrics": {"accuracy": acc},
                     "epochs": 2, "nickname": "issue 29", "class_code": ""})
           for lab, cell, T, s, state, acc in [("longrange", "LSTM", 50, 0, "finished", 0.9),
                                               ("longrange", "RNN", 100, 1, "diverged", float("nan")),
                                               ("forecast", "GRU", 10, 2, "finished", 0.5)]]
    yield
    with b.engine.begin() as conn:
        conn.execute(runs.delete().where(runs.c.id.in_(ids)))


@pytest.mark.parametrize("page", PAGES)
def test_every_control_and_link_of_the_page_survives_odd_values(page, capsys, board_rows, monkeypatch):
    monkeypatch.setenv("RNNLAB_TEACHER_PASSWORD", "issue 29")       # the Teacher page draws its box
    B.patch_apptest()
    report = B.Report()
    _, source_links, tab_key = B.source_keys(page)
    first = B.open_page(page)
    assert not first.exception, [e.value for e in first.exception]
    tab_labels = [t.label for t in first.tabs if t.label] if tab_key else []
    scenes = _scenes(page, first, tab_key)
    links = source_links | ({"seed", "nickname", "present"} if page == PAGES[0] else set())

    @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(SEED)
    @given(data=hs.data())
    def sweep(data):
        done, specs = set(), {}
        for scene in scenes:
            _exercise_widgets(page, scene, data, report, done, specs, tab_key)
        patterns = [k for k in links if ".+" in k]              # f-string keys: the concrete ones drawn here
        keys = {k for k in links if ".+" not in k} | {k for k in done if any(re.fullmatch(p, k) for p in patterns)}
        query = {k: data.draw(B.link_values(f"{SEED} {k}"), label=f"{page} ?{k}=") for k in sorted(keys)}
        _exercise_links(page, scenes, query, report, specs, tab_key, tab_labels)

    sweep()
    missed = _check_coverage(page, report)
    with capsys.disabled():
        print(f"\n{page}: {len(scenes)} scenes, {len(report.exercised.get(page, ()))} controls, "
              f"{len(report.links.get(page, ()))} link parameters, {report.runs} runs, slowest "
              f"{report.slowest[0]:.1f} s ({report.slowest[1]})")
    assert not report.findings, "\n".join(map(str, report.findings))
    assert not missed, f"{page}: in the source but never exercised here: {missed}"


# --- regression tests, each naming the input that found a defect ------------------------------------------
@pytest.mark.parametrize("raw", ["inf", "-inf", "1e999"])
def test_a_seed_of_inf_in_the_link_opens_the_page_with_a_message(raw):
    """``?seed=inf``: Streamlit's whole-number input ran ``int(float("inf"))`` on the link's value, an uncaught
    OverflowError before any page code, on every page (the seed is in the sidebar of each)."""
    at = B.open_page("app_pages/gradients.py", query={"seed": raw})
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="seed").value == 0
    assert any("Global seed" in m and "not a" in m for m in B._messages(at)), B._messages(at)


@pytest.mark.parametrize("sent", [float("nan"), float("inf")])
def test_a_sent_nan_or_inf_for_a_whole_number_input_is_put_back_to_its_default(sent):
    """A client that sends ``nan`` or ``inf`` for the seed (no browser does; any client may): Streamlit ran
    ``int()`` on it while checking for changed widgets, before the page, and raised."""
    at = B.open_page("app_pages/home.py")
    at.number_input(key="seed").set_value(sent).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="seed").value == 0


@pytest.mark.parametrize(("key", "raw", "said"), [("gr_T", "²", "not a number"), ("gr_T", "9e9", "outside"),
                                                   ("gr_cell_hm", "", None), ("gr_scale", "cubic", "not one of")])
def test_a_links_unusable_value_for_a_control_is_refused_with_a_message(key, raw, said):
    at = B.open_page("app_pages/gradients.py", query={key: raw})
    assert not at.exception, [e.value for e in at.exception]
    messages = " ".join(B._messages(at))
    if said:
        assert "The link's value for" in messages and said in messages, messages
    else:                                         # a parameter no control reads is left alone
        assert "The link's" not in messages


def test_a_links_usable_values_are_taken_without_a_message():
    at = B.open_page("app_pages/gradients.py", query={"gr_T": "٣٠", "seed": "7"})
    assert not at.exception
    assert at.slider(key="gr_T").value == 30 and at.number_input(key="seed").value == 7
    assert not any("The link's" in m for m in B._messages(at))
