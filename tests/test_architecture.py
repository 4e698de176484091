"""Structural rules of the code base, read from the source with ``ast`` and ``tokenize``.

These encode the target design: one-way layers without import cycles, small modules and CLI
functions, documentation that ships with the code that cites it, papers named by their
authors, and ``python -m meliso --version``. Every failure names the file, line and
module/function that breaks a rule.

Imports are counted wherever they stand (module level, inside functions and methods): a lazy
import that only hides a cycle or a layer breach still breaks the rule. Imports under
``if TYPE_CHECKING:`` never run and are skipped. ``from pkg import name`` is an import of the
submodule ``pkg.name`` if that file exists, else of ``pkg``; relative imports are resolved
against the importing module's package.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import subprocess
import sys
import tokenize
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import meliso

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PKG = SRC / "meliso"

MAX_MODULE_LINES = 500
MAX_CLI_FUNCTION_LINES = 40


# -- the import graph ---------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Import:
    """``source`` imports ``target`` (a meliso module, or an external dotted name) at ``line``."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function or method

    def __str__(self) -> str:
        where = f"{_rel(_modules()[self.source])}:{self.line}"
        return f"{where}: {self.source} imports {self.target}" + (" (lazy)" if self.lazy else "")


def _known(name: str) -> str:
    """The deepest existing meliso module that ``name`` (a dotted meliso name) lies in."""
    modules = _modules()
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts) if parts else name


def _target(name: str) -> str:
    return _known(name) if _within(name, "meliso") else name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.depth = 0
        self.found: list[Import] = []

    def _add(self, target: str, line: int) -> None:
        self.found.append(Import(self.module, _target(target), line, self.depth > 0))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):  # never runs: only the else branch counts
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0:
            base = node.module or ""
        else:
            package = self.module.split(".")
            if not _is_package(self.module):
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in _modules() else base, node.lineno)


@cache
def _imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for module, path in _modules().items():
        collector = _ImportCollector(module)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.found)
    return tuple(dict.fromkeys(found))  # ``from pkg import a, b``: one import of pkg


def _graph() -> dict[str, dict[str, Import]]:
    """module -> {imported meliso module: first such import}, without self-imports and
    without a package's ``__init__`` importing its own submodules."""
    graph: dict[str, dict[str, Import]] = {m: {} for m in _modules()}
    for imp in _imports():
        if imp.target not in graph or imp.target == imp.source:
            continue
        if _is_package(imp.source) and _within(imp.target, imp.source):
            continue
        graph[imp.source].setdefault(imp.target, imp)
    return graph


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def _shortest_cycle(graph: dict[str, dict[str, Import]], start: str, within: set[str]
                    ) -> list[str]:
    """The shortest cycle start -> ... -> start inside one component (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in graph[node]:
            if child not in within:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return []


def _cycles(graph: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """For every module on a cycle, the shortest cycle through it (each cycle once)."""
    seen: set[tuple[str, ...]] = set()
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        for start in component:
            path = _shortest_cycle(graph, start, set(component))
            ring = path[:-1]
            turn = ring.index(min(ring))
            key = tuple(ring[turn:] + ring[:turn])
            if key not in seen:
                seen.add(key)
                cycles.append([graph[a][b] for a, b in itertools.pairwise(path)])
    return cycles


def test_the_import_graph_sees_the_package():
    """Reference: known edges of the code (``meliso.core`` builds on ``meliso.devices``), so
    that the rules below do not pass on an empty graph."""
    assert "meliso.core" in _modules() and "meliso.devices" in _modules()
    assert any(_within(i.source, "meliso.core") and _within(i.target, "meliso.devices")
               for i in _imports())


def test_the_import_collector_resolves_what_python_runs():
    """Reference: Python's import semantics on a planted source (as if it were
    ``meliso.core.analog``): relative imports resolve against the package, ``from pkg import
    submodule`` is the submodule, a lazy import counts, ``if TYPE_CHECKING:`` does not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..devices import get_device\n"
        "from .. import core\n"
        "if TYPE_CHECKING:\n"
        "    from ..cli import app\n"
        "else:\n"
        "    import numpy.linalg\n"
        "def f():\n"
        "    from . import config\n"
    )
    collector = _ImportCollector("meliso.core.analog")
    collector.visit(ast.parse(source))
    found = {(i.target, i.line, i.lazy) for i in collector.found}
    assert found == {("typing", 1, False), ("meliso.devices", 2, False),
                     ("meliso.core", 3, False), ("numpy.linalg", 7, False),
                     ("meliso.core.config", 9, True)}


