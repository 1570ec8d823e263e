"""The layout docs/ARCHITECTURE.md describes: imports point down, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symcnn"

#: Bottom to top, as docs/ARCHITECTURE.md lists them; a module may import only from its
#: own package and those before it.
ORDER = (
    "errors",
    "conventions",
    "symbolic",
    "validity",
    "evaluate",
    "layers",
    "training",
    "graph",
    "frontends",
    "export",
    "strategies",
    "models",
    "cli",
    "__main__",
    "__init__",
)

#: The places an import points up, on call: a network or a training step prints itself as a
#: table.
DISPLAY = {
    ("symcnn.graph.network", "symcnn.export"),
    ("symcnn.graph.record", "symcnn.export"),
    ("symcnn.training.result", "symcnn.export"),
}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out.append((".".join(parts), path))
    return out


def _runtime_imports(name: str, path: Path) -> set[str]:
    """The symcnn modules ``name`` imports when it runs (not under ``TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    base = name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                head = base[: len(base) - node.level + 1]
                target = ".".join(head + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:
                found |= {f"{target}.{alias.name}" for alias in node.names}
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {t for t in found if t == "symcnn" or t.startswith("symcnn.")}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_is_placed():
    packages = {_package(name.removesuffix(".__init__")) for name, _ in _modules()}
    assert packages <= set(ORDER) | {"__version__"}, packages - set(ORDER)


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_imports_point_down(name, path):
    here = _package(name.removesuffix(".__init__"))
    for target in sorted(_runtime_imports(name, path)):
        there = _package(target)
        if there == "__version__" or there == here:
            continue
        if any(name == a and target.startswith(b) for a, b in DISPLAY):
            continue
        assert ORDER.index(there) < ORDER.index(here), f"{name} imports {target}, above it"


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_modules_stay_small(name, path):
    lines = len(path.read_text().splitlines())
    assert lines <= 600, f"{name} has {lines} lines; split it by job (docs/ARCHITECTURE.md)"
