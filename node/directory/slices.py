"""Filtered slices of the feed (spec §6.5): which records are in a slice, and what a slice page says.

A slice is the full feed seen through a filter.  Every change in the full
feed appears in the slice at the same change number, so a slice pages exactly
like the feed and costs one extra read per item:

- a live record that matches the slice now is sent ``updated``, with its data;
- a tombstone is sent ``deleted`` with the signed tombstone (the publisher deleted it);
- a live record that does not match is sent ``deleted`` *without* a tombstone:
  "this record left this slice" (or was never in it).  A follower that applies
  the slice therefore ends with exactly the records matching it now, whatever
  it held before: a record that moved away, changed kind or closed is removed
  by the same item that announces its change.

Membership must depend only on the record, or a record could drift in or out
of a slice with no change in the feed to say so.  So ``when`` (a time window)
is refused, and the search pages' age rule (hide listings not checked for a
year) is not applied: it is a display rule that depends on today's date.
Closed listings never match.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import msgspec

from node.directory.filters import FILTER_PARAMS, FilterError, Filters, matches, parse_filters
from node.directory.geo import Place
from node.directory.search import resolve_place
from protocol.records import Record

__all__ = ["SLICE_PARAMS", "Slice", "SliceRow", "parse_slice", "in_slice", "slice_rows"]

SLICE_PARAMS: Final = FILTER_PARAMS - {"when"}
# ``matches`` reads the clock only for ``when`` (refused here) and the age rule,
# which slices leave out by judging the record without its ``reviewed`` date.
_ANY_TIME: Final = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_RECORD = msgspec.json.Decoder(Record)


@dataclass(frozen=True)
class Slice:
    """A parsed slice: its filters and the resolved place (when ``near`` is set)."""

    filters: Filters
    place: Place | None


@dataclass(frozen=True)
class SliceRow:
    """One feed change as a slice sees it: ``data`` for members, ``tombstone`` for deletions, neither for leavers."""

    change: int
    publisher: str
    id: str
    kind: str
    data: bytes | None
    tombstone: bytes | None


def parse_slice(params: Mapping[str, str]) -> Slice:
    """The slice named by query parameters; raises :class:`FilterError` (400) for ``when`` or a bad value."""
    if any(str(v).strip() for v in _all(params, "when")):
        raise FilterError(
            "when",
            "a slice cannot be limited to a time, because a record would join or leave it without any change to the record",
            hint="leave out when=; filter by dates in your own code with each record's schedule",
        )
    filters = parse_filters(params)
    return Slice(filters, resolve_place(filters))


def _all(params: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(params, "getall", None)
    if getall is not None:
        return [str(v) for v in getall(name, [])]
    return [str(params[name])] if name in params else []


def in_slice(record: Record, sl: Slice) -> bool:
    """Whether ``record`` belongs to the slice: the search filters, judged on the record alone."""
    return matches(msgspec.structs.replace(record, reviewed=None), sl.filters, place=sl.place, now=_ANY_TIME)


def slice_rows(conn: sqlite3.Connection, sl: Slice, after: int, limit: int) -> list[SliceRow]:
    """The next ``limit`` changes after ``after``, as the slice reports them (same numbers as the full feed)."""
    out: list[SliceRow] = []
    for change, publisher, rid, kind, deleted, envelope, payload in conn.execute(
        "SELECT v.change, v.publisher, v.id, v.kind, v.deleted, v.envelope, l.payload FROM versions v "
        "LEFT JOIN listings l ON l.publisher = v.publisher AND l.id = v.id "
        "WHERE v.change > ? ORDER BY v.change LIMIT ?",
        (after, limit),
    ):
        if deleted:
            out.append(SliceRow(change, publisher, rid, kind, None, bytes(envelope)))
        elif payload is not None and in_slice(_RECORD.decode(payload), sl):
            out.append(SliceRow(change, publisher, rid, kind, bytes(envelope), None))
        else:
            out.append(SliceRow(change, publisher, rid, kind, None, None))
    return out
