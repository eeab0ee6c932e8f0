"""Fetching from another node: one GET with a size cap, a time cap and no redirects.

Every byte that comes from a peer comes through :func:`get`, which sorts
failures into the two kinds the house style names: :class:`PeerUnavailable`
(timeouts, 429, 5xx: back off and try again, honouring ``Retry-After``) and
:class:`PeerRejected` (4xx, redirects, not JSON, oversized: record the reason
and move on).  The node document and key logs (spec §4, §5.4) are fetched
and verified here too, so ``follow``, ``sync``, ``check-feed`` and
``keys recover --from`` read them the same way.

HTTPS peers are reached with a verified TLS context (the system's trust
store, as aiohttp's default) that resumes TLS sessions: each peer origin's
last session ticket is kept (in this process, for the last
:data:`TLS_SESSIONS` origins) and offered on the next new connection to the
same origin, so a poll that finds every connection closed (the sync interval
outlasts any keep-alive) skips the certificate chain's signature checks for
every peer whose server still honours its ticket; any other server answers
with a full, fully verified handshake.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections import OrderedDict
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import msgspec

from node.core.addresses import is_loopback
from node.core.config import Config
from node.core.context import Node
from node.core.errors import NodeError, PeerRejected, PeerUnavailable
from protocol import envelope as dsse
from protocol.errors import SignpostError
from protocol.feed import NodeDocument, decode_node_document
from protocol.keylog import KeyLog, verify_keylog

__all__ = [
    "DOCUMENT_MAX_BYTES",
    "Fetched",
    "get",
    "check_peer_url",
    "check_peer_address",
    "PEER_NOT_REACHED",
    "reason_for",
    "same_origin",
    "read_node_document",
    "fetch_node_document",
    "fetch_keylog",
    "TLS_SESSIONS",
]

DOCUMENT_MAX_BYTES = 1024 * 1024  # a node document or a key log

_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])


TLS_SESSIONS = 4096  # origins whose last TLS session is kept for resumption


class _Connecting:
    """The origin a request is for, and the TLS object of the connection it opened (if it opened one)."""

    __slots__ = ("origin", "session", "tls")

    def __init__(self, origin: str, session: ssl.SSLSession | None) -> None:
        self.origin = origin
        self.session = session
        self.tls: ssl.SSLObject | None = None


_CONNECTING: ContextVar[_Connecting | None] = ContextVar("signpost_tls_connecting", default=None)


class _ResumingContext(ssl.SSLContext):
    """A client context that offers the request's origin its last TLS session (see :func:`get`)."""

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        connecting = _CONNECTING.get()
        if connecting is not None and session is None and not server_side:
            session = connecting.session
        tls = super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        if connecting is not None:
            connecting.tls = tls
        return tls


def _client_context() -> ssl.SSLContext:
    """Verified as aiohttp's default (``ssl.create_default_context``, HTTP/1.1 by ALPN); made at import."""
    context = _ResumingContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    context.set_alpn_protocols(["http/1.1"])
    return context


_TLS = _client_context()
_SESSIONS: OrderedDict[str, ssl.SSLSession] = OrderedDict()


def _keep_session(connecting: _Connecting) -> None:
    """After a new connection's answer began: keep its session (TLS 1.3 tickets arrive after the handshake)."""
    tls = connecting.tls
    if tls is None:
        return
    session = tls.session
    if session is not None and (session.has_ticket or tls.version() != "TLSv1.3"):
        _SESSIONS[connecting.origin] = session
        _SESSIONS.move_to_end(connecting.origin)
        while len(_SESSIONS) > TLS_SESSIONS:
            _SESSIONS.popitem(last=False)


@dataclass(frozen=True)
class Fetched:
    """A peer's answer: 200 with its body, or 304 (``body`` empty) to a conditional GET."""

    status: int
    body: bytes
    etag: str | None
    headers: Mapping[str, str]


def check_peer_url(url: str, *, allow_insecure_http: bool) -> str:
    """Peers are reached over HTTPS; plain HTTP only on loopback or when loudly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeError(
            f"{url!r} is not an http(s) URL", hint="give the peer's base URL, e.g. https://signpost.example.org"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
        raise NodeError(
            f"{url} uses plain HTTP",
            hint="peers must use HTTPS; set [sync] allow_insecure_http = true only on a private test network",
        )
    return url.rstrip("/")


PEER_NOT_REACHED = (
    "No Signpost node answered at that address. Check that it is the node's public address "
    "(for example https://signpost.example.org) and try again."
)


def _is_development(config: Config) -> bool:
    """A node whose own address is on loopback is a developer's: it may follow peers on this machine."""
    host = urlsplit(config.base_url).hostname
    return bool(host) and is_loopback(host or "")


