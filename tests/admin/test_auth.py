"""Signing in to the console: passwords, sessions, CSRF, origin checks, rate limits, headers."""

from __future__ import annotations

import pytest
from admin_helpers import PASSWORD, csrf_of, sign_in

from node.core.config import load_config
from node.web.auth import COOKIE, LoginGuard, RateLimited, write_password_hash

ADMIN_PAGES = ["/admin", "/admin/upload", "/admin/listings", "/admin/reports", "/admin/peers", "/admin/sheet"]


def _cookie(client) -> str | None:  # type: ignore[no-untyped-def]
    for c in client.session.cookie_jar:
        if c.key == COOKIE:
            return c.value
    return None


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_console_pages_need_sign_in(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/admin/login?next=")
    assert resp.headers["Cache-Control"] == "no-store"


async def test_wrong_password_is_refused_and_says_so(client) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/admin/login")
    resp = await client.post(
        "/admin/login", data={"csrf": csrf_of(await page.text()), "password": "not the password"}, allow_redirects=False
    )
    assert resp.status == 401
    assert "That password is not right" in await resp.text()
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_session_id_changes_at_sign_in_and_old_one_is_dead(client) -> None:  # type: ignore[no-untyped-def]
    await client.get("/admin/login")
    before = _cookie(client)
    assert before
    await sign_in(client)
    after = _cookie(client)
    assert after and after != before
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: before})
    assert (await client.get("/admin", allow_redirects=False)).status == 303, "the pre-login id must not be signed in"


async def test_session_cookie_is_httponly_strict_and_scoped(client) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/admin/login")
    resp = await client.post(
        "/admin/login", data={"csrf": csrf_of(await page.text()), "password": PASSWORD}, allow_redirects=False
    )
    header = resp.headers["Set-Cookie"]
    for part in ("HttpOnly", "SameSite=Strict", "Path=/admin"):
        assert part in header
    assert "Secure" not in header  # the node's URL is http://127.0.0.1


async def test_logout_ends_the_session(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    old = _cookie(client)
    resp = await client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: old})
    assert (await client.get("/admin", allow_redirects=False)).status == 303


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
async def test_post_without_the_right_csrf_token_is_403(signed_in, csrf) -> None:  # type: ignore[no-untyped-def]
    client, _ = signed_in
    data = {} if csrf is None else {"csrf": csrf}
    resp = await client.post("/admin/logout", data=data, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/admin", allow_redirects=False)).status == 200, "still signed in"


@pytest.mark.parametrize("csrf", [None, "wrong-token"])
async def test_login_without_csrf_is_403(client, csrf) -> None:  # type: ignore[no-untyped-def]
    await client.get("/admin/login")
    data = {"password": PASSWORD} | ({} if csrf is None else {"csrf": csrf})
    assert (await client.post("/admin/login", data=data, allow_redirects=False)).status == 403


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
async def test_cross_origin_post_is_403_even_with_the_token(signed_in, origin: str) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    resp = await client.post("/admin/logout", data={"csrf": csrf}, headers={"Origin": origin}, allow_redirects=False)
    assert resp.status == 403
    assert "another website" in await resp.text()


async def test_same_origin_post_is_accepted(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    origin = f"http://{client.host}:{client.port}"
    resp = await client.post("/admin/logout", data={"csrf": csrf}, headers={"Origin": origin}, allow_redirects=False)
    assert resp.status == 303


async def test_sixth_wrong_password_is_rate_limited_with_retry_after(client) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/admin/login")
    csrf = csrf_of(await page.text())
    for _ in range(5):
        resp = await client.post("/admin/login", data={"csrf": csrf, "password": "wrong password"})
        assert resp.status == 401
    resp = await client.post("/admin/login", data={"csrf": csrf, "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 429, "even the right password waits once the limit is reached"
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in await resp.text()


def test_login_guard_limits_each_address_and_slows_the_account_without_locking_it() -> None:
    # Was test_rate_limiter_counts_per_address_and_for_the_account, which pinned a 15-minute lock-out of the
    # account after 20 failures from anywhere: issue 17 (finding 3) replaces it with a capped, growing delay.
    now = [0.0]
    guard = LoginGuard(clock=lambda: now[0])
    for _ in range(5):
        guard.reserve("127.0.0.11")
    with pytest.raises(RateLimited):
        guard.reserve("127.0.0.11")  # this address has used its five
    now[0] += guard.delay_after(5)
    guard.reserve("127.0.0.12")  # the sixth failure in a row, from elsewhere: the account now waits 1 s
    with pytest.raises(RateLimited) as waited:
        guard.reserve("127.0.0.13")
    assert waited.value.retry_after == 1
    for i in range(40):
        now[0] += guard.max_delay
        guard.reserve(f"10.1.{i}.1")
    with pytest.raises(RateLimited) as capped:
        guard.reserve("127.0.0.99")
    assert capped.value.retry_after <= 30, "the delay is capped"
    now[0] += guard.max_delay
    guard.reserve("127.0.0.99")  # after at most the cap, anyone may try again
    guard.succeeded("127.0.0.99")
    guard.reserve("127.0.0.13")  # and a success clears the account's delay


async def test_every_admin_response_is_no_store_noindex_and_unframeable(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, _ = signed_in
    for path in [*ADMIN_PAGES, "/admin/login", "/admin/listings/no-such-listing"]:
        resp = await client.get(path, allow_redirects=False)
        assert resp.headers["Cache-Control"] == "no-store", path
        assert "noindex" in resp.headers["X-Robots-Tag"], path
        assert resp.headers["X-Frame-Options"] == "DENY", path
        if resp.status in (200, 404):
            assert "script-src 'none'" in resp.headers["Content-Security-Policy"], path
            assert '<meta name="robots" content="noindex' in await resp.text(), path


async def test_without_a_password_the_login_page_says_how_to_set_one(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from node.web.app import create_app
    from nodeutil import make_node

    handle = make_node(tmp_path / "fresh")
    client = await aiohttp_client(create_app(load_config(handle.directory), sync=False))
    text = await (await client.get("/admin/login")).text()
    # It used to print the node's absolute directory; issue 17 (finding 7): a stranger must not learn it.
    assert "signpost password --dir &lt;your node directory&gt;" in text
    assert str(handle.directory.resolve()) not in text and str(tmp_path) not in text
    write_password_hash(handle.directory, __import__("node.web.passwords").web.passwords.hash_password(PASSWORD))
    await sign_in(client)  # no restart needed


def test_signpost_password_command_sets_a_working_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from node.web.passwords import check_password
    from nodeutil import make_node, signpost

    handle = make_node(tmp_path / "n")
    signpost("password", "--dir", str(handle.directory), "--password-stdin", input="a brand new password\n")
    stored = load_config(handle.directory).admin.password_hash
    assert stored and check_password("a brand new password", stored)
    short = signpost("password", "--dir", str(handle.directory), "--password-stdin", input="short\n", check=False)
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
