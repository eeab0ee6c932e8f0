"""Privacy and escaping across everything embedding adds: API, feeds, calendars, embed, oEmbed, Open Referral."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import quote

import pytest
from embedutil import SECRET_ADDRESS, SECRET_POSTCODE, SECRET_VENUE, XSS
from markupsafe import escape

from node.exports.openreferral import service_uuid
from nodeutil import NodeHandle

SECRETS = (
    SECRET_VENUE,
    SECRET_ADDRESS,
    SECRET_POSTCODE,
    "hello@example.org",
)  # the last: the node's own, unpublished contact


def _paths(pub: str, port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        "/api/v1/search?near=LS6&per_page=100",
        "/api/v1/search?q=private+probe",
        f"/api/v1/listings/{pub}/private-probe",
        f"/listing/{pub}/private-probe.ics",
        "/calendar.ics?near=LS6",
        "/calendar.ics",
        "/embed?near=LS6",
        "/embed?kind=group",
        "/embed/build?near=LS6",
        "/oembed?url=" + quote(f"{base}/search?near=LS6"),
        "/openreferral/services?per_page=100",
        f"/openreferral/services/{service_uuid(pub, 'private-probe')}",
        "/feed?kind=group&near=LS6",
        "/feed?publisher=" + pub,
    ]


def _all_bytes(body: bytes) -> str:
    """The body, plus every base64 envelope payload inside it decoded (feeds carry records as base64)."""
    text = body.decode("utf-8")
    for b64 in re.findall(r'"payload":"([A-Za-z0-9+/=]+)"', text):
        text += base64.b64decode(b64).decode("utf-8")
    return text


async def test_private_places_and_unpublished_contacts_never_leave(client: Any, leeds: NodeHandle) -> None:
    assert leeds.query("SELECT address FROM private_places WHERE id = 'private-probe'") == [(SECRET_ADDRESS,)]
    for path in _paths(leeds.publisher, client.server.port):
        resp = await client.get(path)
        assert resp.status == 200, (path, resp.status)
        text = _all_bytes(await resp.read())
        for secret in SECRETS:
            assert secret not in text, (path, secret)
    found = await (await client.get(f"/api/v1/listings/{leeds.publisher}/private-probe")).json()
    assert found["item"]["record"]["location"] == {
        "type": "area",
        "area": "Headingley, Leeds",
        "postcode_area": "LS6 3",
        "lat": "53.8230",
        "lon": "-1.5800",
    }


@pytest.mark.parametrize(
    "path", ["/embed?near=LS6", "/embed?q=peer+group", "/embed/build?q=" + quote(XSS), "/search?near=LS6"]
)
async def test_hostile_names_are_escaped_in_html(client: Any, path: str) -> None:
    resp = await client.get(path)
    text = await resp.text()
    assert "<script>alert" not in text and "<img src=x" not in text
    if path == "/embed?q=peer+group":
        assert str(escape(f"Peer group {XSS}")) in text


async def test_hostile_text_cannot_inject_calendar_lines(client: Any, leeds: NodeHandle) -> None:
    for path in (
        f"/listing/{leeds.publisher}/ics-injection.ics",
        f"/listing/{leeds.publisher}/xss-group.ics",
        "/calendar.ics",
    ):
        body = (await (await client.get(path)).read()).decode()
        unfolded = body.replace("\r\n ", "")
        lines = unfolded.split("\r\n")
        assert not any(line.startswith("ATTENDEE") or line.startswith("X-Y") for line in lines), path
        assert "\n" not in body.replace("\r\n", "")
    body = (
        (await (await client.get(f"/listing/{leeds.publisher}/ics-injection.ics")).read()).decode().replace("\r\n ", "")
    )
    assert "SUMMARY:Evil\\nATTENDEE:mailto:victim@example.org\\nX-Y\\;Z:1\\,2" in body


async def test_oembed_html_escapes_what_it_quotes(client: Any) -> None:
    base = f"http://127.0.0.1:{client.server.port}"
    body = await (await client.get("/oembed", params={"url": f"{base}/search?q={quote(XSS)}"})).json()
    frame = body["html"]
    assert frame.count("<") == 2 and "onerror" not in frame.replace("onerror%3D", "")  # only <iframe> and </iframe>


async def test_json_is_never_sniffed_as_html(client: Any) -> None:
    resp = await client.get("/api/v1/search?q=peer+group")
    assert resp.content_type == "application/json" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Peer group" in await resp.text()
