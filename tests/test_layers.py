"""The house keeps its shape: the layering contracts of docs/architecture.md hold, and fail when broken.

The contracts live in ``[tool.importlinter]`` in pyproject.toml and are checked with
import-linter; two rules it cannot express (no reaching into another module's private
names, no SQL outside ``node/storage`` and ``node/directory``) are checked here by reading
the source with :mod:`ast`.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE = ROOT / "node"
SQL_HOMES = (NODE / "storage", NODE / "directory")
SQL_CALLS = frozenset({"execute", "executemany", "executescript"})
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE")
# import-linter has no ``python -m`` entry; run its click command in a fresh interpreter.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.argv[0] = 'lint-imports'; lint_imports_command()"


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on the pyproject.toml in ``cwd``, importing ``protocol`` and ``node`` from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    args = [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_layering_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


BREAKS = [
    pytest.param(
        "node/storage/ledger.py",
        "import node.web.app",
        "storage-below",
        "node.storage.ledger -> node.web.app",
        id="storage-imports-web",
    ),
    pytest.param(
        "protocol/merge.py", "import node", "protocol-pure", "protocol.merge -> node", id="protocol-imports-node"
    ),
    pytest.param(
        "node/directory/geo.py",
        "import node.cli.commands",
        "no-web-below",
        "node.directory.geo -> node.cli.commands",
        id="directory-imports-cli",
    ),
]


@pytest.mark.parametrize(("module", "line", "contract", "chain"), BREAKS)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str, chain: str
) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("protocol", "node"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    before = lint_imports(tmp_path, contract)
    assert before.returncode == 0, before.stdout + before.stderr
    with (tmp_path / module).open("a", encoding="utf-8") as f:
        f.write(f"\n{line}  # a forbidden import, added by the test\n")
    after = lint_imports(tmp_path, contract)
    assert after.returncode != 0
    assert "BROKEN" in after.stdout and chain in after.stdout, after.stdout


# -- rules import-linter cannot express ---------------------------------------------------------


def _modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under the repository, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if package else parts), package


def _absolute(here: str, package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = here.split(".") if package else here.split(".")[:-1]
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_our_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module of protocol/ or node/ (other libraries' private names, like
    ``os._exit``, are their documented API and not this rule's business)."""
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private_reaches(source: str, here: str, *, package: bool = False) -> list[str]:
    """Each place module ``here`` takes a private name from another module: ``from m import _x`` or ``m._x``."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # local name -> the dotted module it is bound to
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(here, package, node)
            for alias in node.names:
                if _is_private(alias.name) and origin != here and _is_our_module(origin):
                    found.append(f"{node.lineno}: from {origin} import {alias.name}")
                elif _is_our_module(f"{origin}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{origin}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            target: ast.expr = node.value
            dotted: list[str] = []
            while isinstance(target, ast.Attribute):
                dotted.insert(0, target.attr)
                target = target.value
            if isinstance(target, ast.Name) and target.id in modules:
                module = ".".join([modules[target.id], *dotted])
                if module != here and _is_our_module(module):
                    found.append(f"{node.lineno}: {module}.{node.attr}")
    return sorted(found, key=lambda hit: int(hit.split(":", 1)[0]))


def test_no_module_reaches_a_private_name_of_another() -> None:
    found = []
    for path in _modules(NODE):
        here, package = _module_name(path)
        found += [
            f"{path.relative_to(ROOT)}:{hit}" for hit in private_reaches(path.read_text("utf-8"), here, package=package)
        ]
    assert not found, "private names reached from another module:\n" + "\n".join(found)


def sql_in(source: str) -> list[str]:
    """Each SQL call (``.execute(...)`` and friends) and string literal that starts with an SQL verb."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append(f"{node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Constant) and isinstance(
            node.value, str
        ):  # an f-string's text parts are Constants too
            words = node.value.split(None, 1)
            if len(words) == 2 and words[0] in SQL_WORDS:
                found.append(f"{node.lineno}: {node.value.strip()[:60]!r}")
    return sorted(found, key=lambda hit: int(hit.split(":", 1)[0]))


def test_sql_lives_only_in_storage_and_the_directory() -> None:
    outside = [p for p in _modules(NODE) if not any(p.is_relative_to(home) for home in SQL_HOMES)]
    found = [f"{path.relative_to(ROOT)}:{hit}" for path in outside for hit in sql_in(path.read_text("utf-8"))]
    assert not found, "SQL outside node/storage and node/directory:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from node.storage.store import _get\n", ["from node.storage.store import _get"]),
        ("from node.storage import store\nstore._sealed(1)\n", ["node.storage.store._sealed"]),
        ("import node.storage.store as s\ns._get()\n", ["node.storage.store._get"]),
        ("import node.storage.store\nnode.storage.store._get()\n", ["node.storage.store._get"]),
        ("from ..storage.store import _get\n", ["from node.storage.store import _get"]),
        ("from node.storage.store import connect\nself._x = connect._cache\n", []),
        ("from .store import __all__\nfrom node.web.probe import _own\n", []),
        ("import os\nfrom sys import _getframe\nos._exit(1)\n", []),
    ],
)
def test_the_private_name_check_finds_what_it_should(source: str, expected: list[str]) -> None:
    hits = private_reaches(source, "node.web.probe")
    assert [hit.split(": ", 1)[1] for hit in hits] == expected


@pytest.mark.parametrize(
    ("source", "count"),
    [
        ('conn.execute("SELECT 1")\n', 2),
        ('sql = f"UPDATE listings SET name = {x}"\n', 1),
        ('message = "Delete this listing?"\nlabel = "UPDATE"\n', 0),
    ],
)
def test_the_sql_check_finds_what_it_should(source: str, count: int) -> None:
    assert len(sql_in(source)) == count
