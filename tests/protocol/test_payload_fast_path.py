"""The fast payload path never disagrees with the careful reference parser (spec §3.4)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import InvalidPayload
from protocol.payload import _parse_careful, parse_payload

keys = st.one_of(st.text(max_size=6), st.sampled_from(["a", "a:", ":", "id", "\u00e9", "\ufdd0", 'k"q']))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["x:y", "\ufffe", "\U0001f308", "\\u003a"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(st.tuples(keys, inner), max_size=4)),
    max_leaves=20,
)


def render(value: object) -> str:
    """JSON text from nested lists of pairs, so duplicate keys can be written on purpose."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ",".join(json.dumps(k) + ":" + render(v) for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def verdict(parse, body: bytes):  # type: ignore[no-untyped-def]
    try:
        return ("ok", parse(body))
    except InvalidPayload as e:
        return ("rejected", e.reason, e.path)


@settings(max_examples=600, deadline=None)
@given(pairs=st.lists(st.tuples(keys, values), max_size=6), escape=st.booleans())
def test_fast_and_careful_paths_reach_the_same_verdict(pairs: list[tuple[str, object]], escape: bool) -> None:
    text = "{" + ",".join(json.dumps(k, ensure_ascii=escape) + ":" + render(v) for k, v in pairs) + "}"
    body = text.encode("utf-8", "surrogatepass")
    assert verdict(parse_payload, body) == verdict(_parse_careful, body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_get_the_same_verdict_either_way(body: bytes) -> None:
    assert verdict(parse_payload, body) == verdict(_parse_careful, body)
