"""The frame every exported script shares: its docstring, imports, the page's settings as named constants, the
experiment's code (a page module's template), and one function that shows the figure or writes it to a file.

A page module hands :func:`render` plain pieces: constants as :class:`Const` (name, value, the widget's label),
and the body as ordinary Python text that uses those names. Nothing here knows a page; nothing imports Streamlit.
"""
from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH = 120          # the project's line length: generated scripts pass the same linter

SHOW = '''

def figure_file() -> str | None:
    """Where to write the figure instead of opening it in a browser (--html PATH), or None."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", metavar="PATH", help="write the figure to this HTML file instead of showing it")
    return parser.parse_args().html


def show(fig, path: str | None) -> None:
    """Open the figure in a browser (Plotly's fig.show), or write it to ``path`` as a standalone HTML page."""
    if path:
        fig.write_html(path)
        print(f"Figure written to {path}")
    else:
        fig.show()
'''


@dataclass(frozen=True)
class Const:
    """One setting of the page, as the script names it: ``NAME = value  # note``."""
    name: str
    value: Any
    note: str = ""


class Code(str):
    """A constant's value written as code rather than as a literal (``Code('"{:.4g}".format')``)."""


class Settings(Mapping):
    """A page's settings as the session holds them (widget key -> value), with the page's defaults for the keys
    the session lacks (a widget on a tab never opened, a text left as the page wrote it)."""

    def __init__(self, values: Mapping[str, Any] | None, defaults: Mapping[str, Any]):
        self._d = {**defaults, **{k: v for k, v in (values or {}).items() if v is not None}}

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def num(self, key: str, kind=float):
        """A number, even when the session holds it as the text a link carried (``"200"``)."""
        v = self._d[key]
        return kind(float(v)) if kind is int else kind(v)

    def flag(self, key: str) -> bool:
        v = self._d[key]
        return v.lower() == "true" if isinstance(v, str) else bool(v)

    def items_list(self, key: str) -> list:
        v = self._d[key]
        return list(v) if isinstance(v, list | tuple) else [v]


# --- Python literals that fit the line length ------------------------------------------------------------
def literal(value: Any, indent: int = 0) -> str:
    """``value`` as Python source no line of which passes WIDTH (a long text splits into adjacent strings in
    parentheses, a long list one item a line); ``indent``: the columns already taken on the first line."""
    text = _short(value)
    if indent + len(text) <= WIDTH:
        return text
    pad = " " * 4
    if isinstance(value, str):
        chunks = _chunks(value, WIDTH - 8)
        return "(\n" + "\n".join(pad + _short(c) for c in chunks) + "\n)"
    if isinstance(value, list | tuple):
        inner = "\n".join(pad + literal(v, 4).replace("\n", "\n" + pad) + "," for v in value)
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        return f"{opening}\n{inner}\n{closing}"
    return text


