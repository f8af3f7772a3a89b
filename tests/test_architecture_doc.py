"""docs/ARCHITECTURE.md against the code (issue #24), so that the map cannot go stale silently:

- the widget-key registry lists every key prefix the pages use (``key="prefix_…"``, ``key=f"prefix_…"``), each
  with the page file that uses it, and no prefix that nothing uses; its URL column names keys that exist, and
  every key a page binds to the URL (``bind="query-params"``, ``url_text``, ``st.query_params``);
- the page map has one row per page registered in the navigation (``PageInfo("app_pages/….py", …)`` /
  ``st.Page("app_pages/….py", …)``), and each row names exactly the lab and figure modules that page imports
  or submits jobs to, and job functions that its labs define;
- every ``rnnlab/…``, ``app_pages/…``, ``bench/…`` or ``tests/…`` path and every ``rnnlab.x.y`` module the
  document names exists, except a name marked "(being moved)" or "(being added)", which must not exist yet.

Reads files and asks importlib where a module is; writes nothing (no bytecode either).
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PAGE_DIR = ROOT / "app_pages"

KEY = re.compile(r"""\bkey\s*=\s*f?(["'])([a-z][a-z0-9]*_)""")
REGISTERED = re.compile(r"""\b(?:PageInfo|st\.Page|Page)\(\s*(["'])(app_pages/[\w/]+\.py)\1""")
CODE = re.compile(r"`([^`]+)`")
PATH = re.compile(r"(?<![\w./-])((?:rnnlab|app_pages|bench|tests)/[\w./<>*{}-]*)")
MODULE = re.compile(r"(?<![\w./-])(rnnlab(?:\.[a-z_][a-z0-9_]*)+)(?::([A-Za-z_]\w*))?")
MARK = re.compile(r"^`?\s*\((?:being moved|being added)\)")
LAB_OR_FIGURE = re.compile(r"^rnnlab\.(?:labs|figures)\.[a-z_][a-z0-9_]*$")
JOB_TARGET = re.compile(r"^(rnnlab\.labs\.[a-z_][a-z0-9_]*)(?:\.[a-z_][a-z0-9_]*)*:")


# --- reading the document ---------------------------------------------------------------------------------
def doc_text() -> str:
    assert DOC.is_file(), "docs/ARCHITECTURE.md is missing"
    return DOC.read_text(encoding="utf-8")


def section(text: str, words: str) -> str:
    """The text under the first ``##`` heading that contains ``words``, up to the next ``##`` heading."""
    parts = re.split(r"^(##\s.*)$", text, flags=re.M)
    for k in range(1, len(parts), 2):
        if words.lower() in parts[k].lower():
            return parts[k + 1]
    raise AssertionError(f"docs/ARCHITECTURE.md has no '## …{words}…' section")


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first markdown table in ``text``, as lists of cell texts."""
    rows, started = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                rows.append(cells)
        elif started:
            break
    assert rows, "no table found"
    return rows[1:]      # without the header


def spans(cell: str) -> list[str]:
    return CODE.findall(cell)


# --- reading the code -------------------------------------------------------------------------------------
def page_sources() -> dict[str, str]:
    return {f"app_pages/{p.name}": p.read_text(encoding="utf-8") for p in sorted(PAGE_DIR.glob("*.py"))}


def prefixes_in_code() -> dict[str, set[str]]:
    """Widget-key prefix -> the page files whose ``key="…"`` / ``key=f"…"`` arguments start with it."""
    found: dict[str, set[str]] = {}
    for path, src in page_sources().items():
        for m in KEY.finditer(src):
            found.setdefault(m.group(2), set()).add(path)
    return found


def registered_pages() -> list[str]:
    found = []
    for f in [ROOT / "app.py", *sorted(PAGE_DIR.glob("*.py"))]:
        found += [m.group(2) for m in REGISTERED.finditer(f.read_text(encoding="utf-8"))]
    return list(dict.fromkeys(found))


def _render(node: ast.AST) -> str | None:
    """A key expression as the registry writes it: ``"a_b"``, ``f"ar_{section}_cell"``, ``"mem_x_" + …``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _render(node.left)
        return None if left is None else left + "…"
    return None


def url_keys_in_code(src: str) -> set[str]:
    """Keys a page keeps in its link: bound widgets, ``url_text`` texts, ``st.query_params`` reads and writes."""
    keys = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Call):
            kw = {k.arg: k.value for k in node.keywords}
            bind = kw.get("bind")
            if "key" in kw and isinstance(bind, ast.Constant) and bind.value == "query-params":
                keys.add(_render(kw["key"]))
            name = ast.unparse(node.func)
            if name in ("url_text", "keep_text_in_url", "st.query_params.get") and node.args:
                keys.add(_render(node.args[0]))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "st.query_params":
            keys.add(_render(node.slice))
    return {k for k in keys if k}


