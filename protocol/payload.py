"""Strict I-JSON parsing of payload bytes (spec §3.3).

Signatures cover bytes, so the bytes must mean one thing to every JSON parser
in every language.  This module rejects what parsers disagree on: duplicate
keys, non-integer numbers (and integers beyond ±2**53-1), non-ASCII keys,
lone surrogates, Unicode noncharacters, invalid UTF-8, a byte-order mark, and deep nesting.  Each
rejection names the JSON path where the problem is.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from .errors import InvalidPayload

__all__ = ["MAX_PAYLOAD_BYTES", "MAX_DEPTH", "parse_payload"]

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_SAFE_INTEGER = 2**53 - 1


class _Pairs(dict[str, Any]):
    """A decoded JSON object that remembers whether a key appeared twice."""

    __slots__ = ("duplicate",)
    duplicate: str | None


class _NonInteger:
    """Stands in for a float so the walk can report where it was."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _pairs(items: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs(items)
    obj.duplicate = None
    if len(obj) != len(items):
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                obj.duplicate = key
                break
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_float=_NonInteger,
    parse_constant=_NonInteger,
)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _child(path: str, key: str) -> str:
    """``$.name`` for plain ASCII names, else ``$["key"]`` JSON-quoted in ASCII (spec §3.3)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=True)}]"


# I-JSON (RFC 7493 §2.1) forbids Unicode noncharacters as well as surrogates:
# U+FDD0..U+FDEF and the last two code points of every plane.
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef"
    + "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
    + "]"
)


def _check_string(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPayload(path, "lone surrogate in string", reason="lone-surrogate") from None
    found = _NONCHARACTER.search(value)
    if found is not None:
        raise InvalidPayload(path, f"Unicode noncharacter U+{ord(found.group()):04X} in string", reason="noncharacter")


def _walk(value: Any, path: str, depth: int) -> Any:
    """Check one parsed value; return it with ``_Pairs`` turned into plain dicts."""
    if depth > MAX_DEPTH:
        raise InvalidPayload(path, f"nested deeper than {MAX_DEPTH} levels", reason="too-deep")
    if isinstance(value, _Pairs):
        if value.duplicate is not None:
            raise InvalidPayload(_child(path, value.duplicate), "duplicate key", reason="duplicate-key")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not key.isascii():
                raise InvalidPayload(_child(path, key), "non-ASCII key", reason="non-ascii-key")
            out[key] = _walk(item, _child(path, key), depth + 1)
        return out
    if isinstance(value, list):
        return [_walk(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, str):
        _check_string(value, path)
        return value
    if isinstance(value, _NonInteger):
        raise InvalidPayload(path, f"non-integer number {value.text}", reason="non-integer-number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        raise InvalidPayload(path, "integer outside ±(2**53-1)", reason="integer-range")
    return value


class _NeedsCareful(Exception):
    """The fast path saw something only the careful path may judge."""


_FAST_DECODER = msgspec.json.Decoder()


def _fast_walk(value: Any, depth: int) -> int:
    """Return keys minus colons inside strings; bail out on anything the careful path must judge.

    For well-formed JSON without ``\\u`` escapes, every ``:`` byte is either
    a key's separator or a character inside a string, so a duplicate key
    (which the decoded dict swallows) shows up as a surplus of ``:`` bytes.
    """
    if depth > MAX_DEPTH:
        raise _NeedsCareful
    kind = type(value)
    if kind is dict:
        balance = len(value)
        for key, item in value.items():
            if not key.isascii():
                raise _NeedsCareful
            balance += key.count(":") + _fast_walk(item, depth + 1)
        return balance
    if kind is list:
        return sum(_fast_walk(item, depth + 1) for item in value)
    if kind is str:
        if not value.isascii() and _NONCHARACTER.search(value):
            raise _NeedsCareful
        colons: int = value.count(":")
        return colons
    if kind is int:
        if abs(value) > MAX_SAFE_INTEGER:
            raise _NeedsCareful
        return 0
    if kind is bool or value is None:
        return 0
    raise _NeedsCareful  # floats, and anything unexpected


def _parse_fast(body: bytes) -> dict[str, Any] | None:
    """msgspec's C decoder plus a colon count; None when the careful path must decide.

    msgspec already refuses invalid UTF-8, lone surrogates, NaN and malformed
    JSON; the walk refuses floats, big integers, non-ASCII keys and
    noncharacters; a duplicate key shows as more ``:`` bytes than keys and
    string colons.  Payloads with ``\\u`` escapes (which could hide a colon)
    and anything refused here go to the careful parser, whose verdict,
    reason and path are the spec's.
    """
    if b"\\u" in body:
        return None
    try:
        value = _FAST_DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if type(value) is not dict:
        return None
    try:
        expected = _fast_walk(value, 0)
    except (_NeedsCareful, RecursionError):
        return None
    if body.count(b":") != expected:
        return None
    return value


def parse_payload(body: bytes) -> dict[str, Any]:
    """Parse payload bytes under the I-JSON rules; the top level must be an object.

    Raises :class:`InvalidPayload` with a ``$.path`` and a stable ``reason``.
    Well-formed payloads take a fast path (:func:`_parse_fast`); anything it
    will not vouch for is judged by the careful parser below.
    """
    if len(body) > MAX_PAYLOAD_BYTES:
        raise InvalidPayload("$", f"payload is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES}", reason="too-large")
    if not body.startswith(b"\xef\xbb\xbf"):
        fast = _parse_fast(body)
        if fast is not None:
            return fast
    return _parse_careful(body)


def _parse_careful(body: bytes) -> dict[str, Any]:
    """The reference parser: Python's json with hooks that report each problem's path."""
    if len(body) > MAX_PAYLOAD_BYTES:
        raise InvalidPayload("$", f"payload is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES}", reason="too-large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidPayload("$", f"invalid UTF-8 at byte {e.start}", reason="invalid-utf8") from e
    if text.startswith("\ufeff"):
        raise InvalidPayload("$", "byte-order mark before JSON", reason="bom")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, end = _DECODER.raw_decode(text, start)
    except RecursionError as e:
        raise InvalidPayload("$", "nested too deeply", reason="too-deep") from e
    except json.JSONDecodeError as e:
        raise InvalidPayload("$", f"not JSON: {e.msg} (char {e.pos})", reason="not-json") from e
    if text[end:].strip(" \t\r\n"):
        raise InvalidPayload("$", "trailing data after JSON value", reason="not-json")
    if not isinstance(value, _Pairs):
        raise InvalidPayload("$", "payload must be a JSON object", reason="not-object")
    result: dict[str, Any] = _walk(value, "$", 0)
    return result
