"""A minimal Chrome DevTools Protocol connection over aiohttp's websocket client.

One websocket to the browser endpoint carries every page: pages are attached with
``flatten=True`` so their commands and events travel on the same socket, tagged with a
``sessionId``. That keeps the client to one reader task and one place where a dead
browser turns every pending command into a clear error instead of a hang.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

__all__ = [
    "DEFAULT_TIMEOUT",
    "BrowserError",
    "BrowserTimeout",
    "CdpConnection",
    "CdpError",
    "EventHandler",
]

DEFAULT_TIMEOUT = 15.0
"""Seconds any single wait (a command, a load, a launch) may take before it raises."""

EventHandler = Callable[[str, dict[str, Any]], None]
"""Called with (method, params) for every event of one session."""


class BrowserError(Exception):
    """Root of everything the browser helper raises."""


class BrowserTimeout(BrowserError):
    """A wait ran past its timeout: the message says what was being waited for."""


class CdpError(BrowserError):
    """Chromium answered a command with a protocol error."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")
        self.method = method
        self.code = code


class CdpConnection:
    """Commands with timeouts and per-session event fan-out on one DevTools websocket.

    ``describe_failure`` is called when the socket dies so the error can carry
    chromium's stderr, which is usually the only place the real cause is written.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        describe_failure: Callable[[], str],
    ) -> None:
        self._session = session
        self._ws = ws
        self._describe_failure = describe_failure
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._handlers: dict[str | None, list[EventHandler]] = {}
        self._closed_reason: str | None = None
        self._reader = asyncio.create_task(self._read(), name="cdp-reader")

    @classmethod
    async def connect(
        cls, url: str, describe_failure: Callable[[], str], *, timeout: float = DEFAULT_TIMEOUT
    ) -> CdpConnection:
        session = aiohttp.ClientSession()
        try:
            # max_msg_size=0: full-page screenshots arrive as one large base64 message.
            ws = await session.ws_connect(
                url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=timeout)
            )
        except (aiohttp.ClientError, OSError) as e:
            await session.close()
            raise BrowserError(
                f"could not open the DevTools websocket {url}: {e}\n{describe_failure()}"
            ) from e
        return cls(session, ws, describe_failure)

    def subscribe(self, session_id: str | None, handler: EventHandler) -> None:
        self._handlers.setdefault(session_id, []).append(handler)

    def unsubscribe(self, session_id: str | None) -> None:
        self._handlers.pop(session_id, None)

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Send one command and return its ``result``; raise on error, death or timeout."""
        if self._closed_reason is not None:
            raise BrowserError(f"{method}: DevTools connection is closed ({self._closed_reason})")
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = (method, future)
        try:
            await self._ws.send_str(json.dumps(message))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as e:
            raise BrowserTimeout(f"{method} got no answer within {timeout:g}s") from e
        finally:
            self._pending.pop(msg_id, None)

    async def close(self) -> None:
        self._closed_reason = self._closed_reason or "closed by the client"
        await self._ws.close()
        self._reader.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
        await self._session.close()

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    continue
                self._dispatch(json.loads(frame.data))
        finally:
            self._fail_pending()

    def _dispatch(self, data: dict[str, Any]) -> None:
        if "id" in data:
            entry = self._pending.get(data["id"])
            if entry is None or entry[1].done():
                return
            method, future = entry
            if "error" in data:
                error = data["error"]
                future.set_exception(
                    CdpError(method, int(error.get("code", 0)), str(error.get("message", "")))
                )
            else:
                future.set_result(data.get("result", {}))
            return
        for handler in list(self._handlers.get(data.get("sessionId"), ())):
            handler(data["method"], data.get("params", {}))

    def _fail_pending(self) -> None:
        if self._closed_reason is None:
            self._closed_reason = "chromium closed the connection"
            detail = f"{self._closed_reason}\n{self._describe_failure()}"
        else:
            detail = self._closed_reason
        for method, future in self._pending.values():
            if not future.done():
                future.set_exception(BrowserError(f"{method}: {detail}"))
