"""The handout: a search, or one listing, laid out for paper with urgent help, QR codes and "check before you go"."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from example_network import Network


async def test_print_view_of_a_search_has_urgent_help_the_date_and_each_listing(client: TestClient) -> None:
    resp = await client.get("/search/print", params={"near": "LS6", "kind": "group"})
    assert resp.status == 200
    html = await resp.text()
    assert "<script" not in html
    head = html.index("Need help now?")
    assert head < html.index("<h1")
    for number in ("999", "NHS 111", "116 123", "85258"):
        assert number in html[head : html.index("<h1")]
    assert "Printed Monday 23 November 2026" in html and "check before you go" in html
    assert "Headingley Hearing Voices Group" in html
    assert "Every Tuesday, 6:30pm to 8pm" in html and "Next:</strong> Tomorrow" in html
    assert html.count('<svg role="img" aria-label="QR code: the page for') == html.count('class="card"') > 0


async def test_private_groups_are_printed_with_their_area_only(client: TestClient, network: Network) -> None:
    html = await (await client.get("/search/print", params={"q": "hearing voices", "near": "LS6"})).text()
    card = html[html.index("Headingley Hearing Voices Group") :]
    card = card[: card.index("</article>")]
    assert "Headingley, Leeds (LS6 3) (private group: the place is shared when you get in touch)" in card
    one = await client.get(f"/listing/{network.publishers['leeds']}/headingley-hearing-voices/print")
    assert one.status == 200
    text = await one.text()
    assert "Headingley, Leeds (LS6 3)" in text
    assert not re.search(r"LS6 3[A-Z]{2}", text)  # no full postcode, no address


async def test_a_phone_number_is_printed_only_where_the_listing_has_a_consented_contact(
    client: TestClient, network: Network
) -> None:
    html = await (await client.get(f"/listing/{network.publishers['lambeth']}/weekend-peer-support-line/print")).text()
    assert "<strong>Phone:</strong> 0808 157 0123" in html
    html = await (await client.get(f"/listing/{network.publishers['lambeth']}/after-the-ward-stockwell/print")).text()
    assert "<strong>Phone:</strong>" not in html  # no contact of its own: the network's is shown instead
    assert "Contact Lambeth Living Well Collaborative:" in html


async def test_the_results_page_links_to_its_print_view_with_the_same_search(client: TestClient) -> None:
    html = await (await client.get("/search", params={"near": "SE11", "kind": "group"})).text()
    m = re.search(r'href="(/search/print\?[^"]+)"[^>]*>Print this list', html)
    assert m, "no Print this list link"
    link = m.group(1).replace("&amp;", "&")
    assert "near=SE11" in link and "kind=group" in link
    assert (await client.get(link)).status == 200


async def test_print_views_refuse_bad_input_clearly(client: TestClient, network: Network) -> None:
    resp = await client.get("/search/print", params={"near": "Atlantis"})
    assert resp.status == 400 and "We don't recognise" in await resp.text()
    assert (await client.get(f"/listing/{network.publishers['leeds']}/no-such-listing/print")).status == 404
    assert (await client.get(f"/listing/{network.publishers['leeds']}/bramley-hearing-voices/print")).status == 410


async def test_the_handout_says_how_to_join_in_the_same_words_as_the_listing_page(
    client: TestClient, network: Network
) -> None:
    """A phone line you can ring at any time is "Just call" on paper too, never "Just turn up"."""
    path = f"/listing/{network.publishers['leeds']}/leeds-peer-support-line"
    page = await (await client.get(path)).text()
    paper = await (await client.get(f"{path}/print")).text()
    assert "Just call" in page and "Just call" in paper
    assert "Just turn up" not in paper
