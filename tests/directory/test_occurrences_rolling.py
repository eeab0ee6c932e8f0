"""The occurrences horizon rolls at the London day's turn (node.directory.occurrences).

The old horizon still covers the new day's searches, so they go on reading it while the new
far day is added a batch of listings at a time; only then does the meta claim the new days.
These tests pin that the rolled table is what a full refill gives, that "today", "tomorrow",
"this weekend" and "open now" answer exactly as the slow, exact path at every step (with writes
landing between batches), and that no listing becomes pending at the turn.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory.filters import parse_filters
from node.directory.occurrences import (
    Horizon,
    advance,
    drop_past,
    extend,
    fill_pending,
    horizon,
    refresh,
    stored_window,
)
from node.directory.schedule import LONDON
from node.directory.search import resolve_place, search
from node.storage.index import index_record, unindex
from node.storage.store import connect, init_schema, transaction
from protocol.records import Record

PUBLISHER = "sp1:" + "r" * 26
WHENS = ("today", "tomorrow", "this-weekend", "open-now")
_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_TIMES = [("10:00", "12:00"), ("18:30", "20:00"), ("22:00", "02:00"), ("23:00", "23:30"), (None, None)]


def _record(i: int, rev: int = 1, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "publisher": PUBLISHER,
        "id": f"r{i}",
        "rev": 1_700_000_000_000_000 + 1000 * i + rev,
        "updated": "2026-10-01T10:00:00Z",
        "kind": "group",
        "name": f"Listing {i:04d}",
        "delivery": "in_person",
        "status": "active",
        "location": {"type": "public", "name": "Hall", "area": "Leeds", "lat": "53.82", "lon": "-1.58"},
    }
    base.update(fields)
    return msgspec.convert(base, Record)


def _schedule(rng: random.Random, today: dt.date) -> dict[str, Any]:
    """Schedule shapes publishers write, many of them on the days either side of the seam (the old
    horizon's last day and the day the roll adds): overnight sessions, one-offs, moved sessions."""
    opens, closes = rng.choice(_TIMES)
    timed = {"opens": opens, "closes": closes} if opens else {}
    seam = today + dt.timedelta(days=7)  # the old horizon's last day, seen from the new day
    shape = rng.randrange(8)
    if shape == 0:
        return {"rules": [{"freq": "weekly", "byday": rng.sample(_DAYS, rng.randint(1, 7)), **timed}]}
    if shape == 1:
        start = today - dt.timedelta(days=rng.randint(0, 30))
        return {"rules": [{"freq": "weekly", "interval": 2, "starts": start.isoformat(), **timed}]}
    if shape == 2:
        return {"rules": [{"freq": "monthly", "byday": [f"{rng.choice(['1', '-1'])}{rng.choice(_DAYS)}"], **timed}]}
    if shape == 3:
        days = {seam + dt.timedelta(days=rng.randint(-9, 3)) for _ in range(rng.randint(1, 3))}
        return {"dates": [{"date": d.isoformat(), **timed} for d in sorted(days)]}
    if shape == 4:
        # A weekly session moved across the seam, either way.
        day = seam + dt.timedelta(days=rng.choice([-1, 0, 1, 2]))
        to = day + dt.timedelta(days=rng.choice([-2, -1, 1, 2]))
        moved = {"date": to.isoformat(), **({"opens": "21:00", "closes": "01:00"} if rng.random() < 0.5 else {})}
        return {
            "rules": [{"freq": "weekly", "byday": [_DAYS[day.weekday()]], **timed}],
            "exceptions": [{"date": day.isoformat(), "cancelled": False, "moved_to": moved}],
        }
    if shape == 5:
        # Every night across midnight, so one session straddles the seam itself.
        return {"rules": [{"freq": "weekly", "byday": _DAYS, "opens": "22:00", "closes": "03:00"}]}
    if shape == 6:
        return {"rules": [{"freq": "weekly", "byday": ["SA", "SU"]}], "not_on_bank_holidays": True}
    return {"text": "Times vary: get in touch"}


def _write(conns: tuple[sqlite3.Connection, ...], records: list[Record]) -> None:
    enc = msgspec.json.Encoder()
    for conn in conns:
        with transaction(conn):
            for r in records:
                index_record(conn, r, enc.encode(r).decode())


def _delete(conns: tuple[sqlite3.Connection, ...], i: int) -> None:
    for conn in conns:
        with transaction(conn):
            unindex(conn, PUBLISHER, f"r{i}")


def _ids(conn: sqlite3.Connection, when: str, now: dt.datetime, **params: str) -> tuple[int, list[str]]:
    filters = parse_filters({"when": when, **params})
    found = search(conn, filters, place=resolve_place(filters), now=now, limit=500)
    return found.total, [h.record.id for h in found.items]


def _rows(conn: sqlite3.Connection, after: int | None = None) -> collections.Counter[tuple[Any, ...]]:
    sql = "SELECT listing, start, end, kind, status, reviewed, days, loose, last_day FROM listing_occurrences"
    rows = conn.execute(sql + (" WHERE end > ?" if after is not None else ""), (after,) if after else ()).fetchall()
    return collections.Counter(rows)


def _pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0])


