"""The example networks' listings are valid, private, invented and placed right.

``signpost demo`` and ``signpost import`` feed these files to real nodes, so a
line the protocol refuses would break the demo, and a private group with an
address or a real person's phone number would be a privacy failure in the very
files newcomers copy.  Each file holds record content: a ``Record`` without the
fields the node adds when it signs (``publisher``, ``rev``, ``updated``,
``deleted``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest

from protocol.records import KINDS, RECORD_ID_PATTERN, TOPICS, Record, decode_version, encode_payload

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# The project ships the sector centroids under node/directory/data; before that copy
# exists, the shared reference data it is copied from is used.
SECTOR_CSV_CANDIDATES = (
    ROOT / "node" / "directory" / "data" / "uk-postcode-sectors.csv",
    ROOT.parent / "shared" / "data" / "uk-postcode-sectors.csv",
)

# network directory -> (fewest listings, most listings)
NETWORKS: dict[str, tuple[int, int]] = {
    "leeds": (28, 200),
    "lambeth": (16, 200),
    "national": (5, 8),
}

# Fields a node fills in when it signs a version; a content file never holds them.
SIGNING_FIELDS = ("publisher", "rev", "updated", "deleted")
SIGNING_DEFAULTS: dict[str, Any] = {
    "publisher": "sp1:" + "a" * 26,
    "rev": 1,
    "updated": "2026-11-23T00:00:00Z",
}

# The reference date the examples were reviewed against, and freshness bands
# (age in days) that every populous network must exercise.
REFERENCE_DATE = dt.date(2026, 11, 23)
FRESHNESS_BANDS: dict[str, tuple[int, int]] = {
    "fresh (under 3 months)": (0, 92),
    "getting stale (7 to 11 months)": (212, 335),
    "stale (over 12 months)": (366, 10_000),
}

# Ofcom's numbers reserved for drama, and the domains reserved for examples:
# nothing in the examples can reach a real person.
DRAMA_NUMBERS = re.compile(r"^(0113 496 0\d{3}|020 7946 0\d{3}|0808 157 0\d{3})$")
PHONE_LIKE = re.compile(r"\b0\d{2,4} ?\d{3,4} ?\d{3,4}\b")
EMAIL_LIKE = re.compile(r"[^@\s]+@([^@\s]+)")
EXAMPLE_DOMAIN = re.compile(r"(^|\.)example\.(org|com)$")
EXAMPLE_URL = re.compile(r"^https://example\.(org|com)/")

MAX_SUMMARY = 160
MAX_DISTANCE_M = 1000.0


def _load(network: str) -> list[dict[str, Any]]:
    path = EXAMPLES / network / "listings.jsonl"
    listings = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        obj = json.loads(line)
        assert isinstance(obj, dict), f"{path.name} line {number} is not a JSON object"
        listings.append(obj)
    return listings


ALL: list[tuple[str, dict[str, Any]]] = [(n, item) for n in NETWORKS for item in _load(n)]
ALL_IDS = [f"{n}/{item.get('id', '?')}" for n, item in ALL]


def _strings(value: Any) -> list[str]:
    """Every string anywhere in a listing, so no field can hide a contact detail."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@cache
def _sector_centroids() -> dict[str, tuple[float, float]]:
    for path in SECTOR_CSV_CANDIDATES:
        if path.exists():
            with path.open(newline="", encoding="utf-8") as f:
                return {row["sector"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(f)}
    pytest.fail(f"postcode sector centroids not found; looked in {[str(p) for p in SECTOR_CSV_CANDIDATES]}")


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_every_listing_is_a_record_the_protocol_accepts(network: str, listing: dict[str, Any]) -> None:
    assert not set(SIGNING_FIELDS) & set(listing), "content files leave signing fields to the node"
    record = msgspec.convert({**listing, **SIGNING_DEFAULTS}, type=Record)
    decoded = decode_version(encode_payload(record))
    assert isinstance(decoded, Record)
    assert decoded.id == listing["id"]


@pytest.mark.parametrize("network", NETWORKS)
def test_ids_are_unique_and_well_formed(network: str) -> None:
    ids = [item["id"] for item in _load(network)]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not re.match(RECORD_ID_PATTERN, i)] == []


@pytest.mark.parametrize(("network", "bounds"), NETWORKS.items())
def test_each_network_has_enough_listings(network: str, bounds: tuple[int, int]) -> None:
    fewest, most = bounds
    assert fewest <= len(_load(network)) <= most


@pytest.mark.parametrize("network", ["leeds"])
def test_every_kind_appears(network: str) -> None:
    assert set(KINDS) - {item["kind"] for item in _load(network)} == set()


