"""capi_core never imports streamlit (STYLE practice 1), checked in a clean interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.source_lines import lines_matching

CORE_MODULES = [
    "capi_core.cli", "capi_core.ingest", "capi_core.report", "capi_core.diagnostics", "capi_core.demo_store",
    "capi_core.dashboard_api",
]  # fmt: skip


def test_core_does_not_import_streamlit() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'plotly'})\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_core_module_imports_streamlit_even_lazily() -> None:
    """A lazy ``import streamlit`` inside a function would pass the test above: read every source."""
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parents[2] / "capi_core"
    offenders = []
    for source in sorted(core.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in {"streamlit", "plotly"} for n in names):
                offenders.append(f"{source.relative_to(core)}:{node.lineno}")
    assert offenders == []


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    """``capi_core.config`` is the one reader of environment variables (issue 15 case 4): a module that
    reads one itself would skip the secrets file and the flags (handing the whole environment on to a
    child process is not a read)."""
    read = re.compile(r"os\.getenv\(|os\.environ\.get\(|os\.environ\[|environ\.get\(")
    offenders = lines_matching(read, owner="config.py")
    assert offenders == []


def _import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time, anywhere in its body (a lazy import inside a
    function is an edge too; an import under ``if TYPE_CHECKING:`` is not: it never runs)."""
    import ast

    files = {}
    for package in packages:
        for source in (root / package).rglob("*.py"):
            parts = source.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = source
    graph: dict[str, set[str]] = {}
    for name, source in files.items():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        edges = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in files}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges.add(full if full in files else node.module)
        graph[name] = {edge for edge in edges if edge in files and edge != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles() -> None:
    """No two project modules import each other, directly or round a longer loop (issue 15 case 5)."""
    root = Path(__file__).resolve().parents[2]
    graph = _import_graph(root, ("capi_core", "pages", "ui"))
    assert len(graph) > 50 and "capi_core.derived" in graph["capi_core.store"]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def _dashboard_sources() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    return [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "ui").glob("*.py"))]


def test_the_dashboard_imports_the_core_through_its_face_only() -> None:
    """Pages, ``ui/`` and app.py import ``capi_core`` names from the package itself, and only the names its
    ``__all__`` lists (issue 15 case 2): never ``capi_core.store`` or another module by its own path."""
    import ast

    import capi_core

    offenders = []
    for source in _dashboard_sources():
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                offenders += [
                    f"{source.name}: import {a.name}" for a in node.names if a.name.startswith("capi_core")
                ]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("capi_core"):
                if node.module != "capi_core":
                    offenders.append(f"{source.name}: from {node.module} import ...")
                offenders += [
                    f"{source.name}: {a.name} is not in capi_core.__all__"
                    for a in node.names
                    if a.name not in capi_core.__all__
                ]
    assert len(_dashboard_sources()) > 15
    assert offenders == []


def test_every_face_name_loads_from_its_owner() -> None:
    """Each public name resolves, and a name that is also a module of the package is that module (a face
    name may not shadow a subpackage, e.g. ``contracts``)."""
    import importlib

    import capi_core

    for name, (module_name, attribute) in capi_core.FACE.items():
        module = importlib.import_module(module_name)
        assert getattr(capi_core, name) is (module if attribute is None else getattr(module, attribute)), name
        child = Path(capi_core.__file__).parent / name
        if child.is_dir() or child.with_suffix(".py").is_file():
            assert module_name == f"capi_core.{name}", name


def test_a_fresh_import_binds_no_face_name_early() -> None:
    """Right after ``import capi_core`` no face name is bound yet (a ``from __future__ import annotations``
    in the package would bind ``annotations`` and hide the module of that name)."""
    probe = "import capi_core; print(sorted(set(vars(capi_core)) & set(capi_core.__all__)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_name_outside_the_face_is_an_attribute_error() -> None:
    import pytest

    import capi_core

    with pytest.raises(AttributeError, match="no attribute 'fingerprint'"):
        capi_core.fingerprint  # noqa: B018


def _private_uses(root: Path, packages: tuple[str, ...]) -> list[str]:
    """``file: dotted.name`` for each private name (``_x``, a module or an attribute) a module takes from
    outside the package that owns it (``from owner import _x`` or ``owner._x``): a name shared across
    packages gets a public name in the module that owns it; within one package (``readers/_csv.py`` for
    the readers) a private module is the package's own business."""
    import ast

    def outside_its_owner(dotted: str, importer: tuple[str, ...]) -> bool:
        names = dotted.split(".")
        private = [i for i, name in enumerate(names) if name.startswith("_") and not name.startswith("__")]
        return bool(private) and importer[: private[0]] != tuple(names[: private[0]])

    found = []
    for package in packages:
        for source in sorted((root / package).rglob("*.py")):
            parts = source.relative_to(root).with_suffix("").parts
            importer = parts[:-1] if parts[-1] != "__init__" else parts  # the package the module is in
            tree = ast.parse(source.read_text(encoding="utf-8"))
            aliases: dict[str, str] = {}
            taken: list[str] = []
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in packages:
                    for alias in node.names:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                        taken.append(f"{node.module}.{alias.name}")
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                ):
                    taken.append(f"{aliases[node.value.id]}.{node.attr}")
            found += [
                f"{source.relative_to(root)}: {name}" for name in taken if outside_its_owner(name, importer)
            ]
    return found


def test_no_module_takes_a_private_name_from_another_package() -> None:
    root = Path(__file__).resolve().parents[2]
    assert _private_uses(root, ("capi_core", "pages", "ui")) == []


def test_the_face_types_name_what_it_loads() -> None:
    """The ``if TYPE_CHECKING:`` imports of ``capi_core/__init__.py`` (what mypy and editors see) name
    exactly the FACE entries, each from the same owner."""
    import ast

    import capi_core

    tree = ast.parse(Path(capi_core.__file__).read_text(encoding="utf-8"))
    typed: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imported in node.body:
                assert isinstance(imported, ast.ImportFrom) and imported.module
                for alias in imported.names:
                    name = alias.asname or alias.name
                    submodule = f"{imported.module}.{alias.name}"
                    is_module = (
                        (Path(capi_core.__file__).parents[1] / submodule.replace(".", "/"))
                        .with_suffix(".py")
                        .is_file()
                    )
                    typed[name] = (submodule, None) if is_module else (imported.module, alias.name)
    assert typed == capi_core.FACE
