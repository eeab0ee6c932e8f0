"""Places people name, in a real headless Chromium through a real node, JavaScript on and off, axe clean.

LS11 as a district, a neighbourhood from the gazetteer, a shared name with its one-click
alternative, a coordinator's own place name (in signpost.toml and added on the console), and an
unknown place answered with places spelt like it (node.directory.geo).
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestServer
from example_network import NOW, Network
from test_pages_browser import PHONE, check_page

from node.core.config import load_config
from node.web.app import create_app
from node.web.auth import write_password_hash
from node.web.passwords import hash_password
from node.web.views.shared import CLOCK
from support.browser import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long coordinator passphrase"
Serve = Callable[..., Awaitable[TestServer]]


async def _serve(directory: Path, aiohttp_server: Serve, **places: str) -> str:
    config = load_config(directory)
    config.places.update(places)  # as if written under [places] in signpost.toml
    app = create_app(config, sync=False)
    app[CLOCK] = lambda: NOW
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def base(network: Network, aiohttp_server: Serve) -> str:
    return await _serve(network.national, aiohttp_server)


async def _search_from_home(page: Page, base: str, near: str, *, status: int = 200) -> str:
    assert await page.goto(base + "/") == 200
    assert await page.submit_form("form.search", {"near": near}) == status
    return await check_page(page, base, status=status)


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_ls11_typed_without_a_space_is_beeston_and_holbeck(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await _search_from_home(page, base, "LS11")
    assert "near ls11" in text.lower()
    first = text.index("km away")
    assert "Creative Recovery Art Group, Beeston" in text and "Holbeck Recovery Café" in text
    assert min(text.index("Creative Recovery Art Group, Beeston"), text.index("Holbeck Recovery Café")) < first + 400
    # The city centre (what "LS1 1" would have been) is not what was searched.
    assert "near ls1 1" not in text.lower()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_neighbourhood_is_found(browser: Browser, base: str, javascript: bool) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await _search_from_home(page, base, "Headingley")
    assert "near headingley" in text.lower() and "Headingley Hearing Voices Group" in text
    assert "We don't recognise" not in text
    text = await _search_from_home(page, base, "hyde park, leeds")
    assert "Neurodivergent Peer Meetup, Hyde Park" in text


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_shared_name_is_disambiguated_with_a_one_click_alternative(
    browser: Browser, base: str, javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await _search_from_home(page, base, "Brixton")
    assert "near brixton, lambeth" in text.lower()
    assert "Brixton Bipolar Peer Group" in text
    assert "Did you mean Brixton, South Hams?" in text

    await page.click('nav.alternatives a[href*="South+Hams"]')
    assert await page.wait_for_navigation() == 200
    text = await check_page(page, base)
    assert "near brixton, south hams" in text.lower()
    assert "Brixton Bipolar Peer Group" not in text  # in London, not within reach of Devon
    # And back again, by the alternative this page offers.
    await page.click('nav.alternatives a[href*="Lambeth"]')
    assert await page.wait_for_navigation() == 200
    text = await check_page(page, base)
    assert "near brixton, lambeth" in text.lower() and "Brixton Bipolar Peer Group" in text


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_coordinators_place_name_in_signpost_toml_is_found(
    browser: Browser, network: Network, aiohttp_server: Serve, javascript: bool
) -> None:
    base = await _serve(network.national, aiohttp_server, Chapeltown="LS7")
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await _search_from_home(page, base, "Chapeltown")
    assert "near chapeltown" in text.lower() and "chapeltown, sheffield" not in text.lower().split("did you mean")[0]
    assert "Chapeltown Brothers' Wellbeing Circle" in text and "km away" in text


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_an_unknown_place_is_answered_with_places_spelt_like_it(
    browser: Browser, base: str, javascript: bool
) -> None:
    page = await browser.new_page(javascript=javascript, **PHONE)
    text = await _search_from_home(page, base, "Brixtonn", status=400)
    assert "We don't recognise" in text and "Did you mean" in text
    offered = await page.evaluate("[...document.querySelectorAll('.notice li a')].map(a => a.textContent)")
    assert offered[0] == "Brixton", offered
    assert not any("Brighton" in name for name in offered), offered
    await page.click(".notice li a")
    assert await page.wait_for_navigation() == 200
    text = await check_page(page, base)
    assert "near brixton, lambeth" in text.lower()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_a_coordinator_adds_a_place_name_on_the_console_and_searches_find_it(
    browser: Browser, network: Network, aiohttp_server: Serve, tmp_path: Path, javascript: bool
) -> None:
    directory = tmp_path / "node"
    shutil.copytree(network.national, directory)
    write_password_hash(directory, hash_password(PASSWORD))
    base = await _serve(directory, aiohttp_server)
    page = await browser.new_page(javascript=javascript, width=1024, height=900)

    # Before: Chapeltown is Sheffield's, so the Leeds circle is not near it.
    assert await page.goto(f"{base}/search?{urlencode({'near': 'Chapeltown'})}") == 200
    assert "near chapeltown, sheffield" in (await page.text()).lower()

    assert await page.goto(f"{base}/admin/places") == 200
    assert await page.submit_form("form[action='/admin/login']", {"password": PASSWORD}) == 200
    assert await page.goto(f"{base}/admin/places") == 200
    assert "No place names added yet" in await page.text()
    assert await page.axe() == []

    # A value the postcode data cannot place: one sentence, the form as typed.
    assert await page.submit_form("form[action='/admin/places']", {"name": "Chapeltown", "where": "ZZ9"}) == 400
    text = await page.text()
    assert "We couldn't place “ZZ9”" in text
    assert await page.evaluate("document.querySelector('#name').value") == "Chapeltown"
    assert await page.axe() == []

    assert await page.submit_form("form[action='/admin/places']", {"name": "Chapeltown", "where": "LS7"}) == 200
    text = await page.text()
    assert "Added “Chapeltown”" in text and "LS7, Leeds" in text
    assert await page.axe() == []
    assert 'Chapeltown = "LS7"' in (directory / "signpost.toml").read_text("utf-8")

    # At once, without a restart: the coordinator's name wins for this node.  (Another spelling of
    # the address, since the public page before may be kept by the browser for a minute.)
    assert await page.goto(f"{base}/search?{urlencode({'near': 'chapeltown'})}") == 200
    text = await check_page(page, base)
    assert "Chapeltown Brothers' Wellbeing Circle" in text and "km away" in text
    assert "near chapeltown, sheffield" not in text.lower()

    # A point works too, and removing a name puts the gazetteer back.
    assert await page.goto(f"{base}/admin/places") == 200
    fields = {"name": "Hyde Park", "where": "53.8125, -1.5660"}
    assert await page.submit_form("form[action='/admin/places']", fields) == 200
    assert "LS6, Leeds" in await page.text()
    await page.click("form[action='/admin/places/remove']:has(input[value='Chapeltown']) button")
    assert await page.wait_for_navigation() == 200
    assert "Removed “Chapeltown”" in await page.text()
    assert "Chapeltown" not in (directory / "signpost.toml").read_text("utf-8")
    assert await page.goto(f"{base}/search?{urlencode({'near': 'CHAPELTOWN'})}") == 200
    assert "near chapeltown, sheffield" in (await page.text()).lower()


async def test_the_credits_page_carries_both_attributions(browser: Browser, base: str) -> None:
    page = await browser.new_page(javascript=False, **PHONE)
    assert await page.goto(base + "/") == 200
    await page.click('footer a[href="/credits"]')
    assert await page.wait_for_navigation() == 200
    text = await check_page(page, base)
    assert "Place data derived from GeoNames" in text and "CC BY 4.0" in text
    assert "Contains OS data © Crown copyright and database right 2025" in text
