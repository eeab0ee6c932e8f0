"""Fixtures for search and page tests: the example networks, built once per session."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `support`

from example_network import Network, build_network

from node.storage.store import connect


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    return build_network(tmp_path_factory.mktemp("networks"))


@pytest.fixture
def conn(network: Network) -> Iterator[sqlite3.Connection]:
    c = connect(network.national / "signpost.db")
    try:
        yield c
    finally:
        c.close()
