"""Sign-in attempts in the ``login_attempts`` and ``login_account`` tables, shared by every process serving the node.

``signpost serve --workers N`` runs N processes on one port (node.web.workers), so the
sign-in limits (node.web.auth.LoginGuard, docs/security.md §6, issue 17 findings 2 and 3)
cannot live in any one process's memory: an attacker would get N times the attempts and
the account's delay would be per process.  They live here, in the node's database, and
the guard reads and writes them inside one ``BEGIN IMMEDIATE`` transaction, which SQLite
gives to one connection at a time across processes.

Only a sign-in POST writes here (an anonymous page view writes nothing: finding 6).  The
table cannot grow without bound: every reservation first drops attempts older than the
window and then all but the newest ``cap`` rows.  The policy (how many, how long) is the
guard's; this module holds only the SQL (docs/architecture.md: no SQL in node/web).
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import Final

from node.storage.schema import LOGIN_ATTEMPTS_SCHEMA, statements
from node.storage.store import get_meta, immediate, set_meta

__all__ = [
    "LOGIN_ATTEMPTS_SCHEMA",
    "ROW_CAP",
    "Account",
    "private_database",
    "immediate",
    "prune",
    "attempts_from",
    "record_attempt",
    "forget_address",
    "load_account",
    "save_account",
    "attempt_rows",
    "visitor_secret",
]


# The most attempt rows kept, whatever the window says: a flood from many addresses drops the
# oldest rows instead of growing the file.  (Each address is also held to a few per window, and the
# account's delay admits one attempt per second or more once failures mount, so this is a backstop.)
ROW_CAP: Final = 10_000


@dataclass(frozen=True)
class Account:
    """The account's failure streak: how many in a row, when the last was, when the next may be."""

    failures: int
    last: float
    next: float


def private_database() -> sqlite3.Connection:
    """An in-memory database with the sign-in tables, for a guard that serves no node (one process only)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in statements(LOGIN_ATTEMPTS_SCHEMA):
        conn.execute(statement)
    return conn


def prune(conn: sqlite3.Connection, *, before: float, now: float, cap: int = ROW_CAP) -> None:
    """Drop attempts at or before ``before`` or after ``now`` (a clock set back), then all but the newest ``cap - 1``,
    leaving room for the attempt about to be recorded."""
    conn.execute("DELETE FROM login_attempts WHERE at <= ? OR at > ?", (before, now))
    conn.execute(
        "DELETE FROM login_attempts WHERE rowid <= "
        "(SELECT rowid FROM login_attempts ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
        (max(0, cap - 1),),
    )


def attempts_from(conn: sqlite3.Connection, address: str) -> tuple[int, float | None]:
    """How many attempts ``address`` has in the table, and when the oldest was."""
    count, oldest = conn.execute(
        "SELECT count(*), min(at) FROM login_attempts WHERE address = ?", (address,)
    ).fetchone()
    return int(count), None if oldest is None else float(oldest)


def record_attempt(conn: sqlite3.Connection, address: str, at: float) -> None:
    conn.execute("INSERT INTO login_attempts (address, at) VALUES (?, ?)", (address, at))


def forget_address(conn: sqlite3.Connection, address: str) -> None:
    conn.execute("DELETE FROM login_attempts WHERE address = ?", (address,))


def load_account(conn: sqlite3.Connection) -> Account | None:
    """The account's streak, or ``None`` when there is none (never failed, or cleared by a success)."""
    row = conn.execute("SELECT failures, last, next FROM login_account WHERE id = 1").fetchone()
    return None if row is None else Account(int(row[0]), float(row[1]), float(row[2]))


def save_account(conn: sqlite3.Connection, account: Account | None) -> None:
    """Store the streak, or clear it (``None``)."""
    if account is None:
        conn.execute("DELETE FROM login_account WHERE id = 1")
        return
    conn.execute(
        "INSERT INTO login_account (id, failures, last, next) VALUES (1, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET failures = excluded.failures, last = excluded.last, next = excluded.next",
        (account.failures, account.last, account.next),
    )


def attempt_rows(conn: sqlite3.Connection) -> int:
    """How many attempt rows the table holds (for ``status``-style checks and the tests of its bound)."""
    return int(conn.execute("SELECT count(*) FROM login_attempts").fetchone()[0])


def visitor_secret(conn: sqlite3.Connection) -> str:
    """The secret (hex) that signs visitors' CSRF tokens (node.web.auth.new_visitor), made once per node.

    Kept in ``meta`` so that every ``--workers`` process accepts a login form another one served;
    made at the console's start (run in a write transaction), never by a page view.
    """
    secret = get_meta(conn, "visitor_secret")
    if secret is None:
        secret = secrets.token_hex(32)
        set_meta(conn, "visitor_secret", secret)
    return secret
