"""Fixtures for console tests: a node with a console password, a signed-in client, form helpers."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeutil import NodeHandle, make_node  # noqa: E402

from node.app import create_app  # noqa: E402
from node.auth import write_password_hash  # noqa: E402
from node.config import load_config  # noqa: E402
from node.passwords import hash_password  # noqa: E402

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


@pytest.fixture
def node(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "node", "Leeds Peer Network")
    write_password_hash(handle.directory, hash_password(PASSWORD))
    return handle


@pytest.fixture
async def client(aiohttp_client: Any, node: NodeHandle) -> TestClient:
    return await aiohttp_client(create_app(load_config(node.directory), sync=False))


async def sign_in(client: TestClient, password: str = PASSWORD) -> str:
    """Sign in; return the signed-in session's CSRF token."""
    page = await client.get("/admin/login")
    token = csrf_of(await page.text())
    resp = await client.post("/admin/login", data={"csrf": token, "password": password, "next": "/admin"}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    home = await client.get("/admin")
    assert home.status == 200
    return csrf_of(await home.text())


@pytest.fixture
async def signed_in(client: TestClient) -> tuple[TestClient, str]:
    return client, await sign_in(client)
