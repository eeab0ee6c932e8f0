"""The downloadable XLSX template: the columns we read best, what each means, and example rows.

Generated from the alias table, so the template and the importer cannot drift
apart; a test imports it back and expects no problems.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Final

from node.importer.aliases import COLUMNS, Column

__all__ = ["TEMPLATE_FIELDS", "EXAMPLE_ROWS", "write_template"]

# The columns a coordinator starting afresh should keep, in a sensible order.
TEMPLATE_FIELDS: Final = (
    "id",
    "kind",
    "name",
    "organisation",
    "summary",
    "description",
    "days",
    "time",
    "date",
    "starts",
    "venue",
    "address",
    "postcode",
    "private",
    "delivery",
    "contact_name",
    "contact_email",
    "contact_phone",
    "consent",
    "cost",
    "website",
    "topics",
    "audience",
    "accessibility",
    "languages",
    "join",
    "status",
    "reviewed",
)
EXAMPLE_ROWS: Final[tuple[dict[str, Any], ...]] = (
    {
        "id": "hearing-voices-leeds",
        "kind": "group",
        "name": "Hearing Voices Group",
        "organisation": "Leeds Mind",
        "summary": "A friendly peer group for people who hear voices or see visions.",
        "description": "We meet upstairs in the main hall. Tea and biscuits provided.",
        "days": "Tuesdays",
        "time": "10.30-12.30",
        "venue": "Oxford Place Centre",
        "address": "Oxford Place, Leeds",
        "postcode": "LS1 3AX",
        "private": "No",
        "delivery": "Face to face",
        "contact_name": "Sam Jones",
        "contact_email": "voices@example.org",
        "contact_phone": "0113 234 5678",
        "consent": "Yes",
        "cost": "Free",
        "website": "https://example.org/voices",
        "topics": "Hearing voices",
        "audience": "Adults 18+",
        "accessibility": "Step-free access; hearing loop",
        "languages": "English",
        "join": "Just turn up",
        "status": "Active",
        "reviewed": dt.date(2025, 5, 1),
    },
    {
        "id": "carers-circle-headingley",
        "kind": "group",
        "name": "Carers' Circle",
        "organisation": "Leeds Mind",
        "summary": "Peer support for people caring for someone with mental ill health.",
        "days": "1st Monday of the month",
        "time": "6pm-8pm",
        "venue": "A member's home",
        "address": "12 Example Street, Headingley",
        "postcode": "LS6 3QR",
        "private": "Yes",
        "delivery": "Face to face",
        "cost": "Free",
        "topics": "Carers",
        "languages": "English, Welsh",
        "join": "Contact us first through the network",
        "status": "Active",
        "reviewed": dt.date(2025, 4, 14),
    },
    {
        "id": "winter-wellbeing-talk-2025",
        "kind": "event",
        "name": "Winter Wellbeing Talk",
        "organisation": "Leeds Mind",
        "summary": "An evening talk on looking after yourself through the winter.",
        "date": dt.date(2025, 12, 3),
        "time": "7pm-8pm",
        "delivery": "Online",
        "cost": "£2",
        "website": "https://example.org/winter",
        "topics": "Depression, General wellbeing",
        "join": "Book on Eventbrite https://www.eventbrite.co.uk/e/example",
        "status": "Active",
        "reviewed": dt.date(2025, 5, 1),
    },
)
_DATE_FIELDS: Final = frozenset({"date", "starts", "reviewed"})


def _column(field: str) -> Column:
    return next(c for c in COLUMNS if c.field == field)


def write_template(path: Path) -> None:
    """Write the template workbook: a "Listings" sheet with examples, and a "Columns" sheet explaining them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Listings"
    columns = [_column(f) for f in TEMPLATE_FIELDS]
    ws.append([c.aliases[0] for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for example in EXAMPLE_ROWS:
        ws.append([example.get(c.field) for c in columns])
    for i, c in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(14, min(40, len(c.aliases[0]) + 4))
        if c.field in _DATE_FIELDS:
            for row in range(2, len(EXAMPLE_ROWS) + 2):
                ws.cell(row=row, column=i).number_format = "DD/MM/YYYY"
    ws.freeze_panes = "A2"

    doc = wb.create_sheet("Columns")
    doc.append(["Column", "What it means", "Example", "Other headers we recognise"])
    for cell in doc[1]:
        cell.font = Font(bold=True)
    for c in COLUMNS:
        doc.append([c.aliases[0], c.meaning, c.example, ", ".join(c.aliases[1:])])
    doc.append([])
    doc.append(
        [
            "Privacy",
            "A row with 'Yes' in the private column publishes only its area (like 'LS6 3, Leeds'), never its venue, address or postcode. Contact details are published only when the consent column says Yes.",
        ]
    )
    for letter, width in (("A", 36), ("B", 80), ("C", 30), ("D", 60)):
        doc.column_dimensions[letter].width = width
    for row in doc.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
