"""Generate ``spec/schemas/*.json`` from the protocol's msgspec types.

The schemas are derived, never hand-written, so they cannot say something the
decoder does not enforce.  Run ``python spec/tools/make_schemas.py`` after
changing a wire type and commit the result; ``tests/protocol`` regenerates
them in memory and fails when the committed files have drifted.

What a JSON Schema cannot express (I-JSON byte rules, calendar dates, the
private-listing rule, signatures) is in ``spec/signpost-v1.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from protocol.envelope import Envelope
from protocol.feed import FeedPage, NodeDocument
from protocol.keylog import KeyLogEntry
from protocol.records import Record, Tombstone

__all__ = ["SCHEMA_TYPES", "SCHEMA_DIR", "render_schemas", "main"]

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

# file name -> (msgspec type, title, what the schema describes)
SCHEMA_TYPES: dict[str, tuple[Any, str, str]] = {
    "record.json": (Record, "Signpost record", "The payload of a record version (spec §2)."),
    "tombstone.json": (Tombstone, "Signpost tombstone", "The payload of a deletion (spec §5.4)."),
    "envelope.json": (Envelope, "DSSE envelope", "A signed record or key-log entry (spec §3)."),
    "keylog-entry.json": (KeyLogEntry, "Signpost key-log entry", "The payload of a key-log entry (spec §4)."),
    "feed-page.json": (FeedPage, "Signpost RPDE feed page", "GET /feed (spec §6)."),
    "node-document.json": (NodeDocument, "Signpost node document", "GET /.well-known/signpost (spec §7)."),
}


def render_schemas() -> dict[str, str]:
    """Return ``{file name: JSON text}`` exactly as the committed files should read."""
    out: dict[str, str] = {}
    for name, (typ, title, description) in SCHEMA_TYPES.items():
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://signpost.example/spec/schemas/{name}",
            "title": title,
            "description": description,
        }
        schema.update(msgspec.json.schema(typ))
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def main() -> int:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
