"""The codebase's own rules (issue #24): packaging metadata, the linter's configuration, no import hacks,
no god-modules. Each reads the checkout; none writes to it."""
from __future__ import annotations

import ast
import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("rnnlab", "app_pages", "bench", "tests")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts)


def _pins() -> dict[str, str]:
    pins = {}
    for req in ROOT.glob("requirements*.txt"):
        for line in req.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==", line.strip())
            if m:
                pins[m.group(1).lower()] = req.name
    return pins


def test_pyproject_describes_the_package_and_its_console_script():
    project = _pyproject()["project"]
    assert project["name"] == "rnnlab" and project["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    module, _, name = project["scripts"]["rnnlab"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    import rnnlab

    assert project["version"] == rnnlab.__version__


def test_every_dependency_is_pinned_and_every_third_party_import_is_declared():
    """The ranges in pyproject.toml are for a library install; the README's commands install the pins. Both
    must name the same packages, and every package that rnnlab/ imports must be among them."""
    project = _pyproject()["project"]
    declared = {re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    optional = {re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower()
                for extra in project["optional-dependencies"].values() for d in extra}
    pins = _pins()
    assert (declared | optional) <= set(pins), f"not pinned in requirements*.txt: {(declared | optional) - set(pins)}"
    imported = set()
    for path in _sources("rnnlab"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "rnnlab"}
    import_names = {"psycopg": "psycopg", "ray": "ray"}   # import name -> distribution name, where they differ
    missing = {m for m in third_party if import_names.get(m, m).lower() not in declared | optional}
    assert not missing, f"imported by rnnlab/ but not in pyproject.toml's dependencies: {missing}"


def test_the_linter_is_configured_with_the_agreed_rule_sets():
    lint = _pyproject()["tool"]["ruff"]["lint"]
    assert {"E", "F", "W", "I", "B", "UP", "SIM", "RUF100"} <= set(lint["select"])
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("ruff check .") < ci.index("python3 -m pytest -q")


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_sys_path_insert(folder):
    offenders = [str(p.relative_to(ROOT)) for p in _sources(folder)
                 if re.search(r"sys\.path\.(insert|append)\(", p.read_text()) and p.name != Path(__file__).name]
    assert not offenders


def _too_long(folder: str) -> list[str]:
    found = []
    for path in _sources(folder):
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    return found


@pytest.mark.parametrize("folder", ["rnnlab", "app_pages"])
def test_no_module_over_600_lines_and_no_function_over_100(folder):
    assert not _too_long(folder)


def test_the_size_check_sees_a_long_function(tmp_path, monkeypatch):
    """The check above can fail: a module with a 101-line function is caught."""
    body = "\n".join(f"    x{k} = {k}" for k in range(100))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(f"def f():\n{body}\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _too_long("pkg") == ["pkg/m.py:1 f: 101 lines"]
