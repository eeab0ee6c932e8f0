"""Polling peers inside ``signpost serve``: each on its own interval, with jitter (apscheduler).

The schedule lives in the app's ``cleanup_ctx`` (house style §5), so it
starts and stops with the app; tests call ``sync_once`` instead of waiting
for a timer.  A peer is only pulled when its back-off has ended.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import AsyncIterator

from aiohttp import web

from node.core.context import NODE, now_us
from node.federation.sync import Syncer
from node.storage.peers import peer_is_due, peer_urls

__all__ = ["scheduler_ctx", "REFRESH_S"]

REFRESH_S = 15  # how often the list of followed peers is read again


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Poll each peer on its own interval with jitter (apscheduler), inside ``signpost serve``."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    node = app[NODE]
    syncer = Syncer(node)
    node.syncer = syncer
    cfg = node.config.sync
    if not cfg.enabled:
        yield
        return
    scheduler = AsyncIOScheduler()
    scheduled: set[str] = set()

    async def poll(url: str) -> None:
        if await node.store.read(functools.partial(peer_is_due, now_us=now_us()), url):
            await syncer.pull(url)

    async def refresh_jobs() -> None:
        urls = set(await node.store.read(peer_urls))
        for url in urls - scheduled:
            scheduler.add_job(
                poll,
                "interval",
                args=[url],
                id=url,
                seconds=cfg.interval,
                jitter=cfg.interval * cfg.jitter,
                max_instances=1,
                coalesce=True,
                next_run_time=None,
            )
            scheduler.get_job(url).modify(next_run_time=_soon(cfg.interval * cfg.jitter))
            scheduled.add(url)
        for url in scheduled - urls:
            scheduler.remove_job(url)
            scheduled.discard(url)
        await syncer.retry_quarantine()

    scheduler.add_job(
        refresh_jobs,
        "interval",
        seconds=REFRESH_S,
        id="refresh",
        max_instances=1,
        coalesce=True,
        next_run_time=_soon(0),
    )
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        for task in list(syncer.running.values()):
            task.cancel()
        syncer.close()


def _soon(spread: float) -> dt.datetime:
    """A first run within ``spread`` seconds (at most 5), so peers are not all polled at once."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=random.uniform(0, min(spread, 5.0)))
