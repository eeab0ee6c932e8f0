"""Events that retire on their own: this node tombstones its own listings some time after they end.

The rules (docs/architecture.md, publishing; DESIGN.md "Deletion is a version"):

- A listing *ends* when every part of its schedule is bounded (one-off dates, moved
  sessions, rules with ``until``); its last day is the latest of those
  (:func:`node.directory.ending.last_day`).  From the next day search and the public
  pages leave it out, on every node, whoever published it.
- Filtering is not deletion (RPDE's guidance): copies downstream would keep a stale
  version for ever.  So once ``[publishing] retire_after_days`` (default 30) whole days
  have passed after the last day, the publisher signs a tombstone for it, which travels
  through every follower like any deletion.  Only the publisher can do this; an
  aggregator hides other networks' ended listings but never retires them.
- What the listing said (and a private group's meeting place, which stays local) is kept
  in the local ``retired`` table, so the console can show what retired and bring one
  back: :func:`restore` publishes it again as a new version with a new ``rev``.  A
  listing brought back is not retired again until its dates change (a coordinator
  usually restores one to correct its dates, or to keep it on show a little longer).

:func:`retire_due` runs on a schedule (:func:`retirement_ctx`, apscheduler, every
:data:`RUN_EVERY_S` seconds and soon after start); tests call it with their own ``now``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from aiohttp import web

from node.core.context import NODE, now_us
from node.core.errors import NotFound
from node.directory.schedule import LONDON
from node.publishing.publisher import ListingIn, delete, load_identity, publish
from node.storage.own import private_place
from node.storage.retired import Ended, ended_own, mark_restored, remember_retired, retired_row

__all__ = ["Retired", "retire_due", "restore", "cutoff", "retirement_ctx", "RUN_EVERY_S"]

log = logging.getLogger(__name__)
RUN_EVERY_S: Final = 3600.0
FIRST_RUN_DELAY_S: Final = 5.0
_DECODE = msgspec.json.Decoder(dict[str, Any])
_VOLATILE: Final = ("publisher", "id", "rev", "updated", "deleted")


@dataclass(frozen=True)
class Retired:
    id: str
    name: str
    last_day: str


def cutoff(now: dt.datetime, retire_after_days: int) -> str:
    """The ISO date a listing's last day must be before to be retired at ``now`` (London days)."""
    today = now.astimezone(LONDON).date()
    return (today - dt.timedelta(days=retire_after_days)).isoformat()


def retire_due(
    conn: sqlite3.Connection, directory: Any, publisher: str, *, now: dt.datetime, retire_after_days: int
) -> list[Retired]:
    """Tombstone this node's listings that ended more than ``retire_after_days`` days before ``now``.

    Runs inside a write transaction: each listing's content is kept in ``retired`` and its
    tombstone stored in the same transaction, so a crash leaves both or neither.
    """
    due: list[Ended] = ended_own(conn, publisher, cutoff(now, retire_after_days))
    if not due:
        return []
    ident = load_identity(directory, conn, publisher)
    stamp = int(now.timestamp() * 1_000_000)
    out = []
    for ended in due:
        remember_retired(conn, ended, private_place(conn, ended.id), retired_at=stamp)
        # The rev comes from the real clock (spec §5.1): a follower quarantines a rev from its future.
        delete(conn, ident, ended.id, now_us=now_us())
        out.append(Retired(ended.id, ended.name, ended.last_day))
    return out


def restore(conn: sqlite3.Connection, directory: Any, publisher: str, record_id: str, *, now: dt.datetime) -> str:
    """Publish a retired listing again as a new version (new ``rev``); return its name."""
    row = retired_row(conn, record_id)
    if row is None or row.restored_at is not None:
        raise NotFound(f"this node has not retired a listing with id {record_id!r}")
    fields = {k: v for k, v in _DECODE.decode(row.payload).items() if k not in _VOLATILE}
    ident = load_identity(directory, conn, publisher)
    stamp = int(now.timestamp() * 1_000_000)
    publish(conn, ident, [ListingIn(record_id, fields, private_place=row.place)], now_us=now_us())
    mark_restored(conn, record_id, at=stamp)
    return row.name


async def retirement_ctx(app: web.Application) -> AsyncIterator[None]:
    """Retire ended listings every :data:`RUN_EVERY_S` seconds inside ``signpost serve`` (apscheduler)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    node = app[NODE]
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731

    async def run() -> None:
        days = node.config.publishing.retire_after_days
        done = await node.store.write(
            lambda conn: retire_due(conn, node.config.directory, node.publisher, now=clock(), retire_after_days=days)
        )
        for r in done:
            log.info("retired %s (%s): its last date was %s", r.id, r.name, r.last_day)

    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        run,
        "interval",
        id="retire",
        seconds=RUN_EVERY_S,
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=FIRST_RUN_DELAY_S),
    )
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
