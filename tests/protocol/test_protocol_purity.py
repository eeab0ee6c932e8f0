"""protocol/ is sans-I/O: no network, no database, no clock (house style, docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROTOCOL = Path(__file__).resolve().parents[2] / "protocol"
SOURCES = sorted(PROTOCOL.glob("*.py"))

FORBIDDEN_TEXT = [
    "time.time",
    "time.monotonic",
    "datetime.now",
    "datetime.utcnow",
    "date.today",
    ".now(",
    "import socket",
    "sqlite",
    "aiohttp",
    "urllib.request",
    "open(",
]
FORBIDDEN_MODULES = {
    "aiohttp",
    "sqlite3",
    "sqlite_utils",
    "socket",
    "time",
    "requests",
    "httpx",
    "asyncio",
    "urllib.request",
    "http.client",
    "random",
    "secrets",
    "os",
    "subprocess",
}


def test_protocol_sources_exist() -> None:
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_protocol_module_reads_no_clock_and_touches_no_io(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for needle in FORBIDDEN_TEXT:
        assert needle not in text, f"{path.name} contains {needle!r}"


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_protocol_module_imports_nothing_with_side_effects(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        for name in names:
            assert name not in FORBIDDEN_MODULES and name.split(".")[0] not in FORBIDDEN_MODULES - {"urllib", "http"}, (
                f"{path.name} imports {name}"
            )
