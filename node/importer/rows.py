"""One spreadsheet row → one :class:`Listing` (or the reasons it cannot be one).

The privacy rules are :mod:`node.importer.privacy`'s (the console's listing
form asks the same module): a row marked private publishes only the area of
its postcode, its venue, address and postcode go to :class:`PrivatePlace`,
and contact details are published only when the consent cell says yes.  This
module words the outcome as problems against the row's cells.  Every listing
is checked by decoding it exactly as a receiver would
(:func:`protocol.records.decode_version`) before it is returned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import Any, Final, Literal

import msgspec

from node.directory.geo import Geo
from node.importer import cells, privacy
from node.importer.cells import CellError, CellValue, TimeRange, text
from node.importer.model import Listing, PrivatePlace, Problem
from node.importer.schedule_text import parse_schedule
from protocol.errors import InvalidPayload, InvalidRecord
from protocol.records import Record, decode_version, encode_payload

__all__ = ["slugify", "listing_id", "RowReader", "DUMMY_PUBLISHER", "check_fields", "ENVELOPE_FIELDS"]

DUMMY_PUBLISHER: Final = "sp1:" + "a" * 26
ENVELOPE_FIELDS: Final = ("publisher", "id", "rev", "updated", "deleted")
UNKNOWN_POSTCODE: Final = (
    "postcode not recognised (Northern Ireland, Channel Islands and Isle of Man are not in the shipped data); "
    "check it, or leave it blank and give the area in the description"
)
_POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.I)
_OUTCODE_ONLY = re.compile(r"^\s*([A-Z]{1,2}\d[A-Z\d]?)\s*$", re.I)
# A "when" cell that is one date, with or without a time after it ("3/12/26 7pm", "Thursday 3 December 2026").
_DATE_FIRST = re.compile(
    r"^\s*((?:[a-z]+,?\s+)?\d{1,2}(?:st|nd|rd|th)?(?:\s+(?:of\s+)?[a-z]+\.?,?\s+|[/.\-]\d{1,2}[/.\-])\d{2,4})\b[\s,]*(.*)$",
    re.I,
)
# A venue cell that names only a way of meeting remotely (``Zoom``, ``Online (Teams)``, ``Phone line``): the delivery.
REMOTE_VENUE_WORDS: Final[dict[str, frozenset[str]]] = {
    "online": frozenset({"zoom", "teams", "microsoft", "online", "virtual", "video", "google", "meet", "skype", "web"}),
    "phone": frozenset({"phone", "telephone", "line", "helpline", "call", "calls", "by"}),
}
_REMOTE_FILLER: Final = frozenset(
    {"via", "on", "and", "or", "the", "only", "a", "call", "meeting", "by", "link", "sent"}
)
Venues = Literal["public", "private"] | None
_ID_MAX: Final = 80
# Limits from protocol/records.py, so a long cell is cut with a warning rather than rejected.
_LIMITS: Final[dict[str, int]] = {"name": 200, "summary": 500, "description": 8000, "audience": 200, "text": 200}


def slugify(value: str) -> str:
    """Lower-case ASCII words joined by hyphens, cut at a word boundary to fit an id."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ").replace("'", "").replace("’", "")
    slug = re.sub(r"[^a-z0-9._]+", "-", folded)
    slug = re.sub(r"-{2,}", "-", slug).strip("-._")
    if len(slug) > _ID_MAX:
        cut = slug[:_ID_MAX]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[20:] else cut
    return slug.strip("-._")


def listing_id(name: str, organisation: str | None) -> str:
    """The stable id of a row without an ID column: organisation + name, slugified.

    The organisation is left out when the name already starts with it
    ("Leeds Mind Walking Group" by "Leeds Mind").  A name with no Latin letters
    (emoji only, another script) gets a short hash of itself, still stable.
    """
    name_slug, org_slug = slugify(name), slugify(organisation or "")
    combined = name_slug if not org_slug or name_slug.startswith(org_slug) else slugify(f"{organisation} {name}")
    if combined:
        return combined
    digest = hashlib.sha256(f"{organisation or ''}\x00{name}".encode()).hexdigest()[:12]
    return f"listing-{digest}"


