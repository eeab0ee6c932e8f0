"""Fixtures for embedding tests: a Leeds node with the example listings plus privacy and XSS probes."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for nodeutil and support

from nodeutil import NodeHandle, example_listings, make_node  # noqa: E402

from node.app import create_app  # noqa: E402
from node.publisher import ListingIn  # noqa: E402
from node.schedule import LONDON  # noqa: E402
from node.views.pages import CLOCK  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=LONDON)
# Strings that must never leave the node: a private group's real meeting place.
SECRET_VENUE = "Room 7 Secret Chapel"
SECRET_ADDRESS = "12 Hidden Lane, Headingley"
SECRET_POSTCODE = "LS6 9ZZ"
XSS = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
ICS_INJECTION = "Evil\r\nATTENDEE:mailto:victim@example.org\r\nX-Y;Z:1,2"


def probe_listings() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("xss-group", {
            "kind": "group", "name": f"Peer group {XSS}", "summary": f"Summary {XSS}", "description": f"About {ICS_INJECTION}",
            "topics": ["depression"], "delivery": "in_person",
            "location": {"type": "public", "name": f"Hall {XSS}", "address": "1 Otley Road, Leeds", "postcode": "LS6 3AA", "area": "Headingley, Leeds", "lat": "53.8200", "lon": "-1.5760"},
            "schedule": {"rules": [{"freq": "weekly", "byday": ["WE"], "opens": "10:00", "closes": "11:00"}]},
            "reviewed": "2026-11-01",
        }),
        ("ics-injection", {
            "kind": "group", "name": ICS_INJECTION, "topics": ["anxiety"], "delivery": "in_person",
            "location": {"type": "area", "area": "Hyde Park, Leeds", "postcode_area": "LS6 1", "lat": "53.8140", "lon": "-1.5700"},
            "schedule": {"rules": [{"freq": "weekly", "byday": ["FR"], "opens": "18:00", "closes": "19:30"}]},
            "reviewed": "2026-11-01",
        }),
    ]


def private_listing() -> ListingIn:
    return ListingIn(
        id="private-probe",
        fields={
            "kind": "group", "name": "Private probe group", "private": True, "topics": ["psychosis"], "delivery": "in_person",
            "location": {"type": "area", "area": "Headingley, Leeds", "postcode_area": "LS6 3", "lat": "53.8230", "lon": "-1.5800"},
            "schedule": {"rules": [{"freq": "weekly", "byday": ["MO"], "opens": "19:00", "closes": "20:30"}]},
            "reviewed": "2026-11-01",
        },
        private_place=(SECRET_VENUE, SECRET_ADDRESS, SECRET_POSTCODE),
    )


def publish_private(handle: NodeHandle) -> None:
    from node.context import now_us
    from node.publisher import load_identity, publish
    from node.store import connect, transaction

    conn = connect(handle.directory / "signpost.db")
    try:
        ident = load_identity(handle.directory, conn, handle.publisher)
        with transaction(conn):
            publish(conn, ident, [private_listing()], now_us=now_us())
    finally:
        conn.close()


@pytest.fixture
def leeds(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    handle.publish(example_listings("leeds") + probe_listings())
    publish_private(handle)
    return handle


@pytest.fixture
def serve_node(aiohttp_server: Any) -> Callable[[NodeHandle], Any]:
    """Serve a node in-process on its configured port, with the clock fixed at :data:`NOW`."""

    async def start(handle: NodeHandle, *, clock: bool = True) -> Any:
        app = create_app(handle.config, sync=False)
        if clock:
            app[CLOCK] = lambda: NOW
        return await aiohttp_server(app, host="127.0.0.1", port=handle.port)

    return start


@pytest.fixture
async def client(leeds: NodeHandle, serve_node: Any, aiohttp_client: Any) -> Any:
    server = await serve_node(leeds)
    return await aiohttp_client(server)
