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

from console_client import PASSWORD, console_client, console_node, csrf_of

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