@pytest.mark.parametrize("network", ["leeds", "lambeth"])
def test_local_networks_say_who_runs_each_listing(network: str) -> None:
    listings = _load(network)
    own = {item["name"] for item in listings if item["kind"] == "organisation"}
    assert own, "a network describes itself with an organisation record"
    runners = {item.get("organisation", {}).get("name", item["name"]) for item in listings}
    assert runners == own


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_private_listings_carry_only_an_area(network: str, listing: dict[str, Any]) -> None:
    if not listing.get("private"):
        return
    location = listing["location"]
    assert location["type"] == "area"
    assert set(location) <= {"type", "area", "postcode_area", "lat", "lon"}
    assert listing["join"]["method"] == "contact_first"
    assert "contact" not in listing, "a private group is reached through the network"


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_contact_details_only_with_consent(network: str, listing: dict[str, Any]) -> None:
    if "contact" in listing:
        assert listing["contact"]["consent"] is True


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_no_real_phone_number_email_or_website(network: str, listing: dict[str, Any]) -> None:
    for text in _strings(listing):
        for number in PHONE_LIKE.findall(text):
            assert DRAMA_NUMBERS.match(number), f"{number!r} is not an Ofcom drama number"
        for domain in EMAIL_LIKE.findall(text):
            assert EXAMPLE_DOMAIN.search(domain), f"{domain!r} is not an example domain"
    for url in (listing.get("website"), listing.get("join", {}).get("url"), listing.get("organisation", {}).get("url")):
        if url is not None:
            assert EXAMPLE_URL.match(url), f"{url!r} is not an example address"


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_coordinates_sit_within_a_kilometre_of_their_postcode_sector(network: str, listing: dict[str, Any]) -> None:
    location = listing.get("location")
    if location is None:
        return
    if location["type"] == "public":
        outward, inward = location["postcode"].split(" ")
        sector = f"{outward} {inward[0]}"
    else:
        sector = location["postcode_area"]
    centroids = _sector_centroids()
    assert sector in centroids, f"{sector} is not a GB postcode sector"
    assert re.match(r"^-?\d+\.\d{5}$", location["lat"]) and re.match(r"^-?\d+\.\d{5}$", location["lon"])
    point = (float(location["lat"]), float(location["lon"]))
    assert _metres(point, centroids[sector]) <= MAX_DISTANCE_M


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_delivery_matches_where_it_happens(network: str, listing: dict[str, Any]) -> None:
    delivery = listing["delivery"]
    if delivery in ("online", "phone"):
        assert "location" not in listing, "online and phone listings have no meeting place"
    if delivery == "online" and listing["kind"] in ("group", "event", "training"):
        assert EXAMPLE_URL.match(listing["join"]["url"])
    if delivery == "in_person" and listing["kind"] in ("group", "event", "training"):
        assert "location" in listing


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_text_is_short_enough_to_scan(network: str, listing: dict[str, Any]) -> None:
    assert len(listing["summary"]) < MAX_SUMMARY
    sentences = re.findall(r"[.!?](\s|$)", listing["description"])
    assert 2 <= len(sentences) <= 4


@pytest.mark.parametrize(("network", "listing"), ALL, ids=ALL_IDS)
def test_topics_come_from_the_controlled_list(network: str, listing: dict[str, Any]) -> None:
    assert set(listing.get("topics", [])) <= set(TOPICS)


@pytest.mark.parametrize("network", ["leeds", "lambeth"])
@pytest.mark.parametrize("band", FRESHNESS_BANDS)
def test_review_dates_exercise_every_freshness_band(network: str, band: str) -> None:
    low, high = FRESHNESS_BANDS[band]
    ages = [(REFERENCE_DATE - dt.date.fromisoformat(item["reviewed"])).days for item in _load(network)]
    assert any(low <= age <= high for age in ages)


# The schedule shapes the demo must show, as (description, predicate over a schedule).
SCHEDULE_SHAPES: dict[str, Any] = {
    "weekly on a weekday": lambda s: any(
        r["freq"] == "weekly" and r.get("interval", 1) == 1 and set(r["byday"]) & {"MO", "TU", "WE", "TH", "FR"}
        for r in s.get("rules", [])
    ),
    "weekly on Saturday": lambda s: any(r["freq"] == "weekly" and "SA" in r["byday"] for r in s.get("rules", [])),
    "weekly on Sunday": lambda s: any(r["freq"] == "weekly" and "SU" in r["byday"] for r in s.get("rules", [])),
    "fortnightly": lambda s: any(
        r["freq"] == "weekly" and r.get("interval") == 2 and "starts" in r for r in s.get("rules", [])
    ),
    "first weekday of the month": lambda s: any(
        r["freq"] == "monthly" and any(d.startswith("1") for d in r["byday"]) for r in s.get("rules", [])
    ),
    "last weekday of the month": lambda s: any(
        r["freq"] == "monthly" and any(d.startswith("-1") for d in r["byday"]) for r in s.get("rules", [])
    ),
    "past midnight": lambda s: any(r.get("closes", "99") < r.get("opens", "00") for r in s.get("rules", [])),
    "one-off dates": lambda s: bool(s.get("dates")),
    "a cancelled date": lambda s: any(e.get("cancelled", True) for e in s.get("exceptions", [])),
    "not on bank holidays": lambda s: s.get("not_on_bank_holidays", False),
    "free text only": lambda s: set(s) == {"text"},
}


@pytest.mark.parametrize("shape", SCHEDULE_SHAPES)
def test_leeds_exercises_every_schedule_shape(shape: str) -> None:
    schedules = [item["schedule"] for item in _load("leeds") if "schedule" in item]
    assert any(SCHEDULE_SHAPES[shape](s) for s in schedules)


@pytest.mark.parametrize(
    ("network", "languages"),
    [("leeds", ["pl", "en"]), ("lambeth", ["pt", "en"]), ("national", ["cy", "en"])],
)
def test_each_network_has_a_group_in_another_language(network: str, languages: list[str]) -> None:
    assert any(item.get("languages") == languages for item in _load(network))


@pytest.mark.parametrize("status", ["active", "paused", "closed"])
def test_leeds_shows_every_status(status: str) -> None:
    assert any(item["status"] == status for item in _load("leeds"))


@pytest.mark.parametrize("network", NETWORKS)
def test_readme_counts_match_the_files(network: str) -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{network}/` \|.*?\| (\d+) listings", readme, re.M)
    assert row is not None, f"examples/README.md has no row for {network}/"
    assert int(row.group(1)) == len(_load(network))
