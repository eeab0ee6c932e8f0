"""Realistic listings for benchmarks: varied kinds, schedules, places and prose.

Deterministic from a seed, so two runs (and two processes building one peer
in parallel) produce the same records.  Sizes and shapes follow the invented
examples under ``examples/`` (about 1.2 kB of JSON per listing): most are
weekly groups with a public venue, some private with only an area, some
online, some one-off events, with a contact only where consent is given.
"""

from __future__ import annotations

import random
from typing import Any

from protocol.records import TOPICS

__all__ = ["listing", "listings", "PLACES", "SUBJECTS"]

# (area, postcode, postcode sector, lat, lon)
PLACES = (
    ("Headingley, Leeds", "LS6 3HN", "LS6 3", 53.8208, -1.5855),
    ("Leeds city centre", "LS2 3AD", "LS2 3", 53.8042, -1.5495),
    ("Harehills, Leeds", "LS8 5AA", "LS8 5", 53.8121, -1.5194),
    ("Brixton, Lambeth", "SW2 1RW", "SW2 1", 51.4613, -0.1156),
    ("Streatham, Lambeth", "SW16 1HS", "SW16 1", 51.4282, -0.1313),
    ("Kennington, Lambeth", "SE11 4QH", "SE11 4", 51.4883, -0.1109),
    ("Manchester city centre", "M1 2WD", "M1 2", 53.4794, -2.2453),
    ("Moss Side, Manchester", "M14 4SP", "M14 4", 53.4588, -2.2350),
    ("Bristol city centre", "BS1 5TR", "BS1 5", 51.4545, -2.5879),
    ("Easton, Bristol", "BS5 6HY", "BS5 6", 51.4619, -2.5640),
    ("Sheffield city centre", "S1 2HE", "S1 2", 53.3811, -1.4701),
    ("Hillsborough, Sheffield", "S6 2UN", "S6 2", 53.4030, -1.5040),
    ("Newcastle city centre", "NE1 4XF", "NE1 4", 54.9738, -1.6132),
    ("Cardiff Bay", "CF10 5AL", "CF10 5", 51.4637, -3.1649),
    ("Norwich", "NR2 1TF", "NR2 1", 52.6309, 1.2974),
    ("Plymouth", "PL1 2AA", "PL1 2", 50.3714, -4.1424),
)
SUBJECTS = (
    ("Hearing Voices Group", ["hearing-voices", "psychosis"]),
    ("Men's Walk and Talk", ["men", "walking", "depression", "loneliness"]),
    ("Bipolar Peer Group", ["bipolar", "depression"]),
    ("Anxiety Support Circle", ["anxiety", "wellbeing"]),
    ("Carers' Coffee Morning", ["carers", "loneliness"]),
    ("LGBTQ+ Peer Support", ["lgbtq", "wellbeing"]),
    ("Young People's Drop-in", ["young-people", "anxiety"]),
    ("Creative Wellbeing Workshop", ["creative", "wellbeing"]),
    ("Suicide Bereavement Group", ["suicide-bereavement"]),
    ("Eating Difficulties Peer Group", ["eating-difficulties"]),
    ("Perinatal Peer Support", ["perinatal", "women", "anxiety"]),
    ("Veterans' Breakfast Club", ["veterans", "men", "trauma"]),
    ("Recovery Café", ["addiction", "loneliness"]),
    ("Neurodivergent Adults Meet-up", ["neurodivergent"]),
    ("Crisis Café", ["crisis", "suicidal-feelings"]),
    ("OCD Self-help Group", ["ocd", "anxiety"]),
)
ORGS = (
    "Leeds Mind",
    "Lambeth Peer Network",
    "Mind in Bristol",
    "Sheffield Flourish",
    "North East Peers",
    "Hafal Cardiff",
)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SENTENCES = (
    "We meet in a quiet room and talk about what our experiences mean to us, in our own words.",
    "Nobody will tell you what to think or try to change your diagnosis.",
    "Tea, coffee and biscuits are provided, and you can just listen if you prefer.",
    "Partners and friends are welcome at the first session of each month.",
    "The group is run by volunteers who have been through hard times themselves.",
    "Some weeks we talk a lot, some weeks we don't, and both are fine.",
    "Please get in touch before your first visit so a facilitator can meet you at the door.",
    "We share tips on sleep, routines and getting through the highs and lows.",
    "There is a short check-in at the start and a longer open conversation after a break.",
    "The building has a lift, a hearing loop and an accessible toilet on the ground floor.",
)
KINDS = ("group",) * 12 + ("service", "service", "event", "role", "training", "resource", "organisation")


