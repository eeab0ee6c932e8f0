"""What ``signpost status`` and the ``/status`` page show: peers, counts, stale listings, key-log forks.

A key-log fork (two valid entries after the same one, spec §4.3) is resolved
by the fork rule without anyone's help, but it means someone holding a
recovery key signed a competing history: the coordinator must hear of it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from node.directory.freshness import STALE_DAYS
from node.storage.ledger import keylog_forks
from node.storage.peers import holdings, peer_rows, recent_rejections, records_via, stale_listings
from node.storage.store import get_meta

__all__ = ["read_status", "render_status"]


def _when(us: int | None) -> str | None:
    if not us:
        return None
    return dt.datetime.fromtimestamp(us / 1e6, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def read_status(conn: sqlite3.Connection, *, today: dt.date | None = None) -> dict[str, Any]:
    """The status report as plain data (``signpost status --json`` prints it as it is)."""
    today = today or dt.date.today()
    publisher = get_meta(conn, "publisher")
    peers = [
        {
            "url": p.url,
            "publisher": p.publisher,
            "name": p.name,
            "last_success": _when(p.last_success),
            "last_error": p.last_error,
            "failures": p.failures,
            "records_held": records_via(conn, p.url),
            "merged": p.merged,
            "rejected": p.rejected,
            "next_retry": _when(p.retry_at),
            "recent_rejections": [
                {"item": r.item, "reason": r.reason, "detail": r.detail, "at": _when(at)}
                for r, at in recent_rejections(conn, p.url)
            ],
        }
        for p in peer_rows(conn)
    ]
    held = holdings(conn, publisher)
    stale_cut = (today - dt.timedelta(days=STALE_DAYS)).isoformat()
    stale = [
        {"id": rid, "name": name, "reviewed": reviewed}
        for rid, name, reviewed in stale_listings(conn, publisher, reviewed_before=stale_cut)
    ]
    forks = [
        {
            "publisher": f.publisher,
            "own": f.publisher == publisher,
            "kept": f.kept,
            "dropped": f.dropped,
            "seen": _when(f.seen_us),
        }
        for f in keylog_forks(conn)
    ]
    return {
        "publisher": publisher,
        "key_log_forks": forks,
        "counts": {
            "own_listings": held.own_listings,
            "listings": held.listings,
            "tombstones": held.tombstones,
            "publishers": held.publishers,
            "quarantined": held.quarantined,
        },
        "peers": peers,
        "stale": stale,
    }


def render_status(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [
        f"Publisher {report['publisher']}",
        f"{c['own_listings']} own listing(s); {c['listings']} listing(s) in the directory"
        f" from {c['publishers']} publisher(s); "
        f"{c['tombstones']} deletion(s) kept; {c['quarantined']} version(s) held until their date arrives",
    ]
    if report["peers"]:
        lines.append("Peers:")
        for p in report["peers"]:
            state = "ok" if not p["last_error"] else f"FAILING ({p['failures']}x): {p['last_error']}"
            lines.append(
                f"  {p['url']}  {p['name'] or ''}  last success {p['last_success'] or 'never'}  "
                f"{p['records_held']} held, {p['rejected']} rejected  {state}"
            )
            for r in p["recent_rejections"]:
                lines.append(f"      rejected {r['item']}: {r['reason']}: {r['detail']}")
    else:
        lines.append("Not following any peers.")
    for f in report.get("key_log_forks", []):
        whose = "THIS NODE's key log" if f["own"] else f"the key log of {f['publisher']}"
        lines.append(
            f"Warning: {whose} forked (seen {f['seen']}): the fork rule kept entry {f['kept'][:16]} and dropped "
            f"{f['dropped'][:16]}; someone holding a recovery key signed a competing history."
        )
    if report["stale"]:
        lines.append(f"{len(report['stale'])} listing(s) not checked for over 6 months (may be out of date):")
        for s in report["stale"]:
            lines.append(f"  {s['id']}: {s['name']} (last checked {s['reviewed'] or 'never'})")
    return "\n".join(lines)
