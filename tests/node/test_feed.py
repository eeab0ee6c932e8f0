"""GET /feed: RPDE 1.0 change-number ordering, exactly as spec §6 lays out."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from node.web.app import create_app
from nodeutil import NodeHandle, group
from protocol import envelope as dsse
from protocol.feed import PAGE_SIZE
from protocol.keylog import verify_keylog
from protocol.records import decode_version
from protocol.verify import open_record


def envelopes(objs: list[Any]) -> list[dsse.Envelope]:
    return msgspec.convert(objs, list[dsse.Envelope])


@pytest.fixture
async def client(test_node: NodeHandle, aiohttp_client: Any) -> Any:
    return await aiohttp_client(create_app(test_node.config, sync=False))


async def page(client: Any, after: int | None = None, **headers: str) -> tuple[Any, Any]:
    params = {} if after is None else {"afterChangeNumber": str(after)}
    resp = await client.get("/feed", params=params, headers=headers)
    return resp, (await resp.json() if resp.status == 200 else None)


async def test_items_carry_signed_envelopes_that_verify_end_to_end(test_node: NodeHandle, client: Any) -> None:
    test_node.publish([group(1), group(2)])
    doc = await (await client.get("/.well-known/signpost")).json()
    log = verify_keylog(envelopes(doc["keylog"]), publisher=doc["publisher"])
    _, body = await page(client)
    assert [i["id"] for i in body["items"]] == [
        f"{test_node.publisher}/group-000001",
        f"{test_node.publisher}/group-000002",
    ]
    for item in body["items"]:
        assert item["state"] == "updated" and item["kind"] == "group"
        env = msgspec.convert(item["data"], dsse.Envelope)
        opened = open_record(env, log, now_us=2**62)
        assert opened.version.publisher == test_node.publisher


async def test_next_is_built_from_the_last_item_and_last_page_points_at_itself(
    test_node: NodeHandle, client: Any
) -> None:
    test_node.publish([group(i) for i in range(3)])
    _, first = await page(client)
    last = first["items"][-1]["modified"]
    assert first["next"] == f"{test_node.url}/feed?afterChangeNumber={last}"
    _, end = await page(client, last)
    assert end["items"] == [] and end["next"] == first["next"]
    assert end["license"] and end["epoch"] == first["epoch"]


async def test_a_changed_record_moves_to_the_end(test_node: NodeHandle, client: Any) -> None:
    test_node.publish([group(1), group(2), group(3)])
    test_node.publish([group(1, summary="Now meeting upstairs.")])
    _, body = await page(client)
    ids = [i["id"].split("/")[1] for i in body["items"]]
    assert ids == ["group-000002", "group-000003", "group-000001"]
    mods = [i["modified"] for i in body["items"]]
    assert mods == sorted(mods) and len(set(mods)) == 3


async def test_deletion_is_a_deleted_item_carrying_the_signed_tombstone(test_node: NodeHandle, client: Any) -> None:
    test_node.publish([group(1), group(2)])
    test_node.delete("group-000001")
    _, body = await page(client)
    item = body["items"][-1]
    assert item["state"] == "deleted" and "data" not in item
    tomb = decode_version(dsse.payload_bytes(msgspec.convert(item["tombstone"], dsse.Envelope)))
    assert tomb.deleted is True and tomb.id == "group-000001"
    assert test_node.query("SELECT count(*) FROM listings WHERE id = 'group-000001'") == [(0,)]


async def test_pages_hold_at_most_500_items_and_full_pages_cache_for_an_hour(
    test_node: NodeHandle, client: Any
) -> None:
    test_node.publish([group(i) for i in range(PAGE_SIZE + 20)])
    resp, body = await page(client)
    assert len(body["items"]) == PAGE_SIZE
    assert resp.headers["Cache-Control"] == "public, max-age=3600"
    resp2, body2 = await page(client, body["items"][-1]["modified"])
    assert len(body2["items"]) == 20
    assert "max-age=8" in resp2.headers["Cache-Control"]


async def test_conditional_get_of_the_last_page_answers_304(test_node: NodeHandle, client: Any) -> None:
    test_node.publish([group(1)])
    _, body = await page(client)
    after = body["items"][-1]["modified"]
    resp, _ = await page(client, after)
    etag = resp.headers["ETag"]
    again, _ = await page(client, after, **{"If-None-Match": etag})
    assert again.status == 304
    test_node.publish([group(2)])
    changed, body = await page(client, after, **{"If-None-Match": etag})
    assert changed.status == 200 and len(body["items"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "afterChangeNumber=abc",
        "afterChangeNumber=-1",
        "afterChangeNumber=1.5",
        "afterChangeNumber=99999999999999999999999",
        "afterTimestamp=1",
        "afterChangeNumber=1&afterChangeNumber=2",
        "afterChangeNumber=%00",
        "limit=5",
    ],
)
async def test_malformed_parameters_get_a_400_json_error(client: Any, query: str) -> None:
    resp = await client.get(f"/feed?{query}")
    assert resp.status == 400
    body = await resp.json()
    assert body["ok"] is False and body["error"]


async def test_keys_endpoint_serves_the_key_log_and_404s_unknown_publishers(test_node: NodeHandle, client: Any) -> None:
    resp = await client.get(f"/keys/{test_node.publisher}")
    body = await resp.json()
    assert verify_keylog(envelopes(body["keylog"])).publisher == test_node.publisher
    missing = await client.get("/keys/sp1:" + "a" * 26)
    assert missing.status == 404 and (await missing.json())["ok"] is False
    bad = await client.get("/keys/..%2F..%2Fetc%2Fpasswd")
    assert bad.status in (400, 404)


async def test_node_document_names_protocol_publisher_feed_and_licence(test_node: NodeHandle, client: Any) -> None:
    doc = await (await client.get("/.well-known/signpost")).json()
    assert doc["protocol"] == "signpost/1"
    assert doc["publisher"] == test_node.publisher
    assert doc["feed"] == f"{test_node.url}/feed"
    assert doc["license"].startswith("https://") and doc["software"].startswith("signpost/")
    assert doc["follows"] == [] and len(doc["keylog"]) == 1
