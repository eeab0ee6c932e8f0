"""Listings as Open Referral UK services (HSDS 3.0, UK profile), for council directory tools.

A pure mapping from a :class:`~protocol.records.Record` to the profile's
``service`` object (``schema/compiled/service.json``):

- ids are UUIDv5s of ``"{publisher}/{id}"`` (and of the topic slug, the
  organisation, each schedule…), so they are the same on every node and
  every day;
- a private group's location is its area only (name and the area's centroid,
  no ``addresses``): the record carries nothing more, and nothing is added;
- contacts appear only when the record carries the consented contact;
- schedules use the HSDS schedule object (``freq``/``byday``/``bymonthday``/
  ``interval``/``opens_at``/``closes_at``/``dtstart``/``valid_to``), with
  times as Europe/London wall-clock and one-off dates as single-day schedules;
- topics become taxonomy terms in the ``signpost-topics`` taxonomy.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from node.directory.schedule import describe
from protocol.records import TOPICS, AreaLocation, PublicLocation, Record

__all__ = [
    "NAMESPACE",
    "TAXONOMY",
    "service_uuid",
    "term_uuid",
    "topic_for_term",
    "to_service",
    "STATUS",
]

# Fixed forever: changing it would change every id a council has stored.
NAMESPACE: Final = uuid.UUID("6f1d2a5e-3c4b-5a8e-9b1f-5167a0a51c90")
TAXONOMY: Final = "signpost-topics"
STATUS: Final = {"active": "active", "paused": "temporarily closed", "closed": "inactive"}
LONDON_NOTE: Final = "Times are UK local time (Europe/London)."
_TERMS: Final = {str(uuid.uuid5(NAMESPACE, f"topic:{slug}")): slug for slug in TOPICS}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def service_uuid(publisher: str, record_id: str) -> str:
    """The stable Open Referral id of a listing."""
    return _id(publisher, record_id)


def term_uuid(slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"topic:{slug}"))


def topic_for_term(term: str) -> str | None:
    """The topic slug a ``taxonomy_term_id`` names (a term UUID, or the slug itself); ``None`` if unknown."""
    if term in TOPICS:
        return term
    return _TERMS.get(term.lower())


def _time(hhmm: str | None) -> str | None:
    return None if hhmm is None else f"{hhmm}:00"


def _schedules(record: Record, sid: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    sched = record.schedule
    if sched is None:
        return out
    lines = describe(sched, include_text=False)
    for i, rule in enumerate(sched.rules):
        item: dict[str, Any] = {
            "id": _id(record.publisher, record.id, "schedule", str(i)),
            "service_id": sid,
            "freq": rule.freq.upper(),
            "interval": rule.interval,
            "description": lines[i] if i < len(lines) else "",
            "notes": LONDON_NOTE + (" Not on bank holidays." if sched.not_on_bank_holidays else ""),
        }
        if rule.byday:
            item["byday"] = ",".join(rule.byday)
        if rule.bymonthday:
            item["bymonthday"] = ",".join(str(d) for d in rule.bymonthday)
        for key, value in (
            ("opens_at", _time(rule.opens)),
            ("closes_at", _time(rule.closes)),
            ("dtstart", rule.starts),
            ("valid_from", rule.starts),
            ("valid_to", rule.until),
        ):
            if value is not None:
                item[key] = value
        out.append(item)
    for one in sched.dates:
        item = {
            "id": _id(record.publisher, record.id, "date", one.date, one.opens or ""),
            "service_id": sid,
            "valid_from": one.date,
            "valid_to": one.date,
            "dtstart": one.date,
            "description": describe(type(sched)(dates=[one]), include_text=False)[0],
            "notes": LONDON_NOTE,
        }
        for key, value in (("opens_at", _time(one.opens)), ("closes_at", _time(one.closes))):
            if value is not None:
                item[key] = value
        out.append(item)
    if sched.text and not out:
        out.append(
            {
                "id": _id(record.publisher, record.id, "text"),
                "service_id": sid,
                "description": sched.text,
                "notes": LONDON_NOTE,
            }
        )
    return out


def _location(record: Record, sid: str) -> list[dict[str, Any]]:
    loc = record.location
    if loc is None:
        if record.delivery == "online":
            lid = _id(record.publisher, record.id, "location")
            return [
                {
                    "id": _id(record.publisher, record.id, "service_at_location"),
                    "service_id": sid,
                    "location_id": lid,
                    "location": {"id": lid, "location_type": "virtual", "name": "Online"},
                }
            ]
        return []
    lid = _id(record.publisher, record.id, "location")
    location: dict[str, Any] = {"id": lid, "location_type": "physical"}
    if isinstance(loc, PublicLocation) and not record.private:
        location["name"] = loc.name or loc.area or record.name
        if loc.address or loc.postcode:
            location["addresses"] = [
                {
                    "id": _id(record.publisher, record.id, "address"),
                    "location_id": lid,
                    "address_1": loc.address or loc.name or "",
                    "city": loc.area or "",
                    "state_province": "",
                    "postal_code": loc.postcode or "",
                    "country": "GB",
                    "address_type": "physical",
                }
            ]
    elif isinstance(loc, (AreaLocation, PublicLocation)):
        # Private: the area and its centroid only (spec §8); there is no address to give.
        location["name"] = loc.area or "Area given on request"
        location["description"] = "A private group: the meeting place is given when you get in touch."
    if loc.lat is not None and loc.lon is not None:
        location["latitude"] = float(loc.lat)
        location["longitude"] = float(loc.lon)
    if record.accessibility:
        location["accessibility"] = [
            {"id": _id(record.publisher, record.id, "accessibility", str(i)), "location_id": lid, "description": text}
            for i, text in enumerate(record.accessibility)
        ]
    return [
        {
            "id": _id(record.publisher, record.id, "service_at_location"),
            "service_id": sid,
            "location_id": lid,
            "location": location,
        }
    ]


def to_service(record: Record, *, network: str, listing_url: str, full: bool = True) -> dict[str, Any]:
    """The Open Referral UK ``service`` for ``record`` (``full=False``: the one-to-one fields of a list page)."""
    sid = service_uuid(record.publisher, record.id)
    org_name = record.organisation.name if record.organisation else network
    org_id = _id(record.publisher, "organisation", org_name)
    organization: dict[str, Any] = {
        "id": org_id,
        "name": org_name,
        "description": f"Peer support listings published by {network}.",
    }
    if record.organisation is not None and record.organisation.url:
        organization["website"] = record.organisation.url
    service: dict[str, Any] = {
        "id": sid,
        "organization_id": org_id,
        "name": record.name,
        "description": record.description or record.summary or "",
        "url": record.website or listing_url,
        "status": STATUS[record.status],
        "last_modified": record.updated,
        "organization": organization,
    }
    if record.reviewed:
        service["assured_date"] = record.reviewed
    if record.contact is not None and record.contact.email:
        service["email"] = record.contact.email  # consented (spec §8)
    if record.cost is not None:
        service["fees"] = "Free" if record.cost.free else (record.cost.details or "There is a cost")
    if not full:
        return service
    service["schedules"] = _schedules(record, sid)
    service["service_at_locations"] = _location(record, sid)
    service["languages"] = [
        {"id": _id(record.publisher, record.id, "language", code), "service_id": sid, "code": code, "name": code}
        for code in record.languages
    ]
    loc = record.location
    service["service_areas"] = (
        [
            {
                "id": _id(record.publisher, record.id, "service_area"),
                "service_id": sid,
                "name": loc.area,
                "extent_type": "area",
            }
        ]
        if loc is not None and loc.area
        else []
    )
    service["cost_options"] = (
        [
            {
                "id": _id(record.publisher, record.id, "cost"),
                "service_id": sid,
                "option": "Free" if record.cost.free else "Charge",
                **({"amount": 0} if record.cost.free else {}),
                **({"amount_description": record.cost.details} if record.cost.details else {}),
            }
        ]
        if record.cost is not None
        else []
    )
    contact = record.contact
    service["contacts"] = (
        [
            {
                "id": _id(record.publisher, record.id, "contact"),
                "service_id": sid,
                "name": contact.name or org_name,
                **(
                    {"phones": [{"id": _id(record.publisher, record.id, "phone"), "number": contact.phone}]}
                    if contact.phone
                    else {}
                ),
            }
        ]
        if contact is not None
        else []
    )
    service["attributes"] = [
        {
            "id": _id(record.publisher, record.id, "attribute", slug),
            "link_id": sid,
            "link_type": "service",
            "taxonomy_term_id": term_uuid(slug),
            "taxonomy_term": {
                "id": term_uuid(slug),
                "name": TOPICS.get(slug, slug.replace("-", " ").capitalize()),
                "description": f"Peer support about {TOPICS.get(slug, slug.replace('-', ' ')).lower()}",
                "taxonomy": TAXONOMY,
                "term": slug,
            },
        }
        for slug in record.topics
    ]
    return service