def test_the_cycle_finder_finds_a_planted_cycle():
    """Reference: a hand-made graph a -> b -> c -> a, c -> d, d -> d (a self-import is not a
    cycle between modules): one cycle, reported once, not per member."""
    def edge(a: str, b: str) -> Import:
        return Import(a, b, 1, False)

    graph = {"a": {"b": edge("a", "b")}, "b": {"c": edge("b", "c")},
             "c": {"a": edge("c", "a"), "d": edge("c", "d")}, "d": {"d": edge("d", "d")}}
    cycles = _cycles(graph)
    assert [[(i.source, i.target) for i in c] for c in cycles] == [
        [("a", "b"), ("b", "c"), ("c", "a")]]


def test_no_import_cycles():
    """Reference: the import graph (module docstring) has no cycle of two or more modules.
    A package's ``__init__`` importing its own submodules is not an edge."""
    cycles = _cycles(_graph())
    report = "\n\n".join(
        f"cycle {k}: " + " -> ".join([c[0].source, *(i.target for i in c)]) + "\n"
        + "\n".join(f"    {i}" for i in c)
        for k, c in enumerate(cycles, 1))
    if report:
        print(report)
    assert not cycles, f"{len(cycles)} import cycle(s):\n{report}"


PHYSICS = ("meliso.devices", "meliso.mapping", "meliso.circuit", "meliso.periphery",
           "meliso.neurosim")
ABOVE_CORE = ("meliso.workloads", "meliso.nn", "meliso.linalg", "meliso.learning",
              "meliso.experiments", "meliso.studies", "meliso.cli")
RUNS = ("meliso.experiments", "meliso.studies", "meliso.cli")

#: Modules that plug a lower layer into the cores: NeuroSim's read model (registered with the
#: core, implementing its interface) and its facade over AnalogCore. They may import the core;
#: the core names them only as strings in its registry (meliso.core.readmodel.READ_MODELS).
READ_MODEL_PLUGINS = ("meliso.neurosim.model", "meliso.neurosim.api", "meliso.neurosim")

#: (rule, importing packages, packages they must not import)
LAYERS = [
    ("physics layers stay below the cores", PHYSICS, ("meliso.core", *ABOVE_CORE)),
    ("read-model plug-ins stay below the cores' users", READ_MODEL_PLUGINS, ABOVE_CORE),
    ("cores stay below their users", ("meliso.core",), ABOVE_CORE),
    ("workloads, networks, linear algebra and learning stay below runs",
     ("meliso.workloads", "meliso.nn", "meliso.linalg", "meliso.learning"), RUNS),
    ("on-chip learning needs no PyTorch", ("meliso.learning",), ("meliso.nn", "torch")),
    ("experiments stay below studies and the CLI", ("meliso.experiments",),
     ("meliso.studies", "meliso.cli")),
    ("analysis reads results, never simulates", ("meliso.analysis",),
     ("meliso.core", "meliso.workloads", "meliso.experiments", "meliso.studies", "meliso.cli",
      "meliso.devices", "meliso.learning")),
]


