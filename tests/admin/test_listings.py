"""Editing listings in the console: validation next to fields, still-current, pause/close/delete, freshness."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from feedutil import feed_records

from node.directory.geo import Geo
from node.importer.listing_form import FormErrors, fields_from_form, form_from_record

BASE = {
    "kind": "group",
    "name": "Hearing Voices Leeds",
    "summary": "A friendly group.",
    "reviewed": "2024-01-01",
    "schedule": {"rules": [{"freq": "weekly", "byday": ["TU"], "opens": "10:30", "closes": "12:30"}]},
}


def _form(**changes: object) -> dict[str, object]:
    values = form_from_record(BASE, None)
    values.update(changes)
    out: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            if value:
                out[key] = "yes"
        else:
            out[key] = value
    return out


class _Multi(dict):  # type: ignore[type-arg]
    def getall(self, key: str, default: list[str]) -> list[str]:
        value = self.get(key, default)
        return value if isinstance(value, list) else [value]


BAD_FORMS = [
    ({"name": ""}, "name", "Give the listing a name"),
    ({"contact_email": "not an email", "consent": True}, "contact_email", "email address"),
    ({"contact_email": "jo@example.org"}, "consent", "consent"),
    ({"website": "javascript:alert(1)"}, "website", "https://"),
    ({"opens": "25:99"}, "opens", "time like"),
    ({"postcode": "not a postcode"}, "postcode", "UK postcode"),
    ({"postcode": "BT1 1AA"}, "postcode", "Northern Ireland"),
    ({"private": True, "address": "1 Secret Road"}, "postcode", "postcode of a private group"),
    ({"reviewed": "2025-02-30"}, "reviewed", "real date"),
    ({"days": [], "opens": "10:00"}, "days", "day or days"),
    ({"cost_details": "£2", "cost": ""}, "cost", "free or has a cost"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_FORMS)
def test_form_problems_are_named_against_their_field(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(FormErrors) as info:
        fields_from_form(_Multi(_form(**changes)), geo=Geo.load(), base=BASE, record_id="x")
    assert field in info.value.errors
    assert words.lower() in info.value.errors[field].lower()


def test_private_form_publishes_only_the_area_and_keeps_the_place() -> None:
    fields, place = fields_from_form(
        _Multi(_form(private=True, venue="Back room", address="1 Secret Road", postcode="ls6 3qr")),
        geo=Geo.load(),
        base=BASE,
        record_id="x",
    )
    assert fields["location"]["type"] == "area" and "LS6 3QR" not in str(fields)
    assert "Secret" not in str(fields)
    assert place == ("Back room", "1 Secret Road", "LS6 3QR")


def test_round_trip_of_an_unchanged_form_changes_nothing() -> None:
    fields, place = fields_from_form(_Multi(_form()), geo=Geo.load(), base=BASE, record_id="x")
    assert fields == BASE and place is None


async def _edit_page(client, rid: str) -> str:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/admin/listings/{rid}")
    assert resp.status == 200
    return await resp.text()


def _fields_of(html: str) -> dict[str, object]:
    """The edit form's current values, as a browser would submit them."""
    form = html.split('<form method="post" action="/admin/listings/', 2)[2]
    out: dict[str, object] = {}
    for m in re.finditer(r'<input id="(\w+)" name="\w+" type="[a-z]+" value="([^"]*)"', form):
        out[m.group(1)] = m.group(2).replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")
    out["kind"] = re.search(r'name="kind">.*?<option value="(\w+)" selected', form, re.S).group(1)  # type: ignore[union-attr]
    out["status"] = re.search(r'name="status">.*?<option value="(\w+)" selected', form, re.S).group(1)  # type: ignore[union-attr]
    out["csrf"] = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return out


async def test_edit_errors_show_next_to_the_field_and_publish_nothing(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("walk", {"kind": "group", "name": "Walk and Talk"})])
    before, _, _ = await feed_records(client)
    data = _fields_of(await _edit_page(client, "walk")) | {"contact_email": "nope", "consent": "yes", "csrf": csrf}
    resp = await client.post("/admin/listings/walk", data=data)
    html = await resp.text()
    assert resp.status == 400
    assert re.search(
        r'<p class="field-error" id="contact_email-error">.*email address.*</p><input id="contact_email"', html
    )
    assert 'aria-invalid="true" aria-describedby="contact_email-error"' in html
    assert 'value="nope"' in html, "what they typed is kept"
    after, _, _ = await feed_records(client)
    assert after == before


async def test_edit_publishes_a_new_version_to_the_feed(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("walk", {"kind": "group", "name": "Walk and Talk"})])
    data = _fields_of(await _edit_page(client, "walk")) | {
        "summary": "Gentle walks",
        "days": ["SA"],
        "opens": "10:00",
        "csrf": csrf,
    }
    resp = await client.post("/admin/listings/walk", data=data, allow_redirects=False)
    assert resp.status == 303
    live, _, _ = await feed_records(client)
    assert live["walk"]["summary"] == "Gentle walks"
    assert live["walk"]["schedule"]["rules"] == [{"freq": "weekly", "byday": ["SA"], "opens": "10:00"}]


