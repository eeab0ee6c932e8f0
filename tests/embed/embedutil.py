"""Shared data for embedding tests: the fixed clock, privacy probes and hostile strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from node.directory.schedule import LONDON
from node.publishing.publisher import ListingIn
from nodeutil import NodeHandle

__all__ = [
    "NOW",
    "SECRET_VENUE",
    "SECRET_ADDRESS",
    "SECRET_POSTCODE",
    "XSS",
    "ICS_INJECTION",
    "probe_listings",
    "private_listing",
    "publish_private",
]

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=LONDON)
# Strings that must never leave the node: a private group's real meeting place.
SECRET_VENUE = "Room 7 Secret Chapel"
SECRET_ADDRESS = "12 Hidden Lane, Headingley"
SECRET_POSTCODE = "LS6 9ZZ"
XSS = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
ICS_INJECTION = "Evil\r\nATTENDEE:mailto:victim@example.org\r\nX-Y;Z:1,2"


def probe_listings() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "xss-group",
            {
                "kind": "group",
                "name": f"Peer group {XSS}",
                "summary": f"Summary {XSS}",
                "description": f"About {ICS_INJECTION}",
                "topics": ["depression"],
                "delivery": "in_person",
                "location": {
                    "type": "public",
                    "name": f"Hall {XSS}",
                    "address": "1 Otley Road, Leeds",
                    "postcode": "LS6 3AA",
                    "area": "Headingley, Leeds",
                    "lat": "53.8200",
                    "lon": "-1.5760",
                },
                "schedule": {"rules": [{"freq": "weekly", "byday": ["WE"], "opens": "10:00", "closes": "11:00"}]},
                "reviewed": "2026-11-01",
            },
        ),
        (
            "ics-injection",
            {
                "kind": "group",
                "name": ICS_INJECTION,
                "topics": ["anxiety"],
                "delivery": "in_person",
                "location": {
                    "type": "area",
                    "area": "Hyde Park, Leeds",
                    "postcode_area": "LS6 1",
                    "lat": "53.8140",
                    "lon": "-1.5700",
                },
                "schedule": {"rules": [{"freq": "weekly", "byday": ["FR"], "opens": "18:00", "closes": "19:30"}]},
                "reviewed": "2026-11-01",
            },
        ),
    ]


def private_listing() -> ListingIn:
    return ListingIn(
        id="private-probe",
        fields={
            "kind": "group",
            "name": "Private probe group",
            "private": True,
            "topics": ["psychosis"],
            "delivery": "in_person",
            "location": {
                "type": "area",
                "area": "Headingley, Leeds",
                "postcode_area": "LS6 3",
                "lat": "53.8230",
                "lon": "-1.5800",
            },
            "schedule": {"rules": [{"freq": "weekly", "byday": ["MO"], "opens": "19:00", "closes": "20:30"}]},
            "reviewed": "2026-11-01",
        },
        private_place=(SECRET_VENUE, SECRET_ADDRESS, SECRET_POSTCODE),
    )


def publish_private(handle: NodeHandle) -> None:
    from node.core.context import now_us
    from node.publishing.publisher import load_identity, publish
    from node.storage.store import connect, transaction

    conn = connect(handle.directory / "signpost.db")
    try:
        ident = load_identity(handle.directory, conn, handle.publisher)
        with transaction(conn):
            publish(conn, ident, [private_listing()], now_us=now_us())
    finally:
        conn.close()
