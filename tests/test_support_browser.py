"""The headless-browser helper really drives chromium: pages, forms, JS off, axe, cleanup."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web

from support.browser import (
    AXE_PATH,
    Browser,
    BrowserError,
    BrowserTimeout,
    JavaScriptError,
    NavigationError,
    Page,
)
from support.fixtures import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'

PAGES: dict[str, str] = {
    "/accessible": _HEAD.format(title="Find a group")
    + """<body><main><h1>Find a group</h1>
<img src="/pixel.svg" alt="Signpost logo">
<p id="js">Scripts did not run.</p>
<script>document.getElementById('js').textContent = 'Scripts ran.';</script>
<form action="/search" method="get">
  <label for="q">Postcode or town</label> <input id="q" name="q" value="">
  <button type="submit">Search</button>
</form></main></body></html>""",
    "/inaccessible": """<!doctype html><html><head><title>Bad</title></head><body>
<img src="/pixel.svg"><input id="q" name="q"><div onclick="go()">Search</div></body></html>""",
    "/third-party": _HEAD.format(title="Leaky")
    + '<body><main><h1>Leaky</h1><img src="{other}/pixel.svg" alt="pixel"></main></body></html>',
    "/throws": _HEAD.format(title="Throws")
    + "<body><main><h1>Throws</h1><script>console.error('logged', 42); null.boom;</script></main></body></html>",
    "/broken-image": _HEAD.format(title="Broken")
    + '<body><main><h1>Broken</h1><img src="/missing.png" alt="gone"></main></body></html>',
    "/framed": _HEAD.format(title="Framed")
    + '<body><main><h1>Framed</h1><iframe sandbox title="other" src="{other}/accessible"></iframe></main></body></html>',
    "/upload": _HEAD.format(title="Upload")
    + """<body><main><h1>Upload</h1><form action="/upload" method="post" enctype="multipart/form-data">
