"""Uploading a spreadsheet: a readable preview, nothing published until "Publish these changes"."""

from __future__ import annotations

import aiohttp
from admin_helpers import csrf_of
from feedutil import feed_records
from messy import PRIVATE_ADDRESS, PRIVATE_POSTCODE, UNCONSENTED_EMAIL, messy_csv


def _form(csrf: str, body: bytes, *, replace: bool = False, name: str = "listings.csv") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    if replace:
        form.add_field("replace", "yes")
    form.add_field("file", body, filename=name, content_type="text/csv")
    return form


def _plan_token(html: str) -> str:
    import re

    m = re.search(r'name="plan" value="([^"]+)"', html)
    assert m, "no publish button"
    return m.group(1)


async def test_preview_shows_every_outcome_and_publishes_nothing(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    resp = await client.post("/admin/upload", data=_form(csrf, messy_csv()))
    html = await resp.text()
    assert resp.status == 200, html
    assert "Nothing has been published yet" in html
    assert "3 to add" in html and "2 rows rejected" in html
    assert "Hearing Voices Leeds" in html and "Survivors Circle" in html
    assert "<td>5</td>" in html and "<td>6</td>" in html, "rejected rows named by row number"
    assert "Publish these changes" in html
    live, deleted, _ = await feed_records(client)
    assert live == {} and deleted == set(), "a preview publishes nothing"


async def test_publish_lands_the_plan_and_keeps_private_data_home(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    html = await (await client.post("/admin/upload", data=_form(csrf, messy_csv()))).text()
    resp = await client.post(
        "/admin/upload/publish", data={"csrf": csrf, "plan": _plan_token(html)}, allow_redirects=False
    )
    assert resp.status == 303
    assert "Published: 3 added" in await (await client.get(resp.headers["Location"])).text()
    live, _, raw = await feed_records(client)
    assert set(live) == {"hearing-voices-leeds", "survivors-circle", "walk-and-talk"}
    assert live["survivors-circle"]["location"]["type"] == "area"
    assert "contact" not in live["walk-and-talk"]
    for secret in (PRIVATE_ADDRESS, PRIVATE_POSTCODE, "LS6 3QR", UNCONSENTED_EMAIL):
        assert secret.encode() not in raw
    page = await (await client.get(f"/listing/{live['survivors-circle']['publisher']}/survivors-circle")).text()
    assert PRIVATE_ADDRESS not in page and PRIVATE_POSTCODE not in page
    again = await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _plan_token(html)})
    assert again.status == 409, "a plan is published once"


async def test_reupload_shows_changed_fields_and_replace_shows_deletions(signed_in) -> None:  # type: ignore[no-untyped-def]
    from messy import ROWS

    client, csrf = signed_in
    html = await (await client.post("/admin/upload", data=_form(csrf, messy_csv()))).text()
    await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _plan_token(html)})
    rows = [list(r) for r in ROWS[:2]]
    rows[0][3] = "Oxford Place Centre, Room 2"
    html = await (
        await client.post("/admin/upload", data=_form(csrf, __import__("messy").messy_csv(rows), replace=True))
    ).text()
    assert "1 to change" in html and "1 to delete" in html and "1 unchanged" in html
    assert "location" in html, "the changed field is named"
    assert "Walk and Talk" in html


async def test_publish_refuses_a_stale_plan(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    html = await (await client.post("/admin/upload", data=_form(csrf, messy_csv()))).text()
    node.publish([("hearing-voices-leeds", {"kind": "group", "name": "Published meanwhile"})])
    resp = await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _plan_token(html)})
    assert resp.status == 409
    assert "nothing was published" in await resp.text()
    live, _, _ = await feed_records(client)
    assert set(live) == {"hearing-voices-leeds"}


async def test_a_file_that_is_not_a_spreadsheet_gets_one_sentence(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    resp = await client.post("/admin/upload", data=_form(csrf, b"\x00\x01\x02binary junk" * 50, name="photo.xlsx"))
    assert resp.status == 400
    assert "Traceback" not in await resp.text()


async def test_upload_needs_csrf_and_a_session(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    assert (await client.post("/admin/upload", data=_form("wrong", messy_csv()))).status == 403
    html = await (await client.get("/admin/upload")).text()
    assert csrf_of(html) == csrf
