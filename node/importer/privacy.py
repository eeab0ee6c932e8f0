"""The privacy rules of every listing this node publishes, in one place.

Both ways a listing is written (a spreadsheet row, :mod:`node.importer.rows`,
and the console's listing form, :mod:`node.importer.listing_form`) ask this
module, so they cannot give different answers:

- **Where a private group meets.**  A private listing publishes only the area
  of its postcode (sector label, authority name, centroid: spec §2.6, an
  ``AreaLocation``); its venue, address and postcode become a
  :class:`PrivatePlace`, kept in the node's ``private_places`` table and
  never signed.  A public listing publishes what it is given.
- **Contact details** are published only with the person's consent.
- **Reading a private or consent value**: which words mean yes and no, and
  what an unclear answer means (an unclear "private" is private; an unclear
  consent is no consent).

The record rules themselves (spec §2.6–2.8, §8) are checked again by the
decoder; these rules decide what is offered to it.  The two vocabularies are separate tables (:data:`PRIVATE_WORDS`,
:data:`CONSENT_WORDS`) so either can be narrowed without touching the other.
See docs/architecture.md (a spreadsheet row → plan → sign → feed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from node.directory.geo import Geo
from node.importer import cells
from node.importer.cells import CellError, CellValue
from node.importer.model import PrivatePlace

__all__ = [
    "YesNo",
    "PRIVATE_WORDS",
    "CONSENT_WORDS",
    "BOX_TICKED",
    "Reading",
    "read_private",
    "read_consent",
    "box_ticked",
    "Where",
    "where",
    "ContactDecision",
    "contact_to_publish",
]


@dataclass(frozen=True)
class YesNo:
    """A vocabulary: the folded words that mean yes, and those that mean no."""

    yes: frozenset[str]
    no: frozenset[str]


# What a "Private?" cell may say.
PRIVATE_WORDS: Final = YesNo(yes=cells.YES_WORDS, no=cells.NO_WORDS)
# What a "Consent to share contact details?" cell may say.
CONSENT_WORDS: Final = YesNo(yes=cells.YES_WORDS, no=cells.NO_WORDS)
# The value the console's "private" and "consent" check boxes send when ticked.
BOX_TICKED: Final = "yes"


@dataclass(frozen=True)
class Reading:
    """A yes/no cell as read: the answer the rules act on, and why it was unclear (if it was)."""

    value: bool
    unclear: str | None = None


def _read(value: CellValue, words: YesNo, *, when_unclear: bool) -> Reading:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Reading(False)
    try:
        return Reading(cells.parse_yes_no(value, yes_words=words.yes, no_words=words.no))
    except CellError as e:
        return Reading(when_unclear, str(e))


def read_private(value: CellValue) -> Reading:
    """A "Private?" cell: blank is public; an answer that is neither yes nor no is private, to be safe."""
    return _read(value, PRIVATE_WORDS, when_unclear=True)


def read_consent(value: CellValue) -> Reading:
    """A consent cell: blank is no consent; an answer that is neither yes nor no is no consent."""
    return _read(value, CONSENT_WORDS, when_unclear=False)


def box_ticked(value: object) -> bool:
    """A console check box ("private", "consent"): ticked only when it sends :data:`BOX_TICKED`."""
    return value == BOX_TICKED


@dataclass(frozen=True)
class Where:
    """Where a listing meets, split into what is published and what stays on the node.

    ``problem`` is ``"no_postcode"`` (a private group with a venue or address
    but no postcode: no area can be shown) or ``"unknown_postcode"`` (the
    postcode is not in the shipped data); each caller words it for its reader.
    """

    location: dict[str, Any] | None
    place: PrivatePlace | None
    problem: Literal["no_postcode", "unknown_postcode"] | None = None


def where(geo: Geo, *, private: bool, venue: str | None, address: str | None, postcode: str | None) -> Where:
    """The published location and the private place for a listing (``postcode`` already normalised).

    A private group publishes the area of its postcode and nothing else of
    where it meets; a public one publishes venue, address, postcode, area and
    the postcode's centroid.
    """
    if private:
        place = PrivatePlace(venue, address, postcode) if (venue or address or postcode) else None
        if postcode is None:
            return Where(None, place, "no_postcode" if (venue or address) else None)
        area = geo.area_for_postcode(postcode)
        if area is None:
            return Where(None, place, "unknown_postcode")
        return Where(area.as_location(), place)
    if not (venue or address or postcode):
        return Where(None, None)
    location: dict[str, Any] = {"type": "public"}
    if venue:
        location["name"] = venue
    if address:
        location["address"] = address
    if postcode is not None:
        found = geo.lookup_postcode(postcode)
        if found is None:
            return Where(None, None, "unknown_postcode")
        location.update(postcode=postcode, area=found.district_name, lat=f"{found.lat:.5f}", lon=f"{found.lon:.5f}")
    return Where(location, None)


@dataclass(frozen=True)
class ContactDecision:
    """The contact to publish (``None`` if none), and whether details were given but withheld for want of consent."""

    contact: dict[str, Any] | None
    withheld: bool = False


def contact_to_publish(name: str | None, email: str | None, phone: str | None, *, consent: bool) -> ContactDecision:
    """Contact details are published only with consent, and then marked ``consent: true`` (spec §2.7 and §8)."""
    if not (name or email or phone):
        return ContactDecision(None)
    if not consent:
        return ContactDecision(None, withheld=True)
    contact: dict[str, Any] = {"consent": True}
    if name:
        contact["name"] = name
    if email:
        contact["email"] = email
    if phone:
        contact["phone"] = phone
    return ContactDecision(contact)
