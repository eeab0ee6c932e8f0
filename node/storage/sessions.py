"""Console sessions in the ``sessions`` table: create, find, end and purge.

The cookie holds 32 random bytes and the table holds only their SHA-256, so a
copy of the database cannot be replayed as a login.  The web layer
(:mod:`node.web.auth`) decides when a session is made or ended; the SQL lives
here so that ``node/web`` holds none (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Final

__all__ = [
    "SESSION_SECONDS",
    "ANON_SECONDS",
    "Session",
    "hash_id",
    "new_session",
    "find_session",
    "end_session",
    "purge_sessions",
]

SESSION_SECONDS: Final = 8 * 3600
ANON_SECONDS: Final = 3600


def hash_id(session_id: str) -> str:
    """What the table keeps of a cookie value: its SHA-256, never the value itself."""
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    authed: bool
    expires: int


def new_session(conn: sqlite3.Connection, *, authed: bool, now: int | None = None) -> Session:
    """Store a fresh session (run inside a write transaction) and return it with its cookie value."""
    now = int(time.time()) if now is None else now
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + (SESSION_SECONDS if authed else ANON_SECONDS)
    conn.execute(
        "INSERT INTO sessions (id_hash, csrf, authed, created, expires) VALUES (?, ?, ?, ?, ?)",
        (hash_id(sid), csrf, int(authed), now, expires),
    )
    return Session(sid, csrf, authed, expires)


def find_session(conn: sqlite3.Connection, sid: str | None, *, now: int | None = None) -> Session | None:
    """The live session for a cookie value, or ``None`` (unknown, malformed or expired)."""
    if not sid or len(sid) > 100:
        return None
    now = int(time.time()) if now is None else now
    row = conn.execute("SELECT csrf, authed, expires FROM sessions WHERE id_hash = ?", (hash_id(sid),)).fetchone()
    if row is None or row[2] <= now:
        return None
    return Session(sid, row[0], bool(row[1]), row[2])


def end_session(conn: sqlite3.Connection, sid: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id_hash = ?", (hash_id(sid),))


def purge_sessions(conn: sqlite3.Connection, *, now: int | None = None) -> int:
    """Delete expired sessions; return how many went."""
    now = int(time.time()) if now is None else now
    return conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,)).rowcount
