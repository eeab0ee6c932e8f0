"""Findings 6 and 7 of issue 17: looking at the node writes nothing, and shows nothing of the server.

The login page gives a visitor a signed cookie held nowhere (node.web.auth.new_visitor); a session row is
made only at sign-in.  The "no password set" page names no directory (docs/security.md §6).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from console_client import console_client, console_node, csrf_of, sign_in

from node.core.config import load_config
from node.web.app import create_app
from nodeutil import group, make_node


def _snapshot(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


async def test_three_hundred_anonymous_page_views_leave_the_database_unchanged(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    handle = console_node(tmp_path / "node")
    handle.publish([group(1)])
    client = await console_client(aiohttp_client, handle)
    await client.get("/admin/login")  # the app has started and made its own rows
    before = _snapshot(handle.directory / "signpost.db")
    sessions = handle.query("SELECT count(*) FROM sessions")[0][0]
    pages = ["/admin/login", "/admin", "/admin/upload", "/", "/search?q=peer", "/status"]
    pages.append(f"/listing/{handle.publisher}/group-000001/report")
    for i in range(300):
        client.session.cookie_jar.clear()  # every view a new visitor, as a crawler would be
        resp = await client.get(pages[i % len(pages)], allow_redirects=False)
        assert resp.status in (200, 303), (pages[i % len(pages)], resp.status)
    assert handle.query("SELECT count(*) FROM sessions")[0][0] == sessions
    assert _snapshot(handle.directory / "signpost.db") == before


async def test_a_visitor_cookie_still_guards_the_login_form_and_sign_in_makes_one_row(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    handle = console_node(tmp_path / "node")
    client = await console_client(aiohttp_client, handle)
    csrf = csrf_of(await (await client.get("/admin/login")).text())
    client.session.cookie_jar.clear()
    stolen = await client.post("/admin/login", data={"csrf": csrf, "password": "x"}, allow_redirects=False)
    assert stolen.status == 403, "a token without its cookie is worthless"
    await sign_in(client)
    assert handle.query("SELECT count(*) FROM sessions WHERE authed = 1")[0][0] == 1


async def test_the_no_password_page_does_not_show_the_servers_directory(aiohttp_client: Any, tmp_path: Path) -> None:
    handle = make_node(tmp_path / "somewhere-private" / "node")
    client = await aiohttp_client(create_app(load_config(handle.directory), sync=False))
    for path in ("/admin", "/admin/login"):
        text = await (await client.get(path)).text()
        assert "signpost password --dir" in text
        assert "somewhere-private" not in text and str(tmp_path) not in text
