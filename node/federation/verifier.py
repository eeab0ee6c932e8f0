"""Checking feed items, in this process or on every core (issues 5 and 11).

Ed25519 verification and the strict payload decode are pure CPU work and
most of a pull's cost.  :func:`check_item` is the one definition of "is this
feed item acceptable"; :class:`Verifier` runs it over a page's items in
worker processes (forked from a fork server that has imported this module,
so no thread state is forked and the imports are shared) while the event
loop fetches the next page and the writer thread commits the previous one.
Small pages are checked in-process, where starting workers would cost more
than it saves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from node.storage.ledger import landing
from protocol import envelope as dsse
from protocol.errors import FromTheFuture, InvalidFeed, SignpostError, UnknownKey
from protocol.keylog import KeyLog, verify_keylog
from protocol.records import Tombstone
from protocol.verify import Opened, open_record

__all__ = ["ItemIn", "Outcome", "check_item", "check_batch", "Verifier", "POOL_THRESHOLD"]

# Fewer items than this per page are checked in-process.
POOL_THRESHOLD = 64


@dataclass(frozen=True)
class ItemIn:
    """One feed item to check: where it sits in its page, what it claims, and its envelope bytes."""

    index: int
    id: str
    kind: str
    state: str
    raw: bytes


# ("ok", index, Opened or, from a worker, Landing) | ("future", index, rev, message)
# | ("unknown" | "rejected", index, reason, message)
Outcome = tuple[Any, ...]


def check_item(item: ItemIn, keylog: KeyLog, *, now_us: int) -> Opened:
    """Verify one item's envelope and check it says what the item claims (spec §6.3)."""
    if item.state not in ("updated", "deleted"):
        raise InvalidFeed(f"unknown item state {item.state!r}")
    if not item.raw:
        raise InvalidFeed(
            "deleted item without a tombstone" if item.state == "deleted" else "updated item without data"
        )
    publisher, _, rid = item.id.partition("/")
    opened = open_record(dsse.decode_envelope(item.raw), keylog, now_us=now_us)
    v = opened.version
    if (v.publisher, v.id) != (publisher, rid) or v.kind != item.kind:
        raise InvalidFeed(f"item says {item.id} ({item.kind}) but the signed record is {v.publisher}/{v.id} ({v.kind})")
    if isinstance(v, Tombstone) != (item.state == "deleted"):
        raise InvalidFeed(f"item state {item.state!r} does not match the signed version")
    return opened


def check_batch(items: Iterable[ItemIn], keylogs: dict[str, KeyLog], *, now_us: int) -> list[Outcome]:
    out: list[Outcome] = []
    for item in items:
        publisher = item.id.partition("/")[0]
        try:
            opened = check_item(item, keylogs[publisher], now_us=now_us)
        except FromTheFuture as e:
            out.append(("future", item.index, e.rev, str(e)))
        except UnknownKey as e:
            out.append(("unknown", item.index, e.reason, str(e)))
        except SignpostError as e:
            out.append(("rejected", item.index, e.reason, str(e)))
        else:
            out.append(("ok", item.index, opened))
    return out


# -- worker processes ---------------------------------------------------------


def _die_with_parent(node: int) -> None:
    """Worker initializer: exit when the node process ``node`` exits, however it exits.

    A pool's workers otherwise outlive a SIGKILLed node (they wait on a queue
    their siblings still hold open).  A worker's parent is the fork server,
    which stays up while any worker holds its "node alive" pipe, so each
    worker watches the node itself: a watchdog thread checks it every half
    second, and Linux's PR_SET_PDEATHSIG covers the fork server dying.
    """
    import ctypes
    import gc
    import signal
    import threading
    import time

    gc.freeze()  # the collector never walks (so never copies) the pages shared with the fork server
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def gone() -> bool:
        try:
            os.kill(node, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    if gone():  # the node died before we got here
        os._exit(0)

    def watch() -> None:
        while True:
            if gone():
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])
_LOGS: dict[bytes, KeyLog] = {}  # per worker process: key logs already verified


def _worker_batch(
    logs: dict[str, bytes], batch: list[tuple[int, str, str, str, bytes]], now_us: int
) -> list[tuple[object, ...]]:
    """Runs in a worker: check a batch; each verified version comes back as its :class:`Landing`
    (its listings row made here, from the struct this worker decoded), so the pulling process
    never decodes a payload again."""
    keylogs = {}
    for publisher, data in logs.items():
        log = _LOGS.get(data)
        if log is None:
            log = _LOGS[data] = verify_keylog(_ENVELOPES.decode(data), publisher=publisher)
        keylogs[publisher] = log
    results: list[tuple[object, ...]] = []
    for outcome in check_batch((ItemIn(*b) for b in batch), keylogs, now_us=now_us):
        results.append(("ok", outcome[1], landing(outcome[2])) if outcome[0] == "ok" else outcome)
    return results


_ENCODE = msgspec.json.Encoder()


class Verifier:
    """Checks batches of items, on worker processes when a batch is big enough."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None or workers < 0 else workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # Workers are forked from a fork server (a fresh interpreter, so no thread state of this
            # process is forked) that has imported this module once: they share its imports' pages
            # instead of each importing everything again, as spawned workers did (~25 MB each).
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
            )
        return self._pool

    async def check(self, items: list[ItemIn], keylogs: dict[str, KeyLog], *, now_us: int) -> list[Outcome]:
        """Outcomes for ``items``, in any order (each carries its index)."""
        if self.workers <= 0 or len(items) < POOL_THRESHOLD:
            return check_batch(items, keylogs, now_us=now_us)
        logs = {p: _ENCODE.encode(log.chain) for p, log in keylogs.items()}
        rows = [(i.index, i.id, i.kind, i.state, i.raw) for i in items]
        size = -(-len(rows) // self.workers)
        loop = asyncio.get_running_loop()
        pool = self._executor()
        futures = [
            loop.run_in_executor(pool, _worker_batch, logs, rows[k : k + size], now_us)
            for k in range(0, len(rows), size)
        ]
        out: list[Outcome] = []
        for chunk in await asyncio.gather(*futures):
            out.extend(chunk)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