@pytest.mark.parametrize(("rule", "sources", "forbidden"), LAYERS, ids=[r[0] for r in LAYERS])
def test_one_way_layers(rule, sources, forbidden):
    """Reference: the layer order of the package docstring, mapping -> devices -> circuit ->
    periphery -> cores -> workloads/networks/linear algebra -> experiments -> studies -> CLI,
    with analysis beside (it reads stored results)."""
    plugin = sources == PHYSICS  # the plug-ins are checked by their own rule
    bad = [i for i in _imports()
           if any(_within(i.source, s) for s in sources)
           and not (plugin and i.source in READ_MODEL_PLUGINS)
           and any(_within(i.target, f) for f in forbidden)]
    assert not bad, f"{rule}:\n" + "\n".join(f"    {i}" for i in bad)


def test_only_the_cli_imports_the_cli():
    """Reference: the CLI is the top of the stack; nothing imports it but itself and the
    ``python -m meliso`` entry point (``meliso.__main__``)."""
    bad = [i for i in _imports() if _within(i.target, "meliso.cli")
           and not _within(i.source, "meliso.cli") and i.source != "meliso.__main__"]
    assert not bad, "meliso.cli imported from below:\n" + "\n".join(f"    {i}" for i in bad)


TORCH_USERS = ("meliso.nn", "meliso.studies", "meliso.cli")


def test_only_the_networks_import_torch():
    """Reference: PyTorch is optional (the ``nn`` extra); only ``meliso.nn``, the studies that
    run networks and the CLI may import it, anywhere in a module."""
    bad = [i for i in _imports() if _within(i.target, "torch")
           and not any(_within(i.source, u) for u in TORCH_USERS)]
    assert not bad, ("torch imported outside " + ", ".join(TORCH_USERS) + ":\n"
                     + "\n".join(f"    {i}" for i in bad))


# -- sizes ------------------------------------------------------------------------------------


def test_modules_are_small():
    """Reference: at most MAX_MODULE_LINES lines per module (file lines)."""
    big = [(len(p.read_text(encoding="utf-8").splitlines()), m, p)
           for m, p in _modules().items()]
    bad = sorted((b for b in big if b[0] > MAX_MODULE_LINES), reverse=True)
    assert not bad, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(
        f"    {_rel(p)}: {m} has {n} lines" for n, m, p in bad)


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, node) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from _functions(node, name + ".")
        else:
            yield from _functions(node, prefix)


def test_cli_functions_are_short():
    """Reference: at most MAX_CLI_FUNCTION_LINES lines per function in ``meliso.cli``, from
    ``def`` to its last line (decorators excluded)."""
    bad = []
    for module, path in _modules().items():
        if not _within(module, "meliso.cli"):
            continue
        for name, node in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            lines = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
            if lines > MAX_CLI_FUNCTION_LINES:
                bad.append(f"    {_rel(path)}:{node.lineno}: {module}.{name} has {lines} lines")
    assert not bad, f"CLI functions over {MAX_CLI_FUNCTION_LINES} lines:\n" + "\n".join(bad)


# -- documentation and wording ------------------------------------------------------------------


@dataclass(frozen=True)
class Prose:
    """Text a reader sees in the source: a comment, a docstring or another string literal."""

    path: Path
    line: int
    text: str

    def where(self, offset: int) -> str:
        """file:line of the character at ``offset``."""
        return f"{_rel(self.path)}:{self.line + self.text.count(chr(10), 0, offset)}"

    def line_at(self, offset: int) -> str:
        """The line of text around the character at ``offset``."""
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return self.text[start: None if end < 0 else end].strip()


def _python_prose(path: Path) -> Iterator[Prose]:
    kinds = {tokenize.COMMENT, tokenize.STRING}
    if hasattr(tokenize, "FSTRING_MIDDLE"):  # Python 3.12+
        kinds.add(tokenize.FSTRING_MIDDLE)
    source = path.read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in kinds:
            yield Prose(path, tok.start[0], tok.string)


