"""Console authentication: sessions, CSRF tokens, origin checks, the client's address and sign-in limits.

Signed-in sessions are random server-side ids: the cookie holds 32 random
bytes and the ``sessions`` table holds only their SHA-256, so a copy of the
database cannot be replayed as a login (the table is read and written by
:mod:`node.storage.sessions`; this module re-exports its names).  A visitor
who has not signed in gets a *visitor* cookie instead: a random value whose
CSRF token is an HMAC under a secret held in memory, so looking at the login
page writes nothing to the database (docs/security.md §6).  A successful
login issues a new id, so an id planted before login is worthless after it
(fixation).

Every console POST must carry the session's CSRF token (compared in constant
time) and, when the browser sends an ``Origin`` header, come from this node.

Sign-in attempts are limited by :class:`LoginGuard`, whose state is in the node's
database so that it holds across ``serve --workers`` processes: an attempt is counted
*before* its password is checked (so parallel requests cannot all pass the
check while the first ones are still hashing), each client address gets a few
attempts per window, and the account as a whole is protected by a delay that
doubles with each failure up to a cap, never by a lock-out that other people
can trigger.  The client's address is read through :func:`client_address`,
which believes ``X-Forwarded-For`` only from ``[web] trusted_proxies``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from node.core.config import CONFIG_NAME, Config, load_config, write_password_hash
from node.core.errors import NodeError
from node.storage import login_attempts as attempts
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
    "LoginGuard",
    "RateLimited",
    "VISITOR_PREFIX",
    "new_visitor",
    "visitor_session",
    "client_address",
    "trusted_networks",
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
VISITOR_PREFIX: Final = "visitor."


# -- visitors: a CSRF token without a database row ----------------------------


def _visitor_csrf(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, b"signpost-login-csrf|" + cookie.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def new_visitor(secret: bytes, *, now: int | None = None) -> Session:
    """A not-signed-in visitor: a random cookie value and the CSRF token derived from it, stored nowhere.

    The cookie says when it was made, so it expires after ``ANON_SECONDS``;
    the token is an HMAC of the cookie under ``secret`` (random per process),
    so it cannot be made without the cookie, and a stranger cannot read the
    cookie (HttpOnly, SameSite=Strict).
    """
    now = int(time.time()) if now is None else now
    cookie = f"{VISITOR_PREFIX}{now}.{secrets.token_urlsafe(24)}"
    return Session(cookie, _visitor_csrf(secret, cookie), False, now + ANON_SECONDS)


def visitor_session(secret: bytes, cookie: str, *, now: int | None = None) -> Session | None:
    """The visitor named by a cookie from :func:`new_visitor`, or ``None`` when malformed or expired."""
    now = int(time.time()) if now is None else now
    made, _, nonce = cookie.removeprefix(VISITOR_PREFIX).partition(".")
    if not cookie.startswith(VISITOR_PREFIX) or len(cookie) > 100 or not made.isdigit() or len(nonce) < 20:
        return None
    expires = int(made) + ANON_SECONDS
    if not int(made) <= now < expires:
        return None
    return Session(cookie, _visitor_csrf(secret, cookie), False, expires)


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

    def take(self, address: str) -> None:
        """Check and count in one step (no ``await`` between them, so parallel requests cannot all pass)."""
        self.check(address)
        self.hit(address)

    def reset(self, address: str) -> None:
        self._hits.pop(("address", address), None)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass
class LoginGuard:
    """Sign-in limits: a few attempts per address per window, and a growing delay for the account.

    :meth:`reserve_in` counts an attempt before its password is checked; only
    :meth:`succeeded_in` takes it back.  Per address: ``per_address`` attempts in
    ``window`` seconds.  For the account: after ``free_failures`` failures in
    a row (from any addresses), each further attempt must wait 1, 2, 4 … s
    after the previous one, capped at ``max_delay``; so a stranger can slow
    the owner down by at most ``max_delay`` but never lock them out, and a
    spread-out guesser gets one guess per ``max_delay`` at best.  Failures
    older than ``window`` are forgotten.

    The state is kept in the node's database (:mod:`node.storage.login_attempts`), so
    the limits hold across every ``serve --workers`` process: the console runs
    :meth:`reserve_in` and :meth:`succeeded_in` through ``node.store.write``, whose
    ``BEGIN IMMEDIATE`` transaction lets one process at a time prune, check and count.
    A guard used without a node (:meth:`reserve`, :meth:`succeeded`) keeps the same
    tables in a private in-memory database.  ``clock`` is wall time, which every process
    on the machine shares (and which survives a restart, unlike a monotonic clock).
    """

    per_address: int = 5
    window: float = 15 * 60
    free_failures: int = 5
    max_delay: float = 30.0
    row_cap: int = attempts.ROW_CAP
    clock: Callable[[], float] = time.time
    _private: sqlite3.Connection | None = field(default=None, repr=False)

    def delay_after(self, failures: int) -> float:
        """Seconds the account waits after ``failures`` failures in a row."""
        extra = failures - self.free_failures
        return 0.0 if extra <= 0 else min(self.max_delay, 2.0 ** (extra - 1))

    def reserve_in(self, conn: sqlite3.Connection, address: str) -> None:
        """Count an attempt from ``address`` now, or raise :class:`RateLimited` with how long to wait.

        Run inside a ``BEGIN IMMEDIATE`` transaction (``node.store.write``): the prune, the check
        and the count are one step for every process, so parallel attempts each take a slot.
        """
        now = self.clock()
        attempts.prune(conn, before=now - self.window, now=now, cap=self.row_cap)
        count, oldest = attempts.attempts_from(conn, address)
        if count >= self.per_address and oldest is not None:
            wait = oldest + self.window - now
            raise RateLimited(
                f"Too many attempts from your connection. For your security, wait {_minutes(wait)} and try again.",
                retry_after=int(wait) + 1,
            )
        account = attempts.load_account(conn)
        if account is not None and now - min(account.last, now) > self.window:
            account = None
        if account is not None and now < min(account.next, now + self.max_delay):  # a clock set back waits no more
            wait = min(account.next, now + self.max_delay) - now
            seconds = max(1, math.ceil(wait))
            raise RateLimited(
                "Several wrong passwords were tried on this console recently. "
                f"For your security, wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
                retry_after=seconds,
            )
        failures = 1 if account is None else account.failures + 1
        attempts.record_attempt(conn, address, now)
        attempts.save_account(conn, attempts.Account(failures, now, now + self.delay_after(failures)))

    def succeeded_in(self, conn: sqlite3.Connection, address: str) -> None:
        """The password was right: forget this address's attempts and the account's failures."""
        attempts.forget_address(conn, address)
        attempts.save_account(conn, None)

    def _database(self) -> sqlite3.Connection:
        if self._private is None:
            self._private = attempts.private_database()
        return self._private

    def reserve(self, address: str) -> None:
        """:meth:`reserve_in` on the guard's private database (a guard that serves no node)."""
        with attempts.immediate(self._database()) as conn:
            self.reserve_in(conn, address)

    def succeeded(self, address: str) -> None:
        """:meth:`succeeded_in` on the guard's private database."""
        with attempts.immediate(self._database()) as conn:
            self.succeeded_in(conn, address)


# -- the client's address ------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """``[web] trusted_proxies`` as networks (the config check has already refused a malformed one)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.9:4711"
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _key(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """One key per client: an IPv4 address, or an IPv6 /64 (one household or server holds a whole /64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address(remote: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The address to count a request against.

    ``X-Forwarded-For`` is believed only when the connection comes from a
    trusted proxy, and then read from the right: each hop added by a trusted
    proxy is skipped, and the first address that is not a trusted proxy is the
    client (anything left of it was written by the client and may be forged).
    """
    ip = _parse_ip(remote or "")
    if ip is None:
        return remote or "unknown"
    hops = [h for header in forwarded_for for h in header.split(",") if h.strip()]
    while any(ip in net for net in trusted) and hops:
        nxt = _parse_ip(hops.pop())
        if nxt is None:
            break
        ip = nxt
    return _key(ip)


# -- the password in signpost.toml -------------------------------------------


def current_password_hash(config: Config) -> str | None:
    """The console password hash, re-read from ``signpost.toml`` so `signpost password` applies without a restart."""
    if (config.directory / CONFIG_NAME).exists():
        return load_config(config.directory).admin.password_hash
    return config.admin.password_hash
