"""The house keeps its shape (issue 19): imports flow down the layers, no circles, no module over 600 lines.

Layers, bottom to top (docs/design.md has the picture)::

    common < domain < store < intake < archive < (reports, sync) < samples < cli < entry

A module of ``onestop/`` may import its own package and the packages below it, never one above (and
``reports`` and ``sync``, side by side, not each other). Between modules there is no circle, inside a
package or across packages. Every import counts, at any depth: a function-level ``import`` is the
usual way a circle is hidden, and it still ties the two modules together.

An import under ``if TYPE_CHECKING:`` (annotations only, never run) counts for the layers, not for the
circles.

Read with ``ast`` only: nothing of onestop is imported, so a broken import cannot hide a violation.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "onestop"
MAX_LINES = 600

# The rank of each part; equal ranks are siblings that may not import each other.
LAYERS = {
    "common": 0,
    "domain": 1,
    "store": 2,
    "intake": 3,
    "archive": 4,
    "reports": 5,
    "sync": 5,
    "samples": 6,
    "cli": 7,
    "entry": 8,
}
# onestop/__init__.py (the version) is below everything; onestop/__main__.py (`python -m onestop`) is the
# entry point's twin.
TOP_LEVEL = {"onestop": "common", "onestop.__main__": "entry", "onestop.entry": "entry"}

# Known violations on their way out: empty since issue 19 landed. An entry names an import or a long
# module that an open issue removes; one that is no longer seen fails the test, so the lists cannot go stale.
PENDING_UPWARD: set[tuple[str, str]] = set()
PENDING_LONG: set[str] = set()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module, dotted (the most specific module that exists)
    line: int
    typing_only: bool = False  # under ``if TYPE_CHECKING:``: for annotations, never run

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module under ``root``, by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([package, *parts])] = path
    return out


def imports(root: Path, package: str) -> list[Import]:
    """Every import of a module of ``package`` by a module of ``package``, at any depth.

    ``from a.b import c`` names the module ``a.b.c`` when it exists, else ``a.b`` (c is a name in it).
    Relative imports are resolved; ``importlib.import_module("...")`` and ``__import__("...")`` with a
    literal name count as imports too."""
    mods = modules(root, package)
    found = set()
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block)
                       for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
            elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)
                  and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                       or (isinstance(node.func, ast.Name) and node.func.id == "__import__"))):
                targets = [node.args[0].value]
            for target in targets:
                while target and target not in mods and "." in target:
                    target = target.rpartition(".")[0]  # `import onestop.x.y` of a name: its module
                if target in mods and target != name:
                    found.add(Import(name, target, node.lineno, id(node) in typing_only))
    return sorted(found, key=lambda i: (i.source, i.line, i.target))


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def part(module: str, package: str = "onestop") -> str:
    """The layer a module belongs to: ``onestop.store.codes`` -> ``store``."""
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    return module.split(".")[1]


def upward(found: list[Import], layers: dict[str, int] = LAYERS) -> list[Import]:
    """Imports of a higher layer, or of a sibling layer (reports <-> sync)."""
    bad = []
    for imp in found:
        src, dst = part(imp.source), part(imp.target)
        if src != dst and layers[dst] >= layers[src]:
            bad.append(imp)
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(out)


def describe_cycle(comp: list[str], found: list[Import], key=lambda m: m) -> str:
    """The imports that tie one circle together, one a line."""
    members = set(comp)
    lines = [str(i) for i in found if key(i.source) in members and key(i.target) in members
             and key(i.source) != key(i.target)]
    return " <-> ".join(comp) + ":\n    " + "\n    ".join(lines)


def check(root: Path, package: str = "onestop", pending: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Everything wrong with the import graph under ``root``, one message each (empty: all is well)."""
    found = imports(root, package)
    problems = []
    for imp in upward(found):
        if (imp.source, imp.target) not in pending:
            problems.append(f"up a layer: {imp} ({part(imp.source)} may not import {part(imp.target)})")
    # An annotation-only import (``if TYPE_CHECKING:``) still may not run up a layer, but it ties no
    # circle: it never runs (the SQLite schema names the SQLite store's class for its type hints).
    live = [i for i in found if (i.source, i.target) not in pending and not i.typing_only]
    module_edges: dict[str, set[str]] = {}
    part_edges: dict[str, set[str]] = {}
    for imp in live:
        module_edges.setdefault(imp.source, set()).add(imp.target)
        if part(imp.source) != part(imp.target):
            part_edges.setdefault(part(imp.source), set()).add(part(imp.target))
    for comp in cycles(part_edges):
        # The imports to undo are those that run up (or sideways); the many downward ones are the rule.
        problems.append("circle between packages: " + describe_cycle(comp, upward(live), part))
    for comp in cycles(module_edges):
        problems.append("circle between modules: " + describe_cycle(comp, live))
    return problems


