"""Showing a slice on another website: ``/embed``, ``/oembed``, ``/embed/build`` and the widget script.

Three ways in, simplest first:

1. **Paste a link.**  A search page carries
   ``<link rel="alternate" type="application/json+oembed">``; WordPress (and
   any oEmbed consumer) fetches ``/oembed?url=…`` and gets a sandboxed iframe
   of ``/embed?…``.  The embed page posts its height to the parent in the
   message format WordPress' ``wp-embed.js`` already listens for
   (``{message: "height", value, secret}``, the secret taken from the
   ``#?secret=`` fragment WordPress appends), and asks it to open links
   (``{message: "link", …}``) because WordPress' sandbox has no popups.
2. **A script and a custom element**, for sites that allow scripts:
   ``<script src="…/static/widget.js" async></script><signpost-directory filters="kind=group&near=LS6">``
   renders the same iframe and sizes it the same way.
3. **An iframe** pasted as HTML.

The embed sets no cookies and no storage, loads nothing but this node's own
stylesheet and script, opens links on the node (``<base target="_blank">``),
shows where to get urgent help, and fits a 320px column.  Its
Content-Security-Policy allows being framed by anyone and nothing else.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web
from multidict import MultiDict

from node.core.context import NODE
from node.directory.filters import DELIVERY_FILTERS, FilterError, Filters, to_params
from node.directory.schedule import describe, format_occurrence
from node.directory.slices import SLICE_PARAMS, Slice, parse_slice
from node.web.templating import STATIC_DIR, TEMPLATES, URGENT_HELP, Templates
from node.web.views.common import allowed_params, int_param, json_error
from node.web.views.shared import CORS_HEADERS, KIND_LABELS, WITHIN_CHOICES, api_view, now_for, search_with_names
from protocol.records import TOPICS

__all__ = ["routes", "routes_for", "EMBED_CSP", "EMBED_LIMIT", "SANDBOX", "oembed_html", "embed_links", "snippets"]

routes = web.RouteTableDef()
EMBED_LIMIT: Final = 30
DEFAULT_WIDTH: Final = 600
DEFAULT_HEIGHT: Final = 640
SANDBOX: Final = "allow-scripts allow-popups allow-popups-to-escape-sandbox"
# The embed runs in a sandbox without allow-same-origin, where some browsers
# match 'self' against nothing: the node's own origin is named as well.
EMBED_CSP: Final = (
    "default-src 'none'; style-src 'self' {origin}; script-src 'self' {origin}; img-src 'self' {origin}; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors *"
)
_SCRIPTS: Final = {name: (STATIC_DIR / name) for name in ("embed.js", "widget.js")}
_OEMBED_PATHS: Final = ("/search", "/embed", "/")


def _script(name: str) -> bytes:
    return Path(_SCRIPTS[name]).read_bytes()


def embed_links(base: str, filters: Filters) -> dict[str, str]:
    """Links for a set of filters (less ``when``, which slices refuse): search page, embed page, oEmbed, snippet builder."""
    query = urlencode(to_params(replace(filters, when=None)))
    search_url = f"{base}/search" + (f"?{query}" if query else "")
    return {
        "search": search_url,
        "embed": f"{base}/embed" + (f"?{query}" if query else ""),
        "oembed": f"{base}/oembed?" + urlencode({"url": search_url, "format": "json"}),
        "build": "/embed/build" + (f"?{query}" if query else ""),
    }


def routes_for(app: web.Application) -> web.RouteTableDef:
    """The routes, and (at startup, once the pages' templates exist) the template helper for discovery links."""

    async def install(app: web.Application) -> None:
        templates = app.get(TEMPLATES)
        if templates is not None:
            base = app[NODE].config.base_url
            templates.env.globals["embed_links"] = lambda f: embed_links(base, f)

    app.on_startup.append(install)
    return routes


def oembed_html(src: str, *, title: str, width: int, height: int) -> str:
    """The iframe an oEmbed consumer inserts (class ``wp-embedded-content`` so WordPress sizes it)."""
    return (
        f'<iframe class="wp-embedded-content" sandbox="{SANDBOX}" security="restricted" '
        f'src="{html.escape(src)}" title="{html.escape(title)}" width="{width}" height="{height}" '
        f'frameborder="0" loading="lazy" referrerpolicy="no-referrer"></iframe>'
    )


def _templates(request: web.Request) -> Templates:
    return request.app[TEMPLATES]


def _render_embed(request: web.Request, name: str, ctx: dict[str, Any], *, status: int = 200) -> web.Response:
    body = _templates(request).env.get_template(name).render(**ctx)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    own = urlsplit(request.app[NODE].config.base_url)
    response.headers["Content-Security-Policy"] = EMBED_CSP.format(origin=f"{own.scheme}://{own.netloc}")
    response.headers["Cache-Control"] = "public, max-age=60" if status < 400 else "no-store"
    return response


def _card(hit: Any, names: dict[str, str], base: str, now: Any) -> dict[str, Any]:
    r = hit.record
    today = now.date()
    loc = r.location
    area = getattr(loc, "area", None) if loc is not None else None
    return {
        "name": r.name,
        "url": f"{base}/listing/{r.publisher}/{r.id}",
        "kind": KIND_LABELS[r.kind][0],
        "summary": r.summary,
        "when": describe(r.schedule, today=today, include_text=False, max_dates=2)[:3],
        "next": format_occurrence(hit.next, today=today) if hit.next else None,
        "area": area,
        "distance": None if hit.distance_km is None or hit.remote else f"{hit.distance_km:.1f} km away",
        "online": r.delivery in ("online", "hybrid", "phone"),
        "delivery": {"online": "Online", "hybrid": "In person and online", "phone": "By phone"}.get(r.delivery),
        "network": names.get(r.publisher, ""),
    }


@routes.get("/embed")
async def embed_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    base = node.config.base_url
    ctx: dict[str, Any] = {"site_name": node.config.node.name, "urgent_help": URGENT_HELP, "base": base, "error": None}
    try:
        allowed_params(request, set(SLICE_PARAMS) | {"when"})
        sl = parse_slice(request.query)
    except (FilterError, web.HTTPBadRequest) as e:
        ctx.update(
            error=e.problem if isinstance(e, FilterError) else "That address has a setting we don't understand.",
            cards=[],
            total=0,
            links=embed_links(base, Filters()),
        )
        return _render_embed(request, "embed.html", ctx, status=400)
    now = now_for(request)

    results, names = await search_with_names(request, sl.filters, place=sl.place, limit=EMBED_LIMIT)
    ctx.update(
        cards=[_card(h, names, base, now) for h in results.items],
        total=results.total,
        links=embed_links(base, sl.filters),
        heading=_heading(sl),
    )
    return _render_embed(request, "embed.html", ctx)


def _heading(sl: Slice) -> str:
    f = sl.filters
    kinds = " and ".join(KIND_LABELS[k][1].lower() for k in f.kind) or "peer support"
    topics = ", ".join(TOPICS.get(t, t) for t in f.topic)
    text = kinds[0].upper() + kinds[1:]
    if topics:
        text += f": {topics}"
    if sl.place is not None:
        text += f" near {sl.place.label}"
    return text


@routes.get("/embed.js")
async def embed_script(request: web.Request) -> web.Response:
    return _js(_script("embed.js"))


@routes.get("/static/widget.js")
async def widget_script(request: web.Request) -> web.Response:
    return _js(_script("widget.js"))


def _js(body: bytes) -> web.Response:
    response = web.Response(body=body, content_type="text/javascript", charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers.update(CORS_HEADERS)
    return response


@routes.get("/oembed")
@api_view
async def oembed(request: web.Request) -> web.StreamResponse:
    allowed_params(request, {"url", "format", "maxwidth", "maxheight"})
    node = request.app[NODE]
    fmt = request.query.get("format") or "json"
    if fmt == "xml":  # oEmbed §2.3: a format the provider cannot give is 501
        return json_error(501, "format 'xml' is not offered", hint="use format=json")
    if fmt != "json":
        raise FilterError("format", f"{fmt[:20]!r} is not an oEmbed format", hint="use format=json")
    maxwidth = int_param(request, "maxwidth", default=None, minimum=1, maximum=10000)
    maxheight = int_param(request, "maxheight", default=None, minimum=1, maximum=10000)
    url = request.query.get("url", "")
    if not url:
        raise FilterError("url", "is needed: the address of a search or embed page on this node")
    base = node.config.base_url
    target = urlsplit(url)
    own = urlsplit(base)
    if (target.scheme, target.netloc) != (own.scheme, own.netloc) or target.path.rstrip("/") not in {
        p.rstrip("/") for p in _OEMBED_PATHS
    }:
        raise web.HTTPNotFound(reason="That address is not a search or embed page on this node")
    params = MultiDict(
        (k, v) for k, v in MultiDict(_query_pairs(target.query)).items() if k in SLICE_PARAMS or k == "when"
    )
    sl = parse_slice(params)
    width = min(maxwidth or DEFAULT_WIDTH, DEFAULT_WIDTH)
    height = min(maxheight or DEFAULT_HEIGHT, DEFAULT_HEIGHT)
    links = embed_links(base, sl.filters)
    title = f"{_heading(sl)}, from {node.config.node.name}"
    return web.json_response(
        {
            "type": "rich",
            "version": "1.0",
            "title": title,
            "provider_name": node.config.node.name,
            "provider_url": base,
            "cache_age": 3600,
            "width": width,
            "height": height,
            "html": oembed_html(links["embed"], title=title, width=width, height=height),
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def snippets(base: str, filters: Filters, *, name: str) -> dict[str, str]:
    """What a person pastes: a link (oEmbed), a script with a custom element, or a plain iframe.

    Query strings come from ``urlencode``, which percent-escapes quotes and
    angle brackets, so they go into attributes as they are (easier to read).
    """
    links = embed_links(base, filters)
    query = urlencode(to_params(filters))
    title = f"Peer support listings from {name}"
    return {
        "link": links["search"],
        "script": (
            f'<script src="{html.escape(base)}/static/widget.js" async></script>\n'
            f'<signpost-directory filters="{query}"></signpost-directory>'
        ),
        "iframe": (
            f'<iframe src="{links["embed"]}" title="{html.escape(title)}" width="100%" height="{DEFAULT_HEIGHT}" '
            f'sandbox="{SANDBOX}" loading="lazy" referrerpolicy="no-referrer" style="border:0;max-width:100%"></iframe>'
        ),
        "embed": links["embed"],
    }


@routes.get("/embed/build")
async def build_page(request: web.Request) -> web.Response:
    """Pick filters in an ordinary form (works without JavaScript) and get the snippets to paste."""
    node = request.app[NODE]
    base = node.config.base_url
    ctx: dict[str, Any] = {
        "title": "Show listings on your website",
        "site_name": node.config.node.name,
        "kinds": KIND_LABELS,
        "topics": TOPICS,
        "deliveries": DELIVERY_FILTERS,
        "within_choices": WITHIN_CHOICES,
        "error": None,
        "snips": None,
    }
    params = MultiDict((k, v) for k, v in request.query.items() if k in SLICE_PARAMS and v)
    try:
        sl = parse_slice(params)
    except FilterError as e:
        ctx.update(error=e, f=Filters())
        return _templates(request).render("embed_build.html", ctx, status=400)
    ctx.update(f=sl.filters, snips=snippets(base, sl.filters, name=node.config.node.name), chosen=bool(params))
    return _templates(request).render("embed_build.html", ctx)
