"""The words people type, in a real headless Chromium with JavaScript on and off (axe clean)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
async def base(network: Network, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    app = create_app(load_config(network.national), sync=False)
    app[CLOCK] = lambda: NOW
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


async def shown(page: Page, *, status: int = 200) -> str:
    assert page.status == status
    assert await page.axe() == []
    text: str = await page.text()
    return text


async def result_names(page: Page) -> list[str]:
    names: list[str] = await page.evaluate("[...document.querySelectorAll('ol.results h2')].map(h => h.textContent)")
    return names


async def search_from_home(page: Page, base: str, fields: dict[str, str]) -> str:
    assert await page.goto(base + "/") == 200
    assert await page.submit_form("form.search", fields) == 200
    return await shown(page)


@JS
async def test_mens_group_finds_the_mens_groups(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    for typed in ("men's group", "mens group"):
        await search_from_home(page, base, {"q": typed})
        top = (await result_names(page))[:3]
        assert set(top) == {
            "Men's Walk and Talk, Roundhay Park",
            "Chapeltown Brothers' Wellbeing Circle",
            "Brothers' Circle, Brixton",
        }, (typed, top)


@JS
async def test_a_phrase_finds_listings_by_topic(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    await search_from_home(page, base, {"q": "just left hospital"})
    top = (await result_names(page))[:3]
    hospital = {"After the Ward: Stockwell", "Home Again: Brixton", "Home from Hospital Peer Support"}
    assert hospital | {"After Discharge Peer Support", "Going Home: a peer-written guide to leaving hospital"} >= set(
        top
    )


@JS
async def test_a_postcode_in_the_words_box_becomes_the_place(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await search_from_home(page, base, {"q": "hearing voices LS6"})
    assert (await result_names(page))[0] == "Headingley Hearing Voices Group"
    assert "km away" in text and "near LS6" in text
    assert await page.evaluate("document.querySelector('#near').value") == "LS6"
    assert await page.evaluate("document.querySelector('#q').value") == "hearing voices"


@JS
async def test_a_service_area_is_respected(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await search_from_home(page, base, {"q": "phone line", "near": "LS6"})
    assert "Leeds Peer Support Line" in text and "By phone, for people in Leeds." in text
    assert "Lambeth Weekend Evening Peer Support Line" not in text
    text = await search_from_home(page, base, {"q": "phone line", "near": "SW9 7AA"})
    assert "Lambeth Weekend Evening Peer Support Line" in text and "Leeds Peer Support Line" not in text
    await page.click("ol.results a[href$='/weekend-peer-support-line']")
    assert await page.wait_for_navigation() == 200
    text = await shown(page)
    assert "Just call" in text and "Just turn up" not in text and "for people in Lambeth" in text


@JS
async def test_a_distance_without_a_place_asks_for_one_and_keeps_every_choice(
    browser: Browser, base: str, javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    params = {"q": "hearing voices", "within": "5km", "kind": "group", "delivery": "in_person"}
    assert await page.goto(f"{base}/search?{urlencode(params)}") == 200
    text = await shown(page)
    assert "To search within 5 km, we need to know where from" in text and "within:" not in text
    form = await page.evaluate(
        "(() => { const f = document.querySelector('form.search'); return {q: f.q.value, within: f.within.value,"
        " kind: f.kind.value, in_person: f.querySelector('input[value=in_person]').checked}; })()"
    )
    assert form == {"q": "hearing voices", "within": "5km", "kind": "group", "in_person": True}
    assert "Headingley Hearing Voices Group" in text
