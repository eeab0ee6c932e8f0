"""A listing whose schedule has ended leaves search and its page the day after its last date."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory.ending import last_day
from node.directory.filters import Filters
from node.directory.schedule import LONDON
from node.directory.search import search
from node.storage.store import connect
from nodeutil import NodeHandle, make_node
from protocol.records import Schedule

# (schedule as published, its last day) — the Python rule and the database's triggers must agree.
SCHEDULES: list[tuple[dict[str, Any] | None, str | None]] = [
    (None, None),
    ({"text": "Ask us"}, None),
    ({"dates": [{"date": "2026-12-05", "opens": "10:00"}]}, "2026-12-05"),
    ({"dates": [{"date": "2027-01-20"}, {"date": "2027-01-27"}, {"date": "2027-01-06"}]}, "2027-01-27"),
    ({"rules": [{"freq": "weekly", "byday": ["TU"]}]}, None),
    ({"rules": [{"freq": "weekly", "byday": ["TU"], "until": "2026-12-15"}]}, "2026-12-15"),
    (
        {"rules": [{"freq": "weekly", "byday": ["TU"], "until": "2026-12-15"}, {"freq": "monthly", "bymonthday": [1]}]},
        None,
    ),
    (
        {
            "rules": [{"freq": "weekly", "byday": ["MO"], "until": "2026-12-14"}],
            "exceptions": [{"date": "2026-12-14", "cancelled": False, "moved_to": {"date": "2026-12-18"}}],
        },
        "2026-12-18",
    ),
    (
        {"dates": [{"date": "2026-12-01"}], "rules": [{"freq": "weekly", "byday": ["FR"], "until": "2026-11-30"}]},
        "2026-12-01",
    ),
]


@pytest.fixture
def node(tmp_path: Path) -> NodeHandle:
    return make_node(tmp_path / "n", "Ending")


@pytest.fixture
def conn(node: NodeHandle) -> Iterator[sqlite3.Connection]:
    c = connect(node.directory / "signpost.db")
    yield c
    c.close()


def event(i: int, schedule: dict[str, Any] | None, kind: str = "event") -> tuple[str, dict[str, Any]]:
    fields: dict[str, Any] = {"kind": kind, "name": f"Listing {i}", "summary": "Peer support"}
    if schedule is not None:
        fields["schedule"] = schedule
    return f"listing-{i}", fields


def test_the_database_and_python_agree_on_each_schedules_last_day(node: NodeHandle, conn: sqlite3.Connection) -> None:
    node.publish([event(i, s) for i, (s, _) in enumerate(SCHEDULES)])
    held = dict(conn.execute("SELECT id, last_day FROM listing_ends").fetchall())
    for i, (schedule, expect) in enumerate(SCHEDULES):
        decoded = msgspec.convert(schedule, type=Schedule) if schedule is not None else None
        python = last_day(decoded)
        assert (python.isoformat() if python else None) == expect, schedule
        assert held.get(f"listing-{i}") == expect, schedule


def ids_found(conn: sqlite3.Connection, day: dt.date, hour: int = 12) -> set[str]:
    now = dt.datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)
    return {h.record.id for h in search(conn, Filters(), place=None, now=now, limit=100).items}


def test_a_past_event_leaves_search_the_day_after_it_ends(node: NodeHandle, conn: sqlite3.Connection) -> None:
    node.publish(
        [
            event(1, {"dates": [{"date": "2026-12-05", "opens": "10:00", "closes": "15:00"}]}),
            event(2, {"rules": [{"freq": "weekly", "byday": ["TU"], "until": "2026-12-15"}]}, kind="group"),
            event(3, {"rules": [{"freq": "weekly", "byday": ["TU"]}]}, kind="group"),
            event(4, None, kind="resource"),
        ]
    )
    assert ids_found(conn, dt.date(2026, 12, 5), hour=23) == {"listing-1", "listing-2", "listing-3", "listing-4"}
    assert ids_found(conn, dt.date(2026, 12, 6), hour=0) == {"listing-2", "listing-3", "listing-4"}
    assert ids_found(conn, dt.date(2026, 12, 15)) == {"listing-2", "listing-3", "listing-4"}
    assert ids_found(conn, dt.date(2026, 12, 16)) == {"listing-3", "listing-4"}
    # Changing the dates brings it back: the triggers follow the new version.
    node.publish([event(1, {"dates": [{"date": "2027-01-09"}]})])
    assert "listing-1" in ids_found(conn, dt.date(2026, 12, 16))


def test_matches_agrees_with_search_on_ended_listings_so_slices_and_embeds_drop_them_too(
    node: NodeHandle, conn: sqlite3.Connection
) -> None:
    """``filters.matches`` decides slice feeds and embeds: it must hide what search hides."""
    from node.directory.filters import matches
    from protocol.records import Record

    node.publish(
        [
            event(1, {"dates": [{"date": "2026-12-05", "opens": "10:00", "closes": "15:00"}]}),
            event(3, {"rules": [{"freq": "weekly", "byday": ["TU"]}]}, kind="group"),
        ]
    )
    rows = conn.execute("SELECT payload FROM listings WHERE publisher = ?", (node.publisher,)).fetchall()
    records = {r.id: r for r in (msgspec.json.decode(p, type=Record) for (p,) in rows)}
    for day, hour in ((dt.date(2026, 12, 5), 23), (dt.date(2026, 12, 6), 0), (dt.date(2027, 1, 10), 12)):
        now = dt.datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)
        matched = {rid for rid, rec in records.items() if matches(rec, Filters(), place=None, now=now)}
        assert matched == ids_found(conn, day, hour) & set(records), day
