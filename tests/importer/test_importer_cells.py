"""Cell parsers, table-tested over the values coordinators really type."""

from __future__ import annotations

import datetime as dt

import pytest

from node.importer import cells
from node.importer.cells import CellError, TimeRange


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45778, dt.date(2025, 5, 1)),  # Excel serial number
        (45778.75, dt.date(2025, 5, 1)),  # serial with a time of day
        ("45778", dt.date(2025, 5, 1)),  # serial that went through CSV
        (dt.datetime(2025, 3, 20, 9, 15), dt.date(2025, 3, 20)),
        (dt.date(2025, 3, 20), dt.date(2025, 3, 20)),
        ("2025-03-20", dt.date(2025, 3, 20)),
        ("2025-03-20T09:15:00Z", dt.date(2025, 3, 20)),
        ("04/03/2025", dt.date(2025, 3, 4)),  # UK day first, never US
        ("4/3/25", dt.date(2025, 3, 4)),
        ("04.03.2025", dt.date(2025, 3, 4)),
        ("4-3-2025", dt.date(2025, 3, 4)),
        ("04/03/2025 14:22:10", dt.date(2025, 3, 4)),  # Google Forms timestamp
        ("4 March 2025", dt.date(2025, 3, 4)),
        ("4th Mar 2025", dt.date(2025, 3, 4)),
        ("Tue 4 March 2025", dt.date(2025, 3, 4)),
        ("March 4, 2025", dt.date(2025, 3, 4)),
    ],
)
def test_parse_date_reads_serials_real_dates_and_day_first_text(value: cells.CellValue, expected: dt.date) -> None:
    assert cells.parse_date(value) == expected


@pytest.mark.parametrize("value", ["next Tuesday", "31/02/2025", "13/13/2025", "12", 3, "spring", True])
def test_parse_date_refuses_what_is_not_a_date_and_says_how_to_write_one(value: cells.CellValue) -> None:
    with pytest.raises(CellError, match="day first"):
        cells.parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.30-12.30", TimeRange("10:30", "12:30")),
        ("10:30 - 12:30", TimeRange("10:30", "12:30")),
        ("6pm till 2am", TimeRange("18:00", "02:00")),
        ("2-4pm", TimeRange("14:00", "16:00")),
        ("19:00–20:30", TimeRange("19:00", "20:30")),
        ("11-1pm", TimeRange("11:00", "13:00")),
        ("10am to 12pm", TimeRange("10:00", "12:00")),
        ("10.30am-12.30pm", TimeRange("10:30", "12:30")),
        ("11am-1", TimeRange("11:00", "13:00")),
        ("noon till 2pm", TimeRange("12:00", "14:00")),
        ("12 noon - 2pm", TimeRange("12:00", "14:00")),
        ("1930-2100", TimeRange("19:30", "21:00")),
        ("07:00-09:00", TimeRange("07:00", "09:00")),  # a leading zero means 24-hour
        ("7-9", TimeRange("19:00", "21:00", assumed=True)),  # nobody meets at 7am-9am without saying so
        ("6.30-8.30", TimeRange("18:30", "20:30", assumed=True)),
        ("12-2", TimeRange("12:00", "14:00", assumed=True)),
        ("7pm", TimeRange("19:00")),
        ("from 7.30pm", TimeRange("19:30")),
        (dt.time(10, 30), TimeRange("10:30")),
        (0.4375, TimeRange("10:30")),  # Excel's fraction of a day
    ],
)
def test_parse_time_range_understands_free_text_times(value: cells.CellValue, expected: TimeRange) -> None:
    assert cells.parse_time_range(value) == expected


