"""The published sheet's venues setting (``[import] venues``), remembered for its URL.

A sheet with venues but no privacy column publishes areas only unless the setting says
"public"; the setting is remembered for the sheet's URL, and each run's notes start with
the choice and the reader's notice (node.importer.venues, node.importer.sheet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from feedutil import feed_records

from node.core.config import load_config
from node.core.context import NODE
from node.importer.sheet import run_sheet_import
from node.storage.sources import remembered_venues
from node.web.app import create_app

SHEET = Path(__file__).resolve().parent.parent / "importer" / "corpus" / "06-no-privacy-column-bristol.csv"


@pytest.fixture
async def bristol_url(aiohttp_server: Any) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=SHEET.read_bytes(), content_type="text/csv")

    app = web.Application()
    app.router.add_get("/bristol.csv", handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}/bristol.csv"


def _configure(directory: Path, url: str, venues: str | None) -> None:
    cfg = directory / "signpost.toml"
    extra = f'venues = "{venues}"\n' if venues else ""
    # A long interval and a manual run: the test decides when the sheet is fetched.
    cfg.write_text(cfg.read_text() + f'\n[import]\nsheet_url = "{url}"\nsheet_interval = 86400\n{extra}')


async def test_without_a_setting_the_sheet_publishes_areas_only_and_says_so(
    aiohttp_client: Any, node: Any, bristol_url: str
) -> None:
    _configure(node.directory, bristol_url, None)
    client = await aiohttp_client(create_app(load_config(node.directory), sync=False))
    run = await run_sheet_import(client.app[NODE])
    assert run.ok
    assert run.problems[0]["severity"] == "notice"
    assert "show only their area because the sheet does not say which are public" in run.problems[0]["message"]
    live, _, raw = await feed_records(client)
    assert live["bristol-hearing-voices"]["location"]["type"] == "area"
    assert b"43 Ducie Road" not in raw and b"BS5 0AX" not in raw


async def test_the_setting_publishes_venues_and_is_remembered_for_the_url(
    aiohttp_client: Any, node: Any, bristol_url: str
) -> None:
    _configure(node.directory, bristol_url, "public")
    client = await aiohttp_client(create_app(load_config(node.directory), sync=False))
    run = await run_sheet_import(client.app[NODE])
    assert run.ok and "'all venues are public'" in run.problems[0]["message"]
    live, _, raw = await feed_records(client)
    assert live["bristol-hearing-voices"]["location"]["type"] == "public"
    assert b"43 Ducie Road" in raw
    kept = await client.app[NODE].store.read(lambda conn: remembered_venues(conn, bristol_url))
    assert kept == "public"


def test_the_setting_accepts_only_public_or_private(node: Any, tmp_path: Path) -> None:
    from node.core.errors import NodeError

    _configure(node.directory, "https://docs.example.org/x.csv", "sometimes")
    with pytest.raises(NodeError, match=r"venues"):
        load_config(node.directory)
