"""A malicious searcher or visitor: XSS in every field, traversal in every path, oversized queries.

Every route the app serves is probed (read from the router, so a new route is
covered without editing this file); none may answer 5xx, leak a file, or
echo markup unescaped.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "admin"))

from admin_helpers import PASSWORD, sign_in

from node.web.app import create_app
from node.web.auth import write_password_hash
from node.web.passwords import hash_password
from nodeutil import NodeHandle, example_listings, make_node

XSS = '<script>alert("x")</script>"\'><img src=x onerror=alert(1)>'
TRAVERSALS = [
    "../../signpost.toml",
    "..%2F..%2Fsignpost.toml",
    "%2e%2e%2fkeys%2fsigning.key",
    "....//....//etc/passwd",
    "..\\..\\signpost.toml",
    "%00",
    "a" * 3000,
]
SECRET_MARKERS = ("ed25519-seed:", "[node]", "root:x:0:0", "password_hash")


def hostile_listing() -> tuple[str, dict[str, Any]]:
    return "xss-everywhere", {
        "kind": "event",
        "name": XSS,
        "summary": XSS,
        "description": XSS,
        "audience": XSS,
        "topics": ["anxiety"],
        "accessibility": [XSS],
        "languages": ["en"],
        "schedule": {
            "rules": [{"freq": "weekly", "byday": ["SA"], "opens": "10:00", "closes": "12:00"}],
            "text": XSS[:200],
            "exceptions": [{"date": "2026-12-26", "note": XSS}],
        },
        "location": {
            "type": "public",
            "name": XSS,
            "address": XSS,
            "postcode": "LS6 1AA",
            "area": XSS,
            "lat": "53.81",
            "lon": "-1.57",
        },
        "join": {"method": "booking", "details": XSS, "url": "https://example.org/?q=%3Cscript%3E"},
        "cost": {"free": False, "details": XSS},
        "contact": {"consent": True, "name": XSS},
        "organisation": {"name": XSS},
        "website": 'https://example.org/"><script>alert(2)</script>',
        "reviewed": "2026-11-01",
    }


@pytest.fixture
def node(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "leeds", "Leeds <b>Peer</b> Support")
    handle.publish([*example_listings("leeds")[:5], hostile_listing()])
    write_password_hash(handle.directory, hash_password(PASSWORD))
    return handle


@pytest.fixture
async def client(node: NodeHandle, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(create_app(node.config, sync=False))


def unescaped_markup(html: str) -> list[str]:
    return [m for m in ("<script>alert", "<img src=x", "<b>Peer</b>") if m in html]


async def test_xss_in_every_field_is_escaped_on_every_html_surface(node: NodeHandle, client: TestClient) -> None:
    await sign_in(client)
    paths = [
        "/",
        "/search?q=alert",
        "/search?q=xss",
        f"/listing/{node.publisher}/xss-everywhere",
        "/embed?kind=event",
        "/embed/build?kind=event",
        "/status",
        "/admin",
        "/admin/listings",
        "/admin/listings/xss-everywhere",
        f"/listing/{node.publisher}/xss-everywhere/report",
        f"/search?q={XSS}",
        f"/search?near={XSS}",
    ]
    for path in paths:
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status < 500, path
        if "html" in resp.headers.get("Content-Type", ""):
            assert unescaped_markup(html) == [], f"{path} echoes markup unescaped"


async def test_traversal_in_every_path_parameter_never_leaks_or_fails(node: NodeHandle, client: TestClient) -> None:
    await sign_in(client)
    routes = sorted(
        {r.resource.canonical for r in client.app.router.routes() if r.resource is not None and r.method == "GET"}
    )
    assert len(routes) > 15
    probes = 0
    for template in routes:
        names = re.findall(r"\{([^}]+)\}", template)
        for payload in TRAVERSALS:
            path = template
            for name in names:
                path = path.replace("{" + name + "}", payload)
            if not names:
                path = template.rstrip("/") + "/" + payload
            resp = await client.get(path)
            body = await resp.read()
            probes += 1
            assert resp.status < 500, f"{path} answered {resp.status}"
            assert not any(marker.encode() in body for marker in SECRET_MARKERS), f"{path} leaked a file"
    assert probes > 100


@pytest.mark.parametrize("size", [10_000, 100_000])
async def test_oversized_query_strings_get_a_4xx_not_a_crash(client: TestClient, size: int) -> None:
    for path in ("/search", "/feed", "/api/v1/search", "/embed"):
        resp = await client.get(f"{path}?q={'a' * size}")
        assert 400 <= resp.status < 500 or resp.status == 200, (path, resp.status)


@pytest.mark.parametrize(
    "value",
    ['"', "*", "NEAR(", "a OR b", "'; DROP TABLE listings; --", "%", "\\", "^", "(", ")", ":", "col:val", "\u0000"],
)
async def test_fts_and_sql_metacharacters_in_every_search_parameter(
    client: TestClient, node: NodeHandle, value: str
) -> None:
    for param in ("q", "near", "kind", "topic", "delivery", "when", "within", "free", "page"):
        for path in ("/search", "/api/v1/search", "/feed", "/embed", "/calendar.ics", "/openreferral/services"):
            resp = await client.get(path, params={param: value})
            assert resp.status < 500, (path, param, value, resp.status)
    assert node.query("SELECT count(*) FROM listings") == [(6,)]
