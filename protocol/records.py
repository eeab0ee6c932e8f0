"""Record types: what one listing says (spec §2).

A record version is a complete, self-contained JSON object; there is no patch
format.  These msgspec Structs are decoded once, at the boundary, after the
signature has been checked.  They accept unknown fields (a newer publisher
may add some), except where accepting one could carry personal data the
publisher meant to keep: an ``area`` location, a contact, and a tombstone
forbid unknown fields, because the payload bytes are re-served verbatim and an
extra ``"address"`` would travel to every copy.

Schema evolution follows msgspec's rules: new fields get defaults; the type of
an existing field never changes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

from .errors import InvalidRecord
from .payload import parse_payload

__all__ = [
    "KINDS",
    "TOPICS",
    "DELIVERY",
    "STATUSES",
    "JOIN_METHODS",
    "Kind",
    "Rule",
    "OneOff",
    "ScheduleException",
    "Schedule",
    "PublicLocation",
    "AreaLocation",
    "Location",
    "Join",
    "Cost",
    "Contact",
    "OrganisationRef",
    "RoleDetails",
    "Record",
    "Tombstone",
    "Version",
    "decode_version",
    "encode_payload",
    "RECORD_ID_PATTERN",
    "PUBLISHER_PATTERN",
]

KINDS: Final = ("group", "service", "event", "role", "training", "resource", "organisation")
Kind = Literal["group", "service", "event", "role", "training", "resource", "organisation"]

# The controlled topic list (spec §2.4).  Receivers MUST accept topic slugs
# they do not know: the list grows without a protocol version bump.
TOPICS: Final[dict[str, str]] = {
    "hearing-voices": "Hearing voices",
    "bipolar": "Bipolar",
    "depression": "Depression",
    "anxiety": "Anxiety",
    "psychosis": "Psychosis",
    "eating-difficulties": "Eating difficulties",
    "self-harm": "Self-harm",
    "suicide-bereavement": "Suicide bereavement",
    "suicidal-feelings": "Suicidal feelings",
    "carers": "Carers",
    "lgbtq": "LGBTQ+",
    "men": "Men",
    "women": "Women",
    "young-people": "Young people",
    "older-people": "Older people",
    "black-and-minoritised": "Black and minoritised communities",
    "veterans": "Veterans",
    "perinatal": "Perinatal",
    "creative": "Creative",
    "walking": "Walking",
    "crisis": "Crisis",
    "leaving-hospital": "Leaving hospital",
    "personality-disorder": "Personality disorder",
    "trauma": "Trauma",
    "ocd": "OCD",
    "addiction": "Addiction and recovery",
    "neurodivergent": "Neurodivergent",
    "loneliness": "Loneliness",
    "peer-work": "Peer work",
    "wellbeing": "General wellbeing",
}
DELIVERY: Final = ("in_person", "online", "phone", "hybrid")
STATUSES: Final = ("active", "paused", "closed")
JOIN_METHODS: Final = ("drop_in", "booking", "referral", "contact_first")

RECORD_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,79}$"
PUBLISHER_PATTERN: Final = r"^sp1:[a-z2-7]{26}$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_LAT = r"^-?\d{1,2}\.\d{1,6}$"
_LON = r"^-?\d{1,3}\.\d{1,6}$"
# An area is a postcode district ("LS6") or sector ("LS6 3"): never a full postcode.
_AREA_POSTCODE = r"^[A-Z]{1,2}\d[A-Z\d]?( \d)?$"
_BYDAY = r"^(-?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$"
_TOPIC = r"^[a-z0-9][a-z0-9-]{0,39}$"

Date = Annotated[str, Meta(pattern=_DATE, description="Calendar date, YYYY-MM-DD")]
Time = Annotated[str, Meta(pattern=_TIME, description="Local time in Europe/London, HH:MM (24-hour)")]
Text = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=8000)]
Url = Annotated[str, Meta(pattern=r"^https?://[^\s]{1,2000}$")]


class Rule(Struct, kw_only=True, omit_defaults=True):
    """A recurrence, the RRULE subset Open Referral UK uses (spec §2.5).

    ``byday`` holds RRULE BYDAY values: ``"TU"`` every Tuesday, ``"1MO"`` the
    first Monday of the month, ``"-1FR"`` the last Friday.  ``closes`` earlier
    than ``opens`` means the session runs past midnight.
    """

    freq: Literal["weekly", "monthly"]
    interval: Annotated[int, Meta(ge=1, le=12)] = 1
    byday: Annotated[list[Annotated[str, Meta(pattern=_BYDAY)]], Meta(max_length=7)] = []
    bymonthday: Annotated[list[Annotated[int, Meta(ge=-31, le=31)]], Meta(max_length=31)] = []
    opens: Time | None = None
    closes: Time | None = None
    starts: Date | None = None
    until: Date | None = None


class OneOff(Struct, kw_only=True, omit_defaults=True):
    """A single dated occurrence (events, trainings, one-off sessions)."""

    date: Date
    opens: Time | None = None
    closes: Time | None = None


class ScheduleException(Struct, kw_only=True, omit_defaults=True):
    """A date that is cancelled, or moved to another date or time."""

    date: Date
    cancelled: bool = True
    moved_to: OneOff | None = None
    note: Text | None = None


class Schedule(Struct, kw_only=True, omit_defaults=True):
    """When something happens, all times in Europe/London.

    ``text`` keeps the publisher's own words verbatim; when nothing could be
    structured it is the only field, and readers show it as written.
    """

    rules: Annotated[list[Rule], Meta(max_length=14)] = []
    dates: Annotated[list[OneOff], Meta(max_length=366)] = []
    exceptions: Annotated[list[ScheduleException], Meta(max_length=366)] = []
    not_on_bank_holidays: bool = False
    text: Text | None = None


class PublicLocation(Struct, kw_only=True, omit_defaults=True, tag_field="type", tag="public"):
    """A public meeting place: venue, address, postcode and coordinates."""

    name: Text | None = None
    address: Text | None = None
    postcode: Annotated[str, Meta(pattern=r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")] | None = None
    area: Text | None = None
    lat: Annotated[str, Meta(pattern=_LAT)] | None = None
    lon: Annotated[str, Meta(pattern=_LON)] | None = None


class AreaLocation(Struct, kw_only=True, omit_defaults=True, tag_field="type", tag="area", forbid_unknown_fields=True):
    """Only the area of a private meeting place (spec §8).

    There is deliberately no field that could hold an address or a full
    postcode, and unknown fields are refused so none can be smuggled in.
    """

    area: Text
    postcode_area: Annotated[str, Meta(pattern=_AREA_POSTCODE)] | None = None
    lat: Annotated[str, Meta(pattern=_LAT)] | None = None
    lon: Annotated[str, Meta(pattern=_LON)] | None = None


Location = PublicLocation | AreaLocation


class Join(Struct, kw_only=True, omit_defaults=True):
    """How to take part: turn up, book, or be referred."""

    method: Literal["drop_in", "booking", "referral", "contact_first"]
    details: LongText | None = None
    url: Url | None = None


class Cost(Struct, kw_only=True, omit_defaults=True):
    free: bool
    details: Text | None = None


class Contact(Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """A person's or team's contact details, present only with consent (spec §8).

    ``consent`` must be ``true``: a publisher without consent omits the
    contact and readers fall back to the network's own contact.
    """

    consent: Literal[True]
    name: Text | None = None
    email: Annotated[str, Meta(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}$")] | None = None
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9 ()-]{3,30}$")] | None = None


class OrganisationRef(Struct, kw_only=True, omit_defaults=True):
    name: Text
    ref: Annotated[str, Meta(max_length=120)] | None = None
    url: Url | None = None


class RoleDetails(Struct, kw_only=True, omit_defaults=True):
    """Extra facts about a volunteer or peer-worker role."""

    paid: bool = False
    hours: Text | None = None
    closes: Date | None = None


class Record(Struct, kw_only=True, omit_defaults=True):
    """One listing, as its publisher signed it."""

    publisher: Annotated[str, Meta(pattern=PUBLISHER_PATTERN)]
    id: Annotated[str, Meta(pattern=RECORD_ID_PATTERN)]
    rev: Annotated[int, Meta(ge=0, le=2**53 - 1)]
    updated: Annotated[str, Meta(pattern=_TIMESTAMP)]
    kind: Kind
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    summary: Annotated[str, Meta(max_length=500)] | None = None
    description: LongText | None = None
    topics: Annotated[list[Annotated[str, Meta(pattern=_TOPIC)]], Meta(max_length=20)] = []
    audience: Text | None = None
    delivery: Literal["in_person", "online", "phone", "hybrid"] = "in_person"
    # Where a phone or online service is for (spec §2.2): local authorities, postcode districts or areas, place names.
    service_area: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=50)] = []
    private: bool = False
    schedule: Schedule | None = None
    location: Location | None = None
    join: Join | None = None
    cost: Cost | None = None
    accessibility: Annotated[list[Text], Meta(max_length=20)] = []
    languages: Annotated[
        list[Annotated[str, Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]], Meta(max_length=20)
    ] = []
    contact: Contact | None = None
    website: Url | None = None
    organisation: OrganisationRef | None = None
    role: RoleDetails | None = None
    status: Literal["active", "paused", "closed"] = "active"
    reviewed: Date | None = None
    deleted: Literal[False] = False


class Tombstone(Struct, kw_only=True, forbid_unknown_fields=True):
    """A deletion: a signed version with no content (spec §5)."""

    publisher: Annotated[str, Meta(pattern=PUBLISHER_PATTERN)]
    id: Annotated[str, Meta(pattern=RECORD_ID_PATTERN)]
    rev: Annotated[int, Meta(ge=0, le=2**53 - 1)]
    updated: Annotated[str, Meta(pattern=_TIMESTAMP)]
    kind: Kind
    deleted: Literal[True]


Version = Record | Tombstone

_MSGSPEC_PATH = re.compile(r"^(?P<problem>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)


def _check_dates(record: Record) -> None:
    """Patterns cannot tell 2026-02-30 from a real date; check the calendar."""

    def real(value: str | None, path: str) -> None:
        if value is None:
            return
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(path, f"{value!r} is not a calendar date", reason="bad-date") from None

    real(record.reviewed, "$.reviewed")
    if record.schedule is not None:
        for i, rule in enumerate(record.schedule.rules):
            real(rule.starts, f"$.schedule.rules[{i}].starts")
            real(rule.until, f"$.schedule.rules[{i}].until")
            if rule.freq == "weekly" and any(d[:-2] for d in rule.byday):
                raise InvalidRecord(
                    f"$.schedule.rules[{i}].byday",
                    "an ordinal weekday (like 1MO) needs freq monthly",
                    reason="bad-schedule",
                )
        for i, one in enumerate(record.schedule.dates):
            real(one.date, f"$.schedule.dates[{i}].date")
        for i, exc in enumerate(record.schedule.exceptions):
            real(exc.date, f"$.schedule.exceptions[{i}].date")


def _check_privacy(record: Record) -> None:
    """Spec §8: a private listing may carry only an area."""
    if record.private and isinstance(record.location, PublicLocation):
        raise InvalidRecord(
            "$.location",
            "a private listing must use an area location, never a public address",
            reason="private-with-address",
        )


_TYPED: dict[type, msgspec.json.Decoder[Any]] = {
    Record: msgspec.json.Decoder(Record),
    Tombstone: msgspec.json.Decoder(Tombstone),
}


def decode_version(body: bytes) -> Version:
    """Decode verified payload bytes into a :class:`Record` or :class:`Tombstone`.

    Implements spec §2–§3.3.  Raises :class:`InvalidPayload` for I-JSON
    violations and :class:`InvalidRecord` (with a ``$.path``) for anything
    the record schema or the privacy rules refuse.
    """
    obj = parse_payload(body)
    target: type[Record] | type[Tombstone] = Tombstone if obj.get("deleted") is True else Record
    try:
        # The bytes passed the I-JSON rules above, so a typed decode of them is the
        # same as converting the parsed object, and several times quicker.
        version: Version = _TYPED[target].decode(body)
    except msgspec.ValidationError as e:
        m = _MSGSPEC_PATH.match(str(e))
        assert m is not None
        problem = m.group("problem")
        path = m.group("path") or "$"
        reason = "invalid-record"
        if "unknown field" in problem:
            # Only the privacy-bearing structs forbid unknown fields.
            reason = "tombstone-with-content" if target is Tombstone else "forbidden-field"
        elif path == "$.contact.consent" or (path == "$.contact" and "`consent`" in problem):
            reason = "contact-without-consent"
        raise InvalidRecord(path, problem, reason=reason) from e
    if isinstance(version, Record):
        _check_dates(version)
        _check_privacy(version)
    return version


_ENCODER = msgspec.json.Encoder()


def encode_payload(version: Version | dict[str, Any]) -> bytes:
    """Encode a version for signing: compact JSON, written once by the publisher.

    Receivers never call this to verify; they keep the bytes they received.
    """
    return _ENCODER.encode(version)
