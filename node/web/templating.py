"""HTML rendering for the node's pages: one Jinja2 environment, static files, and the headers every page carries.

Autoescaping is on for every template.  Pages load nothing but this node's
own stylesheet and icon: the Content-Security-Policy (:data:`CSP`) forbids
scripts, third-party styles, fonts, frames and form posts elsewhere.  A
``<script type="application/ld+json">`` block is data, never executed, so the
policy does not stop search engines reading it.

The urgent-help block is data (:data:`URGENT_HELP`) so the public pages, the
console and the widget show the same numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jinja2
from aiohttp import web
from markupsafe import Markup

__all__ = [
    "TEMPLATE_DIR",
    "STATIC_DIR",
    "CSP",
    "URGENT_HELP",
    "StaticFile",
    "Templates",
    "TEMPLATES",
    "json_ld",
]

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"
CSP: Final = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; font-src 'none'; "
    "connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class UrgentLine:
    href: str
    link: str
    rest: str


# Where to get help now: shown first on every page.
URGENT_HELP: Final = (
    UrgentLine("tel:999", "Call 999", "in an emergency, or if a life is at risk"),
    UrgentLine("tel:111", "Call NHS 111", "and choose option 2 for mental health crisis support"),
    UrgentLine("tel:116123", "Call Samaritans on 116 123", "for free, any time, day or night"),
    UrgentLine("sms:85258?body=SHOUT", "Text SHOUT to 85258", "for Shout's free text support"),
)

_TYPES: Final = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str

    @property
    def version(self) -> str:
        return self.etag[1:9]


def _load_static(directory: Path) -> dict[str, StaticFile]:
    out = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix in _TYPES:
            body = path.read_bytes()
            out[path.name] = StaticFile(body, _TYPES[path.suffix], '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return out


def json_ld(data: Mapping[str, Any]) -> Markup:
    """JSON safe inside ``<script type="application/ld+json">`` (no ``</script>`` can close it early)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


class Templates:
    """The loaded templates and static files, with a renderer that sets the page headers."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR, static_dir: Path = STATIC_DIR) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates ship with the code: read once, not checked on disk at every render.
            auto_reload=False,
        )
        self.static = _load_static(static_dir)
        self.env.globals["urgent_help"] = URGENT_HELP
        self.env.globals["static_url"] = self.static_url

    def static_url(self, name: str) -> str:
        return f"/static/{name}?v={self.static[name].version}"

    def render(
        self, name: str, context: Mapping[str, Any], *, status: int = 200, cache: str = "public, max-age=60"
    ) -> web.Response:
        body = self.env.get_template(name).render(**context)
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = cache if status < 400 else "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def serve_static(self, request: web.Request, name: str) -> web.Response:
        found = self.static.get(name)
        if found is None:
            raise web.HTTPNotFound()
        headers = {"ETag": found.etag, "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if request.headers.get("If-None-Match") == found.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=found.body,
            content_type=found.content_type.split(";")[0],
            charset="utf-8" if "charset" in found.content_type else None,
            headers=headers,
        )


TEMPLATES: web.AppKey[Templates] = web.AppKey("templates", Templates)