# --- the real package ---------------------------------------------------------------------------------


def test_every_part_has_a_layer():
    unknown = sorted({part(m) for m in modules(ROOT, "onestop")} - set(LAYERS))
    assert not unknown, f"packages without a layer in LAYERS (add them, and to docs/design.md): {unknown}"


def test_imports_flow_down_without_circles():
    problems = check(ROOT, pending=PENDING_UPWARD)
    assert not problems, "\n".join(problems)


def test_pending_lists_are_current():
    """An entry of PENDING_* that no longer happens is removed, so the lists shrink to empty."""
    seen = {(i.source, i.target) for i in upward(imports(ROOT, "onestop"))}
    assert not PENDING_UPWARD - seen, f"fixed, remove from PENDING_UPWARD: {sorted(PENDING_UPWARD - seen)}"
    long = {p for p in PENDING_LONG
            if (ROOT / p).exists() and len((ROOT / p).read_text(encoding="utf-8").splitlines()) > MAX_LINES}
    assert long == PENDING_LONG, f"split or gone, remove from PENDING_LONG: {sorted(PENDING_LONG - long)}"


def test_no_module_over_600_lines():
    long = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in PENDING_LONG:
            long.append(f"onestop/{rel}: {n} lines")
    assert not long, f"modules over {MAX_LINES} lines (split along the code's seams):\n" + "\n".join(long)


# --- the checker itself, on small packages built for the test -----------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "onestop"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in [p for p in root.rglob("*") if p.is_dir()]:
        (folder / "__init__.py").touch()
    return root


CLEAN = {
    "common/text.py": "import re\n",
    "domain/codes.py": "from onestop.common import text\n",
    "store/codes.py": "from onestop.domain.codes import x\nfrom . import sqlite\n",
    "store/sqlite.py": "from ..common.text import fold\n",
    "cli/__init__.py": "def main():\n    from onestop.store import codes\n",
    "entry.py": "def main():\n    import onestop.cli\n",
}


def test_checker_passes_a_clean_package(tmp_path):
    assert check(_package(tmp_path, CLEAN)) == []


