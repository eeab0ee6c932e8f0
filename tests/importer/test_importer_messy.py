"""A realistic messy export, as CSV and as XLSX: the right rows land, bad rows are named, nothing private leaks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from node.directory.geo import Geo
from node.importer import ImportBatch, UnreadableFile, read_listings, readers, write_template
from node.importer.rows import DUMMY_PUBLISHER
from protocol.records import Record, decode_version, encode_payload

TITLE = "Leeds Peer Support Network: listings (updated May 2025)"
HEADERS = [
    "Timestamp",
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
    "Website",
    "Date last checked",
    "Topics",
    "Description",
    "Internal notes",
]
SERIAL_1_MAY_2025 = 45778
FORMULA_NAME = '=HYPERLINK("http://evil.example","Click me")'
SECRETS = (
    "Secret Street",
    "Flat 2",
    "LS6 3QR",
    "LS63QR",
    "Jo Private",
    "jo@private.example",
    "07700 900123",
    "07700900123",
)


def _row(**cells: Any) -> list[Any]:
    keys = {
        "timestamp": 0,
        "name": 1,
        "org": 2,
        "days": 3,
        "time": 4,
        "address": 5,
        "postcode": 6,
        "private": 7,
        "delivery": 8,
        "cname": 9,
        "cemail": 10,
        "cphone": 11,
        "consent": 12,
        "cost": 13,
        "website": 14,
        "checked": 15,
        "topics": 16,
        "description": 17,
        "notes": 18,
    }
    row: list[Any] = [None] * len(HEADERS)
    for key, value in cells.items():
        row[keys[key]] = value
    return row


# Sheet rows 3.. (row 1 is a title, row 2 the header).  Values are as XLSX holds them;
# the CSV gets what Excel writes for each.
HEARING_VOICES = _row(
    name="Hearing Voices Group",
    org="Leeds Mind",
    days="Tuesdays 10.30-12.30",
    address="Oxford Place Centre, Oxford Place, Leeds",
    postcode="ls1 3ax",
    private="No",
    delivery="Face to face",
    cname="Sam Jones",
    cemail="voices@example.org",
    cphone=1132345678,
    consent="Yes",
    cost="Free",
    website="www.example.org/voices",
    checked=SERIAL_1_MAY_2025,
    topics="Hearing voices, paranoia",
    description="Tea & biscuits",
    notes="keys with caretaker",
)
ROWS: list[list[Any]] = [
    HEARING_VOICES,  # 3
    _row(  # 4: private, full address, contact without consent
        timestamp=dt.datetime(2025, 4, 14, 9, 30),
        name="Carers' Circle",
        org="Leeds Mind",
        days="1st Monday of the month",
        time="6pm till 8pm",
        address="Flat 2, 12 Secret Street, Headingley",
        postcode="LS6 3QR",
        private="Yes - closed group",
        delivery="Face to face",
        cname="Jo Private",
        cemail="jo@private.example",
        cphone="07700 900123",
        consent="No",
        cost="£2",
        topics="Carers",
    ),
    _row(  # 5: Welsh and emoji, real date cell, both delivery modes
        name="Grŵp Cymorth Cymheiriaid 🌈",
        org="Mind Cymru",
        days="Dydd Mercher",
        time="2-4pm",
        address="Canolfan y Ddinas, Heol y Frenhines, Caerdydd",
        postcode="CF10 2BH",
        private="No",
        delivery="Both",
        cost="Am ddim / Free",
        checked=dt.datetime(2025, 3, 20),
        topics="LGBTQ+",
        description="Croeso i bawb 💬 — sgwrs, te a chefnogaeth.",
    ),
    _row(  # 6: formula and HTML injection, online, consented contact in odd shapes
        name=FORMULA_NAME,
        org="<script>alert(1)</script>",
        days="Fri, Sat, Sun",
        time="19:00–20:30",
        delivery="Online (Zoom)",
        cname="@SUM(1+1)",
        cemail="mailto:team@example.org",
        cphone="+44 113 234 5678",
        consent="y",
        cost="+£3 for materials",
        checked="01/05/2025",
        description='<b>bold</b> & <img src=x onerror="alert(1)">',
        topics="anxiety",
    ),
    list(HEARING_VOICES),  # 7: duplicate of row 3
    _row(  # 8: no name
        org="Leeds Mind",
        days="Thursdays",
        time="1-3pm",
        postcode="LS6 3QR",
        delivery="Face to face",
    ),
    _row(  # 9: Northern Ireland postcode: not in the shipped data
        name="Belfast Walk and Talk",
        org="Aware NI",
        days="Saturdays",
        time="10am-12pm",
        address="Botanic Gardens, Belfast",
        postcode="BT1 1AA",
        private="No",
        delivery="Face to face",
    ),
    _row(  # 10: no fixed days
        name="Walk and Talk",
        org="Leeds Mind",
        days="Flexible",
        delivery="Face to face",
        address="Meet at Hyde Park corner",
        postcode="LS6 1AA",
        private="No",
        checked="14/04/2025",
    ),
    _row(  # 11: unreadable date
        name="Peer Café",
        org="Leeds Mind",
        days="Wednesdays",
        time="12-2",
        postcode="LS2 9JT",
        private="No",
        checked="next Tuesday",
    ),
    _row(  # 12: online, assumed evening time, consent given, international-format phone
        name="Men's Evening Circle",
        days="Weekly on Thursday",
        time="7-9",
        delivery="Online",
        cname="Ali Khan",
        cphone="+44 7700 900456",
        consent="TRUE",
        cost=0,
        topics="Men, Depression",
    ),
]
GOOD_IDS = [
    "leeds-mind-hearing-voices-group",
    "leeds-mind-carers-circle",
    "mind-cymru-grwp-cymorth-cymheiriaid",
    "script-alert-1-script-hyperlink-http-evil.example-click-me",
    "leeds-mind-walk-and-talk",
    "mens-evening-circle",
]


def _csv_cell(value: Any) -> str:
    """What Excel writes to CSV for a cell: serial and numbers as digits, dates day first."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S") if value.time() != dt.time(0) else value.strftime("%d/%m/%Y")
    return str(value)


