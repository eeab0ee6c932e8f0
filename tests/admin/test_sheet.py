"""A published sheet as a source: fetched from a real HTTP server on 127.0.0.1, imported, outcome recorded."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from admin_helpers import sign_in
from aiohttp import web
from feedutil import feed_records
from messy import PRIVATE_ADDRESS, ROWS, UNCONSENTED_EMAIL, messy_csv

from node.core.config import load_config
from node.core.context import NODE
from node.importer.sheet import SheetError, check_sheet_url, fetch_sheet, run_sheet_import
from node.web.app import create_app


@pytest.fixture
async def sheet_server(aiohttp_server: Any) -> Any:
    state: dict[str, Any] = {"body": messy_csv(), "status": 200, "hits": 0}

    async def handler(request: web.Request) -> web.Response:
        state["hits"] += 1
        return web.Response(body=state["body"], status=state["status"], content_type="text/csv")

    app = web.Application()
    app.router.add_get("/pub", handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    state["url"] = f"http://127.0.0.1:{server.port}/pub"
    return state


def _with_sheet(directory: Path, url: str) -> None:
    cfg = directory / "signpost.toml"
    cfg.write_text(cfg.read_text() + f'\n[import]\nsheet_url = "{url}"\nsheet_interval = 3600\n')


@pytest.fixture
async def sheet_client(aiohttp_client: Any, node: Any, sheet_server: dict[str, Any]) -> Any:
    _with_sheet(node.directory, sheet_server["url"])
    return await aiohttp_client(create_app(load_config(node.directory), sync=False))


async def _wait_for_first_run(client: Any) -> None:
    node = client.app[NODE]
    for _ in range(100):
        count = await node.store.read(lambda conn: conn.execute("SELECT count(*) FROM sheet_runs").fetchone()[0])
        if count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the scheduled sheet fetch never ran")


async def test_scheduled_fetch_imports_the_sheet_with_the_import_rules(
    sheet_client: Any, sheet_server: dict[str, Any]
) -> None:
    await _wait_for_first_run(sheet_client)
    live, _, raw = await feed_records(sheet_client)
    assert set(live) == {"hearing-voices-leeds", "survivors-circle", "walk-and-talk"}
    assert PRIVATE_ADDRESS.encode() not in raw and UNCONSENTED_EMAIL.encode() not in raw
    await sign_in(sheet_client)
    html = await (await sheet_client.get("/admin/sheet")).text()
    assert re.search(r"<td>ok</td><td>3</td><td>0</td><td>2</td>", html), "added 3, changed 0, rejected 2"
    assert "Not imported:" in html and "Island Group" not in html


async def test_fetch_now_adds_and_changes_but_never_deletes(sheet_client: Any, sheet_server: dict[str, Any]) -> None:
    await _wait_for_first_run(sheet_client)
    rows = [list(r) for r in ROWS[:1]]
    rows[0][3] = "A new venue"
    sheet_server["body"] = messy_csv(rows)
    run = await run_sheet_import(sheet_client.app[NODE])
    assert run.ok and run.counts["change"] == 1 and run.counts["add"] == 0
    live, deleted, _ = await feed_records(sheet_client)
    assert len(live) == 3 and not deleted


async def test_a_failing_sheet_is_recorded_and_publishes_nothing(
    sheet_client: Any, sheet_server: dict[str, Any]
) -> None:
    await _wait_for_first_run(sheet_client)
    before, _, _ = await feed_records(sheet_client)
    sheet_server["status"] = 404
    run = await run_sheet_import(sheet_client.app[NODE])
    assert not run.ok and "404" in (run.error or "")
    sheet_server["status"], sheet_server["body"] = 200, b"\x00\x01 not a sheet"
    run = await run_sheet_import(sheet_client.app[NODE])
    assert not run.ok and run.error
    after, _, _ = await feed_records(sheet_client)
    assert after == before
    csrf = await sign_in(sheet_client)
    assert "failed:" in await (await sheet_client.get("/admin/sheet")).text()
    assert (await sheet_client.post("/admin/sheet/fetch", data={"csrf": csrf}, allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://docs.google.com/spreadsheets/d/e/x/pub?output=csv", True),
        ("http://127.0.0.1:8000/sheet.csv", True),
        ("http://localhost/sheet.csv", True),
        ("http://docs.google.com/x.csv", False),
        ("ftp://example.org/x.csv", False),
        ("file:///etc/passwd", False),
    ],
)
def test_sheet_url_must_be_https_unless_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_sheet_url(url) == url
    else:
        with pytest.raises(SheetError, match="https://"):
            check_sheet_url(url)


async def test_oversized_sheet_is_refused(sheet_server: dict[str, Any], tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SheetError, match="larger than"):
            await fetch_sheet(session, sheet_server["url"], tmp_path / "x.csv", max_bytes=100)