@pytest.mark.parametrize("value", ["evenings", "25:00-26:00", "13pm-2pm", "tbc"])
def test_parse_time_range_refuses_impossible_or_missing_times(value: str) -> None:
    with pytest.raises(CellError):
        cells.parse_time_range(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10:30", "10:30"), ("1930", "19:30"), (19, "19:00"), ("7pm", "19:00"), (dt.time(9, 5), "09:05")],
)
def test_parse_time_reads_a_single_time(value: cells.CellValue, expected: str) -> None:
    assert cells.parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Yes", True),
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        (True, True),
        ("✓", True),
        ("Yes - closed group", True),
        ("Private", True),
        ("x", True),
        ("No", False),
        ("n", False),
        ("FALSE", False),
        ("0", False),
        (0, False),
        (False, False),
        ("No, open to all", False),
        ("Open to all", False),
        ("Public", False),
    ],
)
def test_parse_yes_no_reads_the_ways_people_say_yes_and_no(value: cells.CellValue, expected: bool) -> None:
    assert cells.parse_yes_no(value) is expected


@pytest.mark.parametrize("value", ["maybe", "ask Sam", "2"])
def test_parse_yes_no_refuses_anything_else(value: str) -> None:
    with pytest.raises(CellError, match="Yes or No"):
        cells.parse_yes_no(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1132345678, "0113 234 5678"),  # stored as a number: the leading zero was lost
        (1132345678.0, "0113 234 5678"),
        ("1132345678", "0113 234 5678"),
        ("0113 234 5678", "0113 234 5678"),
        ("(0113) 2345678", "0113 234 5678"),
        ("7700900123", "07700 900123"),
        ("07700900123", "07700 900123"),
        ("+44 7700 900123", "07700 900123"),
        ("+44 (0)20 7946 0000", "020 7946 0000"),
        ("2079460000", "020 7946 0000"),
        ("01632 960123", "01632 960123"),
        ("0300 123 3393", "0300 123 3393"),
        ("Tel: 0161 496 0000 ext 12", "0161 496 0000"),
        ("116 123", "116 123"),
        ("+353 1 234 5678", "+35312345678"),
    ],
)
def test_parse_phone_restores_lost_zeros_and_formats_uk_numbers(value: cells.CellValue, expected: str) -> None:
    assert cells.parse_phone(value) == expected


@pytest.mark.parametrize("value", ["call the office", "12345", "0113"])
def test_parse_phone_refuses_non_numbers(value: str) -> None:
    with pytest.raises(CellError, match="phone number"):
        cells.parse_phone(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.org/x", "https://example.org/x"),
        ("HTTP://example.org", "http://example.org"),
        ("www.example.org", "https://www.example.org"),
        ("example.org/groups?id=3", "https://example.org/groups?id=3"),
        ("facebook.com/leedsvoices", "https://facebook.com/leedsvoices"),
    ],
)
def test_parse_url_adds_a_scheme_to_bare_addresses(value: str, expected: str) -> None:
    assert cells.parse_url(value) == expected


@pytest.mark.parametrize("value", ["Facebook page", "see leaflet", "javascript:alert(1)", '=HYPERLINK("x")'])
def test_parse_url_refuses_what_is_not_a_web_address(value: str) -> None:
    with pytest.raises(CellError, match="web address"):
        cells.parse_url(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Free", {"free": True}),
        ("free", {"free": True}),
        ("£0", {"free": True}),
        (0, {"free": True}),
        ("No cost", {"free": True}),
        ("Free (donations welcome)", {"free": True, "details": "Free (donations welcome)"}),
        ("£2", {"free": False, "details": "£2"}),
        (2, {"free": False, "details": "£2"}),
        ("2.50", {"free": False, "details": "£2.50"}),
        ("£3 suggested donation", {"free": False, "details": "£3 suggested donation"}),
        ("+£3 for materials", {"free": False, "details": "+£3 for materials"}),
    ],
)
def test_parse_cost(value: cells.CellValue, expected: dict[str, object]) -> None:
    assert cells.parse_cost(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sam Jones, sam@example.org, 07700 900123", ("Sam Jones", "sam@example.org", "07700 900123")),
        ("Sam Jones / sam@example.org", ("Sam Jones", "sam@example.org", None)),
        ("Email: team@example.org", (None, "team@example.org", None)),
        ("Ring Jo on 0113 234 5678", ("Ring Jo on", None, "0113 234 5678")),
        ("Sam Jones", ("Sam Jones", None, None)),
        ("@SUM(1+1)", ("@SUM(1+1)", None, None)),  # formula-looking text stays as typed
    ],
)
def test_split_contact_finds_name_email_and_phone_in_one_cell(value: str, expected: tuple[str | None, ...]) -> None:
    assert cells.split_contact(value) == expected


