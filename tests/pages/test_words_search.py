"""Best-effort search for the public pages: the words people type, ranking, places in the words, service areas."""

from __future__ import annotations

import sqlite3

from example_network import NOW

from node.directory.filters import parse_filters
from node.directory.search import SearchResults, prepare, search

MEN = {"roundhay-mens-walk-and-talk", "chapeltown-brothers-wellbeing-circle", "brixton-brothers-circle"}


def public(conn: sqlite3.Connection, **params: str) -> SearchResults:
    """The public search page's path: parse, read the words and the place, search best-effort."""
    p = prepare(parse_filters(params))
    return search(conn, p.filters, place=p.place, now=NOW, limit=50, intent=p.intent)


def ids(results: SearchResults) -> list[str]:
    return [h.record.id for h in results.items]


def test_mens_group_finds_the_mens_groups_first(conn: sqlite3.Connection) -> None:
    for q in ("men's group", "mens group", "Men’s groups", "group for men"):
        top = ids(public(conn, q=q))[:3]
        assert set(top) == MEN, (q, top)


def test_a_phrase_finds_listings_by_topic(conn: sqlite3.Connection) -> None:
    top = public(conn, q="just left hospital").items[:3]
    assert all("leaving-hospital" in h.record.topics for h in top), [h.record.id for h in top]
    assert ids(public(conn, q="new mum"))[0] == "kirkstall-new-parents-circle"
    assert ids(public(conn, q="drinking"))[0] == "holbeck-recovery-cafe"
    assert {h.record.kind for h in public(conn, q="give something back").items[:3]} == {"role"}


def test_a_word_found_nowhere_does_not_empty_the_results(conn: sqlite3.Connection) -> None:
    found = ids(public(conn, q="hearing voices zzyzzyx"))
    assert found[:2] and set(found[:2]) <= {"headingley-hearing-voices", "streatham-hearing-voices"}


def test_the_json_api_keeps_every_word_must_appear(conn: sqlite3.Connection) -> None:
    f = parse_filters({"q": "hearing voices zzyzzyx"})
    assert search(conn, f, place=None, now=NOW).total == 0
    men = ids(search(conn, parse_filters({"q": "men's group"}), place=None, now=NOW, limit=50))
    assert "one-to-one-peer-mentoring" in men  # prefix match, as the API documents


def test_a_name_or_topic_match_ranks_above_a_description_match(conn: sqlite3.Connection) -> None:
    hits = public(conn, q="anxiety").items
    assert hits[0].record.id == "armley-anxiety-support"  # in its name and topics
    hits = public(conn, q="volunteers").items  # in some names, and in other listings' descriptions only
    in_name = [i for i, h in enumerate(hits) if "volunteer" in h.record.name.lower()]
    elsewhere = [
        i for i, h in enumerate(hits) if "volunteer" not in (h.record.name + (h.record.audience or "")).lower()
    ]
    assert in_name and elsewhere and max(in_name) < min(elsewhere)


def test_a_postcode_typed_in_the_words_box_becomes_the_place(conn: sqlite3.Connection) -> None:
    p = prepare(parse_filters({"q": "bipolar group near SW2 1JQ"}))
    assert p.place is not None and p.filters.near == p.place_in_words and "SW2" in p.filters.near
    assert "SW2" not in p.filters.q and "bipolar" in p.filters.q
    assert ids(public(conn, q="bipolar group near SW2 1JQ"))[0] == "brixton-bipolar-peer-group"
    near_only = public(conn, q="LS6 3QR")
    assert near_only.place is not None and ids(near_only)[0] == "headingley-hearing-voices"


def test_distance_weighs_relevance_rather_than_overriding_it(conn: sqlite3.Connection) -> None:
    hits = public(conn, q="bipolar", near="LS6").items
    assert hits[0].record.id == "leeds-bipolar-peer-group"  # not the nearest listing, but the one asked for
    assert all(h.record.id != "brixton-bipolar-peer-group" for h in hits)  # in London: out of reach


def test_a_service_area_is_respected(conn: sqlite3.Connection) -> None:
    in_leeds = ids(public(conn, q="phone line", near="LS6"))
    assert "leeds-peer-support-line" in in_leeds[:3] and "weekend-peer-support-line" not in in_leeds
    in_lambeth = ids(public(conn, q="phone line", near="SW9 7AA"))
    assert "weekend-peer-support-line" in in_lambeth[:3] and "leeds-peer-support-line" not in in_lambeth
    anywhere = ids(public(conn, q="phone line"))
    assert {"weekend-peer-support-line", "leeds-peer-support-line", "national-peer-support-line"} <= set(anywhere)


def test_an_empty_search_suggests_the_whole_authority_and_a_longer_distance(conn: sqlite3.Connection) -> None:
    found = public(conn, q="bipolar", near="LS6 3QR", within="1km")
    assert found.total == 0
    labels = {s.label: s for s in found.suggestions}
    assert "All of Leeds" in labels and labels["All of Leeds"].params["near"] == "Leeds"
    assert labels["All of Leeds"].count >= 1 and "within" not in labels["All of Leeds"].params
    assert any(label.startswith("Within") for label in labels)


def test_a_word_naming_a_service_area_counts_like_the_listings_area(conn: sqlite3.Connection) -> None:
    # "leeds" in lower case, after other words, stays a word (node.directory.geo.Geo.find_in_text);
    # the Leeds-only hospital service says "Leeds" only in its service area and audience.
    top = ids(public(conn, q="support after hospital leeds"))
    assert top[0] == "home-from-hospital-peer-support", top[:3]


def test_only_a_place_lists_support_before_jobs_courses_and_organisations(conn: sqlite3.Connection) -> None:
    found = public(conn, near="SW9 7AA")  # the Living Well hub, where its courses, jobs and office are
    top = found.items[:3]
    assert all(h.record.kind not in {"role", "training", "resource", "organisation"} for h in top), ids(found)[:3]
    f = parse_filters({"near": "SW9 7AA"})
    same = search(conn, f, place=found.place, now=NOW, limit=1000)
    assert found.total == same.total and set(ids(found)) <= set(ids(same))  # the same listings, reordered
