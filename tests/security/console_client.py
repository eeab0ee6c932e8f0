"""A real node with a console password, served in-process, for the console's security tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from node.core.config import load_config
from node.web.app import create_app
from node.web.auth import write_password_hash
from node.web.passwords import hash_password
from nodeutil import NodeHandle, make_node

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def console_node(directory: Path) -> NodeHandle:
    handle = make_node(directory, "Leeds Peer Network")
    write_password_hash(handle.directory, hash_password(PASSWORD))
    return handle


async def console_client(aiohttp_client: Any, handle: NodeHandle) -> TestClient:
    return await aiohttp_client(create_app(load_config(handle.directory), sync=False))


async def sign_in(client: TestClient) -> str:
    """Sign in; return the signed-in session's CSRF token."""
    token = csrf_of(await (await client.get("/admin/login")).text())
    resp = await client.post("/admin/login", data={"csrf": token, "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return csrf_of(await (await client.get("/admin")).text())
