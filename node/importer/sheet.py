"""A published sheet as a source: fetch ``[import] sheet_url`` on a schedule and import it.

What Google Sheets' "publish to web" gives is a CSV at a fixed URL.  The node
fetches it (https only, unless the host is this machine; size and time
limited), reads it with the same importer as ``signpost import FILE`` and
applies the plan with the same rules: rows add or change listings, nothing
is deleted (there is no ``--replace`` for a sheet that may be half-edited
when fetched).  The rows go through the one import pipeline
(:mod:`node.importer.pipeline`: read, plan, apply).  Each run's outcome (time,
counts, rejected rows, or why the fetch failed) is kept in the local
``sheet_runs`` table (:mod:`node.storage.sheets`) for the console.

Meeting places the sheet does not mark as public or private are read as
``[import] venues`` says, else as last chosen for this sheet's URL, else area
only (:mod:`node.importer.venues`); the setting is remembered for the URL, and
each run's notes start with the choice and the reader's notice about it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from node.core.addresses import is_loopback
from node.core.context import NODE, Node, now_us
from node.core.errors import NodeError
from node.importer import ImportBatch, UnreadableFile
from node.importer.pipeline import apply, plan_batch, read
from node.importer.venues import VenuesChoice, choose_venues, keep_choice
from node.storage.sheets import SheetRunRow, recent_sheet_runs, record_sheet_run

__all__ = [
    "MAX_SHEET_BYTES",
    "SHEET_TIMEOUT",
    "FIRST_FETCH_DELAY",
    "SheetRun",
    "SheetError",
    "check_sheet_url",
    "fetch_sheet",
    "run_sheet_import",
    "last_runs",
    "sheet_ctx",
]

MAX_SHEET_BYTES: Final = 16 * 1024 * 1024
SHEET_TIMEOUT: Final = 60.0
FIRST_FETCH_DELAY: Final = 2.0  # seconds after startup, so a restarted node catches up at once


class SheetError(NodeError):
    """The published sheet could not be fetched or read; the message says why, for the console."""


@dataclass
class SheetRun:
    url: str
    at: int
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)


def check_sheet_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    raise SheetError(
        f"the sheet address {url!r} must start with https://",
        hint="in Google Sheets use File → Share → Publish to web, choose CSV, and copy that link into [import] sheet_url",
    )


async def fetch_sheet(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    *,
    max_bytes: int = MAX_SHEET_BYTES,
    timeout: float = SHEET_TIMEOUT,
) -> None:
    """Download ``url`` to ``dest``, refusing anything over ``max_bytes`` or slower than ``timeout``."""
    url = check_sheet_url(url)
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=True, max_redirects=5
        ) as resp:
            if resp.status != 200:
                raise SheetError(
                    f"the sheet address answered {resp.status} {resp.reason or ''}".strip(),
                    hint="check the link still works in a private browser window",
                )
            if resp.url.scheme != "https" and not is_loopback(resp.url.host or ""):
                raise SheetError("the sheet address redirected to a page that is not https")
            size = 0
            with dest.open("wb") as out:
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > max_bytes:
                        raise SheetError(
                            f"the sheet is larger than {max_bytes // (1024 * 1024)} MB, so it was not imported"
                        )
                    out.write(chunk)
    except TimeoutError as e:
        raise SheetError(f"the sheet took longer than {int(timeout)} seconds to download") from e
    except aiohttp.ClientError as e:
        raise SheetError(f"the sheet could not be downloaded ({e.__class__.__name__}: {e})") from e


def _record(conn: sqlite3.Connection, run: SheetRun) -> None:
    c = run.counts
    record_sheet_run(
        conn,
        SheetRunRow(
            url=run.url,
            at=run.at,
            ok=run.ok,
            added=c.get("add", 0),
            changed=c.get("change", 0),
            unchanged=c.get("unchanged", 0),
            rejected=c.get("rejected", 0),
            error=run.error,
            problems=run.problems,
        ),
    )


async def run_sheet_import(node: Node, url: str | None = None) -> SheetRun:
    """Fetch the sheet, import it (adds and changes only) and record the outcome; never raises for a bad sheet."""
    url = url or node.config.import_.sheet_url
    if not url:
        raise SheetError("no published sheet is set", hint="add sheet_url under [import] in signpost.toml")
    assert node.session is not None
    run = SheetRun(url=url, at=int(time.time()), ok=False)
    setting = node.config.import_.venues
    choice: VenuesChoice = await node.store.read(lambda conn: choose_venues(conn, url, setting))
    with tempfile.TemporaryDirectory(prefix="signpost-sheet-") as tmp:
        path = Path(tmp) / "sheet.csv"
        try:
            await fetch_sheet(node.session, url, path)
            batch: ImportBatch = await asyncio.to_thread(lambda: read(path, venues=choice.venues))
        except (SheetError, UnreadableFile) as e:
            run.error = str(e)
            await node.store.write(_record, run)
            return run
    notices = [line for line in (choice.line(), batch.venue_notice) if line]

    def write(conn: sqlite3.Connection) -> dict[str, int]:
        plan = plan_batch(conn, node.publisher, batch, replace=False)
        apply(conn, node.config.directory, node.publisher, plan, now_us=now_us())
        counts = plan.counts()
        counts["rejected"] = len(batch.errors)
        run.counts = counts
        run.ok = True
        run.problems = [{"row": None, "column": None, "severity": "notice", "message": line} for line in notices] + [
            {"row": p.row, "column": p.column, "severity": p.severity, "message": p.message}
            for p in batch.problems[:200]
        ]
        keep_choice(conn, choice, at=run.at)
        _record(conn, run)
        return counts

    try:
        await node.store.write(write)
    except NodeError as e:
        run.ok, run.error = False, str(e)
        await node.store.write(_record, run)
    return run


def last_runs(conn: sqlite3.Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The newest runs as the console shows them (time in UTC words), newest first."""
    return [
        {
            "url": r.url,
            "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(r.at)),
            "ok": r.ok,
            "added": r.added,
            "changed": r.changed,
            "unchanged": r.unchanged,
            "rejected": r.rejected,
            "error": r.error,
            "problems": r.problems,
        }
        for r in recent_sheet_runs(conn, limit)
    ]


async def sheet_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fetch the published sheet every ``[import] sheet_interval`` seconds (apscheduler), if one is set."""
    node = app[NODE]
    url = node.config.import_.sheet_url
    if not url:
        yield
        return
    check_sheet_url(url)
    import datetime as dt

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        run_sheet_import,
        "interval",
        args=[node],
        id="sheet",
        seconds=node.config.import_.sheet_interval,
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=FIRST_FETCH_DELAY),
    )
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
