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

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from node.directory.geo import Geo
from node.importer import cells
from node.importer.cells import CellValue
from node.importer.model import PrivatePlace

__all__ = [
    "YesNo",
    "PRIVATE_WORDS",
    "CONSENT_WORDS",
    "PRIVATE_NAMED",
    "PRIVATE_UNCLEAR",
    "TICKS",
    "CHANNEL_ONLY",
    "BOX_TICKED",
    "STREET_WORDS",
    "details_in_text",
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
    """A vocabulary: the folded answers that mean yes, those that mean no, and the first words that decide.

    ``yes_first``/``no_first`` read a longer answer by its first word ("Yes - it's someone's home").
    Anything else is unclear, and each column says what unclear means.
    """

    yes: frozenset[str]
    no: frozenset[str]
    yes_first: frozenset[str] = frozenset()
    no_first: frozenset[str] = frozenset()


# What a privacy cell may say, read as "is the place private?".  Yes/No are flipped for a
# public-sense heading ("Can the address be shown publicly?"); the words that name the answer
# ("Private", "Public venue") are read as themselves whatever the heading.
PRIVATE_WORDS: Final = YesNo(
    yes=frozenset({"yes", "y", "true", "1", "yes please", "ie", "ydw"}),
    no=frozenset({"no", "n", "false", "0", "no thanks", "na ddim", "nac ydw", "not private"}),
    yes_first=frozenset({"yes", "y", "ie"}),
    no_first=frozenset({"no", "n", "na"}),
)
# Answers that say nothing either way ("N/A" is not a positive public): private, with a warning.
PRIVATE_UNCLEAR: Final = frozenset(
    {
        "n a",
        "na",
        "not applicable",
        "tbc",
        "tbd",
        "not sure",
        "unsure",
        "dont know",
        "don t know",
        "unknown",
        "maybe",
        "depends",
    }
)
# Answers that name the privacy itself, read the same way under either heading sense.
PRIVATE_NAMED: Final = YesNo(
    yes=frozenset({"private", "closed", "confidential", "secret", "hidden", "hide", "keep private", "restricted"}),
    no=frozenset({"public", "open", "open to all", "public venue", "public building", "not private"}),
    yes_first=frozenset({"private", "closed", "confidential", "secret", "hidden", "hide", "withhold", "keep"}),
    no_first=frozenset({"public", "open"}),
)
# What a consent cell may say: yes ONLY for an explicit yes; "x", "ok", "Private", "Closed",
# "Maybe", "Ask first", "email only" and free text are all no (spec §8: contact needs consent).
CONSENT_WORDS: Final = YesNo(
    yes=frozenset({"yes", "y", "yes please", "i agree", "agree", "agreed", "true", "ydw", "ie"}),
    no=frozenset({"no", "n", "false", "0", "no thanks", "nac ydw", "na ddim"}),
    yes_first=frozenset({"yes", "ydw"}),
    no_first=frozenset(),
)
# Ticks that mean yes in either column.
TICKS: Final = frozenset({"✓", "✔", "☑", "✅", "✔️"})
# After an explicit yes, the words that limit consent to one channel ("Yes - email only").
CHANNEL_ONLY: Final[dict[str, tuple[str, ...]]] = {
    "email": ("email only", "only email", "e mail only", "only by email", "not phone", "no phone"),
    "phone": ("phone only", "only phone", "only by phone", "not email", "no email", "mobile only"),
}
# The value the console's "private" and "consent" check boxes send when ticked.
BOX_TICKED: Final = "yes"


@dataclass(frozen=True)
class Reading:
    """A yes/no cell as read: the answer the rules act on, and why it was unclear (if it was).

    ``channels`` (consent only) limits what may be published: ``None`` is every channel,
    ``frozenset({"email"})`` the email alone.
    """

    value: bool
    unclear: str | None = None
    channels: frozenset[str] | None = None


def _answer(value: CellValue, words: YesNo) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = cells.text(value) or ""
    if raw.strip() in TICKS:
        return True
    key = cells.fold(raw)
    if key in words.yes:
        return True
    if key in words.no:
        return False
    first = key.split(" ")[0] if key else ""
    if first in words.yes_first:
        return True
    if first in words.no_first:
        return False
    return None


def _blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_private(value: CellValue, *, sense: Literal["private", "public"] = "private") -> Reading:
    """A privacy cell: is the place private?  Fails closed: blank or unclear is private (with the reason).

    ``sense`` is the heading's ("Can the address be shown publicly?" is ``"public"``: Yes = public).
    """
    if _blank(value):
        return Reading(True, "no answer")
    if cells.fold(cells.text(value) or "") in PRIVATE_UNCLEAR:
        return Reading(True, f"{cells.text(value)!r} is not a clear Yes or No")
    named = _answer(value, PRIVATE_NAMED) if not isinstance(value, bool) else None
    if named is not None:
        return Reading(named)
    said_yes = _answer(value, PRIVATE_WORDS)
    if said_yes is None:
        return Reading(True, f"{cells.text(value)!r} is not a clear Yes or No")
    return Reading(said_yes if sense == "private" else not said_yes)


def read_consent(value: CellValue) -> Reading:
    """A consent cell: yes only for an explicit yes-word; blank, no and anything else is no consent.

    "Yes - email only" consents to the email alone (:data:`CHANNEL_ONLY`).
    """
    if _blank(value):
        return Reading(False)
    said_yes = _answer(value, CONSENT_WORDS)
    if said_yes is None:
        return Reading(False, f"{cells.text(value)!r} is not an explicit Yes")
    if not said_yes:
        return Reading(False)
    key = cells.fold(cells.text(value) or "")
    limited = [channel for channel, phrases in CHANNEL_ONLY.items() if any(p in key for p in phrases)]
    if len(limited) == 1:
        return Reading(True, channels=frozenset(limited))
    if limited:
        return Reading(False, f"{cells.text(value)!r} limits consent in a way that cannot be read for sure")
    return Reading(True)


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


def contact_to_publish(
    name: str | None,
    email: str | None,
    phone: str | None,
    *,
    consent: bool,
    channels: frozenset[str] | None = None,
) -> ContactDecision:
    """Contact details are published only with consent, and then marked ``consent: true`` (spec §2.7 and §8).

    ``channels`` limits consent to those channels ("Yes - email only"); the others are withheld.
    """
    if not (name or email or phone):
        return ContactDecision(None)
    if not consent:
        return ContactDecision(None, withheld=True)
    withheld = False
    if channels is not None:
        withheld = bool((email and "email" not in channels) or (phone and "phone" not in channels))
        email = email if "email" in channels else None
        phone = phone if "phone" in channels else None
        if not (email or phone):
            return ContactDecision(None, withheld=True)
    contact: dict[str, Any] = {"consent": True}
    if name:
        contact["name"] = name
    if email:
        contact["email"] = email
    if phone:
        contact["phone"] = phone
    return ContactDecision(contact, withheld=withheld)


# The words that end a street name, so "14 Holly Bank Road" reads as an address (a number, then a street).
STREET_WORDS: Final = [
    "road",
    "rd",
    "street",
    "st",
    "avenue",
    "ave",
    "lane",
    "ln",
    "drive",
    "dr",
    "drove",
    "crescent",
    "cres",
    "close",
    "way",
    "place",
    "pl",
    "terrace",
    "grove",
    "gardens",
    "gdns",
    "court",
    "ct",
    "hill",
    "row",
    "walk",
    "square",
    "sq",
    "park",
    "rise",
    "view",
    "mews",
    "green",
    "parade",
    "wynd",
    "gate",
    "yard",
    "vale",
    "parkway",
    "broadway",
    "circus",
    "approach",
    "boulevard",
    "esplanade",
    "promenade",
    "quay",
    "wharf",
    "embankment",
]
_STREET = re.compile(
    r"\b\d{1,4}[a-z]?(?:\s*-\s*\d{1,4}[a-z]?)?,?\s+(?:[A-Za-z'’.-]+\s+){0,3}(?:" + "|".join(STREET_WORDS) + r")\b",
    re.I,
)
_FULL_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"']+\.[a-z]{2,}", re.I)
_PHONE_IN_TEXT = re.compile(r"(?:\+44\s?\(0\)\s?|\+44\s?|\(?0)\d[\d\s()-]{7,15}\d")


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[2:] if digits.startswith("44") else digits.lstrip("0")


def details_in_text(text: str, *, private: bool, consented: set[str] | frozenset[str]) -> list[str]:
    """What in a free-text cell must not be published: ``["a postcode", "a phone number", …]``.

    A private group's text may not name its postcode or street; any listing's text may name an
    email or phone only when it is one the contact consented to publish (``consented``).
    """
    found: list[str] = []
    if private and _FULL_POSTCODE.search(text):
        found.append("a postcode")
    if private and _STREET.search(text):
        found.append("a street address")
    allowed_digits = {_digits(c) for c in consented if "@" not in c}
    if any(_digits(m.group(0)) not in allowed_digits for m in _PHONE_IN_TEXT.finditer(text)):
        found.append("a phone number")
    allowed_emails = {c.lower() for c in consented if "@" in c}
    if any(m.group(0).lower().rstrip(".") not in allowed_emails for m in _EMAIL_IN_TEXT.finditer(text)):
        found.append("an email address")
    return found
