"""The OpenAPI 3.1 description of what a node offers developers (served at ``/api/openapi.json``).

The record, envelope and feed-page schemas are generated from the protocol's
msgspec types with the very generator that writes ``spec/schemas/``, so the
description cannot drift from the wire format.  Everything else is written
here, next to the parameter tables the views use.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import msgspec

from node import SOFTWARE
from node.directory.filters import DELIVERY_FILTERS, WHENS
from protocol.feed import FeedPage
from protocol.records import KINDS, PUBLISHER_PATTERN, RECORD_ID_PATTERN, TOPICS, Record

__all__ = ["openapi_document", "FILTER_PARAMETERS", "SLICE_PARAMETERS"]

_REF = "#/components/schemas/{name}"


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_LIST = "One value, or several separated by commas."
SLICE_PARAMETERS: Final[list[dict[str, Any]]] = [
    _query(
        "q",
        "Words that must all appear (prefix match, English stemming, accents ignored).",
        {"type": "string", "maxLength": 120},
    ),
    _query(
        "near",
        "A postcode, postcode district (LS6) or sector, or a town or local authority.",
        {"type": "string", "maxLength": 60},
    ),
    _query(
        "within",
        "Radius from `near` in kilometres, like `10km` or `10` (0.5 to 200). Needs `near`.",
        {"type": "string", "maxLength": 12},
    ),
    _query("kind", f"Kinds of listing: {', '.join(KINDS)}. {_LIST}", {"type": "string", "maxLength": 80}),
    _query(
        "topic",
        f"Topics (any of them matches), e.g. {', '.join(list(TOPICS)[:4])}. {_LIST}",
        {"type": "string", "maxLength": 120},
    ),
    _query(
        "delivery", f"How it is offered: {', '.join(DELIVERY_FILTERS)}. {_LIST}", {"type": "string", "maxLength": 40}
    ),
    _query(
        "free", "`1` for free listings only.", {"type": "string", "enum": ["", "0", "1", "true", "false", "yes", "no"]}
    ),
    _query(
        "publisher",
        "Only this publisher's listings (`sp1:` and 26 letters and digits).",
        {"type": "string", "maxLength": 40},
    ),
]
FILTER_PARAMETERS: Final[list[dict[str, Any]]] = [
    *SLICE_PARAMETERS,
    _query("when", f"A time window: {', '.join(WHENS)}.", {"type": "string", "maxLength": 40}),
]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


_ERROR = _json(_ref("Error"), "The one JSON error shape: what was wrong, and often what to do.")
_NOT_MODIFIED = {"description": "Not modified: the `If-None-Match` ETag still holds."}
_CALENDAR = {
    "description": "An iCalendar (RFC 5545) file.",
    "content": {"text/calendar": {"schema": {"type": "string"}}},
}
_HTML = {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}
_PATH_IDS = [
    {
        "name": "publisher",
        "in": "path",
        "required": True,
        "description": "Publisher id (`sp1:…`).",
        "schema": {"type": "string", "pattern": PUBLISHER_PATTERN},
    },
    {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The publisher's id for the listing.",
        "schema": {"type": "string", "pattern": RECORD_ID_PATTERN},
    },
]

_NULLABLE_STR = {"type": ["string", "null"]}
_SCHEMAS: Final[dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["ok", "error"],
        "properties": {
            "ok": {"const": False},
            "error": {"type": "string"},
            "hint": {"type": "string"},
            "reason": {"type": "string"},
        },
    },
    "Next": {
        "type": ["object", "null"],
        "required": ["start", "end", "all_day", "text"],
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "end": _NULLABLE_STR,
            "all_day": {"type": "boolean"},
            "text": {"type": "string"},
        },
    },
    "Listing": {
        "type": "object",
        "description": "One listing: a stable id, links, what the node works out, and `record`, the fields as the publisher signed them.",
        "required": [
            "id",
            "publisher",
            "record_id",
            "kind",
            "name",
            "network",
            "url",
            "calendar",
            "schedule",
            "next",
            "distance_km",
            "updated",
            "reviewed",
            "stale",
            "record",
        ],
        "properties": {
            "id": {"type": "string", "description": "`{publisher}/{id}`: stable across nodes and edits."},
            "publisher": {"type": "string"},
            "record_id": {"type": "string"},
            "kind": {"enum": list(KINDS)},
            "name": {"type": "string"},
            "summary": _NULLABLE_STR,
            "network": {"type": "string", "description": "The publishing network's name."},
            "url": {"type": "string", "format": "uri"},
            "calendar": {"type": "string", "format": "uri", "description": "This listing as an iCalendar file."},
            "schedule": {
                "type": "array",
                "items": {"type": "string"},
                "description": "When it happens, in plain language.",
            },
            "next": _ref("Next"),
            "distance_km": {"type": ["number", "null"]},
            "updated": {"type": "string"},
            "reviewed": _NULLABLE_STR,
            "stale": {"type": "boolean", "description": "Not checked for six months: may be out of date."},
            "record": _ref("Record"),
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": [
            "ok",
            "total",
            "page",
            "per_page",
            "pages",
            "next",
            "prev",
            "filters",
            "place",
            "corrected_q",
            "license",
            "items",
        ],
        "properties": {
            "ok": {"const": True},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "next": _NULLABLE_STR,
            "prev": _NULLABLE_STR,
            "filters": {"type": "object", "additionalProperties": {"type": "string"}},
            "place": {
                "type": ["object", "null"],
                "properties": {
                    "label": {"type": "string"},
                    "kind": {"type": "string"},
                    "lat": {"type": "number"},
                    "lon": {"type": "number"},
                    "district": {"type": "string"},
                },
            },
            "corrected_q": _NULLABLE_STR,
            "license": {"type": "string"},
            "items": {"type": "array", "items": _ref("Listing")},
        },
    },
    "ListingResponse": {
        "type": "object",
        "required": ["ok", "item"],
        "properties": {"ok": {"const": True}, "item": _ref("Listing")},
    },
    "OEmbed": {
        "type": "object",
        "required": ["type", "version", "html", "width", "height", "title", "provider_name", "provider_url"],
        "properties": {
            "type": {"const": "rich"},
            "version": {"const": "1.0"},
            "html": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "title": {"type": "string"},
            "provider_name": {"type": "string"},
            "provider_url": {"type": "string"},
            "cache_age": {"type": "integer"},
        },
    },
    "OpenReferralService": {
        "type": "object",
        "description": "An Open Referral UK (HSDS 3.0 UK profile) service; see the profile's `compiled/service.json`.",
        "required": ["id", "name", "status"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "status": {"enum": ["active", "inactive", "defunct", "temporarily closed"]},
        },
    },
    "OpenReferralPage": {
        "type": "object",
        "required": [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        "properties": {
            "total_items": {"type": "integer"},
            "total_pages": {"type": "integer"},
            "page_number": {"type": "integer"},
            "size": {"type": "integer"},
            "first_page": {"type": "boolean"},
            "last_page": {"type": "boolean"},
            "empty": {"type": "boolean"},
            "contents": {"type": "array", "items": _ref("OpenReferralService")},
        },
    },
}


# /api/v1/networks: each network in its own words (its signed organisation record) with what the node
# counted (node.web.views.networks, node.directory.networks).
_NETWORK_SCHEMAS: Final[dict[str, Any]] = {
    "Network": {
        "type": "object",
        "required": ["publisher", "name", "url", "counts", "total", "topics", "areas", "last_published", "via"],
        "properties": {
            "publisher": {"type": "string"},
            "name": {"type": "string"},
            "url": {"type": "string", "description": "Its page on this node."},
            "area": _NULLABLE_STR,
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "Live listings by kind.",
            },
            "total": {"type": "integer"},
            "topics": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Commonest topics, most common first.",
            },
            "areas": {"type": "array", "items": {"type": "string"}},
            "last_published": {"type": "string", "description": "When its newest version was signed (RFC 3339)."},
            "via": {**_NULLABLE_STR, "description": "The peer it arrived through; null for this node's own."},
            "via_name": _NULLABLE_STR,
            "distance_km": {"type": ["number", "null"]},
            "organisation": {
                "oneOf": [_ref("Record"), {"type": "null"}],
                "description": "Its own organisation record, as it signed it.",
            },
            "listings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "NetworksResponse": {
        "type": "object",
        "required": ["ok", "total", "items"],
        "properties": {
            "ok": {"const": True},
            "total": {"type": "integer"},
            "near": _NULLABLE_STR,
            "items": {"type": "array", "items": _ref("Network")},
        },
    },
    "NetworkResponse": {
        "type": "object",
        "required": ["ok", "network"],
        "properties": {"ok": {"const": True}, "network": _ref("Network")},
    },
}


def _get(summary: str, parameters: list[dict[str, Any]], responses: dict[str, Any], *, tag: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "tags": [tag], "parameters": parameters, "responses": responses}}


def _paths() -> dict[str, Any]:
    page = _query("page", "Page number, from 1 to 500.", {"type": "integer", "minimum": 1, "maximum": 500})
    per_page = _query(
        "per_page", "Results per page, 1 to 100 (default 20).", {"type": "integer", "minimum": 1, "maximum": 100}
    )
    return {
        "/api/v1/search": _get(
            "Search listings with the public search page's filters",
            [*FILTER_PARAMETERS, page, per_page],
            {
                "200": _json(_ref("SearchResponse"), "One page of results, best first."),
                "304": _NOT_MODIFIED,
                "400": _ERROR,
            },
            tag="api",
        ),
        "/api/v1/listings/{publisher}/{id}": _get(
            "One listing",
            _PATH_IDS,
            {"200": _json(_ref("ListingResponse"), "The listing."), "304": _NOT_MODIFIED, "400": _ERROR, "404": _ERROR},
            tag="api",
        ),
        "/api/v1/networks": _get(
            "The networks this node carries, searchable by words and place",
            [*SLICE_PARAMETERS[:3]],
            {
                "200": _json(_ref("NetworksResponse"), "Every network, or those matching."),
                "304": _NOT_MODIFIED,
                "400": _ERROR,
            },
            tag="api",
        ),
        "/api/v1/networks/{publisher}": _get(
            "One network, with its live listings",
            [_PATH_IDS[0]],
            {"200": _json(_ref("NetworkResponse"), "The network."), "304": _NOT_MODIFIED, "404": _ERROR},
            tag="api",
        ),
        "/api/openapi.json": _get(
            "This description", [], {"200": _json({"type": "object"}, "OpenAPI 3.1."), "304": _NOT_MODIFIED}, tag="api"
        ),
        "/feed": _get(
            "The RPDE feed, or a slice of it (spec §6.5)",
            [
                _query(
                    "afterChangeNumber",
                    "Changes after this change number.",
                    {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                ),
                *SLICE_PARAMETERS,
                _query(
                    "when",
                    "Refused: slice membership must not depend on the time.",
                    {"type": "string", "maxLength": 40},
                ),
            ],
            {
                "200": _json(
                    _ref("FeedPage"),
                    "A feed page. In a slice, a deleted item without a tombstone means the record left the slice.",
                ),
                "304": _NOT_MODIFIED,
                "400": _ERROR,
            },
            tag="feeds",
        ),
        "/listing/{publisher}/{id}.ics": _get(
            "A listing as iCalendar (Add to calendar)",
            _PATH_IDS,
            {"200": _CALENDAR, "400": _ERROR, "404": _ERROR},
            tag="calendars",
        ),
        "/calendar.ics": _get(
            "A subscribable calendar of every listing in a slice",
            SLICE_PARAMETERS,
            {"200": _CALENDAR, "400": _ERROR},
            tag="calendars",
        ),
        "/oembed": _get(
            "oEmbed for this node's search and embed pages",
            [
                _query(
                    "url",
                    "A search or embed page URL on this node.",
                    {"type": "string", "maxLength": 600},
                    required=True,
                ),
                _query(
                    "format",
                    "Only `json` (`xml` answers 501 Not Implemented, as oEmbed says).",
                    {"type": "string", "enum": ["json"]},
                ),
                _query(
                    "maxwidth",
                    "Largest width the consumer allows, in pixels.",
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                ),
                _query(
                    "maxheight",
                    "Largest height the consumer allows, in pixels.",
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                ),
            ],
            {
                "200": _json(_ref("OEmbed"), "A rich oEmbed answer: a sandboxed, self-resizing iframe."),
                "400": _ERROR,
                "404": _ERROR,
                "501": _ERROR,
            },
            tag="embedding",
        ),
        "/embed": _get(
            "A slice as a compact HTML list, for an iframe",
            SLICE_PARAMETERS,
            {"200": _HTML, "400": _HTML},
            tag="embedding",
        ),
        "/openreferral/": _get(
            "Open Referral UK API version",
            [],
            {
                "200": _json(
                    {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}},
                    "The profile version.",
                ),
                "304": _NOT_MODIFIED,
            },
            tag="openreferral",
        ),
        "/openreferral/services": _get(
            "Services as Open Referral UK (HSDS 3.0 UK profile)",
            [
                _query("page", "Page number (from 1).", {"type": "integer", "minimum": 1, "maximum": 10000}),
                _query(
                    "per_page",
                    "Services per page (1 to 100, default 50).",
                    {"type": "integer", "minimum": 1, "maximum": 100},
                ),
                _query("text", "Full-text search.", {"type": "string", "maxLength": 120}),
                _query("search", "Full-text search (alias of `text`).", {"type": "string", "maxLength": 120}),
                _query(
                    "postcode",
                    "A postcode; with `proximity`, only services within that many metres of its centroid.",
                    {"type": "string", "maxLength": 60},
                ),
                _query(
                    "proximity",
                    "Metres from `postcode` (500 to 200000).",
                    {"type": "integer", "minimum": 500, "maximum": 200000},
                ),
                _query(
                    "taxonomy_term_id",
                    "A topic's taxonomy term id (a UUID from this node) or slug.",
                    {"type": "string", "maxLength": 60},
                ),
            ],
            {"200": _json(_ref("OpenReferralPage"), "A page of services."), "304": _NOT_MODIFIED, "400": _ERROR},
            tag="openreferral",
        ),
        "/openreferral/services/{id}": _get(
            "One Open Referral UK service",
            [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "The service's UUID.",
                    "schema": {"type": "string"},
                }
            ],
            {
                "200": _json(_ref("OpenReferralService"), "The fully nested service."),
                "304": _NOT_MODIFIED,
                "400": _ERROR,
                "404": _ERROR,
            },
            tag="openreferral",
        ),
    }


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    _, generated = msgspec.json.schema_components([Record, FeedPage], ref_template=_REF)
    return {**generated, **_SCHEMAS, **_NETWORK_SCHEMAS}


def openapi_document(base_url: str, name: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a node at ``base_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{name} (Signpost)",
            "version": SOFTWARE,
            "description": "Peer support listings: search, single listings, RPDE feeds and slices, calendars, oEmbed and Open Referral UK. "
            'Every JSON error is `{"ok": false, "error": ...}`. Read-only, open to any origin.',
            "license": {
                "name": "Data: see each response's license",
                "url": "https://creativecommons.org/licenses/by/4.0/",
            },
        },
        "servers": [{"url": base_url}],
        "paths": _paths(),
        "components": {"schemas": _components()},
    }