@pytest.mark.parametrize("name, extra, expected", [
    ("upward at module level", {"common/text.py": "from onestop.domain import codes\n"},
     ["up a layer: onestop.common.text (line 1) imports onestop.domain.codes (common may not import domain)",
      "circle between packages: common <-> domain",
      "circle between modules: onestop.common.text <-> onestop.domain.codes"]),
    ("upward inside a function (the CLI's circle with entry)",
     {"cli/__init__.py": "def main():\n    from onestop.store import codes\n\ndef go():\n    from onestop import entry\n"},
     ["up a layer: onestop.cli (line 5) imports onestop.entry (cli may not import entry)",
      "circle between packages: cli <-> entry",
      "circle between modules: onestop.cli <-> onestop.entry"]),
    ("circle between two modules of one package (relative imports)",
     {"store/sqlite.py": "from ..common.text import fold\nfrom .codes import y\n"},
     ["circle between modules: onestop.store.codes <-> onestop.store.sqlite"]),
    ("circle over three modules by importlib",
     {"domain/a.py": "import onestop.domain.b\n", "domain/b.py": "from onestop.domain import c\n",
      "domain/c.py": "import importlib\nimportlib.import_module('onestop.domain.a')\n"},
     ["circle between modules: onestop.domain.a <-> onestop.domain.b <-> onestop.domain.c"]),
    ("an annotation-only import of a higher layer",
     {"domain/codes.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from onestop.store.codes import x\n"},
     ["up a layer: onestop.domain.codes (line 3) imports onestop.store.codes (domain may not import store)"]),
    ("siblings may not import each other",
     {"reports/figures.py": "import onestop.sync.outbox\n", "sync/outbox.py": ""},
     ["up a layer: onestop.reports.figures (line 1) imports onestop.sync.outbox (reports may not import sync)"]),
])
def test_checker_fails_on_a_violation(tmp_path, name, extra, expected):
    problems = check(_package(tmp_path, {**CLEAN, **extra}))
    print("\n".join(problems))  # the offending imports, as the real test would print them
    assert [p.split(":\n")[0] for p in problems] == expected


def test_checker_names_the_imports_of_a_circle(tmp_path):
    root = _package(tmp_path, {**CLEAN, "store/sqlite.py": "from .codes import y\n"})
    (problem,) = check(root)
    assert problem == ("circle between modules: onestop.store.codes <-> onestop.store.sqlite:\n"
                       "    onestop.store.codes (line 2) imports onestop.store.sqlite\n"
                       "    onestop.store.sqlite (line 1) imports onestop.store.codes")


def test_an_annotation_only_import_ties_no_circle(tmp_path):
    schema = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from onestop.store.sqlite import Database\n"
    root = _package(tmp_path, {**CLEAN, "store/sqlite.py": "def connect():\n    from onestop.store import schema\n",
                               "store/schema.py": schema})
    assert check(root) == []


def test_pending_hides_only_what_it_names(tmp_path):
    root = _package(tmp_path, {**CLEAN, "store/codes.py": "import onestop.intake.home\n",
                               "intake/home.py": "", "intake/office.py": "", "store/migrate.py": "import onestop.intake.office\n"})
    problems = check(root, pending={("onestop.store.codes", "onestop.intake.home")})
    assert [p.split(":\n")[0] for p in problems] == [
        "up a layer: onestop.store.migrate (line 1) imports onestop.intake.office (store may not import intake)"]


@pytest.mark.parametrize("module, added, expected", [
    # the circle this round removed: the CLI asking the entry point for the command's name
    ("cli/__init__.py", "\n\ndef _name(argv):\n    from onestop.entry import command_name\n\n    return command_name(argv)\n",
     ["up a layer: onestop.cli", "circle between packages: cli <-> entry",
      "circle between modules: onestop.cli <-> onestop.cli.completer <-> onestop.entry"]),
    # a store module calling the package's transaction(): the package imports it when a desk connects
    ("store/home.py", "\n\ndef _tx(db):\n    from onestop.store import transaction\n\n    return transaction(db)\n",
     ["circle between modules: onestop.store <-> onestop.store.home <-> onestop.store.sqlite"]),
], ids=["cli-entry", "store-home"])
def test_checker_fails_when_a_circle_is_added_to_the_real_package(tmp_path, module, added, expected):
    """The same check, on a copy of onestop/ with one import added."""
    root = tmp_path / "onestop"
    for path in ROOT.rglob("*.py"):
        copy = root / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert check(root, pending=PENDING_UPWARD) == []
    with open(root / module, "a", encoding="utf-8") as f:
        f.write(added)
    problems = check(root, pending=PENDING_UPWARD)
    print("\n".join(problems))
    assert [p.split(":\n")[0].split(" (line")[0] for p in problems] == expected
