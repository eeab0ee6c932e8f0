"""The words people type, read with the vocabulary table (node.directory.vocabulary)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from node.directory.filters import serves
from node.directory.geo import Place
from node.directory.vocabulary import FILLER, VOCABULARY_CSV, load_vocabulary, read_words, stem


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("men's", "men"), ("mens", "men"), ("Men’s", "men"), ("carers'", "carer"), ("carers", "carer"),
     ("womens", "women"), ("anxious", "anxious"), ("class", "class"), ("ADHD", "adhd")],
)  # fmt: skip
def test_possessives_and_plurals_match_their_stem(typed: str, expected: str) -> None:
    assert stem(typed) == expected


@pytest.mark.parametrize(
    ("q", "topics", "kinds", "delivery", "when", "days"),
    [
        ("just left hospital", {"leaving-hospital"}, set(), set(), None, 0),
        ("I've just come out of hospital", {"leaving-hospital"}, set(), set(), None, 0),
        ("new mum", {"perinatal"}, set(), set(), None, 0),
        ("struggling with drinking", {"addiction"}, set(), set(), None, 0),
        ("I'd like to give something back", set(), {"role"}, set(), None, 0),
        ("anything on tonight?", set(), set(), set(), "today", 0),
        ("this evening", set(), set(), set(), "today", 0),
        ("something on a Saturday", set(), set(), set(), None, 1 << 5),
        ("Helpline", set(), set(), {"phone"}, None, 0),
        ("Men's group", {"men"}, set(), set(), None, 0),
    ],
)
def test_everyday_phrases_map_to_topics_kinds_delivery_and_times(
    q: str, topics: set[str], kinds: set[str], delivery: set[str], when: str | None, days: int
) -> None:
    intent = read_words(q)
    assert set(intent.topics) == topics and set(intent.kinds) == kinds and set(intent.delivery) == delivery
    assert intent.when == when and intent.days == days


def test_the_longest_phrase_wins() -> None:
    assert read_words("just left hospital").phrases == ("just left hospital",)
    assert read_words("hospital").phrases == ("hospital",)


@pytest.mark.parametrize("q", ["group", "support groups near", "help for a service", "the group in"])
def test_filler_words_never_decide_a_match_on_their_own(q: str) -> None:
    intent = read_words(q)
    assert intent.empty and intent.terms == ()


def test_filler_words_are_dropped_and_the_rest_kept() -> None:
    assert read_words("support group for hearing voices").terms == ("hearing", "voice")
    assert {"group", "support", "near", "in", "for", "a", "the", "help", "service"} <= FILLER


def test_the_vocabulary_is_a_table_a_coordinator_can_read() -> None:
    with VOCABULARY_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["phrase", "topics", "kinds", "delivery", "when", "words", "note"]
    assert len(load_vocabulary()) == len(rows)  # every line read, none shadowing another


def test_a_bad_topic_in_the_table_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "vocabulary.csv"
    bad.write_text("phrase,topics,kinds,delivery,when,words,note\nfeeling low,sadness,,,,,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2.*sadness"):
        load_vocabulary(bad)


LAMBETH_SW9 = Place("SW9 7AA", "postcode", 51.4678, -0.1086, "Lambeth")
LEEDS_LS6 = Place("LS6", "outcode", 53.82, -1.58, "Leeds")


def test_a_service_area_serves_its_authority_districts_and_postcode_area() -> None:
    assert serves(("Lambeth",), LAMBETH_SW9) and not serves(("Lambeth",), LEEDS_LS6)
    assert serves(("SW9",), LAMBETH_SW9) and serves(("sw",), LAMBETH_SW9) and not serves(("SW1",), LAMBETH_SW9)
    assert serves(("LS6", "LS7"), LEEDS_LS6) and serves(("leeds",), LEEDS_LS6)
    assert serves((), LEEDS_LS6) and serves(("Lambeth",), None)  # no area: anyone; no place: shown