@cache
def _prose() -> tuple[Prose, ...]:
    """Comments and string literals of every module, and every line of the package's other
    text files (study YAML, CSV...): whatever ships and a reader may read."""
    out: list[Prose] = []
    for path in sorted(PKG.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if path.suffix == ".py":
            out.extend(_python_prose(path))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        out.extend(Prose(path, k, line) for k, line in enumerate(text.splitlines(), 1))
    # what ships beside the package and a reader reads too: benchmarks, docs, the README
    for path in sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("docs/*.md"),
                        ROOT / "README.md"]):
        out.extend(Prose(path, k, line)
                   for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
    return tuple(out)


DOC = re.compile(r"[\w./-]*[\w-]\.(?:md|rst)(?!\w)")
OUTSIDE = re.compile(r"(?<![\w.])\.\./[\w./-]+")


@cache
def _written_files() -> frozenset[str]:
    """Names of documents the code writes or reads as data (a whole string literal such as
    ``root / "report.md"``): outputs, not citations."""
    names = set()
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and DOC.fullmatch(node.value.strip()):
                names.add(Path(node.value.strip()).name)
    return frozenset(names)


def _doc_ships(cited: str, citing: Path) -> bool:
    """A cited document exists: at the path given (from the repository root, the package or
    the citing file), or by its bare name at the root, in the package or under a ``docs/``
    folder of either."""
    name = cited.lstrip("/")
    places = [ROOT / name, PKG / name, citing.parent / name]
    if "/" not in name:
        places += [*ROOT.glob(f"docs/**/{name}"), *PKG.glob(f"docs/**/{name}")]
    return any(p.is_file() and ROOT in p.resolve().parents for p in places)


def test_cited_documentation_ships():
    """Reference: the files in the repository. Every document the code cites (``*.md``,
    ``*.rst``: e.g. ``docs/neurosim.md``, ``ARCHITECTURE.md``, ``neurosim-read-path.md``,
    ``energy-model.md``) exists in the repository, at the root, in the package or in a
    ``docs/`` folder; documents the code itself writes (``report.md``) are not citations."""
    written = _written_files()
    bad = []
    for prose in _prose():
        for hit in DOC.finditer(prose.text):
            cited = hit.group()
            word = prose.text[: hit.end()].split()[-1]  # a web address is no file
            if "://" in word:
                continue
            if Path(cited).name in written or _doc_ships(cited, prose.path):
                continue
            bad.append(f"    {prose.where(hit.start())}: cites {cited}, which does not ship")
    assert not bad, "documentation cited but missing:\n" + "\n".join(bad)


def test_no_citation_outside_the_repository():
    """Reference: the repository's root. Paths that climb out of it (``../shared/...``) point
    at files a user of the package does not have."""
    bad = [f"    {p.where(hit.start())}: {hit.group()}"
           for p in _prose() for hit in OUTSIDE.finditer(p.text)]
    assert not bad, "citations outside the repository:\n" + "\n".join(bad)


SEED_WORDING = re.compile(r"seed[ -]?000|seed[ -]?003|seed table|seed's|the seed claims|"
                          r"(?<![\w)\]])\(seed\b",
                          re.IGNORECASE)


def test_papers_are_named_by_their_authors():
    """Reference: the papers' names, "Chowdhury et al." and "Cubero-Cascante et al.". The
    code (comments, docstrings, messages, shipped study files) never calls a paper a "seed"
    ("seed 000", "seed 003", "seed Table", "seed's", "(seed ..."); a random ``seed`` argument,
    as in ``default_rng(seed)``, is not prose and does not match."""
    bad = [f"    {p.where(hit.start())}: {p.line_at(hit.start())}"
           for p in _prose() for hit in SEED_WORDING.finditer(p.text)]
    assert not bad, f"{len(bad)} places call a paper a seed:\n" + "\n".join(bad)


# -- the command line ---------------------------------------------------------------------------


def test_python_m_meliso_prints_the_version():
    """Reference: ``meliso.__version__``. ``python -m meliso --version`` prints it and exits
    with status 0."""
    run = subprocess.run([sys.executable, "-m", "meliso", "--version"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, (f"python -m meliso --version exited {run.returncode}:\n"
                                 f"{run.stdout}{run.stderr}")
    assert meliso.__version__ in run.stdout, (
        f"python -m meliso --version printed {run.stdout!r}, not {meliso.__version__}")
