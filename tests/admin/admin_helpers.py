"""Helpers for console tests: the console password, signing in, reading CSRF tokens."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


async def sign_in(client: TestClient, password: str = PASSWORD) -> str:
    """Sign in; return the signed-in session's CSRF token."""
    page = await client.get("/admin/login")
    token = csrf_of(await page.text())
    resp = await client.post(
        "/admin/login", data={"csrf": token, "password": password, "next": "/admin"}, allow_redirects=False
    )
    assert resp.status == 303, await resp.text()
    home = await client.get("/admin")
    assert home.status == 200
    return csrf_of(await home.text())
