"""The JSON API: shapes, stable ids, CORS, ETags, caching and the one error shape."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from nodeutil import NodeHandle


def _validator(doc: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    resource = Resource.from_contents({**doc, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    registry = Registry().with_resource("urn:openapi", resource)
    return jsonschema.Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


async def test_search_gives_stable_ids_links_schedule_and_distance(client: Any, leeds: NodeHandle) -> None:
    resp = await client.get(
        "/api/v1/search", params={"kind": "group", "near": "LS6", "within": "10km", "per_page": "5"}
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["ok"] is True and body["total"] >= 5 and len(body["items"]) == 5
    first = body["items"][0]
    assert first["id"] == f"{leeds.publisher}/{first['record_id']}"
    assert first["url"].endswith(f"/listing/{leeds.publisher}/{first['record_id']}")
    assert first["calendar"].endswith(".ics")
    assert first["schedule"] and first["next"]["start"].startswith("2026-")
    assert first["distance_km"] is not None and first["network"] == "Leeds Peer Support Network"
    assert first["record"]["kind"] == "group"
    assert body["next"] is not None and "page=2" in body["next"] and "per_page=5" in body["next"]
    distances = [i["distance_km"] for i in body["items"]]
    assert distances == sorted(distances)


async def test_responses_match_the_openapi_schemas(client: Any) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    body = await (await client.get("/api/v1/search", params={"near": "Leeds", "per_page": "100"})).json()
    _validator(doc, "SearchResponse").validate(body)
    one = await (await client.get(f"/api/v1/listings/{body['items'][0]['id']}")).json()
    _validator(doc, "ListingResponse").validate(one)
    bad = await (await client.get("/api/v1/search", params={"kind": "nonsense"})).json()
    _validator(doc, "Error").validate(bad)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/search?kind=nonsense", 400),
        ("/api/v1/search?near=Nowhereville", 400),
        ("/api/v1/search?within=5km", 400),
        ("/api/v1/search?page=0", 400),
        ("/api/v1/search?per_page=101", 400),
        ("/api/v1/search?colour=red", 400),
        ("/api/v1/listings/sp1:aaaaaaaaaaaaaaaaaaaaaaaaaa/nothing", 404),
        ("/api/v1/listings/not-a-publisher/x", 404),
    ],
)
async def test_errors_are_one_json_shape_and_readable_cross_origin(client: Any, path: str, status: int) -> None:
    resp = await client.get(path)
    assert resp.status == status
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["ok"] is False and body["error"]


async def test_deleted_listing_is_404(client: Any, leeds: NodeHandle) -> None:
    assert (await client.get(f"/api/v1/listings/{leeds.publisher}/xss-group")).status == 200
    leeds.delete("xss-group")
    resp = await client.get(f"/api/v1/listings/{leeds.publisher}/xss-group")
    assert resp.status == 404 and (await resp.json())["ok"] is False


async def test_etag_gives_304_and_cache_headers(client: Any) -> None:
    resp = await client.get("/api/v1/search?kind=group")
    etag = resp.headers["ETag"]
    assert etag.startswith('W/"')
    assert resp.headers["Cache-Control"] == "public, max-age=60"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    again = await client.get("/api/v1/search?kind=group", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    other = await client.get("/api/v1/search?kind=service", headers={"If-None-Match": etag})
    assert other.status == 200


async def test_preflight_allows_any_origin(client: Any) -> None:
    resp = await client.options(
        "/api/v1/search",
        headers={
            "Origin": "https://charity.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in resp.headers["Access-Control-Allow-Headers"]


async def test_openapi_record_schema_is_the_spec_schema(client: Any) -> None:
    """The description reuses the generated wire schemas, so it cannot drift from spec/schemas/record.json."""
    import json
    from pathlib import Path

    doc = await (await client.get("/api/openapi.json")).json()
    spec = json.loads((Path(__file__).resolve().parents[2] / "spec" / "schemas" / "record.json").read_text())
    ours = json.dumps(doc["components"]["schemas"]["Record"], sort_keys=True).replace(
        "#/components/schemas/", "#/$defs/"
    )
    assert json.loads(ours) == spec["$defs"]["Record"]