def used_modules(src: str) -> set[str]:
    """The ``rnnlab.labs.X`` / ``rnnlab.figures.X`` modules a page imports or names as a job target."""
    found = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[:2] in (["rnnlab", "labs"], ["rnnlab", "figures"]):
                if len(parts) >= 3:
                    found.add(".".join(parts[:3]))
                else:
                    found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[:2] in (["rnnlab", "labs"], ["rnnlab", "figures"]) and len(parts) >= 3:
                    found.add(".".join(parts[:3]))
        elif isinstance(node, (ast.Constant, ast.JoinedStr)):
            text = _render(node) if isinstance(node, ast.JoinedStr) else node.value
            if isinstance(text, str) and (m := JOB_TARGET.match(text)):
                found.add(m.group(1))
    return found


def module_files(module: str) -> list[Path]:
    base = ROOT.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    return sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def defines(module: str, name: str) -> bool:
    return any(re.search(rf"^def {re.escape(name)}\(", f.read_text(encoding="utf-8"), re.M)
               for f in module_files(module))


@contextlib.contextmanager
def no_bytecode():
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def module_exists(name: str) -> bool:
    with no_bytecode():
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False


def attribute_exists(module: str, name: str) -> bool:
    with no_bytecode():
        try:
            return hasattr(importlib.import_module(module), name)
        except ImportError:
            return False


# --- the scanners see what they must (a scan that finds nothing would make the checks vacuous) -------------
def test_scanners_see_their_patterns():
    src = 'a(key="sent_x"); b(key=f"ar_{s}_cell", bind="query-params"); c(key=f"{prefix}_reset"); d(key="seed")'
    assert [m.group(2) for m in KEY.finditer(src)] == ["sent_", "ar_"]
    assert url_keys_in_code(src) == {"ar_{s}_cell"}
    assert [m.group(2) for m in REGISTERED.finditer('PageInfo("app_pages/home.py", "t")')] == ["app_pages/home.py"]
    text = "see `rnnlab/labs/` and rnnlab.labs.sentiment:sentiment_job, `app_pages/<page>.py`."
    assert PATH.findall(text) == ["rnnlab/labs/", "app_pages/<page>.py"]
    assert MODULE.findall(text) == [("rnnlab.labs.sentiment", "sentiment_job")]
    assert len(prefixes_in_code()) >= 10 and len(registered_pages()) >= 10


# --- (a) the widget-key registry --------------------------------------------------------------------------
def registry() -> dict[str, tuple[set[str], list[str]]]:
    """prefix -> (its page files, its URL keys in full)."""
    out = {}
    for row in table_rows(section(doc_text(), "widget-key registry")):
        assert len(row) >= 3, f"registry row {row} needs prefix | page | URL keys"
        names = [s for s in spans(row[0]) if re.fullmatch(r"[a-z][a-z0-9]*_", s)]
        assert len(names) == 1, f"registry row {row[0]!r}: the first cell is one `prefix_`"
        prefix = names[0]
        assert prefix not in out, f"prefix {prefix} has two rows"
        pages = {s for s in spans(row[1]) if s.startswith("app_pages/")}
        url = spans(row[2])
        out[prefix] = (pages, [prefix + k for k in url[0].split()] if url else [])
    return out


def test_every_prefix_in_the_pages_is_in_the_registry_and_every_listed_one_is_used():
    in_code, in_doc = prefixes_in_code(), registry()
    missing = sorted(set(in_code) - set(in_doc))
    assert not missing, f"widget-key prefixes used in app_pages/ but not in the registry of docs/ARCHITECTURE.md: " \
                        f"{missing} (a new page's prefix gets a row)"
    unused = sorted(set(in_doc) - set(in_code))
    assert not unused, f"prefixes in the registry that no page uses any more: {unused}"
    for prefix, files in in_code.items():
        assert in_doc[prefix][0] == files, f"{prefix}: the registry says {sorted(in_doc[prefix][0])}, " \
                                           f"the keys are in {sorted(files)}"


