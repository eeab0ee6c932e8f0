"""Findings 2 and 3 of issue 17: the sign-in limit held in parallel, and nobody else can lock the owner out.

An attempt is counted before its password is checked (node.web.auth.LoginGuard.reserve), the per-address
limit counts the client behind a trusted proxy (``[web] trusted_proxies``), and the account is protected by a
capped, growing delay instead of a lock-out (docs/security.md §6).
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from console_client import PASSWORD, console_client, console_node, csrf_of

from node.core.context import NODE
from node.web.auth import client_address, trusted_networks
from node.web.views.admin.shared import ADMIN

LOOPBACK = trusted_networks(["127.0.0.1/32", "::1/128"])


async def test_sixty_parallel_wrong_passwords_then_the_right_one_cannot_get_in(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await console_client(aiohttp_client, console_node(tmp_path / "node"))
    csrf = csrf_of(await (await client.get("/admin/login")).text())

    async def attempt(password: str) -> int:
        resp = await client.post("/admin/login", data={"csrf": csrf, "password": password}, allow_redirects=False)
        await resp.read()
        return resp.status

    answers = collections.Counter(await asyncio.gather(*[attempt(f"wrong password {i}") for i in range(60)]))
    assert answers[401] <= 5, f"only five attempts may reach the password check: {answers}"
    assert answers[401] + answers[429] == 60, answers
    assert await attempt(PASSWORD) == 429, "the limit holds for the right password too"


async def test_parallel_attempts_mixed_with_the_right_password_sign_in_at_most_once(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await console_client(aiohttp_client, console_node(tmp_path / "node"))
    csrf = csrf_of(await (await client.get("/admin/login")).text())
    passwords = [f"guess {i}" for i in range(59)] + [PASSWORD]

    async def attempt(password: str) -> int:
        resp = await client.post("/admin/login", data={"csrf": csrf, "password": password}, allow_redirects=False)
        await resp.read()
        return resp.status

    answers = collections.Counter(await asyncio.gather(*[attempt(p) for p in reversed(passwords)]))
    assert answers[401] + answers[303] <= 5, answers


async def test_many_addresses_failing_cannot_lock_the_owner_out(aiohttp_client: Any, tmp_path: Path) -> None:
    """5 addresses x 4 wrong passwords (through the trusted local proxy), then the right one from a sixth."""
    client = await console_client(aiohttp_client, console_node(tmp_path / "node"))
    guard = client.app[ADMIN].limiter
    now = [1000.0]
    guard.clock = lambda: now[0]
    csrf = csrf_of(await (await client.get("/admin/login")).text())

    async def attempt(address: str, password: str) -> Any:
        headers = {"X-Forwarded-For": address}
        resp = await client.post(
            "/admin/login", data={"csrf": csrf, "password": password}, headers=headers, allow_redirects=False
        )
        await resp.read()
        return resp

    for round_ in range(4):
        for host in range(1, 6):
            await attempt(f"203.0.113.{host}", f"wrong {round_}")
            now[0] += 0.5
    owner = await attempt("198.51.100.7", PASSWORD)
    if owner.status == 429:
        wait = int(owner.headers["Retry-After"])
        assert 0 < wait <= 30, "the owner waits at most the capped delay"
        assert "seconds" in await owner.text() or "second" in await owner.text()
        now[0] += wait
        owner = await attempt("198.51.100.7", PASSWORD)
    assert owner.status == 303, "the right password from a fresh address gets in"


async def test_an_address_at_its_limit_does_not_block_another_address(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await console_client(aiohttp_client, console_node(tmp_path / "node"))
    guard = client.app[ADMIN].limiter
    now = [1000.0]
    guard.clock = lambda: now[0]
    csrf = csrf_of(await (await client.get("/admin/login")).text())
    for _ in range(8):
        resp = await client.post(
            "/admin/login", data={"csrf": csrf, "password": "nope nope nope"}, headers={"X-Forwarded-For": "192.0.2.66"}
        )
        now[0] += 31
    assert resp.status == 429 and "from your connection" in await resp.text()
    now[0] += 31
    resp = await client.post(
        "/admin/login",
        data={"csrf": csrf, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.77"},
        allow_redirects=False,
    )
    assert resp.status == 303


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], LOOPBACK) == "203.0.113.9"
    assert client_address("198.51.100.1", ["203.0.113.9"], LOOPBACK) == "198.51.100.1", "not a trusted proxy"
    # The client can write anything left of the proxy's own entry: only the rightmost untrusted hop counts.
    assert client_address("127.0.0.1", ["1.2.3.4, 203.0.113.9"], LOOPBACK) == "203.0.113.9"
    chain = trusted_networks(["127.0.0.1/32", "10.0.0.0/8"])
    assert client_address("127.0.0.1", ["203.0.113.9, 10.1.2.3"], chain) == "203.0.113.9"
    assert client_address("127.0.0.1", ["garbage"], LOOPBACK) == "127.0.0.1"
    assert client_address("127.0.0.1", [], LOOPBACK) == "127.0.0.1"
    # One IPv6 /64 is one client, so an attacker cannot rotate through its addresses.
    a = client_address("2001:db8:1:2::1", [], LOOPBACK)
    b = client_address("2001:db8:1:2:ffff::9", [], LOOPBACK)
    assert a == b == str(ipaddress.ip_network("2001:db8:1:2::/64"))


def test_two_connections_to_the_node_database_share_the_address_limit_and_the_streak(tmp_path: Path) -> None:
    """Two ``--workers`` processes are two connections to one file: what one counts, the other sees."""
    from node.storage.store import connect, transaction
    from node.web.auth import LoginGuard, RateLimited

    handle = console_node(tmp_path / "node")
    now = [1000.0]
    guard = LoginGuard(clock=lambda: now[0])
    first, second = connect(handle.directory / "signpost.db"), connect(handle.directory / "signpost.db")
    try:
        for i in range(5):
            with transaction(first if i % 2 else second) as conn:
                guard.reserve_in(conn, "203.0.113.5")
        with pytest.raises(RateLimited, match="from your connection"), transaction(first) as conn:
            guard.reserve_in(conn, "203.0.113.5")
        now[0] += guard.delay_after(5)
        with transaction(second) as conn:
            guard.reserve_in(conn, "198.51.100.1")  # the sixth failure in a row: the account now waits 1 s
        with pytest.raises(RateLimited, match="wrong passwords") as waited, transaction(first) as conn:
            guard.reserve_in(conn, "198.51.100.2")
        assert waited.value.retry_after == 1
        now[0] += 1
        with transaction(first) as conn:
            guard.reserve_in(conn, "198.51.100.2")
            guard.succeeded_in(conn, "198.51.100.2")
        with transaction(second) as conn:  # the success through one connection clears the streak for both
            guard.reserve_in(conn, "198.51.100.3")
    finally:
        first.close()
        second.close()


def test_a_flood_of_sign_ins_from_many_addresses_cannot_grow_the_database(tmp_path: Path) -> None:
    """Attempts older than the window go, and a hard cap keeps only the newest rows, whatever the addresses."""
    from node.storage.login_attempts import attempt_rows
    from node.storage.store import connect, transaction
    from node.web.auth import LoginGuard

    handle = console_node(tmp_path / "node")
    now = [1000.0]
    # No account delay, so every attempt is counted: the worst case for the table's size.
    guard = LoginGuard(clock=lambda: now[0], free_failures=10**9, row_cap=200)
    conn = connect(handle.directory / "signpost.db")
    try:
        for i in range(3000):
            with transaction(conn):
                guard.reserve_in(conn, f"10.{i // 250}.{i % 250}.1")
            now[0] += 0.01
        assert attempt_rows(conn) == 200, "the cap holds"
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        for i in range(3000):
            with transaction(conn):
                guard.reserve_in(conn, f"172.16.{i // 250}.{i % 250}")
            now[0] += 0.01
        assert attempt_rows(conn) == 200
        assert conn.execute("PRAGMA page_count").fetchone()[0] <= pages + 2, "the file does not grow"
        now[0] += guard.window + 1
        with transaction(conn):
            guard.reserve_in(conn, "192.0.2.1")
        assert attempt_rows(conn) == 1, "the window drops the rest"
    finally:
        conn.close()


async def test_a_flood_of_sign_in_posts_from_many_addresses_leaves_few_rows(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """Through the real login form: the account's delay admits few attempts, so few rows are written."""
    from node.storage.login_attempts import attempt_rows

    handle = console_node(tmp_path / "node")
    client = await console_client(aiohttp_client, handle)
    csrf = csrf_of(await (await client.get("/admin/login")).text())

    async def attempt(i: int) -> int:
        resp = await client.post(
            "/admin/login",
            data={"csrf": csrf, "password": f"guess {i}"},
            headers={"X-Forwarded-For": f"10.{i // 200}.{i % 200}.9"},
        )
        await resp.read()
        return resp.status

    answers = collections.Counter(await asyncio.gather(*[attempt(i) for i in range(400)]))
    assert answers[401] + answers[429] == 400, answers
    rows = await client.app[NODE].store.read(attempt_rows)
    assert rows == answers[401] <= 10, (rows, answers)
