"""Reports from the public: no login, honeypot, minimum fill time, length cap, rate limit, local only."""

from __future__ import annotations

import re
import time

import pytest
from feedutil import feed_records

from node.web.antispam import HONEYPOT, REPORTS, sign_stamp
from node.web.views.reports import MAX_MESSAGE


@pytest.fixture
async def listed(client, node):  # type: ignore[no-untyped-def]
    node.publish([("walk", {"kind": "group", "name": "Walk and Talk"})])
    return client, f"/listing/{node.publisher}/walk"


def _stamp(client, target: str, age: float = 60) -> str:  # type: ignore[no-untyped-def]
    return sign_stamp(client.app[REPORTS].secret, time.time() - age, target)


async def test_listing_page_links_to_the_report_form(listed) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    page = await (await client.get(url)).text()
    assert f'href="{url}/report">Something wrong with this listing?' in page
    form = await client.get(f"{url}/report")
    assert form.status == 200 and "noindex" in form.headers["X-Robots-Tag"]
    assert re.search(r'name="stamp" value="\d+\.[0-9a-f]{32}"', await form.text())


async def test_a_report_is_stored_and_shown_in_the_console_only(listed, signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    target = f"{node.publisher}/walk"
    resp = await client.post(
        f"{url}/report",
        data={
            "message": "They moved to Thursdays",
            "contact": "ann@example.org",
            "stamp": _stamp(client, target),
            HONEYPOT: "",
        },
    )
    assert resp.status == 200 and "Thank you" in await resp.text()
    console = await (await client.get("/admin/reports")).text()
    assert "They moved to Thursdays" in console and "ann@example.org" in console and "Walk and Talk" in console
    assert "They moved to Thursdays" in await (await client.get("/admin/listings/walk")).text()
    _, _, raw = await feed_records(client)
    assert b"Thursdays" not in raw and b"ann@example.org" not in raw
    assert "Thursdays" not in await (await client.get(url)).text()


async def test_honeypot_submission_is_thanked_but_not_stored(listed, signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    resp = await client.post(
        f"{url}/report",
        data={
            "message": "Buy cheap pills",
            "stamp": _stamp(client, f"{node.publisher}/walk"),
            HONEYPOT: "http://spam.example",
        },
    )
    assert resp.status == 200 and "Thank you" in await resp.text()
    assert "cheap pills" not in await (await client.get("/admin/reports")).text()


@pytest.mark.parametrize(
    ("stamp_of", "words"),
    [
        (lambda c, t: _stamp(c, t, age=0), "very quickly"),
        (lambda c, t: _stamp(c, t, age=3 * 86400), "more than a day old"),
        (lambda c, t: _stamp(c, "sp1:aaaaaaaaaaaaaaaaaaaaaaaaaa/other", age=60), "could not be checked"),
        (lambda c, t: "12345.0123456789abcdef0123456789abcdef", "could not be checked"),
        (lambda c, t: "", "could not be checked"),
    ],
)
async def test_bad_or_too_quick_stamps_are_refused_keeping_the_message(listed, node, stamp_of, words: str) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    resp = await client.post(
        f"{url}/report", data={"message": "Wrong phone number", "stamp": stamp_of(client, f"{node.publisher}/walk")}
    )
    assert resp.status == 400
    html = await resp.text()
    assert words in html and "Wrong phone number" in html


async def test_overlong_and_empty_reports_are_refused(listed, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    stamp = _stamp(client, f"{node.publisher}/walk")
    assert (await client.post(f"{url}/report", data={"message": "x" * (MAX_MESSAGE + 1), "stamp": stamp})).status == 400
    assert (await client.post(f"{url}/report", data={"message": "   ", "stamp": stamp})).status == 400


async def test_reports_are_rate_limited_per_address(listed, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    stamp = _stamp(client, f"{node.publisher}/walk")
    for i in range(5):
        assert (await client.post(f"{url}/report", data={"message": f"report {i}", "stamp": stamp})).status == 200
    resp = await client.post(f"{url}/report", data={"message": "one more", "stamp": stamp})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0


async def test_cross_origin_report_is_refused(listed, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    resp = await client.post(
        f"{url}/report",
        data={"message": "hi", "stamp": _stamp(client, f"{node.publisher}/walk")},
        headers={"Origin": "https://evil.example"},
    )
    assert resp.status == 403


async def test_report_on_unknown_listing_is_404(client, node) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(f"/listing/{node.publisher}/nope/report")).status == 404
    assert (await client.post(f"/listing/{node.publisher}/nope/report", data={"message": "x"})).status == 404


async def test_resolving_a_report_clears_it_from_the_list(listed, signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, url = listed
    _, csrf = signed_in
    await client.post(
        f"{url}/report", data={"message": "Venue closed", "stamp": _stamp(client, f"{node.publisher}/walk")}
    )
    html = await (await client.get("/admin/reports")).text()
    rowid = re.search(r"/admin/reports/(\d+)/resolve", html).group(1)  # type: ignore[union-attr]
    await client.post(f"/admin/reports/{rowid}/resolve", data={"csrf": csrf})
    assert "Venue closed" not in await (await client.get("/admin/reports")).text()
    assert "Venue closed" in await (await client.get("/admin/reports?all=1")).text()
