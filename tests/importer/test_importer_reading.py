"""How the importer reads a sheet: headings by meaning, each column's vocabulary, unusual but right rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from node.directory.geo import Geo
from node.importer import ImportBatch, privacy, read_listings
from node.importer.headings import HEADING_RULES, classify, is_forms_export

TODAY = dt.date(2026, 11, 28)


def _read(tmp_path: Path, rows: list[dict[str, str]], **kwargs: object) -> ImportBatch:
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return read_listings(path, geo=Geo.load(), today=TODAY, **kwargs)  # type: ignore[arg-type]


# -- the consent vocabulary ---------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    ["Yes", "yes", "Y", "Yes please", "Yes - both fine", "Yes, happy", "I agree", "Agreed", "✓", "✔", "TRUE", "Ydw"],
)
def test_consent_is_yes_for_an_explicit_yes_word(answer: str) -> None:
    assert privacy.read_consent(answer).value is True


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "No",
        "Private",
        "Closed.",
        "Maybe",
        "Ask first",
        "only email not phone",
        "Email only please",
        "she's happy for her mobile to go on",
        "x",
        "X",
        "OK",
        "No - office use only",
        "1",
    ],
)
def test_consent_is_no_for_anything_but_an_explicit_yes(answer: str) -> None:
    assert privacy.read_consent(answer).value is False


def test_yes_naming_one_channel_consents_to_that_channel_only() -> None:
    assert privacy.read_consent("Yes - email only") == privacy.Reading(True, channels=frozenset({"email"}))
    assert privacy.read_consent("Yes, phone only").channels == frozenset({"phone"})
    assert privacy.read_consent("Yes - but email preferred").channels is None


def test_a_sheet_row_consenting_to_email_only_publishes_the_email_alone(tmp_path: Path) -> None:
    batch = _read(
        tmp_path,
        [{"Group name": "A", "Contact email": "a@example.org", "Phone": "07700 900111", "Consent": "Yes - email only"}],
    )
    assert batch.listings[0].fields["contact"] == {"consent": True, "email": "a@example.org"}
    assert any("held back" in p.message for p in batch.warnings)


def test_a_consent_cell_that_is_not_yes_holds_the_contact_back_with_a_row_warning(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Contact email": "a@example.org", "Consent": "Closed."}])
    assert "contact" not in batch.listings[0].fields
    assert [(p.row, p.column) for p in batch.warnings] == [(2, "Consent")]
    assert "not an explicit Yes" in batch.warnings[0].message


# -- the private vocabulary ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "private"),
    [
        ("Yes", True),
        ("y", True),
        ("Yes - it's someone's home", True),
        ("Private", True),
        ("PRIVATE", True),
        ("hide it please", True),
        ("No", False),
        ("n", False),
        ("Public", False),
        ("Public venue", False),
        ("", True),
        ("N/A", True),
        ("Not sure", True),
    ],
)
def test_the_private_column_reads_its_own_words_and_fails_closed(answer: str, private: bool) -> None:
    assert privacy.read_private(answer).value is private


def test_a_public_sense_heading_inverts_yes_and_no_but_not_the_named_answers() -> None:
    assert privacy.read_private("Yes", sense="public").value is False
    assert privacy.read_private("No - please keep private", sense="public").value is True
    assert privacy.read_private("Private", sense="public").value is True
    assert privacy.read_private("", sense="public").value is True


def test_an_unclear_private_answer_holds_the_place_back_with_a_warning(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Venue": "3 Preston Drove", "Postcode": "BN1 6LA", "Private?": "?"}])
    assert batch.listings[0].fields["location"]["type"] == "area"
    assert any(p.column == "Private?" and "treated as private" in p.message for p in batch.warnings)


# -- headings -------------------------------------------------------------------------------


def test_the_heading_rules_are_a_table_each_with_what_it_reads() -> None:
    assert all(isinstance(name, str) and len(text) > 20 for name, text, _ in HEADING_RULES)


@pytest.mark.parametrize(
    "heading",
    [
        "Internal notes (not for publication)",
        "Office use only",
        "Staff contact (do not publish)",
        "Your email (so we can contact you)",
        "Your phone",
        "Your name",
    ],
)
def test_a_heading_that_says_not_for_publication_is_never_read(heading: str) -> None:
    assert classify(heading).field is None and classify(heading).role == "never"


def test_forms_respondent_columns_are_never_a_contact_or_a_review_date() -> None:
    assert is_forms_export(["Timestamp", "Email address", "Group name"])
    assert is_forms_export(["ID", "Start time", "Completion time", "Email", "Name", "Group"])
    for heading in ("Email address", "Email", "Name", "ID", "Start time", "Last modified time"):
        assert classify(heading, forms=True).field is None
    for heading in ("Timestamp", "Completion time"):
        assert classify(heading, forms=True).field == "timestamp"
    assert classify("Email").field == "contact_email", "outside a Forms export a plain Email is the group's"


def test_the_group_contact_column_wins_over_a_bare_email(tmp_path: Path) -> None:
    batch = _read(
        tmp_path,
        [
            {
                "Group name": "A",
                "Email": "filler@example.com",
                "Contact email for the group": "g@example.org",
                "OK to publish contact?": "Yes",
            }
        ],
    )
    assert batch.listings[0].fields["contact"]["email"] == "g@example.org"
    assert "filler@example.com" not in str(batch.listings[0].fields)


def test_an_unused_heading_is_listed_first_with_what_it_might_have_been(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Contact email": "a@example.org", "Venue hush level": "quiet"}])
    first = batch.problems[0]
    assert first.row is None and first.column == "Venue hush level"
    assert "was not understood; if it says which venues are private, rename it 'Private group?'" in first.message


# -- free text of a private group ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Meet us at 14 Holly Bank Road", "a street address"),
        ("We are near HD3 3LZ", "a postcode"),
        ("Ring 07700 900412 first", "a phone number"),
        ("Email sam@example.com first", "an email address"),
    ],
)
def test_a_private_groups_free_text_naming_its_place_or_a_contact_is_held_back(
    tmp_path: Path, text: str, what: str
) -> None:
    batch = _read(
        tmp_path,
        [
            {
                "Group name": "A",
                "Venue": "x",
                "Postcode": "HD3 3LZ",
                "Private?": "Yes",
                "Description": text,
                "How to join": text,
            }
        ],
    )
    fields = batch.listings[0].fields
    assert "description" not in fields and "details" not in fields.get("join", {})
    assert {p.column for p in batch.warnings if what in p.message} == {"Description", "How to join"}


def test_a_consented_contact_may_appear_in_free_text(tmp_path: Path) -> None:
    batch = _read(
        tmp_path,
        [{"Group name": "A", "Description": "Email a@example.org", "Contact email": "a@example.org", "Consent": "Yes"}],
    )
    assert batch.listings[0].fields["description"] == "Email a@example.org"


# -- dates, freshness ---------------------------------------------------------------------------


def test_a_form_timestamp_is_not_a_review_date_and_a_fresh_import_counts_as_checked_today(tmp_path: Path) -> None:
    batch = _read(
        tmp_path, [{"Timestamp": "2024/01/12 10:04:51 AM GMT", "Email address": "f@example.com", "Group name": "A"}]
    )
    assert batch.listings[0].fields["reviewed"] == TODAY.isoformat()
    assert batch.stale == batch.hidden == 0 and batch.stale_notice is None


def test_the_import_says_how_many_listings_will_be_stale_or_hidden(tmp_path: Path) -> None:
    batch = _read(
        tmp_path,
        [
            {"Group name": "Old", "Last checked": "01/04/2026"},
            {"Group name": "Older", "Last checked": "01/01/2020"},
            {"Group name": "New", "Last checked": "01/11/2026"},
        ],
    )
    assert (batch.stale, batch.hidden) == (1, 1)
    assert batch.stale_notice is not None and "1 listing(s) will be hidden" in batch.stale_notice


# -- unusual but right rows ------------------------------------------------------------------


def test_a_district_only_postcode_gives_the_districts_area(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Venue": "Estate room", "Postcode": "SE11", "Private?": "No"}])
    location = batch.listings[0].fields["location"]
    assert location["area"] == "Lambeth" and "postcode" not in location


def test_a_district_only_postcode_of_a_private_group_is_its_area(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Venue": "Flat 1", "Postcode": "LS1", "Private?": "Yes"}])
    assert batch.listings[0].fields["location"]["postcode_area"] == "LS1"


@pytest.mark.parametrize(
    ("when", "date", "opens"),
    [
        ("Thursday 3 December 2026", "2026-12-03", None),
        ("3/12/26 7pm", "2026-12-03", "19:00"),
        ("21/1/27", "2027-01-21", None),
        ("Saturday 14 June 2025", "2025-06-14", None),
    ],
)
def test_a_one_off_date_makes_a_one_off_event_even_in_the_past(
    tmp_path: Path, when: str, date: str, opens: str | None
) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "When": when}])
    (one,) = batch.listings[0].fields["schedule"]["dates"]
    assert one["date"] == date and one.get("opens") == opens
    assert batch.errors == []


def test_separate_from_and_to_columns_give_opens_and_closes(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Day": "Every day", "From": "6pm", "To": "midnight"}])
    (rule,) = batch.listings[0].fields["schedule"]["rules"]
    assert (rule["opens"], rule["closes"]) == ("18:00", "00:00")  # spec: closes before opens runs past midnight
    assert len(rule["byday"]) == 7


@pytest.mark.parametrize(
    ("venue", "delivery"),
    [
        ("Zoom", "online"),
        ("Teams", "online"),
        ("Online (Teams)", "online"),
        ("Phone line", "phone"),
        ("by phone", "phone"),
    ],
)
def test_a_remote_venue_sets_the_delivery_not_a_place(tmp_path: Path, venue: str, delivery: str) -> None:
    batch = _read(tmp_path, [{"Group name": "A", "Venue": venue}])
    fields = batch.listings[0].fields
    assert fields["delivery"] == delivery and "location" not in fields
    assert batch.undeclared_venues == 0


def test_a_later_forms_submission_updates_the_earlier_whatever_the_row_order(tmp_path: Path) -> None:
    batch = _read(
        tmp_path,
        [
            {
                "Timestamp": "22/02/2026 19:03:11",
                "Email address": "f@example.com",
                "Group name": "A",
                "When": "Thursdays",
            },
            {
                "Timestamp": "14/01/2026 10:22:48",
                "Email address": "f@example.com",
                "Group name": "A",
                "When": "Tuesdays",
            },
        ],
    )
    (listing,) = batch.listings
    assert listing.row == 2 and listing.fields["schedule"]["rules"][0]["byday"] == ["TH"]
    assert batch.errors == [] and any("rows 2 and 3" in p.message for p in batch.warnings)


def test_a_section_heading_row_is_not_a_listing(tmp_path: Path) -> None:
    batch = _read(tmp_path, [{"Group name": "SECTION A - GROUPS", "When": ""}, {"Group name": "A", "When": "Mondays"}])
    assert [x.fields["name"] for x in batch.listings] == ["A"] and batch.errors == []
