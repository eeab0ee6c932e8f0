"""Jobs ``signpost serve`` runs beside the web app, in the one process that runs jobs.

The occurrences job keeps ``listing_occurrences`` (node.directory.occurrences) current: at
start and every :data:`OCCURRENCES_EVERY_S` it moves the horizon when the London day has
changed (rolling it a batch of listings at a time, so searches stay fast) and fills the listings
written since (by publishing, an import or the console; a sync fills its own pages as it commits
them).  In the same pass, and first, it moves the set of listings search does not show to the new
day (node.directory.unshown), which a search by words alone counts with.  Each batch is its own
short transaction on the writer thread, so readers and other writes never wait long
(docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from node.core.context import NODE, now_us
from node.directory import unshown
from node.directory.occurrences import advance, drop_past, extend, fill_pending

__all__ = ["RUNS_JOBS", "occurrences_ctx", "refresh_occurrences", "OCCURRENCES_EVERY_S"]

OCCURRENCES_EVERY_S: Final = 60.0
# False in the reader processes of ``signpost serve --workers N`` (node.web.workers): exactly one
# process pulls peers, imports the published sheet and runs the scheduled jobs.
RUNS_JOBS: Final = web.AppKey("runs_jobs", bool)
log = logging.getLogger(__name__)


async def refresh_occurrences(app: web.Application) -> int:
    """One pass: move the horizon and the unshown set if the day changed, then fill them; returns how
    many listings had their occurrences filled.  At the day's turn the occurrences horizon rolls: the
    new day is added in batches while searches go on reading the old days, then the past is dropped."""
    node = app[NODE]
    now = dt.datetime.fromtimestamp(now_us() / 1e6, dt.UTC)
    await node.store.write(unshown.advance, now)
    while await node.store.write(unshown.fill):
        pass
    await node.store.write(advance, now)
    filled = 0
    while n := await node.store.write(fill_pending):
        filled += n
    while await node.store.write(extend):
        pass
    while await node.store.write(drop_past):
        pass
    return filled


async def occurrences_ctx(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            try:
                await refresh_occurrences(app)
            except Exception:  # a failed pass leaves listings pending: searched the exact way, never wrong
                log.exception("refreshing listing occurrences failed")
            await asyncio.sleep(OCCURRENCES_EVERY_S)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
