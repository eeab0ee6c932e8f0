"""``/networks``: every network the node carries, in its own words, with counts, searchable, and as JSON."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

from aiohttp.test_utils import TestClient
from example_network import Network, example_records

from node.directory.networks import carried_publishers
from node.storage.store import connect


def expected_counts(name: str) -> dict[str, int]:
    return dict(
        Counter(
            str(r["kind"]) for r in example_records(name) if r["kind"] != "organisation" and r.get("status") != "closed"
        )
    )


async def test_networks_page_shows_every_carried_network_in_its_own_words(client: TestClient, network: Network) -> None:
    resp = await client.get("/networks")
    assert resp.status == 200
    text = await resp.text()
    for name in ("Leeds Peer Support Network", "Lambeth Living Well Collaborative", "Peer Support Together UK"):
        assert name in text
    # Each network's own summary, from its own signed organisation record.
    assert "A partnership of people with lived experience, carers, charities and the NHS" in text
    assert "A network of peer-led groups across Leeds" in text
    assert "Arrived via Leeds peer support node" in text and "Arrived via Lambeth Living Well node" in text
    assert "Published on this node" in text  # the national node's own
    assert "0113 496 0100" in text and "https://example.org/lambeth-living-well" in text


async def test_api_counts_listings_by_kind_and_names_the_peer_each_came_through(
    client: TestClient, network: Network
) -> None:
    resp = await client.get("/api/v1/networks")
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    body = await resp.json()
    by_publisher = {item["publisher"]: item for item in body["items"]}
    assert set(by_publisher) == set(network.publishers.values())
    lambeth = by_publisher[network.publishers["lambeth"]]
    assert lambeth["counts"] == expected_counts("lambeth")
    assert lambeth["via"] == network.urls["lambeth"] and lambeth["via_name"] == "Lambeth Living Well node"
    assert lambeth["organisation"]["description"].startswith("The Collaborative brings together peer groups")
    assert lambeth["area"] == "Brixton, London"
    leeds = by_publisher[network.publishers["leeds"]]
    assert leeds["counts"] == expected_counts("leeds")
    assert leeds["name"] == "Leeds Peer Support Network"
    assert "peer-work" in leeds["topics"] or "crisis" in leeds["topics"]
    assert by_publisher[network.publishers["national"]]["via"] is None
    assert leeds["last_published"].startswith("2026-11-23")


async def test_networks_near_lambeth_finds_the_lambeth_network_only(client: TestClient, network: Network) -> None:
    for place in ("Lambeth", "SE11", "SW9 7AA"):
        body = await (await client.get("/api/v1/networks", params={"near": place})).json()
        assert [i["publisher"] for i in body["items"]] == [network.publishers["lambeth"]], place
    body = await (await client.get("/api/v1/networks", params={"near": "LS11"})).json()
    assert [i["publisher"] for i in body["items"]] == [network.publishers["leeds"]]
    page = await (await client.get("/networks", params={"near": "Lambeth"})).text()
    assert "Lambeth Living Well Collaborative" in page and "Leeds Peer Support Network" not in page


async def test_networks_are_found_by_the_words_they_describe_themselves_with(
    client: TestClient, network: Network
) -> None:
    for q, who in [("Brixton", "lambeth"), ("small grants", "leeds"), ("online groups whole UK", "national")]:
        body = await (await client.get("/api/v1/networks", params={"q": q})).json()
        assert [i["publisher"] for i in body["items"]] == [network.publishers[who]], q
    body = await (await client.get("/api/v1/networks", params={"q": "zebra crossing"})).json()
    assert body["items"] == []
    page = await (await client.get("/networks", params={"q": "zebra crossing"})).text()
    assert "No networks found" in page


async def test_one_network_page_shows_its_description_and_its_listings(client: TestClient, network: Network) -> None:
    lambeth = network.publishers["lambeth"]
    resp = await client.get(f"/networks/{lambeth}")
    assert resp.status == 200
    text = await resp.text()
    assert "We fund and support peer-led groups, run a weekend peer support line" in text
    assert f'href="/listing/{lambeth}/after-the-ward-stockwell"' in text
    body = await (await client.get(f"/api/v1/networks/{lambeth}")).json()
    ids = {x["record_id"] for x in body["network"]["listings"]}
    assert "after-the-ward-stockwell" in ids and "lambeth-living-well-collaborative" not in ids
    assert len(ids) == sum(expected_counts("lambeth").values())


async def test_unknown_networks_and_places_get_clear_answers(client: TestClient) -> None:
    assert (await client.get("/networks/sp1:" + "a" * 26)).status == 404
    assert (await client.get("/networks/not-a-publisher")).status == 404
    resp = await client.get("/api/v1/networks/sp1:" + "a" * 26)
    assert resp.status == 404 and (await resp.json())["ok"] is False
    resp = await client.get("/networks", params={"near": "Lambth"})
    assert resp.status == 400 and "Lambeth" in await resp.text()
    resp = await client.get("/api/v1/networks", params={"colour": "red"})
    assert resp.status == 400 and "colour" in (await resp.json())["error"]


def test_network_queries_are_served_by_the_publisher_indexes(network: Network) -> None:
    conn: sqlite3.Connection = connect(network.national / "signpost.db")
    try:
        plans = [
            " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))
            for sql, args in [
                ("SELECT publisher, max(rev), max(via) FROM versions GROUP BY publisher", ()),
                (
                    "SELECT id, rev, payload FROM listings WHERE publisher = ? AND kind = 'organisation' "
                    "AND status != 'closed'",
                    ("x",),
                ),
            ]
        ]
        assert "versions_record" in plans[0]
        assert re.search(r"SEARCH listings USING (COVERING )?INDEX \w+ \(publisher=\?", plans[1]), plans[1]
        assert len(carried_publishers(conn)) == 3
    finally:
        conn.close()


async def test_every_public_page_links_to_the_networks(client: TestClient) -> None:
    """People find /networks from any page (its footer), not only by knowing the address."""
    for path in ("/", "/search?q=voices", "/networks"):
        page = await (await client.get(path)).text()
        assert 'href="/networks"' in page, path
