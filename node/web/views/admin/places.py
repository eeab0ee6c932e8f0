"""Place names for this node's own area: neighbourhoods the gazetteer lacks (Chapeltown, Hyde Park).

Each name points at a postcode district, sector or postcode ("LS7") or at a point (lat, lon).
They are kept under ``[places]`` in ``signpost.toml`` (:func:`node.core.config.write_place`, so
the file stays as the coordinator wrote it), take effect on the next search without a restart,
and win over the gazetteer for this node's searches (node.directory.geo, rule 2).  A value the
postcode data cannot place is refused with one sentence and the form as typed.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from aiohttp import web

from node.core.config import PlacePoint, write_place
from node.core.errors import ConfigError
from node.directory.geo import Geo, Place
from node.web.auth import Session
from node.web.views.admin.shared import node_of, redirect, render
from node.web.views.admin.signin import signed_in

__all__ = ["routes"]

routes = web.RouteTableDef()
MAX_NAME_CHARS = 80


def _placed(names: dict[str, str | PlacePoint]) -> list[tuple[str, str, Place | None]]:
    """Each configured name, what it was given as, and where that is (``None`` if it no longer resolves)."""
    geo = Geo.load()
    rows: list[tuple[str, str, Place | None]] = []
    for name, value in sorted(names.items(), key=lambda kv: kv[0].lower()):
        given = value if isinstance(value, str) else f"{value.lat:.5f}, {value.lon:.5f}"
        try:
            rows.append((name, given, geo.local_place(name, value)))
        except ConfigError:
            rows.append((name, given, None))
    return rows


async def _page(
    request: web.Request,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    node = node_of(request)
    ctx = {
        "title": "Place names",
        "places": _placed(node.config.places),
        "error": error,
        "notice": notice,
        "form": form or {"name": "", "where": ""},
        "config_path": str((node.config.directory / "signpost.toml").resolve()),
    }
    return render(request, "admin_places.html", ctx, session=session, status=status)


def _value(where: str) -> str | PlacePoint:
    """What the coordinator typed: a postcode area, or "lat, lon" as two numbers."""
    parts = [p.strip() for p in where.replace(";", ",").split(",")]
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            return where
        if math.isfinite(lat) and math.isfinite(lon):
            return PlacePoint(lat=lat, lon=lon)
    return where


@routes.get("/admin/places")
@signed_in
async def places(request: web.Request, session: Session) -> web.StreamResponse:
    added, removed = request.query.get("added"), request.query.get("removed")
    notice = None
    if added:
        notice = f"Added “{added[:MAX_NAME_CHARS]}”. Searches near it work now."
    elif removed:
        notice = f"Removed “{removed[:MAX_NAME_CHARS]}”."
    return await _page(request, session, notice=notice)


@routes.post("/admin/places")
@signed_in
async def place_add(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    form = await request.post()
    name = " ".join(str(form.get("name") or "").split())
    where = " ".join(str(form.get("where") or "").split())
    typed = {"name": name[:200], "where": where[:200]}
    if not name or len(name) > MAX_NAME_CHARS:
        error = f"Give the place a name of 1 to {MAX_NAME_CHARS} characters."
        return await _page(request, session, status=400, error=error, form=typed)
    if not where:
        error = "Say where it is: a postcode district like LS7, a sector like LS7 3, or a point like 53.8182, -1.5377."
        return await _page(request, session, status=400, error=error, form=typed)
    value = _value(where)
    try:
        place = Geo.load().local_place(name, value)
        write_place(node.config.directory, name, value)
    except ConfigError:
        error = (
            f"We couldn't place “{where}”. Give a postcode district like LS7, a sector like LS7 3, a full"
            " postcode, or a point in Great Britain like 53.8182, -1.5377."
        )
        return await _page(request, session, status=400, error=error, form=typed)
    node.config.places[place.label] = value
    raise redirect("/admin/places?" + urlencode({"added": place.label}))


@routes.post("/admin/places/remove")
@signed_in
async def place_remove(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    name = str((await request.post()).get("name") or "")
    if name in node.config.places:
        write_place(node.config.directory, name, None)
        del node.config.places[name]
    raise redirect("/admin/places?" + urlencode({"removed": name}))
