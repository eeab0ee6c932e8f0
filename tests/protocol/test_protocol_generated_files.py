"""The committed schemas and vectors are exactly what the generators write (no drift)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from signpost_spec_support import SPEC, load_tool, load_vectors

SCHEMAS = load_tool("make_schemas").render_schemas()
VECTORS = load_tool("make_vectors").render_vectors()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_matches_the_msgspec_types(name: str) -> None:
    committed = (SPEC / "schemas" / name).read_text(encoding="utf-8")
    assert committed == SCHEMAS[name], f"spec/schemas/{name} drifted: run python spec/tools/make_schemas.py"


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_committed_vectors_match_the_generator(name: str) -> None:
    committed = (SPEC / "vectors" / name).read_text(encoding="utf-8")
    assert committed == VECTORS[name], f"spec/vectors/{name} drifted: run python spec/tools/make_vectors.py"


def test_every_committed_vector_file_is_generated() -> None:
    assert {p.name for p in (SPEC / "vectors").glob("*.json")} == set(VECTORS)
    assert {p.name for p in (SPEC / "schemas").glob("*.json")} == set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_a_valid_json_schema(name: str) -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMAS[name]))


def test_envelope_vectors_validate_against_the_envelope_schema() -> None:
    validator = Draft202012Validator(json.loads(SCHEMAS["envelope.json"]))
    for case in load_vectors("envelopes.json")["cases"]:
        validator.validate(case["envelope"])
        for entry in case["keylog"]:
            validator.validate(entry)


def test_feed_walk_pages_validate_against_the_feed_page_schema() -> None:
    validator = Draft202012Validator(json.loads(SCHEMAS["feed-page.json"]))
    for case in load_vectors("feed-walks.json")["cases"]:
        for step in case["steps"]:
            validator.validate(step["page"])
