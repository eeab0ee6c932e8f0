"""The public pages in a real headless Chromium, with JavaScript on and off, at phone width."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestServer
from example_network import NOW, Network

from node.core.config import load_config
from node.web.app import create_app
from node.web.views.shared import CLOCK
from support.browser import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 740, "mobile": True}
SCREENSHOTS = Path(os.environ.get("SIGNPOST_SCREENSHOTS", "/tmp/signpost-screenshots"))


@pytest.fixture
async def base(network: Network, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    app = create_app(load_config(network.national), sync=False)
    app[CLOCK] = lambda: NOW
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


async def urgent_help_above_the_fold(page: Page) -> None:
    box: dict[str, Any] = await page.evaluate(
        "(() => { const r = document.querySelector('aside.urgent').getBoundingClientRect();"
        " return {top: r.top + scrollY, bottom: r.bottom + scrollY, links: [...document.querySelectorAll('aside.urgent a')].map(a => a.getAttribute('href'))}; })()"
    )
    assert box["bottom"] <= 740, f"urgent help ends at {box['bottom']}px, below a 360x740 phone's first screen"
    assert box["links"] == ["tel:999", "tel:111", "tel:116123", "sms:85258?body=SHOUT"]


async def check_page(page: Page, base: str, *, status: int = 200) -> str:
    assert page.status == status
    await urgent_help_above_the_fold(page)
    assert await page.axe() == []
    assert all(url.startswith(base) or url.startswith(("data:", "about:")) for url in page.requests), page.requests
    assert not await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"), (
        "no sideways scrolling"
    )
    text: str = await page.text()
    return text


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_person_finds_support_near_them_this_weekend(
    browser: Browser, base: str, network: Network, javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    assert await page.goto(base + "/") == 200
    text = await check_page(page, base)
    assert "Find peer support" in text and "Samaritans" in text

    # By postcode, typed into the form.
    assert await page.submit_form("form.search", {"near": "LS6 3QR"}) == 200
    text = await check_page(page, base)
    assert "Headingley Hearing Voices Group" in text and "km away" in text
    if javascript:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(SCREENSHOTS / "results-360.png")

    # Open a listing from the results: plain-language schedule and the next date.
    await page.click('a[href$="/headingley-hearing-voices"]')
    assert await page.wait_for_navigation() == 200
    text = await check_page(page, base)
    assert "Every Tuesday, 6:30pm to 8pm" in text and "Next: Tomorrow, 6:30pm to 8pm" in text
    assert "Headingley, Leeds (LS6 3)" in text and "shared when you get in touch" in text

    # By place and kind, topic, and "this weekend".
    for params, expect in [
        ({"near": "Lambeth", "kind": "group"}, "Brixton Bipolar Peer Group"),
        ({"topic": "hearing-voices"}, "Streatham Hearing Voices"),
        ({"near": "Leeds", "when": "this-weekend"}, "The Lantern"),
        ({"q": "walk", "near": "SW16", "when": "this-weekend"}, "Norwood Sunday Wellbeing Walk"),
    ]:
        assert await page.goto(f"{base}/search?{urlencode(params)}") == 200
        text = await check_page(page, base)
        assert expect in text, params
    assert "Friday 27 November, 6pm to 2am (overnight)" in text or "Sunday 29 November" in text


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_no_results_unknown_place_and_errors_are_accessible(
    browser: Browser, base: str, javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    await page.goto(f"{base}/search?q=hearing+voices&near=Lambeth&when=this-weekend")
    text = await check_page(page, base)
    assert "Nothing found" in text and "Any day or time" in text
    await page.goto(f"{base}/search?near=Leds")
    text = await check_page(page, base, status=400)
    assert "We don't recognise" in text and "Leeds" in text
    await page.goto(f"{base}/listing/sp1:aaaaaaaaaaaaaaaaaaaaaaaaaa/nothing-here")
    text = await check_page(page, base, status=404)
    assert "We couldn't find that page" in text
    await page.goto(f"{base}/search?kind=spaceship")
    await check_page(page, base, status=400)


async def test_readable_at_320px_and_200_percent_zoom(browser: Browser, base: str, network: Network) -> None:
    leeds = network.publishers["leeds"]
    for width in (320, 180):  # 180 CSS px is a 360px phone at 200% zoom
        page = await browser.new_page(javascript=False, width=width, height=740, mobile=True)
        for path in ("/", "/search?near=LS6", f"/listing/{leeds}/the-lantern-evening-crisis-space"):
            await page.goto(base + path)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, (path, width, wide)


async def test_welsh_and_emoji_listing_renders(browser: Browser, base: str, network: Network) -> None:
    page = await browser.new_page(**PHONE)
    await page.goto(f"{base}/listing/{network.publishers['national']}/grwp-cymorth-cymheiriaid-ar-lein")
    text = await check_page(page, base)
    assert "Grŵp" in text or "Grwp" in text
    assert "Bob yn ail nos Fawrth" in text