def _csv_text(rows: list[list[Any]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([TITLE])
    w.writerow(HEADERS)
    for r in rows:
        w.writerow([_csv_cell(c) for c in r])
    return buf.getvalue()


def _write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Form responses 1"
    ws.append([TITLE])
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed as text in the sheet, not a formula
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "DD/MM/YYYY"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def geo() -> Geo:
    return Geo.load()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("messy")
    text = _csv_text(ROWS)
    (d / "sheet.csv").write_text(text, encoding="utf-8", newline="")
    (d / "sheet-bom.csv").write_bytes(text.encode("utf-8-sig"))
    (d / "sheet-semicolon.csv").write_text(_csv_text(ROWS, ";"), encoding="utf-8", newline="")
    _write_xlsx(d / "sheet.xlsx", ROWS)
    return {p.stem: p for p in d.iterdir()}


@pytest.fixture(scope="module")
def batch(files: dict[str, Path], geo: Geo) -> ImportBatch:
    return read_listings(files["sheet"], geo=geo)


def _problems(batch: ImportBatch) -> set[tuple[int | None, str | None, str]]:
    return {(p.row, p.column, p.severity) for p in batch.problems}


def _summary(batch: ImportBatch) -> list[tuple[str, int | None, dict[str, Any], Any]]:
    return [(x.id, x.row, x.fields, x.private_place) for x in batch.listings]


def test_the_right_rows_land(batch: ImportBatch) -> None:
    assert [x.id for x in batch.listings] == GOOD_IDS
    assert [x.row for x in batch.listings] == [3, 4, 5, 6, 10, 12]


def test_each_bad_row_is_named_by_row_and_column(batch: ImportBatch) -> None:
    errors = {(p.row, p.column) for p in batch.errors}
    assert errors == {
        (7, "Name of group / activity"),  # duplicate of row 3
        (8, "Name of group / activity"),  # no name
        (9, "Postcode"),  # BT1 1AA
        (11, "Date last checked"),
    }
    by_row = {p.row: p.message for p in batch.errors}
    assert "row 3" in by_row[7]
    assert "Northern Ireland" in by_row[9]
    assert "day first" in by_row[11]


def test_warnings_say_what_was_left_out(batch: ImportBatch) -> None:
    assert {
        (None, "Internal notes", "warning"),
        (4, "OK to share contact details publicly?", "warning"),
        (10, "Day(s)", "warning"),
        (11, "Time", "warning"),
        (12, "Time", "warning"),
    } <= _problems(batch)
    assert batch.unknown_columns == ["Internal notes"]
    assert batch.columns["Name of group / activity"] == "name"
    assert batch.columns["Is this a private or closed group?"] == "private"


def test_every_listing_decodes_as_a_protocol_record(batch: ImportBatch) -> None:
    for listing in batch.listings:
        payload = {
            "publisher": DUMMY_PUBLISHER,
            "id": listing.id,
            "rev": 1,
            "updated": "2025-05-01T00:00:00Z",
            **listing.fields,
        }
        assert isinstance(decode_version(encode_payload(payload)), Record)


def test_private_group_publishes_only_its_area(batch: ImportBatch) -> None:
    carers = next(x for x in batch.listings if x.id == "leeds-mind-carers-circle")
    assert carers.fields["private"] is True
    assert carers.fields["location"] == {
        "type": "area",
        "area": "Leeds",
        "postcode_area": "LS6 3",
        "lat": "53.82080",
        "lon": "-1.58553",
    }
    assert "contact" not in carers.fields
    assert carers.private_place is not None
    assert carers.private_place.address == "Flat 2, 12 Secret Street, Headingley"
    assert carers.private_place.postcode == "LS6 3QR"
    # The Google Forms timestamp says when the form was filled in, not when the details were checked.
    assert "reviewed" not in carers.fields


def test_unclear_private_cell_is_treated_as_private(tmp_path: Path, geo: Geo) -> None:
    path = tmp_path / "unclear.csv"
    path.write_text(
        "Group name,Venue / address,Postcode,Private group?\nCircle,12 Secret Street,LS6 3QR,ask Sam\n",
        encoding="utf-8",
    )
    batch = read_listings(path, geo=geo)
    assert batch.listings[0].fields["location"]["type"] == "area"
    assert "Secret Street" not in json.dumps(batch.listings[0].fields)
    assert [(p.row, p.column) for p in batch.warnings] == [(2, "Private group?")]


def test_postcode_written_inside_the_address_is_found(tmp_path: Path, geo: Geo) -> None:
    path = tmp_path / "inline.csv"
    path.write_text(
        'Group name,Address,Private\nCircle,"12 Secret Street, Leeds LS6 3QR",yes\nOpen,"1 Main St, ls1 3ax",no\n',
        encoding="utf-8",
    )
    batch = read_listings(path, geo=geo)
    assert batch.problems == []
    private, public = batch.listings
    assert private.fields["location"]["postcode_area"] == "LS6 3"
    assert private.private_place is not None and private.private_place.postcode == "LS6 3QR"
    assert "LS6 3QR" not in json.dumps(private.fields)
    assert public.fields["location"]["postcode"] == "LS1 3AX"


@pytest.mark.parametrize("stem", ["sheet", "sheet-bom", "sheet-semicolon", "sheet"])
def test_private_address_postcode_and_unconsented_contact_never_appear_in_fields(
    files: dict[str, Path], geo: Geo, stem: str
) -> None:
    batch = read_listings(files[stem], geo=geo)
    published = json.dumps([x.fields for x in batch.listings], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in published


def test_private_secrets_never_reach_fields_from_xlsx_either(files: dict[str, Path], geo: Geo) -> None:
    batch = read_listings(files["sheet"].with_suffix(".xlsx"), geo=geo)
    published = json.dumps([x.fields for x in batch.listings], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in published


def test_public_group_fields(batch: ImportBatch) -> None:
    voices = batch.listings[0].fields
    assert voices["location"] == {
        "type": "public",
        "address": "Oxford Place Centre, Oxford Place, Leeds",
        "postcode": "LS1 3AX",
        "area": "Leeds",
        "lat": "53.80145",
        "lon": "-1.55013",
    }
    assert voices["contact"] == {
        "consent": True,
        "name": "Sam Jones",
        "email": "voices@example.org",
        "phone": "0113 234 5678",
    }
    assert voices["schedule"]["rules"] == [{"freq": "weekly", "byday": ["TU"], "opens": "10:30", "closes": "12:30"}]
    assert voices["reviewed"] == "2025-05-01"
    assert voices["website"] == "https://www.example.org/voices"
    assert voices["topics"] == ["hearing-voices", "psychosis"]
    assert voices["cost"] == {"free": True}
    assert "keys with caretaker" not in json.dumps(voices)


def test_welsh_emoji_html_and_formulas_are_kept_as_plain_text(batch: ImportBatch) -> None:
    welsh = batch.listings[2].fields
    assert welsh["name"] == "Grŵp Cymorth Cymheiriaid 🌈"
    assert welsh["description"] == "Croeso i bawb 💬 — sgwrs, te a chefnogaeth."
    assert welsh["delivery"] == "hybrid"
    assert welsh["location"]["area"] == "Caerdydd - Cardiff"
    assert welsh["reviewed"] == "2025-03-20"
    injected = batch.listings[3].fields
    assert injected["name"] == FORMULA_NAME
    assert injected["organisation"] == {"name": "<script>alert(1)</script>"}
    assert injected["description"] == '<b>bold</b> & <img src=x onerror="alert(1)">'
    assert injected["contact"] == {
        "consent": True,
        "name": "@SUM(1+1)",
        "email": "team@example.org",
        "phone": "0113 234 5678",
    }
    assert injected["cost"] == {"free": False, "details": "+£3 for materials"}
    assert injected["delivery"] == "online"
    assert "location" not in injected


def test_same_rows_from_csv_bom_csv_semicolon_csv_and_xlsx_give_identical_listings(
    files: dict[str, Path], geo: Geo
) -> None:
    base = read_listings(files["sheet"], geo=geo)
    for stem in ("sheet-bom", "sheet-semicolon"):
        other = read_listings(files[stem], geo=geo)
        assert _summary(other) == _summary(base)
        assert _problems(other) == _problems(base)
    xlsx = read_listings(files["sheet"].with_suffix(".xlsx"), geo=geo)
    assert _summary(xlsx) == _summary(base)
    assert _problems(xlsx) == _problems(base)


def test_reading_twice_gives_the_same_ids_and_fields(files: dict[str, Path], geo: Geo) -> None:
    assert _summary(read_listings(files["sheet"], geo=geo)) == _summary(read_listings(files["sheet"], geo=geo))


def test_windows_1252_csv_is_decoded(tmp_path: Path, geo: Geo) -> None:
    rows = [
        _row(
            name="Peer Café – “Tea & Talk”",
            org="Leeds Mind",
            days="Mondays",
            time="2-4pm",
            cost="£2",
            postcode="LS6 3QR",
        ),
    ]
    path = tmp_path / "excel-windows.csv"
    path.write_bytes(_csv_text(rows).encode("cp1252"))
    batch = read_listings(path, geo=geo)
    assert batch.errors == []
    fields = batch.listings[0].fields
    assert fields["name"] == "Peer Café – “Tea & Talk”"
    assert fields["cost"] == {"free": False, "details": "£2"}


def test_progress_is_reported(files: dict[str, Path], geo: Geo) -> None:
    seen: list[tuple[int, int]] = []
    read_listings(files["sheet"], geo=geo, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(ROWS), len(ROWS))


def test_template_round_trips_with_no_problems(tmp_path: Path, geo: Geo) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    batch = read_listings(path, geo=geo)
    assert batch.problems == []
    assert [x.id for x in batch.listings] == [
        "hearing-voices-leeds",
        "carers-circle-headingley",
        "winter-wellbeing-talk-2025",
    ]
    private = batch.listings[1]
    assert private.fields["location"]["type"] == "area"
    assert "12 Example Street" not in json.dumps(private.fields)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Listings", "Columns"]
    wb.close()


def test_id_column_is_used_and_slugified(tmp_path: Path, geo: Geo) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("ID,Group name\nHV-Leeds 01,Hearing Voices\nhv-leeds-01,Other\n,Third\n", encoding="utf-8")
    batch = read_listings(path, geo=geo)
    assert [x.id for x in batch.listings] == ["hv-leeds-01", "third"]
    assert {(p.row, p.column, p.severity) for p in batch.problems} == {(2, "ID", "warning"), (3, "ID", "error")}


def test_long_names_give_ids_within_the_protocol_limit(tmp_path: Path, geo: Geo) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        "Organisation,Group name\nA Very Long Organisation Name Indeed,"
        + "Peer support for people who have been through a great many things " * 2
        + "\n🌈🌈,💬\n",
        encoding="utf-8",
    )
    batch = read_listings(path, geo=geo)
    ids = [x.id for x in batch.listings]
    assert len(ids[0]) <= 80 and not ids[0].endswith("-")
    assert ids[1] == "listing-" + ids[1].removeprefix("listing-") and len(ids[1]) == 20


def test_jsonl_lines_are_checked_like_received_records(tmp_path: Path, geo: Geo) -> None:
    lines = [
        {
            "id": "good-one",
            "kind": "group",
            "name": "Good",
            "schedule": {"rules": [{"freq": "weekly", "byday": ["TU"]}]},
        },
        "{not json",
        {"id": "bad-day", "kind": "group", "name": "Bad", "schedule": {"rules": [{"freq": "weekly", "byday": ["XX"]}]}},
        {"id": "leaky", "kind": "group", "name": "Leaky", "private": True, "address": "12 Secret Street"},
        {
            "id": "public-private",
            "kind": "group",
            "name": "P",
            "private": True,
            "location": {"type": "public", "address": "x"},
        },
        {"id": "float", "kind": "group", "name": "F", "location": {"type": "area", "area": "Leeds", "lat": 53.8}},
        {"id": "good-one", "kind": "group", "name": "Again"},
        {"id": "Bad Id", "kind": "group", "name": "B"},
        {"id": "with-rev", "kind": "event", "name": "R", "rev": 5, "publisher": "sp1:x"},
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    batch = read_listings(path, geo=geo)
    assert [x.id for x in batch.listings] == ["good-one", "with-rev"]
    assert batch.listings[1].fields == {"kind": "event", "name": "R"}
    errors = {(p.row, p.column) for p in batch.errors}
    assert errors == {
        (2, None),
        (3, "$.schedule.rules[0].byday[0]"),
        (4, "$.address"),
        (5, "$.location"),
        (6, "$.location.lat"),
        (7, "$.id"),
        (8, "$.id"),
    }
    assert {(p.row, p.column) for p in batch.warnings} == {(9, "$.rev"), (9, "$.publisher")}


# -- files that are not spreadsheets -----------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, "binary"),
        ("random.csv", bytes((i * 37 + 11) % 256 for i in range(5000)), "binary"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "97-2003"),
        ("report.csv", b"%PDF-1.7\n" + b"x" * 100, "PDF"),
        ("empty.csv", b"", "empty"),
        ("letter.csv", b"Dear all,\nPlease find the list attached.\n", "no column for the listing's name"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
    ],
)
def test_files_that_are_not_spreadsheets_get_one_sentence(
    tmp_path: Path, geo: Geo, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as e:
        read_listings(path, geo=geo)
    message = str(e.value)
    assert says in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_xlsx_zip_bomb_is_refused_without_inflating(tmp_path: Path, geo: Geo) -> None:
    path = _zip(
        tmp_path / "bomb.xlsx",
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b" " * (50 * 1024 * 1024),
        },
    )
    assert path.stat().st_size < 1024 * 1024
    start = time.perf_counter()
    with pytest.raises(UnreadableFile, match="zip bomb"):
        read_listings(path, geo=geo)
    assert time.perf_counter() - start < 1.0


def test_xlsx_too_large_when_expanded_is_refused(tmp_path: Path, geo: Geo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_UNCOMPRESSED_BYTES", 1000)
    path = _zip(tmp_path / "big.xlsx", {"xl/workbook.xml": bytes(range(256)) * 10})
    with pytest.raises(UnreadableFile, match="would expand"):
        read_listings(path, geo=geo)


@pytest.mark.parametrize(
    ("parts", "says"),
    [
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}, "OpenDocument"),
        ({"word/document.xml": b"<w/>"}, "Word document"),
    ],
)
def test_other_zip_documents_are_named(tmp_path: Path, geo: Geo, parts: dict[str, bytes], says: str) -> None:
    with pytest.raises(UnreadableFile, match=says):
        read_listings(_zip(tmp_path / "doc.xlsx", parts), geo=geo)


def test_row_cap_refuses_a_runaway_sheet(tmp_path: Path, geo: Geo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_ROWS", 5)
    path = tmp_path / "many.csv"
    path.write_text("Group name\n" + "".join(f"Group {i}\n" for i in range(10)), encoding="utf-8")
    with pytest.raises(UnreadableFile, match="more than 5 rows"):
        read_listings(path, geo=geo)


def test_unknown_default_kind_is_refused(files: dict[str, Path], geo: Geo) -> None:
    with pytest.raises(ValueError, match="default_kind"):
        read_listings(files["sheet"], geo=geo, default_kind="meeting")


# -- 10,000 rows ------------------------------------------------------------


def _many(n: int) -> list[list[Any]]:
    good = [ROWS[0], ROWS[1], ROWS[2], ROWS[3], ROWS[9]]
    out = []
    for i in range(n):
        row = list(good[i % len(good)])
        row[1] = f"{row[1]} {i}"
        out.append(row)
    return out


def test_ten_thousand_row_csv_and_xlsx_read_quickly(tmp_path: Path, geo: Geo) -> None:
    rows = _many(10_000)
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(_csv_text(rows), encoding="utf-8", newline="")
    start = time.perf_counter()
    batch = read_listings(csv_path, geo=geo)
    csv_seconds = time.perf_counter() - start
    assert len(batch.listings) == 10_000 and batch.errors == []

    xlsx_path = _write_xlsx(tmp_path / "big.xlsx", rows)
    start = time.perf_counter()
    xbatch = read_listings(xlsx_path, geo=geo)
    xlsx_seconds = time.perf_counter() - start
    assert _summary(xbatch) == _summary(batch)
    print(f"\n10,000 rows: CSV {csv_seconds:.2f} s, XLSX {xlsx_seconds:.2f} s")


def _ods(path: Path, rows: list[list[str]]) -> None:
    """A minimal OpenDocument spreadsheet, as LibreOffice would save it."""

    def cell(v: str) -> str:
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Groups">{body}</table:table></office:spreadsheet></office:body></office:document-content>'
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)


def test_an_opendocument_spreadsheet_imports_like_the_csv(tmp_path: Path, geo: Geo) -> None:
    rows = [
        ["Group name", "Day(s)", "Time", "Postcode", "Private group?"],
        ["Walk and Talk", "Saturdays", "10am-12pm", "LS6 1AA", "No"],
        ["Carers Circle", "1st Monday of the month", "6pm till 8pm", "LS6 3QR", "Yes"],
    ]
    ods = tmp_path / "groups.ods"
    _ods(ods, rows)
    csv_file = tmp_path / "groups.csv"
    with csv_file.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    from_ods = read_listings(ods, geo=geo)
    from_csv = read_listings(csv_file, geo=geo)
    assert [row.fields for row in from_ods.listings] == [row.fields for row in from_csv.listings]
    assert len(from_ods.listings) == 2 and not from_ods.errors
