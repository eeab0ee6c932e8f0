"""The console's listing form: a record's fields ↔ form values, validated as an import is.

A coordinator edits a listing in plain form fields; :func:`fields_from_form`
turns them back into record content and checks it with
:func:`node.importer.rows.check_fields` (the very decoder a receiver uses),
so the console can never publish what an import would refuse.  Problems come
back as :class:`FormErrors`, one plain message per form field, to be shown
next to that field.

Privacy is the importer's, from :mod:`node.importer.privacy` (the module a
spreadsheet row asks too): a private listing publishes only the area of its
postcode; its venue, address and postcode go to ``private_places``.  Contact
details are published only with the consent box ticked.  The form's record
goes on as a :class:`~node.importer.model.Listing` to the same plan and apply
stages as an import (:func:`node.importer.pipeline.save_listing`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from node.directory.geo import Geo
from node.importer import privacy
from node.importer.model import Listing
from node.importer.rows import check_fields
from protocol.errors import InvalidPayload, InvalidRecord
from protocol.records import DELIVERY, KINDS, STATUSES

__all__ = [
    "DAYS",
    "FIELD_FOR_PATH",
    "FormErrors",
    "form_from_record",
    "fields_from_form",
    "listing_from_form",
    "values_from_form",
    "FormValues",
]

FormValues = dict[str, Any]

# RRULE day code → label, in week order.
DAYS: Final[dict[str, str]] = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}

# Where a record-decoding problem is shown: the first matching path prefix names the form field.
FIELD_FOR_PATH: Final[tuple[tuple[str, str, str], ...]] = (
    ("$.name", "name", "Give the listing a name of up to 200 characters."),
    ("$.summary", "summary", "Keep the summary to 500 characters or fewer."),
    ("$.description", "description", "Keep the description to 8,000 characters or fewer."),
    ("$.kind", "kind", "Choose what kind of listing this is."),
    ("$.topics", "topics", "Choose topics from the list (up to 20)."),
    ("$.delivery", "delivery", "Choose how it is offered."),
    ("$.schedule.text", "schedule_text", "Keep the schedule in words to 200 characters or fewer."),
    ("$.schedule", "days", "Check the days and times: times are like 10:30 or 18:00."),
    ("$.location", "postcode", "Check the meeting place and postcode."),
    ("$.contact.email", "contact_email", "Give an email address like name@example.org."),
    ("$.contact.phone", "contact_phone", "Give a phone number using digits, spaces and + only."),
    ("$.contact", "contact_name", "Check the contact details (each up to 200 characters)."),
    ("$.cost", "cost_details", "Keep the cost details to 200 characters or fewer."),
    ("$.website", "website", "Give a full web address starting with https:// or http://."),
    ("$.status", "status", "Choose active, paused or closed."),
    ("$.reviewed", "reviewed", "Give the date it was last checked as a real date, like 2025-03-31."),
)
_NOT_IN_DATA: Final = "That postcode is not in the shipped data (Northern Ireland, the Channel Islands and the Isle of Man are not); check it."
_TIME: Final = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class FormErrors(Exception):
    """Problems with a submitted form: form field name → what to fix."""

    errors: dict[str, str]

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


def _weekly_rule(schedule: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The schedule's single plain weekly rule, if that is all it has (what the form's day boxes can show)."""
    if not schedule:
        return None
    rules = schedule.get("rules") or []
    if len(rules) != 1 or schedule.get("dates") or schedule.get("exceptions"):
        return None
    rule = rules[0]
    if (
        rule.get("freq") != "weekly"
        or rule.get("interval", 1) != 1
        or rule.get("bymonthday")
        or rule.get("starts")
        or rule.get("until")
    ):
        return None
    if any(day not in DAYS for day in rule.get("byday", [])):
        return None
    return rule  # type: ignore[no-any-return]


