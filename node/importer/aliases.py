"""The column alias table: which spreadsheet headers mean which listing field.

Coordinators keep the columns they already have ("Name of group / activity",
"Day(s)", Google Forms' "Timestamp" …).  Headers are compared after
:func:`header_key` folds case, accents and punctuation, so "Day(s)", "DAYS"
and "day s" all match.  A header that is a known alias followed by more words
("Postcode of venue", "Is this a private or closed group? (we never publish
the address)") matches too, if the alias is long enough to be unambiguous.

The first alias of each field is the header the downloadable template uses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = ["Column", "COLUMNS", "FIELD_NAMES", "header_key", "match_header", "PREFIX_MATCH_MIN"]


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    meaning: str
    example: str
    aliases: tuple[str, ...]


COLUMNS: Final[tuple[Column, ...]] = (
    Column(
        "id",
        "Your own short reference for the listing. Keep it the same every month so re-imports update rather than duplicate. Optional: without it the id is made from organisation + name.",
        "hearing-voices-leeds",
        ("ID", "Ref", "Reference", "Listing ID", "Record ID", "Unique ID"),
    ),
    Column(
        "kind",
        "What it is: group, service, event, role, training, resource or organisation. Blank means group.",
        "group",
        ("Type", "Kind", "Listing type", "Type of listing", "Category of listing"),
    ),
    Column(
        "name",
        "The name people will see. Required.",
        "Hearing Voices Group",
        (
            "Name of group / activity",
            "Group name",
            "Name of group",
            "Name",
            "Activity",
            "Activity name",
            "Name of activity",
            "Title",
            "Service name",
            "Event name",
            "Group / activity",
            "Group",
        ),
    ),
    Column(
        "organisation",
        "Who runs it.",
        "Leeds Mind",
        (
            "Organisation",
            "Organization",
            "Organisation name",
            "Name of organisation",
            "Org",
            "Run by",
            "Provider",
            "Charity",
            "Host organisation",
        ),
    ),
    Column(
        "summary",
        "One line about it (up to 500 characters).",
        "A friendly peer group for people who hear voices.",
        ("Summary", "Short description", "Strapline"),
    ),
    Column(
        "description",
        "Everything else people should know.",
        "We meet upstairs; tea and biscuits provided.",
        (
            "Description",
            "About",
            "About the group",
            "What happens",
            "What happens at the group",
            "Details",
            "More information",
            "More info",
            "Further information",
            "Notes for public",
        ),
    ),
    Column(
        "days",
        "Which day(s) it meets, in your own words: 'Tuesdays', 'Fri, Sat, Sun', 'Every other Wednesday', '1st Monday of the month'.",
        "Tuesdays",
        (
            "Day(s)",
            "Days",
            "Day",
            "When",
            "Meeting day",
            "Meeting days",
            "Day of week",
            "Days and times",
            "When does it meet",
        ),
    ),
    Column(
        "frequency",
        "How often, if not in the days column: 'Weekly', 'Fortnightly', 'Monthly'.",
        "Weekly",
        ("How often?", "How often", "Frequency", "Regularity"),
    ),
    Column(
        "time",
        "Time it runs: '10.30-12.30', '2-4pm', '6pm till 8pm'.",
        "10.30-12.30",
        ("Time", "Times", "Time(s)", "Meeting time", "Session time", "What time"),
    ),
    Column("start_time", "Start time, if you keep start and end apart.", "10:30", ("Start time", "Starts at", "From")),
    Column(
        "end_time",
        "End time, if you keep start and end apart.",
        "12:30",
        ("End time", "Finish time", "Ends at", "Until"),
    ),
    Column(
        "date",
        "For a one-off event or training: the date (day first, e.g. 14/06/2025).",
        "",
        ("Date", "Event date", "Date of event", "Session date", "Course date"),
    ),
    Column(
        "starts",
        "First date of a fortnightly or new group, so the right weeks are shown.",
        "",
        ("Start date", "Starting", "First session", "Next date", "Next session", "Date of next session"),
    ),
    Column(
        "venue",
        "Name of the building.",
        "Oxford Place Centre",
        ("Venue", "Venue name", "Building", "Where", "Meeting place"),
    ),
    Column(
        "address",
        "Street address. For a private group this is kept on this computer only and never published.",
        "Oxford Place, Leeds",
        (
            "Venue / address",
            "Address",
            "Venue address",
            "Location",
            "Street address",
            "Full address",
            "Where does it meet",
        ),
    ),
    Column(
        "postcode",
        "Postcode of the venue. A private group publishes only its area (e.g. 'LS6 3'), never the postcode.",
        "LS1 3AX",
        ("Postcode", "Post code", "Postal code", "Venue postcode", "Zip"),
    ),
    Column(
        "private",
        "Yes if the meeting place must not be published (closed or private group).",
        "No",
        (
            "Is this a private or closed group?",
            "Private group?",
            "Private",
            "Private group",
            "Closed group",
            "Closed group?",
            "Private / closed",
            "Is it private",
            "Hide address",
        ),
    ),
    Column(
        "delivery",
        "Face to face, online, phone, or both.",
        "Face to face",
        (
            "Face to face or online?",
            "Face to face or online",
            "Online or face to face",
            "In person or online",
            "Online or in person",
            "Delivery",
            "Format",
            "How does it meet",
            "Meeting format",
            "Online / in person",
        ),
    ),
    Column(
        "contact",
        "Name, email and phone together in one cell, if you keep them that way.",
        "",
        (
            "Facilitator name/email/phone",
            "Facilitator contact details",
            "Contact",
            "Contact details",
            "Contact info",
            "Facilitator details",
        ),
    ),
    Column(
        "contact_name",
        "Contact person. Published only if the consent column says Yes.",
        "Sam Jones",
        ("Facilitator name", "Contact name", "Contact person", "Facilitator", "Organiser", "Lead", "Group leader"),
    ),
    Column(
        "contact_email",
        "Contact email. Published only if the consent column says Yes.",
        "voices@example.org",
        ("Facilitator email", "Email", "Contact email", "E-mail", "Email address", "Contact e-mail"),
    ),
    Column(
        "contact_phone",
        "Contact phone. Published only if the consent column says Yes.",
        "0113 234 5678",
        (
            "Facilitator phone",
            "Phone",
            "Telephone",
            "Contact number",
            "Phone number",
            "Tel",
            "Mobile",
            "Contact phone",
            "Telephone number",
        ),
    ),
    Column(
        "consent",
        "Yes only if the contact person agreed to their details being public.",
        "Yes",
        (
            "OK to share contact details publicly?",
            "Consent to share contact details",
            "Consent",
            "Consent to publish contact details",
            "Can we publish contact details?",
            "Publish contact details?",
            "Contact details public",
            "OK to share contact details",
        ),
    ),
    Column(
        "cost",
        "'Free', or the price ('£2', '£3 suggested donation').",
        "Free",
        ("Cost", "Price", "Fee", "Fees", "Charge", "Free?", "Cost to attend"),
    ),
    Column(
        "website",
        "Web page for the listing.",
        "https://example.org/voices",
        ("Website", "Web", "Web address", "URL", "Link", "Web link", "Website / social media", "Webpage"),
    ),
    Column(
        "reviewed",
        "When someone last checked the details are right (day first).",
        "01/05/2025",
        (
            "Date last checked",
            "Last checked",
            "Last reviewed",
            "Reviewed",
            "Date checked",
            "Last updated",
            "Date reviewed",
            "Checked on",
        ),
    ),
    Column(
        "timestamp",
        "Google Forms' own submission time; used as the checked date if there is no other.",
        "",
        ("Timestamp", "Submitted", "Submission date"),
    ),
    Column(
        "topics",
        "What it is about, separated by commas: e.g. 'hearing voices, anxiety, carers'.",
        "Hearing voices",
        ("Topics", "Topic", "Tags", "Category", "Categories", "Themes", "Focus", "What is it about", "Type of support"),
    ),
    Column(
        "audience",
        "Who it is for.",
        "Adults 18+",
        (
            "Who is it for?",
            "Who is it for",
            "Audience",
            "Who for",
            "Eligibility",
            "Open to",
            "Who can come",
            "Age group",
        ),
    ),
    Column(
        "accessibility",
        "Access information, separated by semicolons.",
        "Step-free access; hearing loop",
        (
            "Accessibility",
            "Access",
            "Access information",
            "Accessibility information",
            "Wheelchair access",
            "Accessible",
        ),
    ),
    Column(
        "languages",
        "Languages used, separated by commas.",
        "English",
        ("Languages", "Language", "Language(s)", "Languages spoken"),
    ),
    Column(
        "join",
        "How to join: 'Just turn up', 'Book on Eventbrite', 'Referral from GP', 'Contact us first'.",
        "Just turn up",
        (
            "How to join",
            "How to access",
            "How to get involved",
            "Joining",
            "How to attend",
            "Referral",
            "Booking",
            "Referral / booking",
        ),
    ),
    Column(
        "status",
        "Active, paused, or closed.",
        "Active",
        ("Status", "Running?", "Is it running", "Active?", "Current status"),
    ),
    Column("role_paid", "For a role: Yes if paid.", "", ("Paid?", "Paid", "Paid role", "Paid or voluntary")),
    Column("role_hours", "For a role: the hours.", "", ("Hours", "Hours per week", "Time commitment")),
    Column(
        "role_closes",
        "For a role: the closing date for applications.",
        "",
        ("Closing date", "Application deadline", "Apply by"),
    ),
)

FIELD_NAMES: Final = tuple(c.field for c in COLUMNS)
# An alias must be at least this long (folded) to match a header that merely starts with it.
PREFIX_MATCH_MIN: Final = 8


def header_key(text: str) -> str:
    """Fold a header: lower case, no accents, punctuation as spaces, numbering stripped.

    Google Forms and hand-made sheets number their questions ("3. Postcode"), so a
    leading number is dropped.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ")
    folded = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    folded = re.sub(r"^(q\s?)?\d{1,2}\s+(?=[a-z])", "", folded)
    return folded


_EXACT: Final[dict[str, str]] = {}
for _col in COLUMNS:
    for _alias in (_col.field.replace("_", " "), *_col.aliases):
        _EXACT.setdefault(header_key(_alias), _col.field)
_PREFIXES: Final = sorted(((k, f) for k, f in _EXACT.items() if len(k) >= PREFIX_MATCH_MIN), key=lambda kf: -len(kf[0]))


def match_header(header: str) -> str | None:
    """The field a header means, or ``None`` if it is not one we know."""
    key = header_key(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    for alias, field in _PREFIXES:
        if key.startswith(alias + " "):
            return field
    return None
