"""Places people name: districts typed without a space, neighbourhoods, shared names, qualifiers,
a coordinator's own names, spelling suggestions and places inside free text (node.directory.geo)."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from node.core.config import PlacePoint
from node.core.errors import ConfigError
from node.directory.filters import DEFAULT_RADIUS_KM
from node.directory.geo import DATA_DIR, Geo, Place, distance_km
from node.directory.places import PLACES_ATTRIBUTION, Gazetteer, name_key

ROOT = Path(__file__).resolve().parents[2]
PLYMOUTH = (50.3755, -4.1427)
LEEDS = (53.7965, -1.5479)
NOTTINGHAM = (52.9548, -1.1581)
LONDON = (51.5074, -0.1278)


@pytest.fixture(scope="module")
def geo() -> Geo:
    return Geo.load()


def resolved(geo: Geo, text: str, **kw: tuple[float, float] | None) -> Place:
    found = geo.resolve(text, **kw)
    assert found is not None, text
    return found.place


# -- rule 1: districts and sectors --------------------------------------------


@pytest.mark.parametrize(
    ("typed", "district", "authority"),
    [
        ("LS11", "LS11", "Leeds"),
        ("ls11", "LS11", "Leeds"),
        (" LS11 ", "LS11", "Leeds"),
        ("SE11", "SE11", "Lambeth"),
        ("se11", "SE11", "Lambeth"),
        ("M11", "M11", "Manchester"),
        ("near LS11", "LS11", "Leeds"),
    ],
)
def test_a_district_typed_without_a_space_is_the_district(geo: Geo, typed: str, district: str, authority: str) -> None:
    place = resolved(geo, typed)
    assert (place.kind, place.label, place.postcode_district, place.district_name) == (
        "outcode",
        district,
        district,
        authority,
    )


@pytest.mark.parametrize(("typed", "sector"), [("LS1 1", "LS1 1"), ("ls1  1", "LS1 1"), ("SE1 1", "SE1 1")])
def test_a_sector_needs_its_digit_after_a_space(geo: Geo, typed: str, sector: str) -> None:
    place = resolved(geo, typed)
    assert (place.kind, place.label) == ("sector", sector)


def test_ls11_is_beeston_not_the_city_centre(geo: Geo) -> None:
    ls11 = resolved(geo, "LS11")
    beeston = resolved(geo, "Beeston, Leeds")
    city = resolved(geo, "LS1 1")
    assert distance_km(ls11.lat, ls11.lon, beeston.lat, beeston.lon) < 2
    assert distance_km(ls11.lat, ls11.lon, city.lat, city.lon) > 2


# -- the gazetteer ------------------------------------------------------------


def test_the_gazetteer_holds_every_place_once_loaded() -> None:
    gazetteer = Gazetteer.load()
    assert len(gazetteer) == 45_620
    assert Gazetteer.load() is gazetteer


@pytest.mark.parametrize(
    ("typed", "district"),
    [
        ("Headingley", "LS6"),
        ("headingley", "LS6"),
        ("HAREHILLS", "LS8"),
        ("Kirkstall", "LS5"),
        ("Roundhay", "LS8"),
        ("Streatham", "SW16"),
        ("West Norwood", "SE27"),
        ("west  norwood", "SE27"),
        ("Splott", "CF24"),
        ("Near Sawrey", "LA22"),  # a village whose name starts with "near"
        ("Stoke-on-Trent", None),
        ("St Ives, Cornwall", "TR26"),
        ("Saint Ives, Cornwall", "TR26"),
    ],
)
def test_any_city_town_village_or_neighbourhood_is_a_place(geo: Geo, typed: str, district: str | None) -> None:
    place = resolved(geo, typed)
    if district is not None:
        assert place.postcode_district == district


def test_every_gazetteer_name_resolves(geo: Geo) -> None:
    with (DATA_DIR / "gb-places.csv").open(newline="", encoding="utf-8") as f:
        names = {row["name"] for row in csv.DictReader(f)}
    missing = [name for name in names if geo.resolve(name) is None]
    assert missing == []


def test_a_looked_up_name_is_fast(geo: Geo) -> None:
    geo.resolve("Headingley")
    start = time.perf_counter()
    for _ in range(200):
        geo.resolve("Brixton")
        geo.resolve("Headingley, Leeds")
    assert (time.perf_counter() - start) / 400 < 0.002


# -- rule 3: shared names -----------------------------------------------------


def test_a_shared_name_picks_the_suburb_and_offers_the_others(geo: Geo) -> None:
    found = geo.resolve("Brixton")
    assert found is not None
    assert (found.place.label, found.place.district_name, found.place.postcode_district) == (
        "Brixton, Lambeth",
        "Lambeth",
        "SW9",
    )
    assert [p.label for p in found.alternatives] == ["Brixton, South Hams"]


def test_a_shared_name_is_the_one_nearest_the_searchers_last_place(geo: Geo) -> None:
    assert resolved(geo, "Brixton", hint=PLYMOUTH).district_name == "South Hams"
    assert resolved(geo, "Beeston", hint=NOTTINGHAM).district_name == "Broxtowe"
    assert resolved(geo, "Beeston", hint=LEEDS).district_name == "Leeds"


def test_a_shared_name_is_the_one_nearest_the_nodes_own_area(geo: Geo) -> None:
    assert resolved(geo.for_node({}, NOTTINGHAM), "Beeston").district_name == "Broxtowe"
    assert resolved(geo.for_node({}, LEEDS), "Beeston").district_name == "Leeds"
    assert resolved(geo.for_node({}, LONDON), "Vauxhall").district_name == "Lambeth"
    # The searcher's own last place counts before the node's area.
    assert resolved(geo.for_node({}, LEEDS), "Beeston", hint=NOTTINGHAM).district_name == "Broxtowe"


def test_without_any_hint_a_big_places_suburb_comes_before_a_hamlet(geo: Geo) -> None:
    beeston = geo.resolve("Beeston")
    assert beeston is not None
    assert beeston.place.kind == "suburb"
    assert {p.district_name for p in beeston.alternatives} >= {"Broxtowe", "Central Bedfordshire"}
    assert resolved(geo, "Seacroft").district_name == "Leeds"


def test_every_alternative_label_resolves_to_that_very_place(geo: Geo) -> None:
    gazetteer = Gazetteer.load()
    with (DATA_DIR / "gb-places.csv").open(newline="", encoding="utf-8") as f:
        names = sorted({row["name"] for row in csv.DictReader(f)})
    checked = 0
    for name in names:
        if len(gazetteer.rows(name_key(name))) < 2:
            continue
        found = geo.resolve(name)
        assert found is not None
        for alternative in found.alternatives:
            back = geo.resolve(alternative.label)
            assert back is not None, alternative.label
            assert (back.place.lat, back.place.lon) == (alternative.lat, alternative.lon), alternative.label
            checked += 1
    assert checked > 3000


# -- rule 4: qualifiers and phrasing ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "label", "district"),
    [
        ("Leeds LS6", "LS6", "LS6"),
        ("LS6 Leeds", "LS6", "LS6"),
        ("Headingley, Leeds", "Headingley", "LS6"),
        ("Headingley LS6", "Headingley", "LS6"),
        ("near Brixton", "Brixton, Lambeth", "SW9"),
        ("Brixton, London", "Brixton, Lambeth", "SW9"),
        ("Brixton London", "Brixton, Lambeth", "SW9"),
        ("in Streatham", "Streatham", "SW16"),
        ("around Streatham.", "Streatham", "SW16"),
        ("Brixton, South Hams", "Brixton, South Hams", "PL8"),
        ("brixton south hams", "Brixton, South Hams", "PL8"),
        ("Armley, Leeds", "Armley", "LS12"),
        ("Beeston, Leeds", "Beeston, Leeds", "LS11"),
        ("Beeston, Broxtowe", "Beeston, Broxtowe", "NG9"),
        ("Beeston, NG9", "Beeston, Broxtowe", "NG9"),
        ("Vauxhall, London", "Vauxhall, Lambeth", "SW8"),
    ],
)
def test_qualifiers_and_leading_words_parse(geo: Geo, typed: str, label: str, district: str) -> None:
    place = resolved(geo, typed)
    assert (place.label, place.postcode_district) == (label, district)


def test_a_qualifier_naming_no_namesake_gives_the_qualifiers_place_and_offers_the_namesakes(geo: Geo) -> None:
    # The gazetteer has Hyde Parks in Westminster, Sheffield and Doncaster, none in Leeds.
    found = geo.resolve("Hyde Park, Leeds")
    assert found is not None
    assert found.place.label == "Leeds"
    assert {p.district_name for p in found.alternatives} == {"Westminster", "Sheffield", "Doncaster"}


# -- every place in the relevance cases ---------------------------------------


def _expected_points() -> dict[str, tuple[float, float, str]]:
    points = {}
    for network in ("leeds", "lambeth", "national"):
        for line in (ROOT / "examples" / network / "listings.jsonl").read_text("utf-8").splitlines():
            record = json.loads(line)
            location = record.get("location") or {}
            if "lat" in location:
                outcode = (location.get("postcode") or location.get("postcode_area") or "").split(" ")[0]
                points[f"{network}:{record['id']}"] = (float(location["lat"]), float(location["lon"]), outcode)
    return points


def _near_cases() -> list[tuple[str, list[str]]]:
    cases = json.loads((ROOT / "tests" / "bench" / "relevance" / "cases.json").read_text("utf-8"))
    seen: dict[str, list[str]] = {}
    for case in cases:
        if case.get("near"):
            seen.setdefault(case["near"], []).extend(case["expect"])
    return sorted(seen.items())


@pytest.mark.parametrize(("near", "expect"), _near_cases())
def test_every_place_in_the_relevance_cases_resolves_to_the_right_area(geo: Geo, near: str, expect: list[str]) -> None:
    # Chapeltown is in no open source: the Leeds node's coordinator adds it (rule 2).
    leeds_node = geo.for_node({"Chapeltown": "LS7"})
    place = resolved(leeds_node, near)
    points = _expected_points()
    located = [points[e] for e in expect if e in points]
    assert located, near
    districts = {Geo.load().lookup_outcode(outcode).district_name for _, _, outcode in located}  # type: ignore[union-attr]
    assert place.district_name in districts, (near, place)
    nearest = min(distance_km(place.lat, place.lon, lat, lon) for lat, lon, _ in located)
    assert nearest <= DEFAULT_RADIUS_KM[place.kind], (near, place, nearest)
    if place.kind in ("outcode", "sector", "postcode"):
        assert place.postcode_district in {outcode for _, _, outcode in located} or near == "LS2", (near, place)


# -- rule 2: the coordinator's own names --------------------------------------


def test_a_coordinators_name_wins_over_the_gazetteer_for_that_node_only(geo: Geo) -> None:
    assert resolved(geo, "Chapeltown").district_name == "Sheffield"
    leeds = geo.for_node({"Chapeltown": "LS7", "Hyde Park": PlacePoint(lat=53.8125, lon=-1.5660)})
    chapeltown = leeds.resolve("chapeltown")
    assert chapeltown is not None
    assert (chapeltown.place.label, chapeltown.place.kind, chapeltown.place.postcode_district) == (
        "Chapeltown",
        "local",
        "LS7",
    )
    assert chapeltown.place.district_name == "Leeds"
    assert "Chapeltown, Sheffield" in [p.label for p in chapeltown.alternatives]
    hyde_park = resolved(leeds, "Hyde Park")
    assert (hyde_park.kind, hyde_park.postcode_district, hyde_park.lat) == ("local", "LS6", 53.8125)
    assert resolved(leeds, "Chapeltown, Leeds").kind == "local"
    # The shared, cached geography is untouched.
    assert resolved(Geo.load(), "Chapeltown").district_name == "Sheffield"


@pytest.mark.parametrize(
    "value",
    ["Chapeltown", "ZZ9", "BT1", (0.0, 0.0), PlacePoint(lat=48.0, lon=2.3)],
    ids=["a-name", "no-such-district", "northern-ireland", "null-island", "paris"],
)
def test_a_coordinators_name_that_cannot_be_placed_is_refused(
    geo: Geo, value: str | tuple[float, float] | PlacePoint
) -> None:
    with pytest.raises(ConfigError, match="Chapeltown"):
        geo.for_node({"Chapeltown": value})


# -- rule 6: suggestions by spelling ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Brixtonn", "Brixton"),
        ("brixon", "Brixton"),
        ("Hedingley", "Headingley"),
        ("Headingly", "Headingley"),
        ("Streatam", "Streatham"),
        ("Harehils", "Harehills"),
        ("Kirkstal", "Kirkstall"),
        ("Manchestr", "Manchester"),
    ],
)
def test_an_unknown_place_is_answered_with_places_spelt_like_it(geo: Geo, typed: str, first: str) -> None:
    assert geo.resolve(typed) is None
    found = geo.suggest(typed)
    assert found[0] == first
    assert len(found) <= 5


def test_brixton_misspelt_is_not_brighton_and_hove(geo: Geo) -> None:
    found = geo.suggest("Brixtonn")
    assert "The City of Brighton and Hove" not in found
    assert found.index("Brixton") == 0


def test_a_coordinators_name_is_suggested_too(geo: Geo) -> None:
    assert "Chapeltown" in geo.for_node({"Chapeltown": "LS7"}).suggest("Chapletown")


def test_suggestions_take_bounded_time(geo: Geo) -> None:
    geo.suggest("warm up the trigram index")
    for typed in ("Brixtonn", "Hedingley", "Llanfairpwllgwyngyllgogerychwyrndrobwll", "aaaaaaaaaaaaaaaa"):
        start = time.perf_counter()
        geo.suggest(typed)
        assert time.perf_counter() - start < 0.25, typed


# -- a place inside free text -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place", "rest"),
    [
        ("hearing voices LS6", "LS6", "hearing voices"),
        ("hearing voices ls6 3qr", "LS6 3QR", "hearing voices"),
        ("LS11 recovery", "LS11", "recovery"),
        ("groups in Brixton", "Brixton, Lambeth", "groups"),
        ("groups in brixton", "Brixton, Lambeth", "groups"),
        ("bipolar near Headingley", "Headingley", "bipolar"),
        ("Hearing voices Headingley", "Headingley", "Hearing voices"),
        ("tonight in west norwood", "West Norwood", "tonight"),
        ("men's group Leeds", "Leeds", "men's group"),
        ("Streatham", "Streatham", ""),
        ("brixton", "Brixton, Lambeth", ""),
    ],
)
def test_a_place_typed_among_the_words_is_found(geo: Geo, text: str, place: str, rest: str) -> None:
    found = geo.find_in_text(text)
    assert found is not None, text
    assert (found[0].place.label, found[1]) == (place, rest)


@pytest.mark.parametrize(
    "text",
    ["anxiety group saturday", "street outreach", "church group", "reading group", "hope", "just left hospital", ""],
)
def test_everyday_words_that_are_also_village_names_stay_words(geo: Geo, text: str) -> None:
    assert geo.find_in_text(text) is None


def test_a_coordinators_name_is_found_among_the_words(geo: Geo) -> None:
    found = geo.for_node({"Chapeltown": "LS7"}).find_in_text("mens group chapeltown")
    assert found is not None
    assert (found[0].place.kind, found[1]) == ("local", "mens group")


# -- attribution --------------------------------------------------------------


def test_the_gazetteer_attribution_is_shipped_with_the_data() -> None:
    readme = " ".join((DATA_DIR / "README.md").read_text(encoding="utf-8").split())
    assert " ".join(PLACES_ATTRIBUTION.split()) in readme
