"""Console authentication: sessions, CSRF tokens, origin checks and login rate limiting.

Sessions are random server-side ids: the cookie holds 32 random bytes and the
``sessions`` table holds only their SHA-256, so a copy of the database
cannot be replayed as a login (the table is read and written by
:mod:`node.storage.sessions`; this module re-exports its names).  A visitor
gets an anonymous session (just a CSRF token) on the login page; a successful
login deletes it and issues a new id, so an id planted before login is
worthless after it (fixation).

Every console POST must carry the session's CSRF token (compared in constant
time) and, when the browser sends an ``Origin`` header, come from this node.
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from node.core.config import CONFIG_NAME, Config, load_config, write_password_hash
from node.core.errors import NodeError
from node.storage.sessions import (
    ANON_SECONDS,
    SESSION_SECONDS,
    Session,
    end_session,
    find_session,
    hash_id,
    new_session,
    purge_sessions,
)

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "ANON_SECONDS",
    "Session",
    "RateLimiter",
    "LimitRule",
    "LOGIN_LIMITS",
    "RateLimited",
    "new_session",
    "find_session",
    "end_session",
    "purge_sessions",
    "check_csrf",
    "check_origin",
    "set_session_cookie",
    "clear_session_cookie",
    "current_password_hash",
    "write_password_hash",
    "hash_id",
]

COOKIE: Final = "signpost_admin"


def check_csrf(session: Session | None, submitted: str | None) -> None:
    """Raise 403 unless ``submitted`` is this session's CSRF token (constant-time)."""
    if session is None or not submitted:
        raise web.HTTPForbidden(
            reason="This form has expired or was not sent from this site. Go back, reload the page and try again."
        )
    if not hmac.compare_digest(session.csrf.encode(), submitted.encode("utf-8", "replace")):
        raise web.HTTPForbidden(
            reason="This form has expired or was not sent from this site. Go back, reload the page and try again."
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: web.Request, config: Config) -> None:
    """Refuse a POST whose ``Origin`` is another site (or ``null``); a missing Origin is left to the CSRF check."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {_origin(config.base_url), f"{request.scheme}://{request.host}".lower()}
    if origin.lower() not in allowed:
        raise web.HTTPForbidden(reason="This form was sent from another website, so it was refused.")


def _secure(config: Config) -> bool:
    return config.base_url.lower().startswith("https://")


def set_session_cookie(response: web.StreamResponse, session: Session, config: Config) -> None:
    response.set_cookie(
        COOKIE,
        session.id,
        path="/admin",
        httponly=True,
        samesite="Strict",
        secure=_secure(config),
        max_age=max(0, session.expires - int(time.time())),
    )


def clear_session_cookie(response: web.StreamResponse, config: Config) -> None:
    response.del_cookie(COOKIE, path="/admin", secure=_secure(config), httponly=True, samesite="Strict")


# -- rate limiting -----------------------------------------------------------


@dataclass(frozen=True)
class LimitRule:
    scope: str
    limit: int
    window: float


# Failed logins allowed per window: per client address, and for the one console account as a whole.
LOGIN_LIMITS: Final = (
    LimitRule("address", 5, 15 * 60),
    LimitRule("account", 20, 15 * 60),
)


class RateLimited(NodeError):
    """Too many attempts; ``retry_after`` seconds until the next one is allowed."""

    http_status = 429
    reason = "rate-limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class RateLimiter:
    """Sliding-window counters kept in memory (a restart forgets them, which only helps the owner)."""

    rules: tuple[LimitRule, ...]
    clock: Callable[[], float] = time.monotonic
    _hits: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def _keys(self, address: str) -> list[tuple[LimitRule, tuple[str, str]]]:
        return [(rule, (rule.scope, address if rule.scope == "address" else "*")) for rule in self.rules]

    def check(self, address: str) -> None:
        """Raise :class:`RateLimited` if any rule's window is already full for ``address``."""
        now = self.clock()
        wait = 0.0
        for rule, key in self._keys(address):
            hits = self._hits.get(key)
            if hits is None:
                continue
            while hits and hits[0] <= now - rule.window:
                hits.popleft()
            if len(hits) >= rule.limit:
                wait = max(wait, hits[0] + rule.window - now)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            raise RateLimited(
                f"Too many attempts. For your security, wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
                retry_after=int(wait) + 1,
            )

    def hit(self, address: str) -> None:
        now = self.clock()
        for _, key in self._keys(address):
            self._hits.setdefault(key, deque()).append(now)

    def reset(self, address: str) -> None:
        self._hits.pop(("address", address), None)


# -- the password in signpost.toml -------------------------------------------


def current_password_hash(config: Config) -> str | None:
    """The console password hash, re-read from ``signpost.toml`` so `signpost password` applies without a restart."""
    if (config.directory / CONFIG_NAME).exists():
        return load_config(config.directory).admin.password_hash
    return config.admin.password_hash
