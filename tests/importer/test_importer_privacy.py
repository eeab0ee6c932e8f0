"""The privacy rules in one place: the spreadsheet importer and the console's listing form give the same answer."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from node.directory.geo import Geo
from node.importer import privacy, read_listings
from node.importer.listing_form import FormErrors, fields_from_form, listing_from_form
from node.importer.model import PrivatePlace

BASE: dict[str, Any] = {"kind": "group", "name": "Survivors Circle"}
SECRET_VENUE, SECRET_ADDRESS, SECRET_POSTCODE = "Back room", "14 Secret Street", "LS6 3QR"


def _sheet(tmp_path: Path, **cells: str) -> Any:
    """One spreadsheet row with these columns (header → value), read by the importer."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Group name", *cells])
    writer.writerow([BASE["name"], *cells.values()])
    path = tmp_path / "sheet.csv"
    path.write_text(out.getvalue(), "utf-8")
    return read_listings(path, geo=Geo.load())


def _form(**values: str) -> dict[str, str]:
    return {"name": BASE["name"], "kind": "group", "delivery": "in_person", "status": "active", **values}


def test_a_private_groups_postcode_is_never_published_from_the_sheet_or_the_form(tmp_path: Path) -> None:
    batch = _sheet(tmp_path, Venue=SECRET_VENUE, Address=SECRET_ADDRESS, Postcode="ls6 3qr", Private="Yes")
    from_form = listing_from_form(
        _form(private="yes", venue=SECRET_VENUE, address=SECRET_ADDRESS, postcode="ls6 3qr"),
        geo=Geo.load(),
        base=BASE,
        record_id="x",
    )
    (from_sheet,) = batch.listings
    for listing in (from_sheet, from_form):
        published = str(listing.fields)
        assert SECRET_POSTCODE not in published and SECRET_ADDRESS not in published and SECRET_VENUE not in published
        assert listing.fields["private"] is True
        assert listing.private_place == PrivatePlace(SECRET_VENUE, SECRET_ADDRESS, SECRET_POSTCODE)
    assert from_sheet.fields["location"] == from_form.fields["location"]
    assert from_sheet.fields["location"]["type"] == "area"


def test_contact_without_consent_is_never_published_from_the_sheet_or_the_form(tmp_path: Path) -> None:
    for consent in ("", "No", "perhaps"):
        batch = _sheet(tmp_path, **{"Contact email": "jo@example.org", "Consent": consent})
        (listing,) = batch.listings
        assert "contact" not in listing.fields and "jo@example.org" not in str(listing.fields)
        assert any("not published" in p.message for p in batch.warnings)
    for ticked in ({}, {"consent": "no"}, {"consent": "on"}):
        with pytest.raises(FormErrors) as info:
            listing_from_form(_form(contact_email="jo@example.org", **ticked), geo=Geo.load(), base=BASE, record_id="x")
        assert "consent" in info.value.errors


def test_contact_with_consent_is_published_the_same_from_the_sheet_and_the_form(tmp_path: Path) -> None:
    batch = _sheet(tmp_path, **{"Contact name": "Jo", "Contact email": "jo@example.org", "Consent": "Yes"})
    from_form = listing_from_form(
        _form(contact_name="Jo", contact_email="jo@example.org", consent="yes"),
        geo=Geo.load(),
        base=BASE,
        record_id="x",
    )
    assert (
        batch.listings[0].fields["contact"]
        == from_form.fields["contact"]
        == {"consent": True, "name": "Jo", "email": "jo@example.org"}
    )


def test_a_private_group_without_a_postcode_publishes_no_place_from_either_path(tmp_path: Path) -> None:
    batch = _sheet(tmp_path, Address=SECRET_ADDRESS, Private="Yes")
    (listing,) = batch.listings
    assert "location" not in listing.fields and listing.private_place == PrivatePlace(None, SECRET_ADDRESS, None)
    with pytest.raises(FormErrors) as info:
        listing_from_form(_form(private="yes", address=SECRET_ADDRESS), geo=Geo.load(), base=BASE, record_id="x")
    assert "postcode of a private group" in info.value.errors["postcode"]


def test_an_unclear_private_answer_is_private_and_an_unclear_consent_is_no_consent() -> None:
    assert privacy.read_private("maybe") == privacy.Reading(True, "'maybe' is not a clear Yes or No")
    assert privacy.read_consent("maybe").value is False and privacy.read_consent("maybe").unclear
    # A blank privacy answer fails closed (private); a blank consent is no consent.
    assert privacy.read_private(None) == privacy.Reading(True, "no answer")
    assert privacy.read_consent("  ") == privacy.Reading(False)
    assert privacy.read_private("Private").value and privacy.read_consent("Yes please").value


def test_the_private_and_consent_vocabularies_are_separate_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    narrowed = privacy.YesNo(yes=frozenset({"yes"}), no=frozenset({"no"}))
    monkeypatch.setattr(privacy, "CONSENT_WORDS", narrowed)
    assert privacy.read_consent("agreed").value is False, "the consent table alone decides consent"
    assert privacy.read_private("closed").value is True, "narrowing consent leaves the private words alone"


def test_only_a_ticked_box_counts_in_the_console() -> None:
    assert privacy.box_ticked("yes") and not privacy.box_ticked("on") and not privacy.box_ticked(None)


def test_a_public_place_is_published_whole() -> None:
    found = privacy.where(Geo.load(), private=False, venue="Oxford Place Centre", address=None, postcode="LS1 3AX")
    assert found.place is None and found.problem is None
    assert (
        found.location is not None
        and found.location["postcode"] == "LS1 3AX"
        and found.location["name"] == "Oxford Place Centre"
    )
    unknown = privacy.where(Geo.load(), private=True, venue=None, address=None, postcode="IM1 1AA")
    assert unknown.problem == "unknown_postcode" and unknown.location is None


def test_fields_from_form_still_gives_the_place_as_a_tuple() -> None:
    fields, place = fields_from_form(
        _form(private="yes", venue=SECRET_VENUE, postcode="LS6 3QR"), geo=Geo.load(), base=BASE, record_id="x"
    )
    assert place == (SECRET_VENUE, None, SECRET_POSTCODE) and SECRET_POSTCODE not in str(fields)
