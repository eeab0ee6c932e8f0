"""Postcode geography: lookups searchers and the importer rely on, and the gaps it must admit."""

from __future__ import annotations

import csv

import pytest

from node.directory.geo import ATTRIBUTION, DATA_DIR, MIN_SECTOR_POSTCODES, Geo, distance_km


@pytest.fixture(scope="module")
def geo() -> Geo:
    return Geo.load()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("LS6 3QR", "LS6 3QR"),
        ("ls63qr", "LS6 3QR"),
        ("  Ls6   3qR ", "LS6 3QR"),
        ("sw1a1aa", "SW1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("M1 1AE", "M1 1AE"),
        ("BT1 1AA", "BT1 1AA"),  # shaped like a postcode, even though the data lacks it
        ("LS6", None),
        ("LS6 3", None),
        ("Leeds", None),
        ("12345", None),
        ("", None),
    ],
)
def test_normalise_postcode_accepts_any_case_and_spacing(typed: str, expected: str | None) -> None:
    assert Geo.normalise_postcode(typed) == expected


def test_geo_is_loaded_once() -> None:
    assert Geo.load() is Geo.load()


def test_full_postcode_resolves_to_its_sector_centroid(geo: Geo) -> None:
    place = geo.lookup_postcode("ls6 3qr")
    assert place is not None
    assert (place.label, place.kind, place.district_name) == ("LS6 3QR", "postcode", "Leeds")
    assert (place.lat, place.lon) == (53.82080, -1.58553)


def test_postcode_in_unknown_sector_falls_back_to_district(geo: Geo) -> None:
    # LS6 7 is not a sector in the data; LS6 is a district.
    assert geo.lookup_sector("LS6 7") is None
    place = geo.lookup_postcode("LS6 7ZZ")
    assert place is not None
    assert (place.lat, place.lon) == (53.82009, -1.57087)


@pytest.mark.parametrize("typed", ["BT1 1AA", "bt7 1nn", "GY1 1AA", "JE2 3AB", "IM1 1AA", "BT1", "BT1 1"])
def test_places_outside_great_britain_are_not_guessed(geo: Geo, typed: str) -> None:
    assert geo.lookup_place(typed) is None
    assert geo.area_for_postcode(typed) is None


@pytest.mark.parametrize(
    ("typed", "kind", "label", "district"),
    [
        ("LS6 3QR", "postcode", "LS6 3QR", "Leeds"),
        ("ls6 3", "sector", "LS6 3", "Leeds"),
        ("LS11", "outcode", "LS11", "Leeds"),  # the district, never the sector LS1 1
        ("ls6", "outcode", "LS6", "Leeds"),
        ("SW2", "outcode", "SW2", "Lambeth"),
        ("Leeds", "authority", "Leeds", "Leeds"),
        ("LAMBETH", "authority", "Lambeth", "Lambeth"),
        ("bristol", "authority", "City of Bristol", "City of Bristol"),
        ("Brighton", "authority", "The City of Brighton and Hove", "The City of Brighton and Hove"),
        ("stoke on trent", "authority", "City of Stoke-on-Trent", "City of Stoke-on-Trent"),
    ],
)
def test_lookup_place_understands_postcodes_sectors_outcodes_and_authorities(
    geo: Geo, typed: str, kind: str, label: str, district: str
) -> None:
    place = geo.lookup_place(typed)
    assert place is not None
    assert (place.kind, place.label, place.district_name) == (kind, label, district)


def test_authority_point_is_postcode_weighted_mean_of_its_districts(geo: Geo) -> None:
    with (DATA_DIR / "uk-postcode-districts.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["district_name"] == "Lambeth"]
    total = sum(int(r["postcodes"]) for r in rows)
    lat = sum(float(r["latitude"]) * int(r["postcodes"]) for r in rows) / total
    lon = sum(float(r["longitude"]) * int(r["postcodes"]) for r in rows) / total
    place = geo.lookup_place("Lambeth")
    assert place is not None
    assert place.lat == pytest.approx(lat) and place.lon == pytest.approx(lon)


# "LS63" is neither a district nor, without a space before its digit, the sector LS6 3.
@pytest.mark.parametrize("typed", ["", "   ", "Atlantis", "ZZ99 9ZZ", "Q1", "LS63"])
def test_unknown_places_return_none(geo: Geo, typed: str) -> None:
    assert geo.lookup_place(typed) is None


@pytest.mark.parametrize(("typed", "expected"), [("Leds", "Leeds"), ("lambet", "Lambeth"), ("Manchestr", "Manchester")])
def test_suggest_offers_close_names(geo: Geo, typed: str, expected: str) -> None:
    found = geo.suggest(typed)
    assert expected in found
    assert len(found) <= 5


def test_suggest_returns_nothing_for_blank(geo: Geo) -> None:
    assert geo.suggest("  ") == []


def test_area_for_postcode_gives_sector_authority_and_five_place_decimals(geo: Geo) -> None:
    area = geo.area_for_postcode("ls6 3qr")
    assert area is not None
    assert area.as_location() == {
        "type": "area",
        "area": "Leeds",
        "postcode_area": "LS6 3",
        "lat": "53.82080",
        "lon": "-1.58553",
    }


def test_area_for_postcode_in_a_tiny_sector_uses_the_district(geo: Geo) -> None:
    with (DATA_DIR / "uk-postcode-sectors.csv").open(newline="") as f:
        tiny = next(r for r in csv.DictReader(f) if int(r["postcodes"]) < MIN_SECTOR_POSTCODES)
    outcode = tiny["sector"].split(" ")[0]
    area = geo.area_for_postcode(f"{tiny['sector']}AA")
    assert area is not None
    assert area.postcode_area == outcode


def test_area_for_unknown_or_malformed_postcode_is_none(geo: Geo) -> None:
    assert geo.area_for_postcode("not a postcode") is None
    assert geo.area_for_postcode("ZZ99 9ZZ") is None


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((53.79648, -1.54785), (53.79648, -1.54785), 0.0),
        ((51.50735, -0.12776), (53.48095, -2.23743), 261.8),  # London to Manchester
        ((0.0, 0.0), (0.0, 1.0), 111.2),
    ],
)
def test_distance_km_is_haversine(a: tuple[float, float], b: tuple[float, float], km: float) -> None:
    assert distance_km(*a, *b) == pytest.approx(km, abs=0.2)


def test_attribution_is_shipped_with_the_data() -> None:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert " ".join(ATTRIBUTION.split()) in " ".join(readme.split())


@pytest.mark.parametrize(
    ("typed", "authority"),
    [
        ("Cardiff", "Caerdydd - Cardiff"),
        ("caerdydd", "Caerdydd - Cardiff"),
        ("Swansea", "Abertawe - Swansea"),
        ("Abertawe", "Abertawe - Swansea"),
        ("Newport", "Casnewydd - Newport"),
        ("Vale of Glamorgan", "Bro Morgannwg - the Vale of Glamorgan"),
    ],
)
def test_welsh_authorities_are_found_by_either_name(typed: str, authority: str) -> None:
    place = Geo.load().lookup_place(typed)
    assert place is not None and place.district_name == authority
