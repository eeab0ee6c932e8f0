"""Shared fixtures: temporary real nodes (directories, keys, SQLite files)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nodeutil import NodeHandle, make_node

# The browser and node_tools fixtures (tests/support/fixtures.py), for every test module.
pytest_plugins = ["support.fixtures"]


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return tmp_path / "node"


@pytest.fixture
def test_node(tmp_path: Path) -> NodeHandle:
    return make_node(tmp_path / "node", "Leeds Peer Support Network")
