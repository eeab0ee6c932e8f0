"""The merge rule: which version of one record wins (spec §5.2).

For one ``(publisher, id)`` the highest ``rev`` wins; equal ``rev`` with
different bytes is broken by the lower SHA-256 of the PAE and reported as
equivocation.  The rule is a total order on versions, so merging is
commutative, associative and idempotent: nodes that saw the same versions
hold the same winners whatever order they arrived in.  Tombstones are
versions like any other.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Held", "Outcome", "Decision", "decide", "MERGE_TABLE", "winners"]


@dataclass(frozen=True, order=True)
class Held:
    """What the merge rule needs to know of a version: its ``rev`` and PAE digest."""

    rev: int
    digest: bytes


class Outcome(enum.Enum):
    NEW = "new"  # nothing held: store it
    REPLACES = "replaces"  # it beats what is held: store it, move it to the feed's end
    SAME = "same"  # byte-identical to what is held: nothing to do
    LOSES = "loses"  # what is held beats it: nothing to do


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    equivocation: bool = False

    @property
    def store(self) -> bool:
        return self.outcome in (Outcome.NEW, Outcome.REPLACES)


# The rule as a table a reader can scan: (rev comparison, digest comparison) -> decision.
# "lt" means incoming < held.
MERGE_TABLE: dict[tuple[str, str], Decision] = {
    ("gt", "*"): Decision(Outcome.REPLACES),
    ("lt", "*"): Decision(Outcome.LOSES),
    ("eq", "eq"): Decision(Outcome.SAME),
    ("eq", "lt"): Decision(Outcome.REPLACES, equivocation=True),
    ("eq", "gt"): Decision(Outcome.LOSES, equivocation=True),
}


def _cmp(a: int | bytes, b: int | bytes) -> str:
    return "lt" if a < b else "gt" if a > b else "eq"  # type: ignore[operator]


def decide(held: Held | None, incoming: Held) -> Decision:
    """Decide what to do with ``incoming`` given what is ``held`` for the same record."""
    if held is None:
        return Decision(Outcome.NEW)
    rev = _cmp(incoming.rev, held.rev)
    if rev != "eq":
        return MERGE_TABLE[(rev, "*")]
    return MERGE_TABLE[(rev, _cmp(incoming.digest, held.digest))]


K = TypeVar("K")


def winners(versions: Iterable[tuple[K, Held]]) -> dict[K, Held]:
    """Fold a sequence of ``(key, version)`` pairs with :func:`decide`."""
    state: dict[K, Held] = {}
    for key, v in versions:
        if decide(state.get(key), v).store:
            state[key] = v
    return state
