"""A hostile peer: an aiohttp app whose feeds misbehave in every way a peer can.

Each misbehaviour lives under its own base path (``/records``, ``/huge``,
``/trickle``, ``/error500``, ...), so one server hosts many peers.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import envelope as dsse
from protocol.keylog import make_genesis, verify_keylog
from protocol.keys import keyid_for
from protocol.publish import rfc3339

NOW_US = 1_795_000_000_000_000


@dataclass
class Identity:
    signing: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    recovery: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def __post_init__(self) -> None:
        self.genesis = make_genesis(
            [keyid_for(self.signing.public_key())], self.recovery, created="2026-11-01T00:00:00Z"
        )
        self.publisher = verify_keylog([self.genesis]).publisher

    def record(self, rid: str, **fields: Any) -> dict[str, Any]:
        rev = fields.pop("rev", NOW_US)
        return {
            "publisher": self.publisher,
            "id": rid,
            "rev": rev,
            "updated": rfc3339(rev),
            "kind": "group",
            "name": f"Group {rid}",
            **fields,
        }


def sealed(body: bytes, key: Ed25519PrivateKey, payload_type: str = dsse.RECORD_TYPE) -> dict[str, Any]:
    return msgspec.to_builtins(dsse.seal(body, payload_type, key))  # type: ignore[no-any-return]


def enc(obj: dict[str, Any]) -> bytes:
    return msgspec.json.encode(obj)


def item(publisher: str, rid: str, n: int, env: dict[str, Any], kind: str = "group") -> dict[str, Any]:
    return {"state": "updated", "kind": kind, "id": f"{publisher}/{rid}", "modified": n, "data": env}


def bad_records_page(me: Identity, other: Identity) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Good and bad items side by side; returns the items and the expected reason per bad id."""
    p = me.publisher
    stranger = Ed25519PrivateKey.generate()
    good = [item(p, f"good-{i}", i + 1, sealed(enc(me.record(f"good-{i}")), me.signing)) for i in range(5)]
    tampered = sealed(enc(me.record("tampered")), me.signing)
    tampered["payload"] = base64.b64encode(enc(me.record("tampered", name="Changed in transit"))).decode()
    bad = {
        "tampered": (tampered, "bad-signature"),
        "stranger-key": (sealed(enc(me.record("stranger-key")), stranger), "unknown-key"),
        "names-other": (
            sealed(enc({**me.record("names-other"), "publisher": other.publisher}), me.signing),
            "wrong-publisher",
        ),
        "dup-keys": (
            sealed(
                b'{"publisher":"%s","id":"dup-keys","rev":1,"updated":"2026-01-01T00:00:00Z","kind":"group","name":"a","name":"b"}'
                % p.encode(),
                me.signing,
            ),
            "duplicate-key",
        ),
        "float": (
            sealed(enc(me.record("float")).replace(b'"kind"', b'"score":1.5,"kind"'), me.signing),
            "non-integer-number",
        ),
        "deep": (
            sealed(enc(me.record("deep")).replace(b'"kind"', b'"x":' + b"[" * 40 + b"]" * 40 + b',"kind"'), me.signing),
            "too-deep",
        ),
        "huge-string": (sealed(enc(me.record("huge-string", description="x" * 1_000_000)), me.signing), "too-large"),
        "bad-utf8": (
            sealed(enc(me.record("bad-utf8")).replace(b"Group bad-utf8", b"Group \xff\xfe"), me.signing),
            "invalid-utf8",
        ),
        "private-address": (
            sealed(
                enc(
                    me.record(
                        "private-address",
                        private=True,
                        location={"type": "public", "address": "1 Secret Lane", "postcode": "LS6 1AA"},
                    )
                ),
                me.signing,
            ),
            "private-with-address",
        ),
        "wrong-type": (sealed(enc(me.record("wrong-type")), me.signing, dsse.KEYLOG_TYPE), "invalid-envelope"),
    }
    items = list(good)
    expected = {}
    n = len(items)
    for rid, (env, reason) in bad.items():
        n += 1
        items.append(item(p, rid, n, env))
        expected[f"{p}/{rid}"] = reason
    n += 1
    future = sealed(enc(me.record("future", rev=NOW_US * 2)), me.signing)
    items.append(item(p, "future", n, future))
    n += 1
    items.append(item(p, "late-good", n, sealed(enc(me.record("late-good")), me.signing)))
    return items, expected


