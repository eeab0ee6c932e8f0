"""A small messy spreadsheet, as a coordinator's export really looks, for console tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADERS = [
    "Group name",
    "Day(s)",
    "Time",
    "Venue / address",
    "Postcode",
    "Is this a private or closed group?",
    "Facilitator name",
    "Facilitator email",
    "OK to share contact details publicly?",
    "Cost",
    "Date last checked",
]
ROWS = [
    [
        "Hearing Voices Leeds",
        "Tues",
        "10.30-12.30",
        "Oxford Place Centre, Oxford Place",
        "LS1 3AX",
        "No",
        "Sam Jones",
        "sam@example.org",
        "Yes",
        "Free",
        "01/03/2025",
    ],
    [
        "Survivors Circle",
        "1st Monday of the month",
        "6pm till 8pm",
        "14 Secret Street, Headingley",
        "ls6 3qr",
        "Yes",
        "",
        "",
        "",
        "Free",
        "",
    ],
    [
        "Walk and Talk",
        "Fri, Sat, Sun",
        "2-4pm",
        "Roundhay Park gates",
        "LS8 2HH",
        "No",
        "Jo Private",
        "jo@example.org",
        "no",
        "",
        "",
    ],
    ["", "Weds", "19:00", "Somewhere", "LS2 9JT", "No", "", "", "", "", ""],
    ["Island Group", "Mondays", "7pm", "Douglas Hall", "IM1 1AA", "No", "", "", "", "", ""],
]
PRIVATE_ADDRESS = "14 Secret Street"
PRIVATE_POSTCODE = "LS6 3QR"
UNCONSENTED_EMAIL = "jo@example.org"


def messy_csv(rows: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(ROWS if rows is None else rows)
    return out.getvalue().encode("utf-8")


def write_messy(path: Path) -> Path:
    path.write_bytes(messy_csv())
    return path
