"""The coordinator corpus (tests/importer/corpus): what each sheet must never serve, and must serve.

Each sheet is read through the pipeline's read stage and every listing encoded
exactly as it would be signed and served (``encode_payload``); no
``must_never_serve`` string may appear in those bytes (phone numbers also with
their separators squashed, so a reformatted number is caught), and every
``must_serve`` string must appear in some listing.  HELDOUT/ is not read here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.directory.geo import Geo
from node.importer import ImportBatch, read_listings
from node.importer.headings import classify
from node.importer.rows import DUMMY_PUBLISHER
from protocol.records import encode_payload

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
HEADINGS: list[dict[str, str]] = json.loads((CORPUS / "headings.json").read_text(encoding="utf-8"))
TODAY = dt.date(2026, 11, 28)  # the day the corpus was written


def _squash(text: str) -> str:
    return re.sub(r"(?<=\d)[\s\-()]+(?=\d)", "", text)


def served(batch: ImportBatch) -> str:
    """Every byte the node would sign and serve for the batch's listings."""
    payloads = []
    for listing in batch.listings:
        payload = {
            "publisher": DUMMY_PUBLISHER,
            "id": listing.id,
            "rev": 1,
            "updated": "2026-11-28T00:00:00Z",
            **listing.fields,
        }
        payloads.append(encode_payload(payload).decode("utf-8"))
    return "\n".join(payloads)


@pytest.fixture(scope="module")
def geo() -> Geo:
    return Geo.load()


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_a_coordinator_sheet_serves_nothing_it_must_not_and_everything_it_should(
    entry: dict[str, Any], geo: Geo
) -> None:
    batch = read_listings(CORPUS / entry["file"], geo=geo, today=TODAY)
    text = served(batch)
    squashed = _squash(text)
    leaked = [s for s in entry["must_never_serve"] if s in text or _squash(s) in squashed]
    assert leaked == [], f"{entry['file']} served {leaked}"
    missing = [s for s in entry["must_serve"] if s not in text]
    assert missing == [], f"{entry['file']} did not serve {missing}"


def test_a_sheet_without_a_privacy_column_shows_only_areas_and_says_so(geo: Geo) -> None:
    batch = read_listings(CORPUS / "06-no-privacy-column-bristol.csv", geo=geo, today=TODAY)
    in_person = [x for x in batch.listings if x.fields.get("delivery") != "online"]
    assert all(x.fields["location"]["type"] == "area" for x in in_person)
    assert batch.undeclared_venues == len(in_person) == 5
    assert batch.venue_notice is not None and batch.venue_notice.startswith(
        "5 meeting places will show only their area"
    )


def test_all_venues_public_publishes_the_places_of_a_sheet_without_a_privacy_column(geo: Geo) -> None:
    batch = read_listings(CORPUS / "06-no-privacy-column-bristol.csv", geo=geo, venues="public", today=TODAY)
    assert batch.undeclared_venues == 0 and batch.venue_notice is None
    assert "BS5 0AX" in served(batch)


def test_venues_private_holds_back_even_the_places_a_sheet_calls_public(geo: Geo) -> None:
    batch = read_listings(CORPUS / "09-times-oneoffs-delivery.csv", geo=geo, venues="private", today=TODAY)
    assert "LS1 1UR" not in served(batch)
    assert all(x.fields.get("location", {}).get("type", "area") == "area" for x in batch.listings)


def test_venues_public_never_overrides_a_private_answer_in_the_sheet(geo: Geo) -> None:
    batch = read_listings(CORPUS / "05-own-words-secret-location.csv", geo=geo, venues="public", today=TODAY)
    assert "BN1 6LA" not in served(batch) and "3 Preston Drove" not in served(batch)


def test_every_heading_in_the_headings_list_is_read_with_its_sense() -> None:
    wrong = []
    for entry in HEADINGS:
        heading = classify(entry["heading"])
        got = heading.sense if heading.field == "private" else "none"
        if got != entry["sense"]:
            wrong.append((entry["heading"], entry["sense"], got))
    assert wrong == [], f"{len(HEADINGS) - len(wrong)}/{len(HEADINGS)} right"


# -- the property test: privacy headings in words nobody wrote down --------------------------

OPENERS = ("", "Is the ", "Is this ", "Should the ", "Do we need to keep the ", "Please say if the ", "Q7. Is the ")
SUBJECTS = ("venue", "address", "location", "meeting place", "group", "venue address", "meeting location")
PRIVATE_ADJECTIVES = ("private", "confidential", "secret", "hidden", "closed", "kept confidential", "kept secret")
NOTES = ("", " (Y/N)", " (we won't publish it)", " - please tick", " (for safety)", "?", " (yes/no)")
PUBLIC_PHRASES = (
    "Can the {s} be shown publicly",
    "Should we publish the {s}",
    "OK to publish {s}",
    "Can we list the {s}",
    "Show {s} on website",
    "Happy for the {s} to be published",
)


@st.composite
def privacy_heading(draw: st.DrawFn) -> tuple[str, str]:
    subject = draw(st.sampled_from(SUBJECTS))
    note = draw(st.sampled_from(NOTES))
    if draw(st.booleans()):
        opener = draw(st.sampled_from(OPENERS))
        adjective = draw(st.sampled_from(PRIVATE_ADJECTIVES))
        words = f"{opener}{subject} {adjective}" if opener else f"{adjective.capitalize()} {subject}"
        return words + note, "private"
    phrase = draw(st.sampled_from(PUBLIC_PHRASES)).format(s=subject)
    return phrase + note, "public"


def _sheet(path: Path, heading: str, answer: str) -> Path:
    path.write_text(
        f'Group name,Venue,Postcode,"{heading}"\nSecret Circle,"14 Holly Bank Road, Lindley",HD3 3LZ,{answer}\n',
        encoding="utf-8",
    )
    return path


@settings(max_examples=120, deadline=None)
@given(privacy_heading())
def test_a_privacy_heading_in_any_words_is_read_with_its_sense_or_the_import_fails_closed(
    tmp_path_factory: pytest.TempPathFactory, drawn: tuple[str, str]
) -> None:
    heading, sense = drawn
    read = classify(heading)
    assert read.field != "private" or read.sense == sense, f"{heading!r} read with the wrong sense"
    # The row the sheet calls private: whatever was understood, its street and postcode are never published.
    answer = "Yes" if sense == "private" else "No"
    path = _sheet(tmp_path_factory.mktemp("h") / "sheet.csv", heading, answer)
    batch = read_listings(path, geo=Geo.load(), today=TODAY)
    text = served(batch)
    assert "Holly Bank" not in text and "HD3 3LZ" not in text
    assert batch.listings[0].fields["location"]["type"] == "area"
