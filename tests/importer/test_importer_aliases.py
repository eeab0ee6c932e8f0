"""Column headers people really use map onto listing fields; unknown ones are reported."""

from __future__ import annotations

import pytest

from node.importer.aliases import COLUMNS, match_header


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Name of group / activity", "name"),
        ("Group name", "name"),
        ("GROUP NAME", "name"),
        ("group_name", "name"),
        ("Day(s)", "days"),
        ("days", "days"),
        ("Time", "time"),
        ("How often?", "frequency"),
        ("Venue / address", "address"),
        ("Venue", "venue"),
        ("Postcode", "postcode"),
        ("Post code", "postcode"),
        ("Is this a private or closed group?", "private"),
        ("Private group?", "private"),
        ("Is this a private or closed group? (we never publish the address)", "private"),
        ("Face to face or online?", "delivery"),
        ("Facilitator name/email/phone", "contact"),
        ("Facilitator name", "contact_name"),
        ("Facilitator email", "contact_email"),
        ("Facilitator phone", "contact_phone"),
        ("Email address of facilitator", "contact_email"),
        ("OK to share contact details publicly?", "consent"),
        ("Consent to share contact details", "consent"),
        ("Cost", "cost"),
        ("Website", "website"),
        ("Date last checked", "reviewed"),
        ("Timestamp", "timestamp"),
        ("ID", "id"),
        ("Type", "kind"),
        ("Kind", "kind"),
        ("Topics", "topics"),
        ("Description", "description"),
        ("Who is it for?", "audience"),
        ("Accessibility", "accessibility"),
        ("Languages", "languages"),
        ("How to join", "join"),
        ("Organisation", "organisation"),
        ("Organization", "organisation"),
        ("Status", "status"),
        ("3. Postcode", "postcode"),
        ("Q4 Day(s)", "days"),
        ("  Date last checked  ", "reviewed"),
    ],
)
def test_headers_people_use_match_their_field(header: str, field: str) -> None:
    assert match_header(header) == field


@pytest.mark.parametrize("header", ["Internal notes", "", "???", "Column 7", "Dateline"])
def test_unknown_headers_match_nothing(header: str) -> None:
    assert match_header(header) is None


def test_every_alias_matches_its_own_field() -> None:
    for column in COLUMNS:
        for alias in column.aliases:
            assert match_header(alias) == column.field, alias
