"""Reading a sheet's headings by what they mean, not by a fixed list.

Coordinators word their questions their own way ("Is the venue private? (we
won't publish the address if so)", "Secret location (Y/N)", "Can the address be
shown publicly?"), and Google Forms and Microsoft Forms add columns about
whoever filled the form in.  This module decides, for each heading, which
listing field it feeds, and which it must never feed.  The rules are the table
:data:`HEADING_RULES`, tried in order, first match wins; after them comes the
alias table (:mod:`node.importer.aliases`).

Privacy fails closed (docs/architecture.md, "a spreadsheet row → plan → sign →
feed"): a column that says it is not for publication is never read, a
respondent column is never a contact or a review date, and when two columns
could fill the same field the one naming the group's contact wins
(:attr:`Heading.strength`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from node.importer.aliases import header_key, match_header

__all__ = [
    "Heading",
    "HEADING_RULES",
    "FORMS_RESPONDENT",
    "is_forms_export",
    "classify",
    "privacy_sense",
    "hint_for_unused",
]

Role = Literal["field", "never", "respondent", "unused"]
Sense = Literal["private", "public"]


@dataclass(frozen=True)
class Heading:
    """How one heading is read.

    ``field`` is the listing field it feeds (``None`` for a column not read);
    ``sense`` is set for the privacy column ("private": Yes means private;
    "public": Yes means public); ``strength`` orders two columns for one field
    (the group's own contact column beats a bare "Email"); ``rule`` names the
    row of :data:`HEADING_RULES` that decided it.
    """

    field: str | None
    role: Role
    rule: str
    sense: Sense | None = None
    strength: int = 1


def _words(key: str) -> set[str]:
    return set(key.split())


def _has(key: str, *phrases: str) -> bool:
    padded = f" {key} "
    return any(f" {p} " in padded for p in phrases)


# -- the privacy column --------------------------------------------------------

# A heading asks about privacy when it holds one of these (the Yes answer means private) …
PRIVATE_TERMS: Final = (
    "private",
    "closed",
    "confidential",
    "secret",
    "hidden",
    "hide",
    "hidden from",
    "withhold",
    "withheld",
    "sensitive",
    "undisclosed",
    "do not disclose",
    "dont disclose",
    "don t disclose",
    "restricted",
    "suppress",
    "anonymous",
    "do not publish",
    "dont publish",
    "don t publish",
    "not to be published",
    "not published",
    "invite only",
    "referral only",
    "on referral only",
    "on request",
    "after contact",
    "someone s home",
    "someones home",
    "kept secret",
)
# … or one of these (the Yes answer means public) …
PUBLIC_TERMS: Final = (
    "public",
    "publicly",
    "publish",
    "published",
    "shown",
    "show",
    "share",
    "shared",
    "list",
    "listed",
    "display",
    "displayed",
    "open to the public",
)
# … or names both answers ("Public or private venue?"), when the cells say Public / Private.
BOTH_ANSWERS: Final = ("public or private", "public private", "open or closed", "privacy")
# … and it is about where the group meets (or is short enough to mean nothing else: "Private?").
PLACE_SUBJECTS: Final = (
    "venue",
    "address",
    "location",
    "place",
    "meeting place",
    "group",
    "home",
    "house",
    "refuge",
    "safe house",
    "site",
    "premises",
)
# A heading naming any of these is about something else ("Private parking available?", "Public contact email").
OTHER_SUBJECTS: Final = (
    "email",
    "e mail",
    "phone",
    "telephone",
    "mobile",
    "tel",
    "contact details",
    "contact email",
    "contact",
    "parking",
    "sector",
    "policy",
    "notice",
    "funded",
    "disabilities",
    "agreement",
    "messages",
    "santa",
    "transport",
    "liability",
    "holidays",
    "holiday",
    "summer",
    "partner",
    "notes",
    "date",
    "dates",
    "time",
    "times",
    "wheelchair",
)
# Words that may stand beside a privacy word in a short heading ("Private (Y/N)", "Is it private?").
_FILLER: Final = frozenset(
    [
        "is",
        "it",
        "this",
        "the",
        "a",
        "y",
        "n",
        "yes",
        "no",
        "tick",
        "if",
        "please",
        "or",
        "and",
        "answer",
        "question",
        "of",
    ]
)


def privacy_sense(header: str) -> Sense | None:
    """The sense of a privacy heading ("private" or "public"), or ``None`` if it is not one."""
    key = header_key(header)
    if not key:
        return None
    scrubbed = key.replace("after contact", "after getting in touch")
    if _has(scrubbed, *OTHER_SUBJECTS):
        return None
    about_place = _has(key, *PLACE_SUBJECTS)
    if _has(key, *BOTH_ANSWERS) and (about_place or _has(key, "public", "private", "open", "closed")):
        return "private"
    if _has(key, *PRIVATE_TERMS):
        if about_place or _words(key) <= _FILLER | {"private", "closed", "confidential", "secret", "hidden"}:
            return "private"
        if _has(key, "sensitive", "undisclosed", "restricted", "anonymous", "suppress", "withhold"):
            return "private" if about_place else None
        return None
    if about_place and _has(key, *PUBLIC_TERMS) and not _has(key, "group"):
        return "public"
    return None


# -- the rules table -----------------------------------------------------------

# Headings that say the column is not for publication: never read into a listing.
NOT_FOR_PUBLICATION: Final = (
    "not published",
    "not for publication",
    "not to be published",
    "internal",
    "office use",
    "staff",
    "do not publish",
    "dont publish",
    "don t publish",
    "your email",
    "your e mail",
    "your phone",
    "your name",
    "your contact",
    "your telephone",
    "your mobile",
    "admin",
)
# The respondent columns Google Forms and Microsoft Forms add: who filled the form in, and when.
FORMS_RESPONDENT: Final[dict[str, str | None]] = {
    "timestamp": "timestamp",
    "email address": None,
    "email": None,
    "name": None,
    "id": None,
    "start time": None,
    "completion time": "timestamp",
    "last modified time": None,
    "username": None,
}
# Headings that name a review that is due, not one that was done.
_REVIEW_DUE: Final = ("review due", "due for review", "next review", "review date due")


def is_forms_export(headers: Sequence[str]) -> bool:
    """Google Forms (first column "Timestamp") or Microsoft Forms ("ID", "Start time", "Completion time")."""
    keys = [header_key(h or "") for h in headers]
    if keys and keys[0] == "timestamp":
        return True
    return {"id", "start time", "completion time"} <= set(keys)


def _respondent(key: str, forms: bool) -> Heading | None:
    if forms and key in FORMS_RESPONDENT:
        field = FORMS_RESPONDENT[key]
        return Heading(field, "respondent" if field is None else "field", "respondent", strength=0)
    return None


def _never(key: str, forms: bool) -> Heading | None:
    if _has(key, *NOT_FOR_PUBLICATION):
        return Heading(None, "never", "not for publication")
    return None


def _privacy(key: str, forms: bool) -> Heading | None:
    sense = privacy_sense(key)
    return Heading("private", "field", "privacy question", sense=sense, strength=2) if sense else None


_CONSENT_VERBS: Final = (
    "publish",
    "published",
    "publishing",
    "share",
    "shared",
    "sharing",
    "consent",
    "permission",
    "ok",
    "okay",
    "happy",
    "agree",
    "appear",
    "shown",
    "show",
    "display",
    "go on",
    "be on",
    "tick if yes",
)


def _consent(key: str, forms: bool) -> Heading | None:
    if _has(key, "contact", "email", "e mail", "phone", "details", "number", "telephone") and _has(
        key, *_CONSENT_VERBS
    ):
        return Heading("consent", "field", "consent question", strength=2)
    return None


# Words saying a contact column is the group's (it beats a bare "Email" in the same sheet).
_GROUP_CONTACT: Final = ("contact", "group", "public", "enquiries", "booking", "facilitator", "for the group")


def _contact(key: str, forms: bool) -> Heading | None:
    strength = 2 if _has(key, *_GROUP_CONTACT) else 1
    if _has(key, "email", "e mail"):
        if _has(key, "or phone", "and phone", "email phone") or _has(key, "phone"):
            return Heading("contact", "field", "contact details", strength=strength)
        return Heading("contact_email", "field", "contact email", strength=strength)
    if _has(key, "phone", "telephone", "mobile", "tel", "phone number", "contact number"):
        return Heading("contact_phone", "field", "contact phone", strength=strength)
    if _has(key, "contact name", "contact person", "name of contact"):
        return Heading("contact_name", "field", "contact name", strength=strength)
    if _has(key, "who to contact", "group contact", "contact") and not _has(key, "how"):
        return Heading("contact", "field", "contact details", strength=strength)
    return None


def _reviewed(key: str, forms: bool) -> Heading | None:
    if _has(key, *_REVIEW_DUE):
        return Heading(None, "unused", "review due")
    if _has(key, "last checked", "date checked", "checked", "updated", "last reviewed", "reviewed", "verified"):
        return Heading("reviewed", "field", "last checked")
    return None


# Plain questions for the main fields, in the words people use on forms.
_QUESTIONS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        "name",
        ("name of your group", "name of the group", "name of group", "group name", "listing title", "service name"),
    ),
    ("kind", ("what kind of listing", "type of activity", "what type", "activity type", "listing type", "what kind")),
    ("description", ("about", "tell us", "about your group", "description", "describe", "what happens")),
    ("join", ("how do people join", "how to join", "how to apply", "join", "apply")),
    ("days", ("when do you meet", "day and time", "days and times", "what time", "when", "schedule", "meets")),
    ("postcode", ("postcode", "post code")),
    ("address", ("where do you meet", "venue name and address", "address")),
    ("summary", ("what it is",)),
)


def _question(key: str, forms: bool) -> Heading | None:
    for field, phrases in _QUESTIONS:
        if _has(key, *phrases):
            return Heading(field, "field", "question wording")
    return None


# Short headings whose meaning the alias table would get wrong or miss.
_PLAIN: Final[dict[str, str]] = {
    "service": "name",
    "activity type": "kind",
    "type of activity": "kind",
    "day time": "days",
    "date day": "days",
    "day date": "days",
    "date and day": "days",
    "start": "start_time",
    "to": "end_time",
    "finish": "end_time",
}


def _plain(key: str, forms: bool) -> Heading | None:
    field = _PLAIN.get(key)
    return Heading(field, "field", "plain word") if field else None


def _alias(key: str, forms: bool) -> Heading | None:
    field = match_header(key)
    if field == "timestamp":
        return Heading("timestamp", "field", "alias", strength=0)
    return Heading(field, "field", "alias") if field else None


# (rule name, what it reads, how): tried in order; the first that answers decides the heading.
HEADING_RULES: Final[tuple[tuple[str, str, Callable[[str, bool], Heading | None]], ...]] = (
    (
        "respondent",
        "In a Forms export, 'Timestamp', 'Email address', 'Email', 'Name', 'ID', 'Start time', "
        "'Completion time', 'Last modified time': the person who filled the form in; never a contact or a review date",
        _respondent,
    ),
    (
        "privacy question",
        "Asks whether the venue/address/location/place/group is private, closed, confidential, secret, hidden "
        "(Yes = private), or may be shown/published/public (Yes = public)",
        _privacy,
    ),
    (
        "not for publication",
        "Says it is not published / not for publication / internal / office use / staff / do not publish, "
        "or asks for 'your' name, email or phone: never read",
        _never,
    ),
    (
        "consent question",
        "Asks whether the contact / email / phone / details may be published, shared, shown: consent",
        _consent,
    ),
    (
        "last checked",
        "'Last checked', 'Date checked', 'Updated', 'Reviewed' (not 'Review due'): the checked date",
        _reviewed,
    ),
    (
        "contact",
        "Names an email, phone, contact name or contact details; the group's ('Contact email', 'Group phone', "
        "'Public email') wins over a bare 'Email'",
        _contact,
    ),
    ("plain word", "'Service' (name), 'Activity type' (kind), 'Date / day' (days), 'To' / 'Finish' (end time)", _plain),
    ("alias", "One of the template's names or their aliases (node.importer.aliases)", _alias),
    ("question wording", "A form question: 'What is the name of your group?', 'When do you meet?' …", _question),
)


def classify(header: str, *, forms: bool = False) -> Heading:
    """How ``header`` is read; ``forms`` says the sheet is a Google or Microsoft Forms export."""
    key = header_key(header)
    if not key:
        return Heading(None, "unused", "blank")
    for _name, _text, rule in HEADING_RULES:
        found = rule(key, forms)
        if found is not None:
            return found
    return Heading(None, "unused", "not understood")


_HINT_WORDS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (
        ("private", "closed", "confidential", "secret", "hidden", "hide", "venue", "address", "location"),
        "Private group?",
    ),
    (("publish", "share", "consent", "permission", "public"), "OK to share contact details publicly?"),
    (("email", "phone", "contact"), "Contact email"),
    (("check", "review", "update"), "Date last checked"),
    (("day", "time", "when", "meet"), "Day(s)"),
)


def hint_for_unused(header: str) -> str:
    """The warning for a heading that was not read, saying what it might have been and what to rename it."""
    key = header_key(header)
    for words, rename in _HINT_WORDS:
        if _has(key, *words):
            meaning = (
                "says which venues are private"
                if rename == "Private group?"
                else {
                    "OK to share contact details publicly?": "says whether the contact may be published",
                    "Contact email": "holds the group's contact",
                    "Date last checked": "says when the details were last checked",
                    "Day(s)": "says when it meets",
                }[rename]
            )
            return f"{header!r} was not understood; if it {meaning}, rename it {rename!r}"
    return f"{header!r} was not understood, so its values are not imported; rename it to a column from the template if it matters"
