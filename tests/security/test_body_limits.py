"""Finding 4 of issue 17: large bodies are refused before they are read, and nothing is written for a stranger.

node.web.limits.request_limits decides each route's limit from its path and the session cookie and answers
413 from ``Content-Length`` (or while reading, for a chunked body) before the handler reads a byte; the upload
checks the signed-in session and its CSRF token before streaming (docs/security.md §6).  The memory figures
under the full attack come from tests/bench/body_attack.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from console_client import console_client, console_node, sign_in

from node.web.limits import SMALL_BODY
from node.web.views.admin import upload as upload_view
from nodeutil import group

BIG = 2 * 1024 * 1024


def _post_routes(app: Any, publisher: str) -> list[str]:
    paths = []
    for route in app.router.routes():
        if route.method != "POST":
            continue
        info = route.resource.get_info()
        path = info.get("path") or info["formatter"]
        paths.append(
            path.replace("{publisher}", publisher)
            .replace("{id}", "group-000001")
            .replace("{action}", "pause")
            .replace("{rowid}", "1")
        )
    return sorted(set(paths))


@pytest.fixture
async def served(aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    handle = console_node(tmp_path / "node")
    handle.publish([group(1)])
    client = await console_client(aiohttp_client, handle)
    streamed: list[str] = []
    original = upload_view._save_upload

    async def spy(request: Any, dest: Path) -> Any:
        streamed.append(request.path)
        return await original(request, dest)

    monkeypatch.setattr(upload_view, "_save_upload", spy)
    yield client, handle, streamed


async def test_every_post_route_refuses_a_large_body_without_a_session_before_reading_it(served: Any) -> None:
    client, handle, streamed = served
    routes = _post_routes(client.app, handle.publisher)
    assert "/admin/upload" in routes and f"/listing/{handle.publisher}/group-000001/report" in routes
    body = b"message=" + b"A" * BIG
    for path in routes:
        resp = await client.post(path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 413, (path, resp.status)
        assert "too much to send" in await resp.text(), path
    assert streamed == []


async def test_a_chunked_body_without_a_length_is_cut_off_at_the_same_limit(served: Any) -> None:
    client, handle, _ = served

    async def chunks() -> AsyncIterator[bytes]:
        yield b"message="
        for _ in range(64):
            yield b"A" * 32 * 1024

    resp = await client.post(
        f"/listing/{handle.publisher}/group-000001/report",
        data=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 413


async def test_an_upload_without_a_session_writes_nothing(served: Any) -> None:
    client, _, streamed = served

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"A" * 64 * 1024

    form = aiohttp.FormData()
    form.add_field("file", b"name\n" + b"x" * BIG, filename="big.csv", content_type="text/csv")
    assert (await client.post("/admin/upload", data=form)).status == 413
    chunked = await client.post(
        "/admin/upload", data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert chunked.status == 403
    assert streamed == [], "nothing was streamed to disk"


async def test_a_signed_in_upload_with_the_wrong_token_in_its_address_is_refused_before_streaming(
    served: Any,
) -> None:
    client, _, streamed = served
    await sign_in(client)
    form = aiohttp.FormData()
    form.add_field("file", b"name\nA group\n", filename="groups.csv", content_type="text/csv")
    assert (await client.post("/admin/upload?csrf=wrong", data=form)).status == 403
    assert streamed == []


async def test_public_forms_take_small_bodies_and_the_signed_in_console_larger_ones(served: Any) -> None:
    client, handle, _ = served
    report = f"/listing/{handle.publisher}/group-000001/report"
    ok = await client.post(report, data={"message": "x" * (SMALL_BODY // 2)})
    assert ok.status != 413
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/listings/group-000001", data={"csrf": csrf, "summary": "y" * (64 * 1024)}, allow_redirects=False
    )
    assert resp.status != 413
