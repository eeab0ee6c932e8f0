"""What ``signpost status`` and the ``/status`` page show: peers, counts, stale listings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from node.storage.store import get_meta

__all__ = ["read_status", "render_status", "STALE_DAYS", "HIDDEN_DAYS"]

STALE_DAYS = 183  # "may be out of date"
HIDDEN_DAYS = 365  # hidden from search unless the coordinator chose otherwise


def _when(us: int | None) -> str | None:
    if not us:
        return None
    return dt.datetime.fromtimestamp(us / 1e6, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def read_status(conn: sqlite3.Connection, *, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    publisher = get_meta(conn, "publisher")
    peers = []
    for url, pub, name, last_success, last_error, failures, merged, rejected, retry_at in conn.execute(
        "SELECT url, publisher, name, last_success, last_error, failures, merged, rejected, retry_at FROM peers ORDER BY url"
    ):
        held = conn.execute("SELECT count(*) FROM versions WHERE via = ? AND deleted = 0", (url,)).fetchone()[0]
        recent = [
            {"item": item, "reason": reason, "detail": detail, "at": _when(at)}
            for item, reason, detail, at in conn.execute(
                "SELECT item, reason, detail, at FROM peer_log WHERE peer = ? ORDER BY rowid DESC LIMIT 5", (url,)
            )
        ]
        peers.append(
            {
                "url": url, "publisher": pub, "name": name, "last_success": _when(last_success),
                "last_error": last_error, "failures": failures, "records_held": held, "merged": merged,
                "rejected": rejected, "next_retry": _when(retry_at), "recent_rejections": recent,
            }
        )
    own = conn.execute("SELECT count(*) FROM listings WHERE publisher = ?", (publisher,)).fetchone()[0]
    total = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    tombstones = conn.execute("SELECT count(*) FROM versions WHERE deleted = 1").fetchone()[0]
    publishers = conn.execute("SELECT count(DISTINCT publisher) FROM versions").fetchone()[0]
    stale_cut = (today - dt.timedelta(days=STALE_DAYS)).isoformat()
    stale = [
        {"id": rid, "name": name, "reviewed": reviewed}
        for rid, name, reviewed in conn.execute(
            "SELECT id, name, reviewed FROM listings WHERE publisher = ? AND (reviewed IS NULL OR reviewed < ?) ORDER BY reviewed NULLS FIRST, name",
            (publisher, stale_cut),
        )
    ]
    quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    return {
        "publisher": publisher,
        "counts": {"own_listings": own, "listings": total, "tombstones": tombstones, "publishers": publishers, "quarantined": quarantined},
        "peers": peers,
        "stale": stale,
    }


def render_status(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [
        f"Publisher {report['publisher']}",
        f"{c['own_listings']} own listing(s); {c['listings']} listing(s) in the directory from {c['publishers']} publisher(s); "
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
    if report["stale"]:
        lines.append(f"{len(report['stale'])} listing(s) not checked for over 6 months (may be out of date):")
        for s in report["stale"]:
            lines.append(f"  {s['id']}: {s['name']} (last checked {s['reviewed'] or 'never'})")
    return "\n".join(lines)