def check_fields(fields: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Decode the fields exactly as a receiver would; return them normalised, or raise InvalidRecord."""
    payload = {"publisher": DUMMY_PUBLISHER, "id": record_id, "rev": 0, "updated": "1970-01-01T00:00:00Z", **fields}
    version = decode_version(encode_payload(payload))
    assert isinstance(version, Record)
    out: dict[str, Any] = msgspec.to_builtins(version)
    for key in ENVELOPE_FIELDS:
        out.pop(key, None)
    return out


def _cut(value: str | None, limit: int) -> tuple[str | None, bool]:
    if value is None or len(value) <= limit:
        return value, False
    return value[: limit - 1].rstrip() + "…", True


class RowReader:
    """Turns rows of one sheet into listings.  ``columns`` maps field → (column index, header)."""

    def __init__(
        self,
        columns: dict[str, tuple[int, str]],
        *,
        geo: Geo,
        default_kind: str,
        privacy_sense: Literal["private", "public"] = "private",
        venues: Venues = None,
        today: dt.date | None = None,
    ) -> None:
        self.columns = columns
        self.geo = geo
        self.default_kind = default_kind
        self.privacy_sense = privacy_sense
        self.venues = venues
        self.today = today
        self.has_privacy_column = "private" in columns
        # Rows whose place was held back to its area because the sheet does not say which are public.
        self.undeclared_venues = 0

    def read(self, rownum: int, row: list[CellValue]) -> tuple[Listing | None, list[Problem]]:
        if self._section_heading(row):
            return None, []
        return _Row(self, rownum, row).build()

    def _section_heading(self, row: list[CellValue]) -> bool:
        """A row with only its name cell filled, in capitals or starting "Section": a heading between listings."""
        at = self.columns["name"][0] if "name" in self.columns else None
        if at is None or at >= len(row):
            return False
        filled = [i for i, v in enumerate(row) if v is not None and not (isinstance(v, str) and not v.strip())]
        name = text(row[at]) or ""
        return filled == [at] and (name.isupper() or name.lower().startswith("section "))


class _Row:
    """The work on one row: collects problems as it goes, builds the fields at the end."""

    def __init__(self, reader: RowReader, rownum: int, row: list[CellValue]) -> None:
        self.r = reader
        self.rownum = rownum
        self.row = row
        self.problems: list[Problem] = []

    # -- helpers ---------------------------------------------------------

    def header(self, field: str) -> str | None:
        col = self.r.columns.get(field)
        return col[1] if col else None

    def raw(self, field: str) -> CellValue:
        col = self.r.columns.get(field)
        if col is None:
            return None
        value = self.row[col[0]]
        return None if isinstance(value, str) and not value.strip() else value

    def text(self, field: str, limit: int | None = None) -> str | None:
        value = text(self.raw(field))
        if limit is not None:
            value, cut = _cut(value, limit)
            if cut:
                self.warn(field, f"longer than {limit} characters, so it was shortened; shorten it in the sheet")
        return value

    def error(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.rownum, self.header(field) if field else None, message, "error"))

    def warn(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.rownum, self.header(field) if field else None, message, "warning"))

    def parse(self, field: str, parser: Callable[[CellValue], Any], *, fatal: bool = False) -> Any:
        value = self.raw(field)
        if value is None:
            return None
        try:
            return parser(value)
        except CellError as e:
            (self.error if fatal else self.warn)(field, str(e) + ("" if fatal else "; left out"))
            return None

    # -- the row ---------------------------------------------------------

    def build(self) -> tuple[Listing | None, list[Problem]]:
        fields: dict[str, Any] = {}
        name = self.text("name", _LIMITS["name"])
        if name is None:
            self.error("name", "this row has no name; fill in the name of the group or activity")
        kind = self.parse("kind", cells.parse_kind) or self.r.default_kind
        organisation = self.text("organisation", 200)
        record_id = self._id(name, organisation)

        fields["kind"] = kind
        fields["name"] = name or ""
        for key in ("summary", "description", "audience"):
            if value := self.text(key, _LIMITS[key]):
                fields[key] = value
        if topics := self._topics():
            fields["topics"] = topics
        delivery = self.parse("delivery", cells.parse_delivery)
        remote = self._remote_venue()
        if remote and not delivery:
            delivery = remote
        if delivery:
            fields["delivery"] = delivery
        private = self._private(has_place=not remote and self._has_place())
        if private:
            fields["private"] = True
        schedule = self._schedule()
        if schedule:
            fields["schedule"] = schedule
        location, place = self._remote_area() if remote else self._location(private)
        if location:
            fields["location"] = location
        if join := self._join():
            fields["join"] = join
        if cost := self.parse("cost", cells.parse_cost):
            fields["cost"] = cost
        if accessibility := [a[:200] for a in cells.split_list(self.raw("accessibility"), r"[;\n|]")][:20]:
            fields["accessibility"] = accessibility
        if languages := self._languages():
            fields["languages"] = languages
        if contact := self._contact():
            fields["contact"] = contact
        self._check_free_text(fields, private=private)
        if website := self.parse("website", cells.parse_url):
            fields["website"] = website
        if organisation:
            fields["organisation"] = {"name": organisation}
        if kind == "role" and (role := self._role()):
            fields["role"] = role
        if status := self.parse("status", cells.parse_status):
            fields["status"] = status
        if reviewed := self._reviewed():
            fields["reviewed"] = reviewed

        if any(p.severity == "error" for p in self.problems) or record_id is None:
            return None, self.problems
        try:
            checked = check_fields(fields, record_id)
        except (InvalidRecord, InvalidPayload) as e:
            top = re.match(r"^\$\.([a-z_]+)", e.path)
            field = top.group(1) if top else None
            self.problems.append(
                Problem(
                    self.rownum,
                    self.header(field) if field else None,
                    f"{e.problem} (at {e.path}); correct this cell",
                    "error",
                )
            )
            return None, self.problems
        return Listing(record_id, self.rownum, checked, place), self.problems

    def _id(self, name: str | None, organisation: str | None) -> str | None:
        given = self.text("id")
        if given is not None:
            slug = slugify(given)
            if not slug:
                self.error("id", f"{given!r} cannot be used as an id; use letters, digits and hyphens")
                return None
            if slug != given:
                self.warn(
                    "id", f"{given!r} was turned into the id {slug!r}; use that form in the sheet to avoid surprises"
                )
            return slug
        return listing_id(name, organisation) if name else None

    def _has_place(self) -> bool:
        return any(self.raw(f) is not None for f in ("venue", "address", "postcode"))

    def _remote_venue(self) -> str | None:
        """``online`` or ``phone`` when the venue cell names only a remote way of meeting, else ``None``."""
        raw = self.text("venue") or (self.text("address") if self.raw("postcode") is None else None)
        if raw is None:
            return None
        words = set(cells.fold(raw).split())
        for delivery, vocabulary in REMOTE_VENUE_WORDS.items():
            if words & (vocabulary - {"by", "line", "call", "calls", "web", "meet", "google", "microsoft"}) and (
                words <= vocabulary | _REMOTE_FILLER
            ):
                return delivery
        return None

    def _private(self, *, has_place: bool) -> bool:
        """Whether the place is held back to its area: fails closed (docs/architecture.md, privacy).

        With a privacy column, the row's answer decides and a blank or unclear one is private; without one,
        every place is held back unless the caller chose ``venues="public"``.  ``venues="private"`` holds back all.
        """
        if self.r.venues == "private":
            return True
        if not self.r.has_privacy_column:
            if self.r.venues == "public" or not has_place:
                return False
            self.r.undeclared_venues += 1
            return True
        reading = privacy.read_private(self.raw("private"), sense=self.r.privacy_sense)
        if reading.unclear is not None and has_place:
            self.warn("private", f"{reading.unclear}; treated as private, so only the area is published")
        return reading.value if has_place else bool(reading.value and reading.unclear is None)

    def _postcode(self, venue: str | None, address: str | None) -> str | None:
        raw = self.text("postcode")
        if raw is not None and _OUTCODE_ONLY.match(raw):
            return None
        if raw is not None:
            norm = Geo.normalise_postcode(raw)
            if norm is None:
                self.error("postcode", f"{raw!r} is not a postcode; write it like LS6 3QR, or leave it blank")
            return norm
        for where in (address, venue):
            if where and (m := _POSTCODE_IN_TEXT.search(where)):
                return Geo.normalise_postcode(m.group(1) + m.group(2))
        return None

    def _location(self, private: bool) -> tuple[dict[str, Any] | None, PrivatePlace | None]:
        venue = self.text("venue")
        address = self.text("address")
        postcode = self._postcode(venue, address)
        postcode_field = "postcode" if self.header("postcode") and self.text("postcode") else "address"
        if not private:
            # What a public listing shows is cut to the record's limit, with a warning, rather than refused.
            venue, address = self._cut_place(venue, "venue"), self._cut_place(address, "address")
        district = self._district()
        if district is not None:
            return self._district_location(district, private, venue, address)
        found = privacy.where(self.r.geo, private=private, venue=venue, address=address, postcode=postcode)
        if found.problem == "no_postcode":
            self.warn(
                "postcode", "a private group without a postcode shows no area; add the postcode (it is never published)"
            )
        elif found.problem == "unknown_postcode":
            self.error(postcode_field, UNKNOWN_POSTCODE)
        return found.location, found.place

    def _remote_area(self) -> tuple[dict[str, Any] | None, None]:
        """A phone line or online group with a postcode shows the area it serves, never a street."""
        district = self._district()
        postcode = None if district else self._postcode(None, None)
        if district:
            found = self.r.geo.lookup_outcode(district)
            label = district
        elif postcode:
            found = self.r.geo.lookup_postcode(postcode)
            label = postcode.split(" ")[0]
        else:
            return None, None
        if found is None:
            return None, None
        return {
            "type": "area",
            "area": found.district_name,
            "postcode_area": label,
            "lat": f"{found.lat:.5f}",
            "lon": f"{found.lon:.5f}",
        }, None

    def _district(self) -> str | None:
        """A postcode cell holding only the district ("LS1", "SE11"), read as that district."""
        raw = self.text("postcode")
        m = _OUTCODE_ONLY.match(raw) if raw else None
        return m.group(1).upper() if m else None

    def _district_location(
        self, outcode: str, private: bool, venue: str | None, address: str | None
    ) -> tuple[dict[str, Any] | None, PrivatePlace | None]:
        found = self.r.geo.lookup_outcode(outcode)
        if found is None:
            self.error("postcode", UNKNOWN_POSTCODE)
            return None, None
        area = {"area": found.district_name, "lat": f"{found.lat:.5f}", "lon": f"{found.lon:.5f}"}
        if private:
            place = PrivatePlace(venue, address, None) if (venue or address) else None
            return {"type": "area", "postcode_area": outcode, **area}, place
        location: dict[str, Any] = {"type": "public", **area}
        if venue:
            location["name"] = self._cut_place(venue, "venue")
        if address:
            location["address"] = self._cut_place(address, "address")
        return location, None

    def _check_free_text(self, fields: dict[str, Any], *, private: bool) -> None:
        """Hold back free text that gives away a private place, or contact details not consented to."""
        contact = fields.get("contact") or {}
        allowed = {v for k, v in contact.items() if k in ("email", "phone") and isinstance(v, str)}
        for key, field in (("summary", "summary"), ("description", "description"), ("join", "join")):
            value = fields.get(key)
            body = value.get("details") if isinstance(value, dict) else value
            if not isinstance(body, str):
                continue
            found = privacy.details_in_text(body, private=private, consented=allowed)
            if not found:
                continue
            if isinstance(value, dict):
                value.pop("details", None)
                value.pop("url", None)
            else:
                del fields[key]
            self.warn(
                field,
                f"not published because it holds {' and '.join(found)}"
                + (" of a private group" if private else " not consented to")
                + "; take them out of this cell (the address column keeps the place privately)",
            )

    def _cut_place(self, value: str | None, field: str) -> str | None:
        cut, was_cut = _cut(value, 200)
        if was_cut:
            self.warn(field, "longer than 200 characters, so it was shortened; shorten it in the sheet")
        return cut

    def _schedule(self) -> dict[str, Any] | None:
        times: TimeRange | None = None
        opens = self.parse("start_time", cells.parse_time)
        closes = self.parse("end_time", cells.parse_time)
        if opens:
            times = TimeRange(opens, closes)
        date = self.parse("date", cells.parse_date, fatal=True)
        starts = self.parse("starts", cells.parse_date, fatal=True)
        raw_time = self.raw("time")
        time_text = None
        if isinstance(raw_time, str):
            time_text = self.text("time")
        elif raw_time is not None and times is None:
            # A real time cell from XLSX, or Excel's fraction of a day.
            times = self.parse("time", cells.parse_time_range)
            time_text = _clock_text(times) if times else None
        days = self.text("days")
        raw_days = self.raw("days")
        if isinstance(raw_days, (dt.date, dt.datetime)) and date is None:
            date = raw_days if not isinstance(raw_days, dt.datetime) else raw_days.date()
            days = None
            if isinstance(raw_days, dt.datetime) and raw_days.time() != dt.time(0) and times is None:
                times = TimeRange(raw_days.strftime("%H:%M"), None)
        elif days and date is None and (m := _DATE_FIRST.match(days)):
            try:
                date = cells.parse_date(m.group(1))
            except CellError:
                pass
            else:
                days = None
                if m.group(2) and time_text is None and times is None:
                    time_text = m.group(2)
                    if closes:
                        # "3/12/26 7pm" with only a "To" column: the start is in the date cell.
                        with contextlib.suppress(CellError):
                            times, time_text = TimeRange(cells.parse_time(m.group(2)), closes), None
        result = parse_schedule(
            days=days,
            frequency=self.text("frequency"),
            time=time_text,
            times=times,
            dates=[date] if date else None,
            starts=starts,
        )
        for field, message in result.warnings:
            if field == "days" and not self.header("days"):
                field = "frequency" if self.header("frequency") else "time"
            self.warn(field, message)
        return result.schedule

    def _contact(self) -> dict[str, Any] | None:
        name = email = phone = None
        if self.raw("contact") is not None:
            name, email, phone = cells.split_contact(self.raw("contact"))
        if self.raw("contact_name") is not None:
            n, e, p = cells.split_contact(self.raw("contact_name"))
            name, email, phone = n or name, e or email, p or phone
        email = self.parse("contact_email", cells.parse_email) or email
        phone = self.parse("contact_phone", cells.parse_phone) or phone
        consent = privacy.read_consent(self.raw("consent"))
        decision = privacy.contact_to_publish(
            name[:200] if name else name, email, phone, consent=consent.value, channels=consent.channels
        )
        if consent.unclear is not None and decision.withheld:
            self.warn(
                "consent", f"{consent.unclear}; contact details not published (only an explicit Yes publishes them)"
            )
        elif decision.withheld and consent.value:
            self.warn(
                "consent", f"consent names only {', '.join(sorted(consent.channels or ()))}; the rest was held back"
            )
        elif decision.withheld:
            field = (
                "consent"
                if self.header("consent")
                else next(
                    f for f in ("contact", "contact_name", "contact_email", "contact_phone") if self.raw(f) is not None
                )
            )
            self.warn(
                field,
                "contact details not published because consent to share them is not 'Yes'; the network's own contact is shown instead",
            )
        return decision.contact

    def _topics(self) -> list[str]:
        slugs, unknown = cells.parse_topics(self.raw("topics"))
        if unknown:
            self.warn(
                "topics",
                f"topic(s) {', '.join(map(repr, unknown))} not recognised and left out; use words like 'hearing voices', 'anxiety', 'carers'",
            )
        return slugs[:20]

    def _languages(self) -> list[str]:
        codes, unknown = cells.parse_languages(self.raw("languages"))
        if unknown:
            self.warn(
                "languages",
                f"language(s) {', '.join(map(repr, unknown))} not recognised and left out; write the language's English name",
            )
        return codes[:20]

    def _join(self) -> dict[str, Any] | None:
        if self.raw("join") is None:
            return None
        join, guessed = cells.parse_join(self.raw("join"))
        if guessed:
            self.warn("join", "could not tell whether people drop in, book or are referred; shown as 'contact first'")
        return join

    def _role(self) -> dict[str, Any] | None:
        role: dict[str, Any] = {}
        if (paid := self.parse("role_paid", cells.parse_yes_no)) is not None:
            role["paid"] = paid
        if hours := self.text("role_hours", 200):
            role["hours"] = hours
        if closes := self.parse("role_closes", cells.parse_date, fatal=True):
            role["closes"] = closes.isoformat()
        return role or None

    def _reviewed(self) -> str | None:
        """The "last checked" column, else the import day: a form's Timestamp is when it was filled in, not checked."""
        if self.raw("reviewed") is not None:
            found = self.parse("reviewed", cells.parse_date, fatal=True)
            return found.isoformat() if found else None
        return self.r.today.isoformat() if self.r.today else None


def _clock_text(times: TimeRange) -> str:
    return times.opens if times.closes is None else f"{times.opens}-{times.closes}"