class HostilePeer:
    """Serves many misbehaving peers from one aiohttp app."""

    def __init__(self) -> None:
        self.me = Identity()
        self.other = Identity()
        self.items, self.expected = bad_records_page(self.me, self.other)
        self.base = ""
        self.hits: dict[str, int] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{peer}/.well-known/signpost", self.node_document)
        app.router.add_get("/{peer}/keys/{publisher}", self.keys)
        app.router.add_get("/{peer}/feed", self.feed)
        return app

    async def node_document(self, request: web.Request) -> web.Response:
        peer = request.match_info["peer"]
        doc = {
            "protocol": "signpost/1",
            "name": f"Hostile {peer}",
            "url": f"{self.base}/{peer}",
            "publisher": self.me.publisher,
            "keylog": [msgspec.to_builtins(self.me.genesis)],
            "feed": f"{self.base}/{peer}/feed",
            "follows": [],
        }
        return web.json_response(doc)

    async def keys(self, request: web.Request) -> web.Response:
        if request.match_info["publisher"] == self.me.publisher:
            return web.json_response({"publisher": self.me.publisher, "keylog": [msgspec.to_builtins(self.me.genesis)]})
        # Claim another publisher's identity with our own genesis: must not verify.
        return web.json_response(
            {"publisher": request.match_info["publisher"], "keylog": [msgspec.to_builtins(self.me.genesis)]}
        )

    async def feed(self, request: web.Request) -> web.StreamResponse:
        peer = request.match_info["peer"]
        self.hits[peer] = self.hits.get(peer, 0) + 1
        after = int(request.query.get("afterChangeNumber", "0"))
        nxt = f"{self.base}/{peer}/feed?afterChangeNumber="
        if peer == "records":
            items = [i for i in self.items if i["modified"] > after]
            last = items[-1]["modified"] if items else after
            return web.json_response({"next": nxt + str(last), "items": items, "license": "x", "epoch": "e1"})
        if peer == "huge":
            return web.Response(
                body=b'{"next":"x","items":[' + b" " * (50 * 1024 * 1024) + b"]}", content_type="application/json"
            )
        if peer == "trickle":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"next": "')
            for _ in range(600):
                await asyncio.sleep(0.2)
                await resp.write(b" ")
            return resp
        if peer == "error500":
            return web.Response(status=500, text="boom")
        if peer == "ratelimited":
            return web.Response(status=429, headers={"Retry-After": "120"})
        if peer == "truncated":
            return web.Response(body=b'{"next": "x", "items": [{"state": "upd', content_type="application/json")
        if peer == "html":
            return web.Response(text="<html>hello</html>", content_type="text/html")
        if peer == "redirect":
            raise web.HTTPFound("http://127.0.0.2:9/feed")
        if peer == "backwards":
            env = sealed(enc(self.me.record("b")), self.me.signing)
            n = 1 if after >= 5 else 9  # the second page goes back below the cursor
            return web.json_response(
                {"next": nxt + str(n), "items": [item(self.me.publisher, "b", n, env)], "license": "x"}
            )
        if peer == "offsite":
            return web.json_response(
                {
                    "next": "http://127.0.0.2:1/feed?afterChangeNumber=1",
                    "items": [item(self.me.publisher, "o", 1, sealed(enc(self.me.record("o")), self.me.signing))],
                    "license": "x",
                }
            )
        raise web.HTTPNotFound()


async def node_document_app(aiohttp_server: Any, *, feed_status: int) -> tuple[web.Application, str]:
    me = Identity()
    app = web.Application()
    holder: dict[str, str] = {}

    async def doc(request: web.Request) -> web.Response:
        base = holder["base"]
        return web.json_response(
            {
                "protocol": "signpost/1",
                "name": "Storm",
                "url": base,
                "publisher": me.publisher,
                "keylog": [msgspec.to_builtins(me.genesis)],
                "feed": f"{base}/feed",
            }
        )

    async def feed(request: web.Request) -> web.Response:
        return web.Response(status=feed_status, text="no")

    app.router.add_get("/.well-known/signpost", doc)
    app.router.add_get("/feed", feed)
    server = await aiohttp_server(app, host="127.0.0.1")
    holder["base"] = f"http://127.0.0.1:{server.port}"
    return app, holder["base"]