<label for="file">Spreadsheet</label> <input type="file" id="file" name="file">
<button type="submit">Upload</button></form></main></body></html>""",
}

PIXEL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
STRICT_CSP = "default-src 'self'; script-src 'none'"


async def _page(request: web.Request) -> web.Response:
    html = PAGES[request.path].replace("{other}", f"http://localhost:{request.url.port}")
    response = web.Response(text=html, content_type="text/html")
    response.set_cookie("sid", "s3cret", httponly=True, samesite="Strict")
    if request.query.get("csp"):
        response.headers["Content-Security-Policy"] = STRICT_CSP
    return response


async def _search(request: web.Request) -> web.Response:
    html = _HEAD.format(title="Results") + f"<body><main><h1>Results for {request.query['q']}</h1></main></body></html>"
    return web.Response(text=html, content_type="text/html")


async def _received(request: web.Request) -> web.Response:
    field = await (await request.multipart()).next()
    assert isinstance(field, BodyPartReader)
    body = (await field.read()).decode()
    html = (
        _HEAD.format(title="Received") + f"<body><main><h1>Received {field.filename}: {body}</h1></main></body></html>"
    )
    return web.Response(text=html, content_type="text/html")


async def _pixel(request: web.Request) -> web.Response:
    return web.Response(text=PIXEL_SVG, content_type="image/svg+xml")


@pytest.fixture
async def site(aiohttp_server: Any) -> str:
    app = web.Application()
    for path in PAGES:
        app.router.add_get(path, _page)
    app.router.add_get("/search", _search)
    app.router.add_get("/pixel.svg", _pixel)
    app.router.add_post("/upload", _received)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


AXE_CASES = [
    pytest.param("/accessible", set(), id="accessible-page-has-no-violations"),
    pytest.param("/accessible?csp=1", set(), id="strict-csp-does-not-stop-axe"),
    pytest.param("/inaccessible", {"image-alt", "label", "html-has-lang"}, id="inaccessible-page"),
]


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize(("path", "expected"), AXE_CASES)
async def test_axe_finds_exactly_the_expected_wcag_violations(
    browser: Browser, site: str, path: str, expected: set[str], javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, width=360, height=740)
    assert await page.goto(site + path) == 200
    violations = await page.axe()
    ids = {v["id"] for v in violations}
    assert expected <= ids, violations
    if not expected:
        assert violations == []
    for violation in violations:
        assert violation["targets"] and violation["help"] and violation["impact"]


def test_axe_core_is_vendored_with_its_licence_and_provenance() -> None:
    vendor = AXE_PATH.parent
    assert AXE_PATH.stat().st_size > 100_000
    assert "Mozilla Public License" in (vendor / "LICENSE").read_text()
    provenance = (vendor / "PROVENANCE.md").read_text()
    version = AXE_PATH.read_text()[:400]
    assert "axe-core" in provenance and "4.14.1" in provenance and "4.14.1" in version


@pytest.mark.parametrize(
    ("javascript", "expected", "absent"),
    [(True, "Scripts ran.", "Scripts did not run."), (False, "Scripts did not run.", "Scripts ran.")],
    ids=["js-on-runs-page-scripts", "js-off-really-disables-page-scripts"],
)
async def test_javascript_switch_controls_page_scripts(
    browser: Browser, site: str, javascript: bool, expected: str, absent: str
) -> None:
    page = await browser.new_page(javascript=javascript)
    await page.goto(site + "/accessible")
    text = await page.text()
    assert expected in text and absent not in text
    assert expected in await page.content()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_form_fill_click_and_navigation_reach_the_server(browser: Browser, site: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript)
    await page.goto(site + "/accessible")
    await page.fill("#q", "LS6 1AA")
    await page.click("button[type=submit]")
    assert await page.wait_for_navigation() == 200
    assert "Results for LS6 1AA" in await page.text()
    assert page.requests[-1] == site + "/search?q=LS6+1AA"


async def test_submit_form_and_enter_key_both_submit(browser: Browser, site: str) -> None:
    page = await browser.new_page(javascript=False)
    await page.goto(site + "/accessible")
    assert await page.submit_form("form", {"q": "Leeds"}) == 200
    assert "Results for Leeds" in await page.text()
    await page.goto(site + "/accessible")
    await page.fill("#q", "York")
    await page.press("Enter")
    assert await page.wait_for_navigation() == 200
    assert "Results for York" in await page.text()


async def test_goto_returns_the_http_status_of_the_document(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    assert await page.goto(site + "/missing") == 404
    assert page.status == 404


async def test_goto_an_unreachable_url_raises_navigation_error(browser: Browser, site: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    page = await browser.new_page()
    with pytest.raises(NavigationError, match="ERR_CONNECTION_REFUSED"):
        await page.goto(f"http://127.0.0.1:{closed_port}/")


async def test_cookies_read_back_including_http_only(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/accessible")
    cookies = {c["name"]: c for c in await page.cookies()}
    assert cookies["sid"]["value"] == "s3cret"
    assert cookies["sid"]["httpOnly"] is True
    storage = await page.evaluate("({local: localStorage.length, session: sessionStorage.length})")
    assert storage == {"local": 0, "session": 0}


async def test_each_page_has_its_own_cookie_jar(browser: Browser, site: str) -> None:
    first = await browser.new_page()
    await first.goto(site + "/accessible")
    second = await browser.new_page()
    assert await second.cookies() == []
    await first.close()


async def test_screenshot_is_a_png_of_the_viewport(browser: Browser, site: str, tmp_path: Path) -> None:
    page = await browser.new_page(width=360, height=740)
    await page.goto(site + "/accessible")
    target = tmp_path / "shot.png"
    png = await page.screenshot(target)
    assert _png_size(png) == (360, 740)
    assert target.read_bytes() == png
    full = await page.screenshot(full_page=True)
    assert _png_size(full)[0] == 360


async def test_requests_list_shows_third_party_fetches(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/accessible")
    assert all(url.startswith(site + "/") for url in page.requests), page.requests
    leaky = await browser.new_page()
    await leaky.goto(site + "/third-party")
    foreign = [url for url in leaky.requests if not url.startswith(site + "/")]
    assert foreign == [site.replace("127.0.0.1", "localhost") + "/pixel.svg"]


async def test_evaluate_returns_values_and_raises_on_exceptions(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/accessible")
    assert await page.evaluate("({a: [1, 2], b: 'x'})") == {"a": [1, 2], "b": "x"}
    assert await page.evaluate("Promise.resolve(41 + 1)") == 42
    with pytest.raises(JavaScriptError, match="ReferenceError"):
        await page.evaluate("noSuchName.x")


async def test_page_script_errors_are_recorded(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/throws")
    assert any("TypeError" in e for e in page.errors), page.errors
    assert "logged 42" in page.errors, page.errors


async def test_chromiums_own_failed_to_load_lines_are_not_page_errors(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/broken-image")
    assert site + "/missing.png" in page.requests
    assert page.errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_chosen_file_is_uploaded_by_the_form(
    browser: Browser, site: str, tmp_path: Path, javascript: bool
) -> None:
    chosen = tmp_path / "groups.csv"
    chosen.write_text("name,postcode")
    page = await browser.new_page(javascript=javascript)
    await page.goto(site + "/upload")
    await page.set_input_files("#file", chosen)
    await page.click("button[type=submit]")
    assert await page.wait_for_navigation() == 200
    assert "Received groups.csv: name,postcode" in await page.text()


async def test_frames_reach_a_sandboxed_iframe_on_another_site(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/framed")
    other = site.replace("127.0.0.1", "localhost")
    [frame] = page.frames(other)
    assert frame.url == other + "/accessible"
    assert await frame.evaluate("document.querySelector('h1').textContent") == "Find a group"
    assert page.frames("http://nowhere.invalid") == []


async def test_missing_element_is_a_clear_error(browser: Browser, site: str) -> None:
    page = await browser.new_page()
    await page.goto(site + "/accessible")
    with pytest.raises(BrowserError, match="no element matches '#nope'"):
        await page.click("#nope")


async def test_waiting_for_a_navigation_that_never_comes_times_out(site: str) -> None:
    async with Browser.launch(timeout=1.0) as short:
        page = await short.new_page()
        await page.goto(site + "/accessible")
        await page.click("h1")
        with pytest.raises(BrowserTimeout, match="wait_for_navigation: no load event within 1s"):
            await page.wait_for_navigation()


async def test_closing_the_browser_kills_every_process_and_removes_the_profile(site: str) -> None:
    async with Browser.launch() as launched:
        page: Page = await launched.new_page()
        await page.goto(site + "/accessible")
        pid = launched.pid
        profile = launched.profile
        assert profile.is_dir() and str(profile) in Path(f"/proc/{pid}/cmdline").read_text()
    assert not profile.exists()
    # The orphaned helpers are reaped by init, which may take a moment.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"processes of chromium's group {pid} still exist 15s after close")


async def test_a_browser_that_dies_at_launch_reports_its_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display: fake failure' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match=r"(?s)exited with status 3.*fake failure"):
        async with Browser.launch(executable=fake):
            pass


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)],
    ids=["skips-on-a-developer-machine", "fails-under-ci"],
)
def test_missing_tool_skips_locally_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    require_tool(True, "chromium", "apt-get install chromium")
    with pytest.raises(outcome, match="apt-get install chromium"):
        require_tool(False, "chromium", "apt-get install chromium")
