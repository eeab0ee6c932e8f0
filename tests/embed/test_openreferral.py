"""Open Referral UK: real responses validate against the profile's compiled schemas and our OpenAPI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from node.exports.openreferral import NAMESPACE, service_uuid, term_uuid
from nodeutil import NodeHandle

VENDOR = Path(__file__).resolve().parents[1] / "vendor" / "openreferral-uk" / "schema"


def _schema(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((VENDOR / "compiled" / name).read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _page_schema() -> jsonschema.Draft202012Validator:
    page = json.loads((VENDOR / "openapi.json").read_text())["components"]["schemas"]["Page"]
    return jsonschema.Draft202012Validator({**page, "required": list(page["properties"])})


def _openapi(doc: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents({**doc, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    )
    return jsonschema.Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


async def test_service_list_pages_validate(client: Any) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    seen = 0
    for params in (
        {},
        {"postcode": "LS6 3HN", "proximity": "3000"},
        {"text": "hearing voices"},
        {"taxonomy_term_id": term_uuid("carers")},
        {"page": "2", "per_page": "5"},
    ):
        resp = await client.get("/openreferral/services", params=params)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        _page_schema().validate(body)
        _openapi(doc, "OpenReferralPage").validate(body)
        for item in body["contents"]:
            _schema("service_list.json").validate(item)
            seen += 1
    assert seen > 10


async def test_every_full_service_validates(client: Any) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    body = await (await client.get("/openreferral/services", params={"per_page": "100"})).json()
    assert body["total_items"] == len(body["contents"]) > 10
    kinds_of_schedule = set()
    for item in body["contents"]:
        resp = await client.get(f"/openreferral/services/{item['id']}")
        assert resp.status == 200
        service = await resp.json()
        _schema("service.json").validate(service)
        _openapi(doc, "OpenReferralService").validate(service)
        kinds_of_schedule |= {s.get("freq") for s in service["schedules"]}
    assert {"WEEKLY", "MONTHLY"} <= kinds_of_schedule


async def test_ids_are_stable_uuid5s(client: Any, leeds: NodeHandle) -> None:
    sid = service_uuid(leeds.publisher, "headingley-hearing-voices")
    assert sid == str(uuid.uuid5(NAMESPACE, f"{leeds.publisher}/headingley-hearing-voices"))
    service = await (await client.get(f"/openreferral/services/{sid}")).json()
    assert service["name"] == "Headingley Hearing Voices Group"
    assert [a["taxonomy_term"]["term"] for a in service["attributes"]] == ["hearing-voices", "psychosis"]


async def test_private_group_is_area_only(client: Any, leeds: NodeHandle) -> None:
    service = await (
        await client.get(f"/openreferral/services/{service_uuid(leeds.publisher, 'private-probe')}")
    ).json()
    (sal,) = service["service_at_locations"]
    assert "addresses" not in sal["location"] and sal["location"]["name"] == "Headingley, Leeds"
    assert service["contacts"] == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/openreferral/services/00000000-0000-0000-0000-000000000000", 404),
        ("/openreferral/services?proximity=1000", 400),
        ("/openreferral/services?postcode=ZZ99", 400),
        ("/openreferral/services?per_page=0", 400),
        ("/openreferral/services?colour=red", 400),
    ],
)
async def test_errors(client: Any, path: str, status: int) -> None:
    resp = await client.get(path)
    assert resp.status == status and (await resp.json())["ok"] is False


async def test_unknown_taxonomy_term_finds_nothing(client: Any) -> None:
    body = await (await client.get("/openreferral/services?taxonomy_term_id=not-a-term")).json()
    assert body["total_items"] == 0 and body["empty"] is True
