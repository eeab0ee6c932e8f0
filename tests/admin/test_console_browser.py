"""A coordinator's first session in a real headless Chromium, JavaScript off.

Signs in, uploads a messy spreadsheet, reads the preview, publishes, edits a
listing (first with a mistake), marks one as checked, and sees each change in
the node's /feed; axe-core finds no WCAG 2.2 AA violation on any console page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from admin_helpers import PASSWORD
from feedutil import feed_records
from messy import PRIVATE_ADDRESS, UNCONSENTED_EMAIL, write_messy

from node.core.config import load_config
from node.web.app import create_app


class _Feed:
    """feed_records() over a plain client session against the served node."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    def get(self, path: str) -> Any:
        return self.session.get(self.base + path)


async def _axe_clean(page: Any, where: str) -> None:
    violations = await page.axe()
    assert violations == [], f"{where}: {violations}"


async def _upload(page: Any, path: Path) -> int | None:
    """Choose a file in the upload form (there is no keyboard way to pick a file)."""
    await page.set_input_files("#file", path)
    await page.click("form[action^='/admin/upload?csrf='] button[type=submit]")
    return await page.wait_for_navigation()


@pytest.mark.slow
@pytest.mark.browser
async def test_first_time_coordinator_keeps_listings_current(browser, aiohttp_server, node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(create_app(load_config(node.directory), sync=False), host="127.0.0.1", port=node.port)
    base = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(javascript=False, width=1024, height=900)
    async with aiohttp.ClientSession() as session:
        feed = _Feed(session, base)

        # Signing in: the console sends a signed-out visitor to the login page.
        assert await page.goto(f"{base}/admin") == 200
        assert "Sign in to the console" in await page.text()
        await _axe_clean(page, "login")
        status = await page.submit_form("form[action='/admin/login']", {"password": "wrong password!"})
        assert status == 401, await page.text()
        assert "That password is not right" in await page.text()
        await _axe_clean(page, "login error")
        assert await page.submit_form("form[action='/admin/login']", {"password": PASSWORD}) == 200
        assert "listing" in (await page.text()).lower()
        cookie = next(c for c in await page.cookies() if c["name"] == "signpost_admin")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        await _axe_clean(page, "overview")

        # Upload: a preview, nothing published.
        assert await page.goto(f"{base}/admin/upload") == 200
        await _axe_clean(page, "upload")
        assert await _upload(page, write_messy(tmp_path / "Our groups.csv")) == 200
        preview = await page.text()
        assert "Nothing has been published yet" in preview
        assert "3 to add" in preview and "2 rows rejected" in preview
        assert "Survivors Circle" in preview
        await _axe_clean(page, "preview")
        live, _, _ = await feed_records(feed)
        assert live == {}

        # Publish.
        await page.click("form[action='/admin/upload/publish'] button")
        assert await page.wait_for_navigation() == 200
        assert "Published: 3 added" in await page.text()
        await _axe_clean(page, "listings")
        live, _, raw = await feed_records(feed)
        assert set(live) == {"hearing-voices-leeds", "survivors-circle", "walk-and-talk"}
        assert PRIVATE_ADDRESS.encode() not in raw and UNCONSENTED_EMAIL.encode() not in raw

        # Edit, with a mistake first: the error is next to the field and nothing is published.
        assert await page.goto(f"{base}/admin/listings/walk-and-talk") == 200
        await _axe_clean(page, "edit")
        edit = "form[action='/admin/listings/walk-and-talk']"
        assert (
            await page.submit_form(edit, {"website": "not a web address", "summary": "Gentle walks round the park"})
            == 400
        )
        assert "Give a full web address" in await page.text()
        await _axe_clean(page, "edit with errors")
        assert await page.submit_form(edit, {"website": "https://walk.example.org"}) == 200
        assert "Saved and published" in await page.text()
        live, _, _ = await feed_records(feed)
        assert live["walk-and-talk"]["summary"] == "Gentle walks round the park"
        assert live["walk-and-talk"]["website"] == "https://walk.example.org"

        # Mark one as still current from the list.
        assert await page.goto(f"{base}/admin/listings") == 200
        await page.click("form[action='/admin/listings/survivors-circle/check'] button")
        assert await page.wait_for_navigation() == 200
        live, _, _ = await feed_records(feed)
        assert live["survivors-circle"]["reviewed"] == dt.date.today().isoformat()

        # The rest of the console, each page checked.
        for path in (
            "/admin/listings/hearing-voices-leeds/pause",
            "/admin/reports",
            "/admin/peers",
            "/admin/sheet",
            "/admin",
        ):
            assert await page.goto(base + path) == 200, path
            await _axe_clean(page, path)

        # The public report form, too.
        assert await page.goto(f"{base}/listing/{node.publisher}/walk-and-talk/report") == 200
        await _axe_clean(page, "report form")
        assert [u for u in page.requests if not u.startswith((base, "data:", "about:"))] == [], (
            "nothing loaded from elsewhere"
        )
        assert page.errors == []
