"""What an import produces: listings ready to publish, the private places kept at home, and problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["PrivatePlace", "Listing", "Problem", "ImportBatch"]


@dataclass(frozen=True)
class PrivatePlace:
    """A private group's real meeting place: stored on the node only, never published."""

    venue: str | None
    address: str | None
    postcode: str | None


@dataclass
class Listing:
    """One row's record content.

    ``fields`` is exactly what a ``protocol.records.Record`` holds minus
    publisher, id, rev, updated and deleted, as plain JSON-ready builtins.
    ``row`` is the row number the person sees (header is row 1), or the JSON Lines line number.
    """

    id: str
    row: int | None
    fields: dict[str, Any]
    private_place: PrivatePlace | None = None


@dataclass(frozen=True)
class Problem:
    """Something wrong in the file; ``message`` says what and what to do about it.

    An ``error`` means the row was not imported; a ``warning`` means it was, with the caveat.
    """

    row: int | None
    column: str | None
    message: str
    severity: Literal["error", "warning"]

    def __str__(self) -> str:
        where = ", ".join(
            p
            for p in (f"row {self.row}" if self.row else None, f'column "{self.column}"' if self.column else None)
            if p
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ImportBatch:
    """Everything one file gave: listings in row order, problems, and how its columns were read."""

    source: str
    listings: list[Listing] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    # Rows whose place was held back to its area because the sheet does not say which are public.
    undeclared_venues: int = 0
    # The sentence for the top of the dry run, summary and console preview about those rows.
    venue_notice: str | None = None
    # Listings that will show as out of date / be hidden because their "last checked" date is old.
    stale: int = 0
    hidden: int = 0
    # The sentence for the top of the dry run and summary about those listings.
    stale_notice: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
