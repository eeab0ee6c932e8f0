"""The coordinator's explicit choice for meeting places a sheet does not mark, and what a plan changes in privacy.

A sheet with a venue or postcode column but no column saying which places are private
is read fail-closed: every meeting place shows only its area (the reader says how many in
``ImportBatch.venue_notice``).  The coordinator may choose otherwise, explicitly: "all
venues are public" or "show only areas" (``signpost import --venues``, the console
preview's choice, ``[import] venues`` for the published sheet).  The choice is kept per
source (the file's name or the sheet's URL, :mod:`node.storage.sources`) so the next
import of the same source makes it again, and every output says when that happened.

:func:`privacy_changes` compares what a plan would publish with what is published now, so
the console preview can show, above "Publish", which meeting places and contact details
become public or stop being public (spec §8; docs/architecture.md, a spreadsheet row →
plan → sign → feed).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final, Literal

from node.publishing.publisher import ImportPlan, own_contents
from node.storage.ledger import exposed
from node.storage.sources import Venues, remember_venues, remembered_venues

__all__ = [
    "CHOICE_WORDS",
    "VenuesChoice",
    "choose_venues",
    "keep_choice",
    "PrivacyChange",
    "privacy_changes",
]

# How each choice is said to a coordinator, in every output (CLI, console, sheet runs).
CHOICE_WORDS: Final[dict[str, str]] = {
    "public": "all venues are public",
    "private": "show only areas",
}


@dataclass(frozen=True)
class VenuesChoice:
    """The choice an import runs with: ``venues`` (None: the sheet decides, fail-closed), and where it came from."""

    source: str
    venues: Venues | None
    origin: Literal["given", "remembered", "none"]

    def line(self) -> str | None:
        """What to say at the top of the output about the choice, or None when none was made."""
        if self.venues is None:
            return None
        words = CHOICE_WORDS[self.venues]
        if self.origin == "remembered":
            other = "private" if self.venues == "public" else "public"
            return (
                f"Meeting places the sheet does not mark: {words!r}, as chosen at an earlier import of "
                f"{self.source} (choose '{CHOICE_WORDS[other]}' (--venues {other}) to change it)."
            )
        return f"Meeting places the sheet does not mark: {words!r}, as chosen for this import of {self.source}."


def choose_venues(conn: sqlite3.Connection, source: str, given: Venues | None) -> VenuesChoice:
    """The choice to read ``source`` with: the one ``given`` now, else the one remembered for it, else none."""
    if given is not None:
        return VenuesChoice(source, given, "given")
    remembered = remembered_venues(conn, source)
    if remembered is not None:
        return VenuesChoice(source, remembered, "remembered")
    return VenuesChoice(source, None, "none")


def keep_choice(conn: sqlite3.Connection, choice: VenuesChoice, *, at: int) -> None:
    """Remember a choice given now (inside the import's write transaction), for the next import of its source."""
    if choice.venues is not None and choice.origin == "given":
        remember_venues(conn, choice.source, choice.venues, at=at)


_WHAT: Final[dict[str, str]] = {
    "name": "meeting place",
    "address": "address",
    "postcode": "postcode",
    "contact_name": "contact name",
    "contact_email": "contact email",
    "contact_phone": "contact phone",
}


@dataclass(frozen=True)
class PrivacyChange:
    """One listing's details that become public (``shown``) or stop being public (``hidden``)."""

    id: str
    name: str
    row: int | None
    shown: list[tuple[str, str]]
    hidden: list[tuple[str, str]]


def _said(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    order = list(_WHAT)
    return [(_WHAT[k], v) for k, v in sorted(pairs, key=lambda kv: (order.index(kv[0]), kv[1]))]


def privacy_changes(conn: sqlite3.Connection, publisher: str, planned: ImportPlan) -> list[PrivacyChange]:
    """Which meeting places and contact details ``planned`` makes public, or stops making public.

    Compared with what this node publishes now (its live listings' payloads); a deleted
    listing stops publishing everything it showed.  Listings whose privacy does not change
    are left out.
    """
    current = own_contents(conn, publisher)
    out: list[PrivacyChange] = []
    for item in planned.items:
        if item.action == "unchanged":
            continue
        old = exposed(current.get(item.id, {}))
        new = set() if item.action == "delete" or item.listing is None else exposed(item.listing.fields)
        shown, hidden = new - old, old - new
        if shown or hidden:
            out.append(PrivacyChange(item.id, item.name or item.id, item.row, _said(shown), _said(hidden)))
    return out
