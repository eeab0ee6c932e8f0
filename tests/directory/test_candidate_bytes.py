"""The bound on the online/phone candidate sets held per process counts their real bytes.

``CANDIDATE_CACHE_BYTES`` is only a bound if the estimate of a set's size is not below what the
set really holds: an estimate that undercounts lets the sets grow past it.
"""

from __future__ import annotations

import sys

from node.directory import search as search_module


def real_bytes(found: list[object]) -> int:
    """Bytes of the list, its candidates and every object they hold (each counted once)."""
    seen: set[int] = set()
    total = sys.getsizeof(found)
    for c in found:
        for o in (c, *(getattr(c, f) for f in c.__slots__)):  # type: ignore[attr-defined]
            if o is not None and id(o) not in seen:
                seen.add(id(o))
                total += sys.getsizeof(o)
    return total


def test_a_candidate_sets_estimated_size_is_at_least_its_real_bytes() -> None:
    parts = search_module.__dict__
    cand, size = parts["_Cand"], parts["_size"]
    # As SQLite gives rows: every string, number and float a separate object.
    for schedule, first in ((None, None), ('{"rrule":"FREQ=WEEKLY;BYDAY=SA"}', 1.8e9)):
        found = [
            cand(
                100_000 + i,
                f"Peer support group number {i}",
                "".join(["on", "line"]),
                51.5 + i * 1e-6,
                -0.1 - i * 1e-6,
                None if schedule is None else schedule + " " * (i % 2),
                -1.0 - i * 1e-6,
                None if first is None else first + i,
            )
            for i in range(5_000)
        ]
        assert size(found) >= real_bytes(found)