def _full_refill(conn: sqlite3.Connection, now: dt.datetime) -> tuple[collections.Counter[tuple[Any, ...]], Horizon]:
    """The table and horizon a refill from nothing gives (on this database: call it last)."""
    with transaction(conn):
        conn.execute("DELETE FROM meta WHERE key LIKE 'occurrences_%'")
    refresh(conn, now)
    h = horizon(conn)
    assert h is not None
    return _rows(conn), h


def _midnight(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=LONDON).timestamp())


@pytest.fixture
def pair(tmp_path: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    """The directory under test, and a copy of every write never filled: it answers the exact way."""
    conns = (connect(tmp_path / "rolled.db"), connect(tmp_path / "exact.db"))
    for c in conns:
        init_schema(c)
    return conns


def _agree(rolled: sqlite3.Connection, exact: sqlite3.Connection, moments: list[dt.datetime]) -> None:
    assert horizon(exact) is None
    for m in moments:
        for w in WHENS:
            assert stored_window(rolled, w, m) is not None, (w, m)  # the stored sessions answer
            assert _ids(rolled, w, m) == _ids(exact, w, m), (w, m)
        assert _ids(rolled, "this-weekend", m, near="LS6") == _ids(exact, "this-weekend", m, near="LS6"), m


# The day turns on: a Thursday; a Saturday whose added day is the one the clocks go back; a Monday,
# whose "this weekend" reaches furthest ahead.
TURNS = [
    dt.datetime(2026, 11, 26, 0, 5, tzinfo=LONDON),
    dt.datetime(2026, 10, 17, 0, 5, tzinfo=LONDON),
    dt.datetime(2026, 11, 30, 0, 5, tzinfo=LONDON),
]


@pytest.mark.parametrize("turn", TURNS, ids=["thursday", "clocks-change", "monday"])
def test_a_rolled_horizon_equals_a_full_refill_and_searches_stay_exact_at_every_step(
    pair: tuple[sqlite3.Connection, sqlite3.Connection], turn: dt.datetime
) -> None:
    rolled, exact = pair
    rng = random.Random(turn.toordinal())
    today = turn.date()
    n = 400
    _write(pair, [_record(i, schedule=_schedule(rng, today)) for i in range(n)])
    yesterday = turn - dt.timedelta(hours=2)
    refresh(rolled, yesterday)
    before = horizon(rolled)
    assert before is not None and before.last == today + dt.timedelta(days=7)
    moments = [turn, turn + dt.timedelta(hours=9), turn + dt.timedelta(hours=23, minutes=30)]

    with transaction(rolled):
        assert advance(rolled, turn)
    assert _pending(rolled) == 0  # nobody falls to the slow path at the turn
    assert horizon(rolled) == before  # the old days are claimed until the new one is everywhere
    _agree(rolled, exact, moments)

    # Extend in batches, with writes landing between them (each written listing is pending, and
    # some are filled before the roll ends, some after).
    added = (today + dt.timedelta(days=8)).isoformat()
    writes = [
        lambda: _write(
            pair,
            [
                _record(
                    n + 1, schedule={"rules": [{"freq": "weekly", "byday": _DAYS, "opens": "22:00", "closes": "03:00"}]}
                )
            ],
        ),
        # Behind the cursor, and the longest session of all, on the day the roll adds.
        lambda: _write(
            pair, [_record(3, rev=2, schedule={"dates": [{"date": added, "opens": "08:00", "closes": "07:00"}]})]
        ),
        lambda: _write(pair, [_record(390, rev=2, status="closed", schedule=_schedule(rng, today))]),
        lambda: _delete(pair, 5),
        lambda: _delete(pair, 395),
        lambda: _write(pair, [_record(200, rev=2, schedule=_schedule(rng, today))]),
        lambda: _write(pair, [_record(n + 2, schedule={"dates": [{"date": today.isoformat(), "opens": "09:00"}]})]),
    ]
    steps = 0
    while True:
        with transaction(rolled):
            done = extend(rolled, limit=37)
        if writes:
            writes.pop(0)()
        if steps % 3 == 1:
            with transaction(rolled):
                fill_pending(rolled)
        steps += 1
        if _pending(rolled) == 0:
            _agree(rolled, exact, moments)
        else:
            for w in WHENS:
                assert _ids(rolled, w, turn) == _ids(exact, w, turn), w
        if not done:
            break
    assert steps > 5 and not writes
    after = horizon(rolled)
    assert after is not None and (after.first, after.last) == (
        today - dt.timedelta(days=2),
        today + dt.timedelta(days=8),
    )
    with transaction(rolled):
        fill_pending(rolled)
    _agree(rolled, exact, moments)
    claimed = _rows(rolled, after=_midnight(after.first))  # the sessions the claimed days hold
    while True:
        with transaction(rolled):
            if not drop_past(rolled, limit=50):
                break
        _agree(rolled, exact, moments[:1])
    table = _rows(rolled)
    assert table == claimed
    full, full_horizon = _full_refill(rolled, turn)
    assert table == full
    assert after == full_horizon  # the longest session too
    assert any(start >= _midnight(before.last + dt.timedelta(days=1)) for _, start, *_ in table)


def test_no_listing_becomes_pending_at_the_days_turn(pair: tuple[sqlite3.Connection, sqlite3.Connection]) -> None:
    rolled, _ = pair
    turn = TURNS[0]
    rng = random.Random(1)
    _write((rolled,), [_record(i, schedule=_schedule(rng, turn.date())) for i in range(50)])
    refresh(rolled, turn - dt.timedelta(minutes=10))
    with transaction(rolled):
        advance(rolled, turn)
    assert _pending(rolled) == 0
    for w in WHENS:
        assert stored_window(rolled, w, turn) is not None, w
    refresh(rolled, turn)
    h = horizon(rolled)
    assert h is not None and h.last == turn.date() + dt.timedelta(days=8) and _pending(rolled) == 0


def test_a_node_down_longer_than_the_horizon_allows_fills_from_nothing_and_stays_exact(
    pair: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    rolled, exact = pair
    turn = TURNS[2]  # a Monday: this weekend reaches six days on
    rng = random.Random(2)
    _write(pair, [_record(i, schedule=_schedule(rng, turn.date())) for i in range(80)])
    refresh(rolled, turn - dt.timedelta(days=3))  # its horizon ends two days short of Sunday week
    with transaction(rolled):
        advance(rolled, turn)
    assert _pending(rolled) == 80  # the old days do not cover this weekend: every listing is checked exactly
    for w in WHENS:
        assert _ids(rolled, w, turn) == _ids(exact, w, turn), w
    refresh(rolled, turn)
    _agree(rolled, exact, [turn])


def test_a_roll_begun_again_when_the_day_turns_mid_roll_ends_as_a_full_refill(
    pair: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    rolled, exact = pair
    turn = TURNS[0]
    rng = random.Random(3)
    _write(pair, [_record(i, schedule=_schedule(rng, turn.date())) for i in range(120)])
    refresh(rolled, turn - dt.timedelta(hours=1))
    with transaction(rolled):
        advance(rolled, turn)
    for _ in range(2):
        with transaction(rolled):
            extend(rolled, limit=25)
    _write(
        pair,
        [
            _record(
                7, rev=2, schedule={"rules": [{"freq": "weekly", "byday": _DAYS, "opens": "20:00", "closes": "04:00"}]}
            )
        ],
    )
    later = turn + dt.timedelta(days=1)
    with transaction(rolled):
        assert advance(rolled, later)  # the next day, before the first roll finished: rolled again
    assert _pending(rolled) == 1
    _agree(rolled, exact, [later])  # the written listing checked the exact way
    refresh(rolled, later)
    _agree(rolled, exact, [later, later + dt.timedelta(hours=20)])
    table, h = _rows(rolled), horizon(rolled)
    assert (table, h) == _full_refill(rolled, later)


def test_the_longest_session_of_a_listing_filled_during_a_roll_bounds_the_new_horizon(
    pair: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    rolled, _ = pair
    turn = TURNS[0]
    hour = {"rules": [{"freq": "weekly", "byday": _DAYS, "opens": "10:00", "closes": "11:00"}]}
    _write(pair, [_record(i, schedule=hour) for i in range(30)])
    refresh(rolled, turn - dt.timedelta(hours=1))
    with transaction(rolled):
        advance(rolled, turn)
        extend(rolled, limit=10)
    # Behind the cursor: an all-day session on the day the roll adds, filled before the roll ends.
    added = (turn.date() + dt.timedelta(days=8)).isoformat()
    _write(pair, [_record(2, rev=2, schedule={"dates": [{"date": added}]})])
    with transaction(rolled):
        fill_pending(rolled)
    refresh(rolled, turn)
    h = horizon(rolled)
    assert h is not None and h.longest == 24 * 3600
    assert (_rows(rolled), h) == _full_refill(rolled, turn)


async def test_the_serve_job_rolls_the_horizon_at_the_days_turn(
    tmp_path: Path, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``signpost serve``'s occurrences job fills once, then at the day's turn fills nothing: it rolls."""
    from node.core.config import load_config
    from node.web import jobs
    from node.web.app import create_app
    from nodeutil import make_node

    node = make_node(tmp_path / "n")
    weekly = {"rules": [{"freq": "weekly", "byday": _DAYS, "opens": "22:00", "closes": "02:00"}]}
    node.publish([(f"g{i}", {"kind": "group", "name": f"Night group {i}", "schedule": weekly}) for i in range(12)])
    client = await aiohttp_client(create_app(load_config(node.directory), sync=False))
    turn = TURNS[0]
    monkeypatch.setattr(jobs, "now_us", lambda: int((turn - dt.timedelta(hours=1)).timestamp() * 1e6))
    assert await jobs.refresh_occurrences(client.server.app) == 12
    conn = connect(node.directory / "signpost.db")
    monkeypatch.setattr(jobs, "now_us", lambda: int(turn.timestamp() * 1e6))
    assert await jobs.refresh_occurrences(client.server.app) == 0  # nothing pending: rolled, not refilled
    h = horizon(conn)
    assert h is not None and (h.first, h.last) == (
        turn.date() - dt.timedelta(days=2),
        turn.date() + dt.timedelta(days=8),
    )
    assert _pending(conn) == 0
    assert _rows(conn) == _full_refill(conn, turn)[0]