def _chunks(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces whose literals fit ``width`` columns (a long word is cut anywhere).

    Linear in the text's length: a word of 10^6 characters once took 16-37 s here (issue 29), as each cut
    copied and re-quoted the whole rest of the word."""
    out, cur = [], ""
    for piece in re.findall(r"\S*\s*", text):
        if len(piece) + 2 > width or len(_short(piece)) > width:     # a word longer than a line
            if cur:
                out.append(cur)
                cur = ""
            start = 0
            # the rest cannot fit while it is longer than the line without its quotes; only then quote it
            while len(piece) - start + 2 > width or len(_short(piece[start:])) > width:
                k = width - 2
                while len(_short(piece[start:start + k])) > width:   # escapes (\n, \x00) take more columns
                    k -= 1
                out.append(piece[start:start + k])
                start += k
            piece = piece[start:]
        if cur and len(_short(cur + piece)) > width:
            out.append(cur)
            cur = ""
        cur += piece
    return out + ([cur] if cur else [])


def _short(value: Any) -> str:
    """``repr``, with strings in double quotes (as the project writes them) wherever that needs no escape."""
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, list | tuple):
        items = ", ".join(_short(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_short(k)}: {_short(v)}" for k, v in value.items()) + "}"
    return repr(value)


def constants(rows: Sequence[Const]) -> str:
    out = []
    for c in rows:
        head = f"{c.name} = "
        value = literal(c.value, len(head))
        line = head + value
        note = f"  # {c.note}" if c.note else ""
        if note and "\n" not in value and len(line + note) <= WIDTH:
            out.append(line + note)
        else:
            if note:
                out += [f"# {c.note}"[:WIDTH]]
            out.append(line)
    return "\n".join(out)


def _wrap(paragraphs: str) -> str:
    """Paragraphs (separated by blank lines) wrapped to the line length; indented lines kept as they are."""
    out = []
    for para in textwrap.dedent(paragraphs).strip().split("\n\n"):
        if para.startswith("    "):
            out.append(para)
        else:
            out.append(textwrap.fill(re.sub(r"\s+", " ", para), WIDTH - 4, break_on_hyphens=False))
    return "\n\n".join(out)


def render(*, title: str, about: str, page_title: str, file_name: str, imports: Sequence[str],
           consts: Sequence[Const], body: str) -> str:
    """The whole script. ``imports``: import lines (third-party and rnnlab ones; sorted here as the linter
    wants); ``body``: the experiment, top to bottom, ending with ``show(fig, html)``."""
    usage = (f'Made on rnnlab\'s "{page_title}" page ("This experiment as a Python script") with the page\'s '
             "settings, written below as constants, and its seed. Run it where rnnlab is installed (`pip install "
             f"-e .` in rnnlab's folder, as its README says): `python3 {file_name}` prints the page's numbers and "
             f"opens the figure in a browser; `python3 {file_name} --html figure.html` writes it to a file instead.")
    doc = _wrap(f"{title}\n\n{about}\n\n{usage}").replace("\\", "\\\\")
    lines = _merged(["import argparse", *imports])
    sections = [[i for i in lines if _section(i) == k] for k in range(3)]      # stdlib, third-party, rnnlab
    blocks = ["\n".join(map(_wrapped, b)) for b in sections if b]
    main = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return (f'"""{doc}\n"""\n' + "\n\n".join(blocks) + "\n\n# The page's settings when the script was made\n"
            + constants(consts) + "\n\n\ndef main() -> None:\n    html = figure_file()    # None: show the figure\n"
            + main + "\n\n\n# --- where the figure goes " + "-" * (WIDTH - 28) + "\n" + SHOW.strip("\n")
            + '\n\n\nif __name__ == "__main__":\n    main()\n')


def _wrapped(line: str) -> str:
    """A ``from m import a, b`` line longer than WIDTH in the linter's (isort's) wrapped form."""
    if len(line) <= WIDTH or not line.startswith("from "):
        return line
    head, names = line.split(" import ", 1)
    return head + " import (\n" + "".join(f"    {n.strip()},\n" for n in names.split(",")) + ")"


def _merged(imports: Sequence[str]) -> list[str]:
    """Import lines as the linter (isort) wants them: one line per module, names in its order, ``import x``
    lines before ``from x import y`` ones."""
    plain, names = set(), {}
    for line in imports:
        if line.startswith("from "):
            module, _, listed = line[5:].partition(" import ")
            names.setdefault(module, set()).update(n.strip() for n in listed.split(","))
        else:
            plain.add(line)
    froms = [f"from {m} import " + ", ".join(sorted(ns, key=_name_key)) for m, ns in names.items()]
    return sorted(plain, key=_import_key) + sorted(froms, key=_import_key)


def _name_key(name: str) -> tuple:
    # isort's order-by-type: CONSTANTS, then Classes, then functions
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def _section(line: str) -> int:
    top = line.split()[1].split(".")[0]
    return 0 if top in sys.stdlib_module_names else 2 if top == "rnnlab" else 1


def _import_key(line: str) -> tuple:
    return line.startswith("from "), line.split()[1].lower()