def _coord(x: float, rng: random.Random) -> str:
    return f"{x + rng.uniform(-0.02, 0.02):.5f}"


def listing(i: int, *, seed: int = 0) -> tuple[str, dict[str, Any]]:
    """Listing number ``i``: an id and the fields a coordinator would publish."""
    rng = random.Random(seed * 1_000_003 + i)
    area, postcode, sector, lat, lon = rng.choice(PLACES)
    subject, topics = rng.choice(SUBJECTS)
    kind = rng.choice(KINDS)
    org = rng.choice(ORGS)
    town = area.split(", ")[-1]
    fields: dict[str, Any] = {
        "kind": kind,
        "name": f"{town} {subject} {i}",
        "summary": f"A friendly {subject.lower()} in {area}, run by and for people with lived experience.",
        "description": " ".join(rng.sample(SENTENCES, rng.randint(2, 5))),
        "topics": topics + ([rng.choice(list(TOPICS))] if rng.random() < 0.3 else []),
        "audience": rng.choice(
            ("Adults 18 and over", "Anyone who feels they would benefit", "Young people aged 16 to 25")
        ),
        "organisation": {"name": org, "url": "https://example.org/" + org.lower().replace(" ", "-")},
        "languages": ["en"] + (["pl"] if rng.random() < 0.05 else []),
        "cost": {"free": rng.random() < 0.85},
        "status": "active" if rng.random() < 0.95 else "paused",
        "reviewed": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    hour = rng.choice((10, 11, 13, 14, 18, 19))
    opens, closes = f"{hour:02d}:{rng.choice(('00', '30'))}", f"{hour + 1:02d}:30"
    if kind in ("event", "training"):
        fields["schedule"] = {
            "dates": [
                {"date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "opens": opens, "closes": closes}
            ]
        }
    elif kind in ("group", "service"):
        rule: dict[str, Any] = {
            "freq": "weekly",
            "byday": rng.sample(DAYS, rng.choice((1, 1, 1, 2))),
            "opens": opens,
            "closes": closes,
        }
        if rng.random() < 0.2:
            rule = {"freq": "monthly", "byday": [f"1{rng.choice(DAYS)}"], "opens": opens, "closes": closes}
        fields["schedule"] = {
            "rules": [rule],
            "text": f"{'Monthly' if rule['freq'] == 'monthly' else 'Weekly'}, {opens} to {closes}",
        }
    delivery = rng.choice(("in_person",) * 6 + ("online", "hybrid", "phone"))
    fields["delivery"] = delivery
    if delivery != "online" and delivery != "phone":
        if rng.random() < 0.15:
            fields["private"] = True
            fields["location"] = {
                "type": "area",
                "area": area,
                "postcode_area": sector,
                "lat": _coord(lat, rng),
                "lon": _coord(lon, rng),
            }
        else:
            fields["location"] = {
                "type": "public",
                "name": f"{town} Community Centre, room {rng.randint(1, 9)}",
                "address": f"{rng.randint(1, 200)} High Street, {town}",
                "postcode": postcode,
                "area": area,
                "lat": _coord(lat, rng),
                "lon": _coord(lon, rng),
            }
    fields["join"] = {"method": rng.choice(("drop_in", "booking", "referral", "contact_first"))}
    if rng.random() < 0.4:
        fields["contact"] = {"consent": True, "name": "Group volunteers", "email": f"group{i}@example.org"}
    if rng.random() < 0.6:
        fields["accessibility"] = rng.sample(["Step-free access", "Hearing loop", "Accessible toilet", "Quiet room"], 2)
    if rng.random() < 0.5:
        fields["website"] = f"https://example.org/listings/{i}"
    if kind == "role":
        fields["role"] = {"paid": rng.random() < 0.3, "hours": "4 hours a week"}
    return f"listing-{i:07d}", fields


def listings(start: int, stop: int, *, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    return [listing(i, seed=seed) for i in range(start, stop)]