def test_registry_url_keys_match_the_pages():
    sources = page_sources()
    for prefix, (pages, listed) in registry().items():
        src = "\n".join(sources[p] for p in pages)
        for key in listed:
            stem = key.rstrip("…")
            assert re.search(r"""["']""" + re.escape(stem), src), f"URL key {key} of the registry is not in {pages}"
        bound = {k for k in url_keys_in_code(src) if k.startswith(prefix)}
        assert not bound - set(listed), f"{sorted(pages)} keeps {sorted(bound - set(listed))} in the URL; " \
                                        "the registry's row does not list them"


# --- (b) the page map -------------------------------------------------------------------------------------
def page_map() -> dict[str, list[str]]:
    rows = {}
    for row in table_rows(section(doc_text(), "page → lab → figure map")):
        files = [s for s in spans(" ".join(row)) if re.fullmatch(r"app_pages/[\w/]+\.py", s)]
        assert len(files) == 1, f"page-map row {row[0]!r} names {files}: one page file per row"
        assert files[0] not in rows, f"{files[0]} has two rows in the page map"
        rows[files[0]] = row
    return rows


def test_every_registered_page_is_in_the_page_map():
    registered, mapped = registered_pages(), page_map()
    for path in registered:
        assert (ROOT / path).is_file(), f"the navigation registers {path}, which does not exist"
    missing = [p for p in registered if p not in mapped]
    assert not missing, f"pages in the navigation but not in the page map of docs/ARCHITECTURE.md: {missing}"
    extra = sorted(set(mapped) - set(registered))
    assert not extra, f"page-map rows for files the navigation does not register: {extra}"


@pytest.mark.parametrize("page", registered_pages())
def test_page_map_row_names_what_the_page_uses(page):
    row = page_map().get(page)
    if row is None:
        pytest.skip("not in the map (reported by the test above)")
    listed = {s for s in spans(" ".join(row)) if LAB_OR_FIGURE.match(s)}
    used = used_modules((ROOT / page).read_text(encoding="utf-8"))
    assert listed == used, f"{page}: the map names {sorted(listed - used)} that the page does not use, and misses " \
                           f"{sorted(used - listed)}"
    labs = [m for m in listed if m.startswith("rnnlab.labs.")]
    for job in (s for s in spans(row[-1]) if re.fullmatch(r"[a-z_]+_job", s)):
        assert any(defines(m, job) for m in labs), f"{page}: no lab of its row defines {job}"


# --- (c) every name in the document exists ----------------------------------------------------------------
def _marked(text: str, end: int) -> bool:
    return bool(MARK.match(text[end:end + 20].lstrip(" ")))


def named_paths(text: str) -> list[tuple[str, bool]]:
    out = []
    for m in PATH.finditer(text):
        token = m.group(1).rstrip(".,;:")
        if not any(c in token for c in "<>*{}"):
            out.append((token, _marked(text, m.end())))
    return out


def named_modules(text: str) -> list[tuple[str, str | None, bool]]:
    return [(m.group(1), m.group(2), _marked(text, m.end())) for m in MODULE.finditer(text)]


def test_every_path_named_exists():
    text = doc_text()
    paths = named_paths(text)
    assert len(paths) >= 10
    for path, marked in paths:
        exists = (ROOT / path).exists() and (not path.endswith("/") or (ROOT / path).is_dir())
        if marked:
            assert not exists, f"{path} exists now: drop its '(being moved/added)' mark in docs/ARCHITECTURE.md"
        else:
            assert exists, f"docs/ARCHITECTURE.md names {path}, which does not exist (mark a planned name " \
                           "'(being moved)' or fix the name)"


def test_every_module_named_exists():
    modules = named_modules(doc_text())
    assert len(modules) >= 10
    for module, attribute, marked in modules:
        exists = module_exists(module) and (attribute is None or attribute_exists(module, attribute))
        name = module + (f":{attribute}" if attribute else "")
        if marked:
            assert not exists, f"{name} exists now: drop its '(being moved/added)' mark in docs/ARCHITECTURE.md"
        else:
            assert exists, f"docs/ARCHITECTURE.md names {name}, which cannot be imported"
