"""What every view shares: the JSON error shape, JSON responses, and query parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from protocol.errors import SignpostError

__all__ = ["json_response", "json_error", "error_middleware", "int_param", "allowed_params", "security_headers"]

_ENCODE = msgspec.json.Encoder()


def json_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    data = body if isinstance(body, bytes) else _ENCODE.encode(body)
    return web.Response(body=data, status=status, content_type="application/json", headers=headers)


def json_error(status: int, message: str, *, hint: str | None = None, reason: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error": message}
    if hint:
        body["hint"] = hint
    if reason:
        body["reason"] = reason
    return json_response(body, status=status, headers={"Cache-Control": "no-store"})


def allowed_params(request: web.Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise web.HTTPBadRequest(
            text=_ENCODE.encode(
                {
                    "ok": False,
                    "error": f"unknown parameter {unknown[0]!r}",
                    "hint": f"allowed: {', '.join(sorted(allowed)) or 'none'}",
                }
            ).decode(),
            content_type="application/json",
        )
    for key in request.query:
        if len(request.query.getall(key)) > 1:
            raise web.HTTPBadRequest(
                text=_ENCODE.encode({"ok": False, "error": f"parameter {key!r} given more than once"}).decode(),
                content_type="application/json",
            )


def int_param(
    request: web.Request, name: str, *, default: int | None = None, minimum: int = 0, maximum: int = 2**63 - 1
) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not (minimum <= int(raw) <= maximum):
        raise web.HTTPBadRequest(
            text=_ENCODE.encode(
                {"ok": False, "error": f"{name} must be a whole number from {minimum} to {maximum}", "got": raw[:40]}
            ).decode(),
            content_type="application/json",
        )
    return int(raw)


def _wants_json(request: web.Request) -> bool:
    path = request.path
    return not (
        path == "/"
        or path.startswith(("/search", "/listing", "/admin", "/embed", "/status/"))
        or "text/html" in request.headers.get("Accept", "")
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the one JSON error shape (or the HTML error page)."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or e.content_type == "application/json":
            raise
        render = request.app.get(HTML_ERROR)
        if not _wants_json(request) and render is not None:
            return await render(request, e.status, e.reason)
        return json_error(e.status, e.reason if e.text is None or e.text.startswith(f"{e.status}:") else e.text)
    except SignpostError as e:
        return json_error(e.http_status, e.message, hint=e.hint, reason=e.reason)


HTML_ERROR: web.AppKey[Callable[[web.Request, int, str], Awaitable[web.Response]] | None] = web.AppKey("html_error")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
