"""The console preview's venues choice and its privacy changes, shown before "Publish".

A sheet with venues but no column saying which are private is read fail-closed (area
only) and says so at the top of the preview; "all venues are public" re-plans the preview,
is remembered for the file's name when published, and the preview lists which meeting
places and contact details become public or stop being public (node.importer.venues).
"""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import aiohttp
from feedutil import feed_records

CORPUS = Path(__file__).resolve().parent.parent / "importer" / "corpus"
SHEET = "06-no-privacy-column-bristol.csv"


def _form(csrf: str, body: bytes, name: str = SHEET) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", body, filename=name, content_type="text/csv")
    return form


def _token(page: str) -> str:
    m = re.search(r'name="plan" value="([^"]+)"', page)
    assert m, "no plan token"
    return m.group(1)


def _before_publish(page: str) -> str:
    """The part of the preview a coordinator reads before reaching the Publish button."""
    return htmllib.unescape(page.split("Publish these changes")[0])


async def test_undeclared_venues_show_the_notice_first_and_the_choice_replans(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    body = (CORPUS / SHEET).read_bytes()
    page = await (await client.post("/admin/upload", data=_form(csrf, body))).text()
    top = _before_publish(page)
    assert "show only their area because the sheet does not say which are public" in top
    assert top.index("show only their area") < top.index("to add"), "the notice comes first"
    assert 'name="venues" value="public"' in page and "43 Ducie Road" not in top

    chosen = await client.post("/admin/upload/venues", data={"csrf": csrf, "plan": _token(page), "venues": "public"})
    page = await chosen.text()
    assert chosen.status == 200, page
    top = _before_publish(page)
    assert "'all venues are public', as chosen for this import" in top
    assert "Privacy changes" in top and "Will become public" in top
    assert "43 Ducie Road" in top and "BS5 0AX" in top, "the places that become public are named"
    assert top.index("Privacy changes") < top.index("To add")

    published = await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _token(page)})
    assert published.status == 200
    live, _, _ = await feed_records(client)
    assert live["bristol-hearing-voices"]["location"]["type"] == "public"

    # The next upload of the same file name uses the remembered choice and says so.
    again = _before_publish(await (await client.post("/admin/upload", data=_form(csrf, body))).text())
    assert "as chosen at an earlier import of 06-no-privacy-column-bristol.csv" in again


async def test_making_places_private_is_listed_as_stopping_being_public(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    body = (CORPUS / SHEET).read_bytes()
    page = await (await client.post("/admin/upload", data=_form(csrf, body))).text()
    page = await (
        await client.post("/admin/upload/venues", data={"csrf": csrf, "plan": _token(page), "venues": "public"})
    ).text()
    await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _token(page)})

    page = await (await client.post("/admin/upload", data=_form(csrf, body))).text()
    page = await (
        await client.post("/admin/upload/venues", data={"csrf": csrf, "plan": _token(page), "venues": "private"})
    ).text()
    top = _before_publish(page)
    row = top[top.index("Bristol Hearing Voices", top.index("Privacy changes")) :].split("</tr>")[0]
    cells = row.split("<td>")
    assert "43 Ducie Road" in cells[-1] and "BS5 0AX" in cells[-1], "listed under 'Will stop being public'"
    assert "43 Ducie Road" not in cells[-2]
    await client.post("/admin/upload/publish", data={"csrf": csrf, "plan": _token(page)})
    live, _, raw = await feed_records(client)
    assert live["bristol-hearing-voices"]["location"]["type"] == "area"
    assert b"43 Ducie Road" not in raw and b"BS5 0AX" not in raw


async def test_a_choice_on_an_expired_preview_asks_for_the_file_again(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, csrf = signed_in
    resp = await client.post("/admin/upload/venues", data={"csrf": csrf, "plan": "nope", "venues": "public"})
    assert resp.status == 409
