"""The app factory: ``create_app(config) -> web.Application`` (house style §5).

No module-level app and no import-time config, so two nodes with different
configs can run in one test process.  The store, the HTTP client session and
the sync scheduler each live in a ``cleanup_ctx`` generator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from node import SOFTWARE
from node.core.config import Config
from node.core.context import NODE, Node
from node.directory.geo import Geo
from node.storage.store import Store, get_meta
from node.web.auth import trusted_networks
from node.web.limits import BODY_LIMITS, SMALL_BODY, TRUSTED_PROXIES, BodyLimits, request_limits
from node.web.views import (
    api,
    calendar,
    discovery,
    embed,
    feed,
    handout,
    keys,
    networks,
    openreferral,
    pages,
    reports,
    status,
)
from node.web.views.common import error_middleware, security_headers
from node.web.views.credits import routes as credits_routes

__all__ = ["create_app", "open_node", "preload"]


def preload() -> None:
    """Read the data every process only reads (gazetteer, postcode tables, vocabulary) and freeze it.

    ``serve --workers`` calls this before forking its readers (node.web.workers), so they share
    these pages with the process that read them instead of each holding its own copy;
    ``gc.freeze()`` keeps the collector from writing to them (and so copying them) in any process.
    """
    import gc

    from node.directory.vocabulary import load_vocabulary

    Geo.load()
    load_vocabulary()
    gc.collect()
    gc.freeze()


def open_node(config: Config) -> Node:
    store = Store(config.db_path)
    import sqlite3

    conn = sqlite3.connect(config.db_path)
    try:
        publisher = get_meta(conn, "publisher")
    finally:
        conn.close()
    if publisher is None:
        store.close()
        from node.core.errors import NotANode

        raise NotANode(f"{config.db_path} has no publisher id", hint="was the node initialised with `signpost init`?")
    return Node(config=config, store=store, publisher=publisher)


def create_app(config: Config, *, sync: bool = True, jobs: bool = True) -> web.Application:
    """The node's web app; ``jobs=False`` for a reader process of ``serve --workers`` (node.web.workers),
    which answers requests but never pulls, imports or runs scheduled jobs."""
    # Bodies are small unless a page allows more for a signed-in session (node.web.limits, checked before reading).
    app = web.Application(middlewares=[error_middleware, security_headers], client_max_size=SMALL_BODY)
    app[BODY_LIMITS] = BodyLimits()
    app[TRUSTED_PROXIES] = trusted_networks(config.web.trusted_proxies)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        # The gazetteer is read at start rather than on the first search, and a [places] name
        # the postcode data cannot place stops the node here (node.directory.geo, rule 2).
        Geo.load().for_node(config.places)
        node = open_node(config)
        app[NODE] = node
        try:
            yield
        finally:
            node.store.close()

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        node = app[NODE]
        timeout = aiohttp.ClientTimeout(total=config.sync.timeout, sock_connect=10)
        node.session = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": SOFTWARE}, auto_decompress=True)
        try:
            yield
        finally:
            await node.session.close()

    app.cleanup_ctx.append(lifetime)
    app.cleanup_ctx.append(client_session)
    from node.web.jobs import RUNS_JOBS

    app[RUNS_JOBS] = jobs
    if sync and jobs:
        from node.federation.scheduler import scheduler_ctx

        app.cleanup_ctx.append(scheduler_ctx)
        from node.web.jobs import occurrences_ctx

        app.cleanup_ctx.append(occurrences_ctx)  # "today" and "this weekend" as index lookups
        from node.publishing.retirement import retirement_ctx

        app.cleanup_ctx.append(retirement_ctx)  # this node's ended events retire on their own
    app.add_routes(discovery.routes)
    app.add_routes(feed.routes)
    app.add_routes(keys.routes)
    app.add_routes(status.routes)
    app.add_routes(credits_routes)  # /credits: the postcode and place data's attribution
    app.add_routes(api.routes)
    app.add_routes(calendar.routes)
    app.add_routes(embed.routes_for(app))  # also gives search pages their oEmbed discovery link
    app.add_routes(openreferral.routes)
    app.add_routes(networks.routes)  # /networks and /api/v1/networks
    app.add_routes(handout.routes)  # /search/print and /listing/{publisher}/{id}/print
    pages.setup(app)  # public pages, templates, and the HTML error page (app[HTML_ERROR])
    from node.web.views import admin

    admin.setup(app)  # /admin console and the published-sheet schedule
    reports.setup(app)  # the public "Something wrong with this listing?" form
    app.middlewares.append(request_limits)  # innermost, so the console's error page shows its 413
    return app
