"""The engine and the cluster layer never import Textual, the TUI or widgets (DESIGN.md §1).

A second guard beside the import-linter contracts in pyproject.toml (`make check` runs those): this
one also runs under plain pytest, and the import check catches what a static graph cannot see.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("textual", "widgets", "console.tui", "rich")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def test_engine_and_cluster_do_not_import_ui() -> None:
    assert _offenders("console.engine", FORBIDDEN) == []
    assert _offenders("console.cluster", FORBIDDEN) == []


def test_widgets_do_not_import_engine() -> None:
    assert _offenders("widgets", ("console",)) == []
    # the escaping policy the CLI shares is pure strings: no Rich, no Textual
    assert _imports(ROOT / "widgets" / "safe_text.py") & {"rich", "rich.text", "textual"} == set()


def test_importing_engine_does_not_load_textual() -> None:
    """Catches indirect imports the AST scan cannot see (e.g. through a third module)."""
    code = (
        "import sys, pkgutil, importlib, console.engine, console.cluster\n"
        "for pkg in (console.engine, console.cluster):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets') or m.startswith('console.tui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    """The scan itself must be able to fail."""
    bad = tmp_path / "m.py"
    bad.write_text("from textual.app import App\nimport widgets.x\n")
    assert {"textual.app", "widgets.x"} <= _imports(bad)