async def check_peer_address(url: str, config: Config) -> None:
    """Refuse a peer whose name leads into a private network, before anything is sent to it.

    The name is resolved and every address checked (a name with one public and
    one private address is refused): loopback only on a development node (its
    own ``[node] url`` on loopback) or with ``[sync] allow_private_peers``;
    private, link-local, shared, reserved and multicast addresses only with
    ``allow_private_peers`` (docs/configuration.md).  Whatever goes wrong,
    the sentence is the same, so the console cannot be used to map the
    network around the server (docs/security.md §6).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    allow_private = config.sync.allow_private_peers
    allow_loopback = allow_private or _is_development(config)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise NodeError(PEER_NOT_REACHED) from None
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback:
            if not allow_loopback:
                raise NodeError(
                    "That address is this server itself, so this node will not fetch it.",
                    hint="give the peer's public https address",
                )
        elif (not ip.is_global or ip.is_multicast) and not allow_private:
            raise NodeError(
                "That address leads into a private or local network, so this node will not fetch it.",
                hint="give the peer's public https address; [sync] allow_private_peers = true allows private peers",
            )


def reason_for(error: aiohttp.ClientError) -> str:
    """What went wrong, in words for people: never the library's own message (which names sockets and errno)."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "its HTTPS certificate could not be checked"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "its name could not be found"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "nothing answered at that address"
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return "the connection broke before the answer was complete"
    if isinstance(error, aiohttp.InvalidURL):
        return "the address is not a valid web address"
    return "the answer could not be read"


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


async def get(
    session: aiohttp.ClientSession, url: str, *, max_bytes: int, timeout: float, etag: str | None = None
) -> Fetched:
    """GET with a size cap, a time cap, no redirects; sort failures into the two kinds."""
    headers = {"Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    parts = urlsplit(url)
    origin = parts.netloc.lower()  # as written: an invalid port is aiohttp's to refuse, below
    connecting = _Connecting(origin, _SESSIONS.get(origin)) if parts.scheme == "https" else None
    token = _CONNECTING.set(connecting)
    try:
        async with asyncio.timeout(timeout):
            async with session.get(
                url, headers=headers, allow_redirects=False, ssl=_TLS if connecting is not None else True
            ) as resp:
                if connecting is not None:
                    _keep_session(connecting)
                if resp.status == 304:
                    return Fetched(304, b"", resp.headers.get("ETag"), resp.headers)
                _refuse_status(url, resp)
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise PeerRejected(f"{url} sent {resp.content_length} bytes; the limit is {max_bytes}")
                chunks = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PeerRejected(f"{url} sent more than {max_bytes} bytes; the limit is {max_bytes}")
                    chunks.append(chunk)
                return Fetched(200, b"".join(chunks), resp.headers.get("ETag"), resp.headers)
    except TimeoutError:
        raise PeerUnavailable(f"{url} did not answer in full within {timeout:.0f} s") from None
    except aiohttp.ClientError as e:
        raise PeerUnavailable(f"{url} could not be reached: {reason_for(e)}") from e
    finally:
        _CONNECTING.reset(token)


def _refuse_status(url: str, resp: aiohttp.ClientResponse) -> None:
    """Anything but a 200 JSON answer is a failure of one of the two kinds."""
    if resp.status == 429 or resp.status >= 500:
        retry = resp.headers.get("Retry-After", "")
        raise PeerUnavailable(
            f"{url} answered HTTP {resp.status}", retry_after=float(retry) if retry.isdigit() else None
        )
    if 300 <= resp.status < 400:
        raise PeerRejected(f"{url} redirected (HTTP {resp.status}); redirects are not followed")
    if resp.status != 200:
        raise PeerRejected(f"{url} answered HTTP {resp.status}")
    ctype = resp.headers.get("Content-Type", "")
    if not ctype.split(";")[0].strip().lower().endswith("json"):
        raise PeerRejected(f"{url} sent {ctype or 'no content type'}, not JSON")


async def read_node_document(
    session: aiohttp.ClientSession, url: str, *, timeout: float
) -> tuple[NodeDocument, KeyLog]:
    """``GET /.well-known/signpost`` of the node at ``url``, with its key log verified (spec §4)."""
    got = await get(session, f"{url}/.well-known/signpost", max_bytes=DOCUMENT_MAX_BYTES, timeout=timeout)
    try:
        doc = decode_node_document(got.body)
        log = verify_keylog(doc.keylog, publisher=doc.publisher)
    except SignpostError as e:
        raise PeerRejected(f"{url} sent an invalid node document: {e}") from e
    return doc, log


async def fetch_node_document(node: Node, url: str) -> tuple[NodeDocument, KeyLog]:
    """The running node's way to read a peer's node document (its session and timeout)."""
    assert node.session is not None
    return await read_node_document(node.session, url, timeout=node.config.sync.timeout)


async def fetch_keylog(session: aiohttp.ClientSession, base: str, publisher: str, *, timeout: float) -> KeyLog:
    """``GET /keys/{publisher}`` from the node at ``base``, verified as ``publisher``'s key log (spec §5.4).

    Raises PeerRejected when the answer is not a key log, and the protocol's
    key-log errors when it does not verify.
    """
    url = f"{base}/keys/{publisher}"
    got = await get(session, url, max_bytes=DOCUMENT_MAX_BYTES, timeout=timeout)
    try:
        envelopes = _ENVELOPES.decode(_KEYS.decode(got.body)["keylog"])
    except (msgspec.DecodeError, KeyError) as e:
        raise PeerRejected(f"{url} is not a key log: {e}") from e
    return verify_keylog(envelopes, publisher=publisher)