def form_from_record(fields: Mapping[str, Any], place: tuple[str | None, str | None, str | None] | None) -> FormValues:
    """The form's starting values for a published listing (and, if private, where it really meets)."""
    schedule = fields.get("schedule") or {}
    rule = _weekly_rule(schedule)
    location = fields.get("location") or {}
    contact = fields.get("contact") or {}
    cost = fields.get("cost")
    if place is not None:
        venue, address, postcode = place
    elif location.get("type") == "public":
        venue, address, postcode = location.get("name"), location.get("address"), location.get("postcode")
    else:
        venue = address = postcode = None
    return {
        "name": fields.get("name", ""),
        "summary": fields.get("summary") or "",
        "description": fields.get("description") or "",
        "kind": fields.get("kind", "group"),
        "topics": list(fields.get("topics") or []),
        "delivery": fields.get("delivery", "in_person"),
        "schedule_text": schedule.get("text") or "",
        "days": list(rule.get("byday", [])) if rule else [],
        "opens": (rule.get("opens") or "") if rule else "",
        "closes": (rule.get("closes") or "") if rule else "",
        "complex_schedule": bool(schedule.get("rules") or schedule.get("dates")) and rule is None,
        "private": bool(fields.get("private")),
        "venue": venue or "",
        "address": address or "",
        "postcode": postcode or "",
        "contact_name": contact.get("name") or "",
        "contact_email": contact.get("email") or "",
        "contact_phone": contact.get("phone") or "",
        "consent": bool(contact.get("consent")),
        "cost": "" if cost is None else ("free" if cost.get("free") else "paid"),
        "cost_details": (cost or {}).get("details") or "",
        "website": fields.get("website") or "",
        "status": fields.get("status", "active"),
        "reviewed": fields.get("reviewed") or "",
    }


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.replace("\r\n", "\n").strip()
    return value or None


def _choices(form: Any, name: str) -> list[str]:
    if hasattr(form, "getall"):
        return [v for v in form.getall(name, []) if isinstance(v, str)]
    value = form.get(name)
    return list(value) if isinstance(value, list) else ([value] if isinstance(value, str) else [])


def _time(raw: str | None, name: str, errors: dict[str, str]) -> str | None:
    if raw is None:
        return None
    m = _TIME.match(raw)
    if m is None:
        errors[name] = "Give a time like 10:30 or 18:00 (24-hour clock)."
        return None
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def values_from_form(form: Any) -> FormValues:
    """The submitted values, in the shape :func:`form_from_record` gives (to redisplay with errors)."""
    out: FormValues = {
        name: _text(form, name) or ""
        for name in (
            "name",
            "summary",
            "description",
            "kind",
            "delivery",
            "schedule_text",
            "opens",
            "closes",
            "venue",
            "address",
            "postcode",
            "contact_name",
            "contact_email",
            "contact_phone",
            "cost",
            "cost_details",
            "website",
            "status",
            "reviewed",
        )
    }
    out["topics"] = _choices(form, "topics")
    out["days"] = _choices(form, "days")
    out["private"] = privacy.box_ticked(form.get("private"))
    out["consent"] = privacy.box_ticked(form.get("consent"))
    out["complex_schedule"] = False
    return out


def fields_from_form(
    form: Any, *, geo: Geo, base: Mapping[str, Any], record_id: str
) -> tuple[dict[str, Any], tuple[str | None, str | None, str | None] | None]:
    """Record content and private place (as a tuple) from a submitted form, or raise :class:`FormErrors`.

    The older shape of :func:`listing_from_form`, kept for callers that want the tuple.
    """
    listing = listing_from_form(form, geo=geo, base=base, record_id=record_id)
    place = listing.private_place
    return listing.fields, None if place is None else (place.venue, place.address, place.postcode)


