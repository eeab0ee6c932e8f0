"""A coordinator's messy spreadsheet, imported with the real CLI and served by a real node.

Proves the importer's promises end to end: the right rows land, bad rows are named
by row and column, a re-import (CSV or XLSX) changes nothing, --replace
tombstones a removed row, and nothing private reaches any byte the node
serves.
"""

from __future__ import annotations

import base64
import csv
import urllib.request
from pathlib import Path

import openpyxl
import pytest

from nodeutil import NodeHandle, ServeProcess, make_node, signpost, walk_feed

pytestmark = pytest.mark.slow

HEADERS = [
    "Name of group / activity",
    "Organisation",
    "Day(s)",
    "Time",
    "Venue / address",
    "Postcode",
    "Is this a private or closed group?",
    "Face to face or online?",
    "Facilitator name",
    "Facilitator email",
    "Facilitator phone",
    "OK to share contact details publicly?",
    "Cost",
    "Date last checked",
    "Description",
]
ROWS = [
    [
        "Hearing Voices Group",
        "Leeds Mind",
        "Tuesdays",
        "10.30-12.30",
        "Oxford Place Centre, Leeds",
        "ls1 3ax",
        "No",
        "Face to face",
        "Sam Jones",
        "voices@example.org",
        "0113 496 0000",
        "Yes",
        "Free",
        "01/11/2026",
        "Tea and biscuits.",
    ],
    [
        "Carers Circle",
        "Leeds Mind",
        "1st Monday of the month",
        "6pm till 8pm",
        "Flat 2, 12 Hiddenway Street, Headingley",
        "LS6 3QR",
        "Yes",
        "Face to face",
        "Jo Hiddenperson",
        "jo@hidden.example",
        "07700 900123",
        "No",
        "£2",
        "01/11/2026",
        "A closed group for carers.",
    ],
    [
        '=HYPERLINK("http://evil.example","x")',
        "Leeds Mind",
        "Fri, Sat, Sun",
        "19:00–20:30",
        "",
        "",
        "No",
        "Online",
        "",
        "",
        "",
        "",
        "Free",
        "01/11/2026",
        '<img src=x onerror="alert(1)"> and <script>alert(2)</script>',
    ],
    ["", "Leeds Mind", "Thursdays", "1-3pm", "", "LS6 1AA", "No", "Face to face", "", "", "", "", "", "", ""],
    [
        "Belfast Walk and Talk",
        "Aware NI",
        "Saturdays",
        "10am-12pm",
        "Botanic Gardens",
        "BT1 1AA",
        "No",
        "Face to face",
        "",
        "",
        "",
        "",
        "Free",
        "",
        "",
    ],
    [
        "Grŵp Cymorth 🌈",
        "Mind Cymru",
        "Dydd Mercher",
        "2-4pm",
        "Canolfan y Ddinas, Caerdydd",
        "CF10 2BH",
        "No",
        "Face to face",
        "",
        "",
        "",
        "",
        "Am ddim / Free",
        "01/11/2026",
        "Croeso i bawb 💬",
    ],
]
SECRETS = [
    "Hiddenway",
    "Flat 2",
    "LS6 3QR",
    "LS63QR",
    "Jo Hiddenperson",
    "jo@hidden.example",
    "07700 900123",
    "07700900123",
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as Excel keeps a typed-in '=...'
    wb.save(path)


def served_bytes(node: NodeHandle, ids: list[str]) -> tuple[str, str]:
    """Everything a person, a developer or a peer can fetch (feed payloads decoded), and the HTML part of it."""
    texts = []
    html = []
    items, _ = walk_feed(node.url)
    for item in items:
        env = item.get("data") or item.get("tombstone")
        texts.append(base64.b64decode(env["payload"]).decode("utf-8"))
    paths = [
        "/",
        "/search?q=group",
        "/search?near=LS6",
        "/search?q=carers",
        "/api/v1/search?q=carers",
        "/api/v1/search?near=LS6",
        "/embed?near=LS6",
        "/calendar.ics",
        "/openreferral/services",
        "/status",
        "/status.json",
        "/feed",
    ]
    for rid in ids:
        paths += [
            f"/listing/{node.publisher}/{rid}",
            f"/listing/{node.publisher}/{rid}.ics",
            f"/api/v1/listings/{node.publisher}/{rid}",
        ]
    for path in paths:
        try:
            with urllib.request.urlopen(node.url + path, timeout=30) as resp:
                body, ctype = resp.read().decode("utf-8"), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            assert e.code < 500, f"{path} answered {e.code}"
            body, ctype = e.read().decode("utf-8"), e.headers.get("Content-Type", "")
        texts.append(body)
        if "html" in ctype:
            html.append(body)
    return "\n".join(texts), "\n".join(html)


def test_messy_sheet_imports_reimports_replaces_and_keeps_private_data_home(tmp_path: Path) -> None:
    node = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    sheet = tmp_path / "listings.csv"
    write_csv(sheet, ROWS)

    dry = signpost("import", str(sheet), "--dir", str(node.directory), "--dry-run", check=False)
    assert dry.returncode == 0, dry.stderr
    assert "Would add 4 listing(s)" in dry.stdout
    assert "row 5" in dry.stdout and "Name of group / activity" in dry.stdout
    assert (
        "row 6" in dry.stdout
        and "Postcode" in dry.stdout
        and "not recognised" in dry.stdout.replace("isn't recognised", "not recognised")
    )
    assert node.query("SELECT count(*) FROM versions") == [(0,)], "a dry run publishes nothing"

    out = signpost("import", str(sheet), "--dir", str(node.directory)).stdout
    assert "4 added" in out and "2 row(s) rejected" in out
    again = signpost("import", str(sheet), "--dir", str(node.directory)).stdout
    assert "0 added, 0 changed, 4 unchanged" in again

    book = tmp_path / "listings.xlsx"
    write_xlsx(book, ROWS)
    same = signpost("import", str(book), "--dir", str(node.directory)).stdout
    assert "0 added, 0 changed, 4 unchanged" in same, "the XLSX export of the same sheet changes nothing"

    write_csv(sheet, [ROWS[0], ROWS[1], ROWS[2]])
    refused = signpost("import", str(sheet), "--dir", str(node.directory), "--replace", check=False)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    replaced = signpost("import", str(sheet), "--dir", str(node.directory), "--replace", "--yes").stdout
    assert "1 deleted" in replaced
    ids = [r[0] for r in node.query("SELECT id FROM versions ORDER BY id")]
    tombstoned = [r[0] for r in node.query("SELECT id FROM versions WHERE deleted = 1")]
    assert len(ids) == 4 and len(tombstoned) == 1

    place = node.query("SELECT address, postcode FROM private_places")
    assert place and "Hiddenway" in place[0][0], "the private meeting place is kept at home for the coordinator"
    with ServeProcess(node):
        text, html = served_bytes(node, ids)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} left the node"
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html, "the injected HTML is shown as text"
    assert "<script>alert(2)</script>" not in html and "<img src=x" not in html
    assert "Carers Circle" in text and "LS6 3" in text, "the private group is listed, by its area"