@pytest.mark.parametrize(
    ("value", "slugs", "unknown"),
    [
        ("Hearing voices, paranoia", ["hearing-voices", "psychosis"], []),
        ("LGBTQ+; BAME", ["lgbtq", "black-and-minoritised"], []),
        ("hearing-voices", ["hearing-voices"], []),
        ("Carers / Young people", ["carers", "young-people"], []),
        ("Art and crafts group for autistic adults", ["creative", "neurodivergent"], []),
        ("Knitting, Anxiety", ["anxiety"], ["Knitting"]),
    ],
)
def test_parse_topics_maps_leniently_onto_the_protocol_topics(value: str, slugs: list[str], unknown: list[str]) -> None:
    assert cells.parse_topics(value) == (slugs, unknown)


@pytest.mark.parametrize(
    ("value", "codes", "unknown"),
    [
        ("English, Welsh", ["en", "cy"], []),
        ("English and BSL", ["en", "bfi"], []),
        ("Cymraeg; Urdu", ["cy", "ur"], []),
        ("Klingon", [], ["Klingon"]),
    ],
)
def test_parse_languages(value: str, codes: list[str], unknown: list[str]) -> None:
    assert cells.parse_languages(value) == (codes, unknown)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Face to face", "in_person"),
        ("In person", "in_person"),
        ("Online (Zoom)", "online"),
        ("MS Teams", "online"),
        ("Telephone", "phone"),
        ("Both", "hybrid"),
        ("Face to face and online", "hybrid"),
        ("Hybrid", "hybrid"),
    ],
)
def test_parse_delivery(value: str, expected: str) -> None:
    assert cells.parse_delivery(value) == expected


@pytest.mark.parametrize(
    ("parser", "value", "expected"),
    [
        (cells.parse_status, "Running", "active"),
        (cells.parse_status, "On hold until spring", "paused"),
        (cells.parse_status, "Temporarily closed", "paused"),
        (cells.parse_status, "Closed", "closed"),
        (cells.parse_kind, "Peer support group", "group"),
        (cells.parse_kind, "Volunteer role", "role"),
        (cells.parse_kind, "Training course", "training"),
        (cells.parse_kind, "One-off event", "event"),
        (cells.parse_kind, "Helpline", "service"),
    ],
)
def test_word_tables(parser: object, value: str, expected: str) -> None:
    assert parser(value) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "method", "guessed"),
    [
        ("Just turn up", "drop_in", False),
        ("No need to book, just come along", "drop_in", False),
        ("Book on Eventbrite https://eventbrite.co.uk/e/1", "booking", False),
        ("Referral from GP or care coordinator", "referral", False),
        ("Please get in touch first", "contact_first", False),
        ("Ask at reception", "contact_first", True),
    ],
)
def test_parse_join(value: str, method: str, guessed: bool) -> None:
    join, was_guessed = cells.parse_join(value)
    assert join["method"] == method and was_guessed is guessed
    assert join["details"] == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '=HYPERLINK("http://evil.example","x")'),
        ("+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0"),
        ("-2+3", "-2+3"),
        ("@SUM(A1)", "@SUM(A1)"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("  Grŵp  🌈 \x00", "Grŵp  🌈"),
        ("Cafe\u0301", "Café"),  # NFC
        (1132345678.0, "1132345678"),
        (None, None),
        ("   ", None),
    ],
)
def test_text_keeps_formulas_and_html_as_plain_characters(value: cells.CellValue, expected: str | None) -> None:
    assert cells.text(value) == expected
