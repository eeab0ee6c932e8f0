"""Request limits applied before any handler reads a body: the size of each route's body and the client's
address (docs/security.md §6).

aiohttp's ``client_max_size`` is one number for the whole app, and a handler
that calls ``request.post()`` reads the whole body into memory before it can
check a session or a CSRF token.  :func:`request_limits` decides each
request's limit from its path and whether it carries a signed-in session,
answers 413 at once when ``Content-Length`` is over it, and hands the
handler a request whose ``client_max_size`` is that limit, so a chunked body
with no length is cut off at the same size while it is read.  Public forms
and sign-in get :data:`SMALL_BODY`; larger limits exist only where a page
registers one with :func:`allow_larger` for signed-in sessions (the console
forms, and the spreadsheet upload, which streams to disk with its own cap).

The same middleware replaces ``request.remote`` with the client's address as
:func:`node.web.auth.client_address` reads it (``X-Forwarded-For`` believed
only from ``[web] trusted_proxies``), so every rate limit counts people, not
the reverse proxy in front of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from node.web.auth import Network, client_address

__all__ = ["SMALL_BODY", "BODY_LIMITS", "BodyLimits", "allow_larger", "request_limits", "TRUSTED_PROXIES"]

SMALL_BODY: Final = 16 * 1024
_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Gate = Callable[[web.Request], Awaitable[bool]]


@dataclass(frozen=True)
class _Rule:
    path: str
    prefix: bool
    limit: int
    gate: Gate


@dataclass
class BodyLimits:
    """The larger limits pages have asked for; everything else gets :data:`SMALL_BODY`."""

    rules: list[_Rule] = field(default_factory=list)

    async def limit_for(self, request: web.Request) -> int:
        for rule in self.rules:
            matches = request.path.startswith(rule.path) if rule.prefix else request.path == rule.path
            if matches and await rule.gate(request):
                return rule.limit
        return SMALL_BODY


BODY_LIMITS: web.AppKey[BodyLimits] = web.AppKey("body_limits", BodyLimits)
TRUSTED_PROXIES: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies", tuple)


def allow_larger(app: web.Application, path: str, limit: int, *, when: Gate, prefix: bool = False) -> None:
    """Let requests to ``path`` (or under it, with ``prefix``) send up to ``limit`` bytes when ``when`` says so.

    Rules are tried in the order they were added, so add the most specific first.
    """
    app[BODY_LIMITS].rules.append(_Rule(path, prefix, limit, when))


def _too_large(limit: int, actual: int) -> web.HTTPRequestEntityTooLarge:
    kib = limit // 1024
    size = f"{kib // 1024} MB" if kib >= 1024 else f"{kib} KB"
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=actual,
        reason=f"That was too much to send to this page (the most it takes is {size}). Send something shorter.",
    )


@web.middleware
async def request_limits(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The client's address and the body limit, settled before the handler runs."""
    remote = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), request.app[TRUSTED_PROXIES])
    limit = SMALL_BODY
    if request.method in _WITH_BODY:
        limit = await request.app[BODY_LIMITS].limit_for(request)
        length = request.content_length
        if length is not None and length > limit:
            raise _too_large(limit, length)
    return await handler(request.clone(remote=remote, client_max_size=limit))
