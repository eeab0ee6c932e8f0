"""Fixtures for console tests: a node with a console password and a (signed-in) test client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admin_helpers import PASSWORD, sign_in

from node.core.config import load_config
from node.web.app import create_app
from node.web.auth import write_password_hash
from node.web.passwords import hash_password
from nodeutil import NodeHandle, make_node


@pytest.fixture
def node(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "node", "Leeds Peer Network")
    write_password_hash(handle.directory, hash_password(PASSWORD))
    return handle


@pytest.fixture
async def client(aiohttp_client: Any, node: NodeHandle) -> TestClient:
    return await aiohttp_client(create_app(load_config(node.directory), sync=False))


@pytest.fixture
async def signed_in(client: TestClient) -> tuple[TestClient, str]:
    return client, await sign_in(client)