def listing_from_form(form: Any, *, geo: Geo, base: Mapping[str, Any], record_id: str) -> Listing:
    """The listing a submitted form describes (content checked as a receiver would), or raise :class:`FormErrors`.

    ``base`` is the listing as published: fields the form does not show
    (audience, join, languages, a detailed schedule…) are kept from it.
    """
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {
        k: v for k, v in base.items() if k not in ("contact", "location", "cost", "website", "private")
    }

    name = _text(form, "name")
    if name is None:
        errors["name"] = "Give the listing a name."
    else:
        fields["name"] = name
    for key in ("summary", "description"):
        value = _text(form, key)
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    kind = _text(form, "kind") or ""
    if kind not in KINDS:
        errors["kind"] = "Choose what kind of listing this is."
    fields["kind"] = kind
    delivery = _text(form, "delivery") or "in_person"
    if delivery not in DELIVERY:
        errors["delivery"] = "Choose how it is offered."
    fields["delivery"] = delivery
    fields["topics"] = _choices(form, "topics")
    status = _text(form, "status") or "active"
    if status not in STATUSES:
        errors["status"] = "Choose active, paused or closed."
    fields["status"] = status
    reviewed = _text(form, "reviewed")
    if reviewed is None:
        fields.pop("reviewed", None)
    else:
        try:
            if not _DATE.match(reviewed):
                raise ValueError(reviewed)
            dt.date.fromisoformat(reviewed)
            fields["reviewed"] = reviewed
        except ValueError:
            errors["reviewed"] = "Give the date it was last checked as a real date, like 2025-03-31."

    # When: the day boxes and times make one weekly rule; words are kept as written.
    schedule: dict[str, Any] = dict(base.get("schedule") or {})
    days = _choices(form, "days")
    opens = _time(_text(form, "opens"), "opens", errors)
    closes = _time(_text(form, "closes"), "closes", errors)
    if any(d not in DAYS for d in days):
        errors["days"] = "Choose days from the list."
    if days:
        rule: dict[str, Any] = {"freq": "weekly", "byday": [d for d in DAYS if d in days]}
        if opens:
            rule["opens"] = opens
        if closes:
            rule["closes"] = closes
        schedule.update(rules=[rule], dates=[], exceptions=[])
    elif (opens or closes) and "opens" not in errors and "closes" not in errors:
        errors["days"] = "Choose the day or days these times are on."
    elif _weekly_rule(schedule) is not None:
        schedule["rules"] = []  # the coordinator cleared the days
    text = _text(form, "schedule_text")
    if text is None:
        schedule.pop("text", None)
    else:
        schedule["text"] = text
    schedule = {k: v for k, v in schedule.items() if v not in ([], None, False)}
    if schedule:
        fields["schedule"] = schedule
    else:
        fields.pop("schedule", None)

    # Where: private listings publish only the area; the place stays here.
    private = privacy.box_ticked(form.get("private"))
    venue, address, raw_postcode = _text(form, "venue"), _text(form, "address"), _text(form, "postcode")
    postcode = Geo.normalise_postcode(raw_postcode) if raw_postcode else None
    if raw_postcode and postcode is None:
        errors["postcode"] = "That does not look like a UK postcode; check it (like LS6 3QR)."
    if private:
        fields["private"] = True
    found = privacy.where(geo, private=private, venue=venue, address=address, postcode=postcode)
    if found.problem == "no_postcode":
        errors["postcode"] = "Give the postcode of a private group: only its area is published, never the postcode."
    elif found.problem == "unknown_postcode":
        errors["postcode"] = _NOT_IN_DATA
    if found.location is not None:
        fields["location"] = found.location
    place = found.place

    # Who to contact: published only with consent.
    decision = privacy.contact_to_publish(
        _text(form, "contact_name"),
        _text(form, "contact_email"),
        _text(form, "contact_phone"),
        consent=privacy.box_ticked(form.get("consent")),
    )
    if decision.withheld:
        errors["consent"] = (
            "Contact details are published only with the person's consent: tick this box if they agreed, or clear the details."
        )
    elif decision.contact is not None:
        fields["contact"] = decision.contact

    cost = _text(form, "cost")
    cost_details = _text(form, "cost_details")
    if cost in ("free", "paid"):
        fields["cost"] = {"free": cost == "free", **({"details": cost_details} if cost_details else {})}
    elif cost_details:
        errors["cost"] = "Say whether it is free or has a cost."
    website = _text(form, "website")
    if website:
        fields["website"] = website

    if not errors:
        try:
            fields = check_fields(fields, record_id)
        except (InvalidRecord, InvalidPayload) as e:
            path = getattr(e, "path", "$") or "$"
            for prefix, field, message in FIELD_FOR_PATH:
                if path.startswith(prefix):
                    errors[field] = message
                    break
            else:
                errors["name"] = f"This listing could not be published as it is: {e}"
    if errors:
        raise FormErrors(errors)
    return Listing(record_id, None, fields, place)
