"""JSON Lines import: one record's content per line, checked as a receiver would check it.

This is the format for people who generate listings by program.  Each line is
a JSON object in the record-content shape with an ``"id"``; the node supplies
publisher, rev and updated.  Unlike the wire, an import is strict about
unknown fields: a field the protocol does not define would be published
verbatim to every copy, so it is refused rather than carried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from node.importer.model import Listing, Problem
from node.importer.readers import MAX_ROWS, UnreadableFile
from node.importer.rows import check_fields
from protocol.errors import InvalidPayload, InvalidRecord
from protocol.records import RECORD_ID_PATTERN, Record

__all__ = ["read_jsonl", "SET_BY_NODE"]

SET_BY_NODE: Final = ("publisher", "rev", "updated", "deleted")
_KNOWN: Final = frozenset(Record.__struct_fields__)


def read_jsonl(path: Path) -> tuple[int, Iterator[tuple[Listing | None, list[Problem]]]]:
    """(number of lines, a stream of (listing or None, problems) per non-blank line)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"{path.name} is not UTF-8 text, so it is not a JSON Lines file.") from e
    if len(lines) > MAX_ROWS:
        raise UnreadableFile(f"{path.name} has more than {MAX_ROWS:,} lines; split it into smaller files.")

    def stream() -> Iterator[tuple[Listing | None, list[Problem]]]:
        for n, line in enumerate(lines, start=1):
            if line.strip():
                yield _line(n, line)

    return len(lines), stream()


def _line(n: int, line: str) -> tuple[Listing | None, list[Problem]]:
    def error(path: str | None, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(n, path, message, "error")]

    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return error(None, f"not valid JSON ({e.msg} at character {e.colno}); each line must be one JSON object")
    if not isinstance(obj, dict):
        return error("$", 'each line must be a JSON object, like {"id": ..., "kind": ..., "name": ...}')
    record_id = obj.get("id")
    if not isinstance(record_id, str) or not re.fullmatch(RECORD_ID_PATTERN, record_id):
        return error(
            "$.id", f"id {record_id!r} must be lower-case letters, digits, '.', '_' or '-', up to 80 characters"
        )
    problems: list[Problem] = []
    for key in SET_BY_NODE:
        if key in obj:
            del obj[key]
            problems.append(
                Problem(
                    n,
                    f"$.{key}",
                    f"{key!r} is set by the node when it publishes; the value in the file was ignored",
                    "warning",
                )
            )
    unknown = sorted(set(obj) - _KNOWN)
    if unknown:
        problems.append(
            Problem(
                n,
                f"$.{unknown[0]}",
                f"unknown field(s) {', '.join(unknown)}; an import may only use the record fields of the protocol",
                "error",
            )
        )
        return None, problems
    fields = {k: v for k, v in obj.items() if k != "id"}
    try:
        checked = check_fields(fields, record_id)
    except (InvalidRecord, InvalidPayload) as e:
        problems.append(Problem(n, e.path, f"{e.problem}; correct this field", "error"))
        return None, problems
    return Listing(record_id, n, checked, None), problems