async def test_private_place_edited_in_the_console_never_reaches_feed_or_html(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("circle", {"kind": "group", "name": "Survivors Circle"})])
    data = _fields_of(await _edit_page(client, "circle")) | {
        "private": "yes",
        "venue": "Back room",
        "address": "14 Secret Street",
        "postcode": "LS6 3QR",
        "csrf": csrf,
    }
    assert (await client.post("/admin/listings/circle", data=data, allow_redirects=False)).status == 303
    _, _, raw = await feed_records(client)
    page = await (await client.get(f"/listing/{node.publisher}/circle")).text()
    for secret in ("14 Secret Street", "Back room", "LS6 3QR"):
        assert secret.encode() not in raw and secret not in page
    assert "14 Secret Street" in await _edit_page(client, "circle"), "the coordinator still sees it"
    # Marking as checked keeps the private place at home.
    await client.post("/admin/listings/circle/check", data={"csrf": csrf})
    assert "14 Secret Street" in await _edit_page(client, "circle")


async def test_mark_as_still_current_bumps_reviewed_in_the_feed(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("old", {"kind": "group", "name": "Old group", "reviewed": "2023-01-01"})])
    before, _, _ = await feed_records(client)
    resp = await client.post("/admin/listings/old/check", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    live, _, _ = await feed_records(client)
    assert live["old"]["reviewed"] == dt.date.today().isoformat()
    assert live["old"]["rev"] > before["old"]["rev"]


async def test_listings_are_stale_first_with_their_age(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, _ = signed_in
    today = dt.date.today()
    node.publish(
        [
            ("fresh", {"kind": "group", "name": "Fresh", "reviewed": today.isoformat()}),
            ("stale", {"kind": "group", "name": "Stale", "reviewed": (today - dt.timedelta(days=200)).isoformat()}),
            ("ancient", {"kind": "group", "name": "Ancient", "reviewed": (today - dt.timedelta(days=400)).isoformat()}),
            ("never", {"kind": "group", "name": "Never"}),
        ]
    )
    html = await (await client.get("/admin/listings")).text()
    order = [m.group(1) for m in re.finditer(r'<a href="/admin/listings/([a-z]+)">', html)]
    assert order == ["never", "ancient", "stale", "fresh"]
    assert "hidden from search" in html and "may be out of date" in html and "today" in html
    by_name = await (await client.get("/admin/listings?sort=name")).text()
    assert [m.group(1) for m in re.finditer(r'<a href="/admin/listings/([a-z]+)">', by_name)] == [
        "ancient",
        "fresh",
        "never",
        "stale",
    ]


async def test_keep_visible_brings_a_year_old_listing_back_into_search(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    old = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    node.publish([("ancient", {"kind": "group", "name": "Ancient Zebra Group", "reviewed": old})])
    assert "Ancient Zebra Group" not in await (await client.get("/search?q=zebra")).text()
    await client.post("/admin/listings/ancient/visibility", data={"csrf": csrf, "keep": "yes"})
    assert "Ancient Zebra Group" in await (await client.get("/search?q=zebra")).text()
    page = await (await client.get(f"/listing/{node.publisher}/ancient")).text()
    assert "May be out of date" in page
    await client.post("/admin/listings/ancient/visibility", data={"csrf": csrf, "keep": "no"})
    assert "Ancient Zebra Group" not in await (await client.get("/search?q=zebra")).text()


@pytest.mark.parametrize(("action", "status"), [("pause", "paused"), ("close", "closed")])
async def test_pause_and_close_ask_first_then_publish(signed_in, node, action: str, status: str) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("g", {"kind": "group", "name": "G"})])
    confirm = await (await client.get(f"/admin/listings/g/{action}")).text()
    assert "Yes," in confirm
    unconfirmed = await client.post(f"/admin/listings/g/{action}", data={"csrf": csrf}, allow_redirects=False)
    assert unconfirmed.status == 303
    live, _, _ = await feed_records(client)
    assert live["g"].get("status", "active") == "active", "nothing changes without the confirmation"
    await client.post(f"/admin/listings/g/{action}", data={"csrf": csrf, "confirm": "yes"})
    live, _, _ = await feed_records(client)
    assert live["g"]["status"] == status


async def test_delete_publishes_a_tombstone(signed_in, node) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    node.publish([("g", {"kind": "group", "name": "G"})])
    resp = await client.post("/admin/listings/g/delete", data={"csrf": csrf, "confirm": "yes"}, allow_redirects=False)
    assert resp.status == 303
    live, deleted, _ = await feed_records(client)
    assert "g" in deleted and "g" not in live
    assert (await client.get("/admin/listings/g")).status == 404
