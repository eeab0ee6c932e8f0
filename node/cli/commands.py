"""The ``signpost`` command (house style §9: messages, not tracebacks).

Every command takes ``--dir`` for the node directory.  Progress goes to
stderr, results to stdout (``--json`` where scripts want it), and every
error says what was wrong and what to do, with an exit code scripts can
trust: 0 success, 1 a user error, 2 bad usage (click's own).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from node import SOFTWARE
from node.core.config import Config, load_config
from protocol.errors import SignpostError

if TYPE_CHECKING:
    from node.publishing.keyops import KeyChange

T = TypeVar("T")

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    envvar="SIGNPOST_DIR",
    help="The node directory (holds signpost.toml, keys and the database).",
)


def friendly(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn Signpost errors into one clear message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from node.importer.readers import UnreadableFile

        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except SignpostError as e:
            message = e.message + (f"\n  What to do: {e.hint}" if e.hint else "")
            raise click.ClickException(message) from e
        except UnreadableFile as e:
            raise click.ClickException(str(e)) from e
        except FileNotFoundError as e:
            raise click.ClickException(f"{e.filename or e} does not exist; check the name and the folder.") from e
        except OSError as e:
            where = f" ({e.filename})" if e.filename else ""
            raise click.ClickException(f"{e.strerror or e}{where}; check the path and its permissions.") from e
        except Exception as e:
            if os.environ.get("SIGNPOST_DEBUG"):
                raise
            raise click.ClickException(
                f"this command failed unexpectedly ({type(e).__name__}: {e}); please report it "
                "(run it again with SIGNPOST_DEBUG=1 set to see the details)."
            ) from e

    return wrapper


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(SOFTWARE, message="%(version)s")
def main() -> None:
    """Signpost: a federated directory of peer support.

    Start with `signpost init`, add listings with `signpost import`, and run
    the node with `signpost serve`.  `signpost demo` shows three example
    networks working together.
    """
    from node.storage.store import OWNER_ONLY_UMASK

    # Everything a node process writes is owner-only whatever the umask (docs/security.md, "At rest").
    os.umask(OWNER_ONLY_UMASK)


def _config(directory: Path) -> Config:
    from node.core.config import CONFIG_NAME
    from node.core.errors import NotANode
    from node.storage.store import secure_node_directory

    if not (directory / CONFIG_NAME).exists():
        where = "here" if directory == Path(".") else f"in {directory}"
        raise NotANode(
            f"no Signpost node {where} (no {CONFIG_NAME})",
            hint="pass --dir with your node's folder (or set SIGNPOST_DIR)",
        )
    config = load_config(directory)
    secure_node_directory(directory)
    return config


def _open_node(directory: Path):  # type: ignore[no-untyped-def]
    from node.web.app import open_node

    return open_node(_config(directory))


class _Session:
    """A node with an HTTP client, for commands that talk to peers without serving."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        import aiohttp

        self.node = _open_node(self.directory)
        cfg = self.node.config.sync
        self.node.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=cfg.timeout, sock_connect=10), headers={"User-Agent": SOFTWARE}
        )
        return self.node

    async def __aexit__(self, *exc: object) -> None:
        assert self.node.session is not None
        await self.node.session.close()
        if self.node.syncer is not None:
            self.node.syncer.close()
        self.node.store.close()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


# --------------------------------------------------------------------- init
@main.command()
@DIR_OPTION
@click.option("--name", required=True, help="Your network's name, as people should see it.")
@click.option("--url", required=True, help="The public address of this node, e.g. https://signpost.example.org")
@click.option("--port", type=int, default=8080, show_default=True, help="Port `signpost serve` listens on.")
@click.option("--contact", default=None, help="Your network's own contact (shown on listings without one).")
@click.option("--license", "license_", default=None, help="Licence URL for your listings (default CC BY 4.0).")
@click.option(
    "--password", default=None, help="Console password (prompted for if not given; leave empty to set later)."
)
@friendly
def init(
    directory: Path, name: str, url: str, port: int, contact: str | None, license_: str | None, password: str | None
) -> None:
    """Create a new node: keys, key log, config and database."""
    from node.core.config import DEFAULT_LICENSE
    from node.publishing.lifecycle import init_node
    from node.web.passwords import hash_password

    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "Choose a console password (at least 10 characters; Enter to skip)",
            default="",
            hide_input=True,
            show_default=False,
        )
    result = init_node(
        directory,
        name=name,
        url=url,
        port=port,
        contact=contact,
        license=license_ or DEFAULT_LICENSE,
        password_hash=hash_password(password) if password else None,
    )
    click.echo(f"Created node {name!r} in {directory}")
    click.echo(f"Publisher id: {result.publisher}")
    click.echo("")
    click.echo("Your recovery words. Write them on paper and keep them somewhere safe, away from this computer.")
    click.echo("They are the only way to rebuild this node's identity if its keys are lost or stolen,")
    click.echo("and the only copy: this node keeps just the public half of the recovery key.")
    click.echo("")
    words = result.recovery_words.split()
    for i in range(0, 24, 6):
        click.echo("   " + "  ".join(f"{i + j + 1:>2}. {w:<10}" for j, w in enumerate(words[i : i + 6])))
    click.echo("")
    click.echo(f"Next: signpost import LISTINGS.csv --dir {directory}   then   signpost serve --dir {directory}")


# --------------------------------------------------------------------- serve
@main.command()
@DIR_OPTION
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, from signpost.toml).")
@click.option("--port", type=int, default=None, help="Port to listen on (default from signpost.toml).")
@click.option("--public", is_flag=True, help="Allow listening on a non-loopback address.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help=(
        "Processes answering on the port (default: one per core). With 2 or more, one more process runs sync, "
        "import and jobs at lower priority and answers nothing; with 1, that one process does both."
    ),
)
@friendly
def serve(directory: Path, host: str | None, port: int | None, public: bool, workers: int | None) -> None:
    """Run the node: serve its feed and pages, and pull followed peers."""
    from node.core.addresses import is_loopback
    from node.core.errors import NodeError
    from node.web import workers as serving

    config = _config(directory)
    host = host or config.node.host
    port = config.node.port if port is None else port
    loopback = is_loopback(host)
    if not loopback and not (public or config.node.allow_public_bind):
        raise NodeError(
            f"refusing to listen on {host}, which is not a loopback address",
            hint="put a TLS reverse proxy in front and keep 127.0.0.1, or pass --public if you mean it",
        )
    _port_free(host, port)
    if not loopback:
        click.echo(f"Warning: listening on {host}, reachable from other machines.", err=True)
    click.echo(f"Serving {config.node.name} on http://{host}:{port} (public URL {config.node.url})", err=True)
    serving.run(config, directory, host, port, workers or serving.default_workers())


def _port_free(host: str, port: int) -> None:
    """Refuse, in one sentence and before anything starts, a port another program already listens on."""
    import errno
    import socket

    from node.core.errors import NodeError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise NodeError(f"cannot listen on {host}: {e.strerror}", hint="check --host or [node] host") from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise NodeError(
                    f"port {port} on {host} is already in use (another `signpost serve`, or another program)",
                    hint="stop that program, or choose another port with --port N (and [node] port in signpost.toml)",
                ) from e
            raise NodeError(f"cannot listen on {host} port {port}: {e.strerror}", hint="choose another --port") from e


# --------------------------------------------------------------------- import
@main.command("import")
@DIR_OPTION
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--dry-run", is_flag=True, help="Show what would change; publish nothing.")
@click.option("--replace", is_flag=True, help="Full re-import: listings missing from FILE are deleted.")
@click.option("--yes", is_flag=True, help="With --replace: do not ask for confirmation.")
@click.option(
    "--undelete", is_flag=True, help="Publish again the rows whose listings were deleted with `signpost delete`."
)
@click.option(
    "--template",
    "template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a spreadsheet template to this .xlsx file and stop.",
)
@click.option(
    "--venues",
    type=click.Choice(["public", "private"]),
    default=None,
    help="When the sheet does not say which meeting places are private: 'public' publishes every venue in full, "
    "'private' shows only each one's area (the default). Remembered for the next import of the same file name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly
def import_(
    directory: Path,
    file: Path | None,
    dry_run: bool,
    replace: bool,
    yes: bool,
    template: Path | None,
    venues: Literal["public", "private"] | None,
    as_json: bool,
    undelete: bool,
) -> None:
    """Import listings from a spreadsheet (CSV, XLSX) or JSON Lines file."""
    from node.importer.pipeline import import_file, read, render_plan
    from node.importer.venues import choose_venues, keep_choice
    from node.storage.store import connect, transaction

    if template is not None:
        from node.importer import write_template

        write_template(template)
        click.echo(f"Wrote a template to {template}")
        return
    if file is None:
        raise click.UsageError("give the FILE to import (or --template FILE.xlsx)")
    config = _config(directory)
    conn = connect(config.db_path)
    try:
        choice = choose_venues(conn, file.name, venues)
    finally:
        conn.close()
    batch = read(file, venues=choice.venues, progress=_progress_bar())
    result = import_file(directory, file, dry_run=True, replace=replace, batch=batch, undelete=undelete)
    # What the coordinator must read first: the choice for meeting places the sheet does not mark
    # (render_plan then starts with the reader's notice, batch.venue_notice).
    top = [line for line in (choice.line(),) if line]
    if as_json and dry_run:
        _echo_json({**result.as_json(), "venues": choice.venues, "venues_choice": choice.line()})
        sys.exit(1 if result.rejected_rows else 0)
    if not as_json:
        click.echo("\n".join([*top, render_plan(result, dry_run=dry_run)]))
    if dry_run:
        return
    deletes = result.plan.counts()["delete"]
    if replace and deletes and not yes:
        if not sys.stdin.isatty():
            raise click.ClickException(f"--replace would delete {deletes} listing(s); add --yes to confirm")
        click.confirm(f"Delete {deletes} listing(s) that are no longer in {file.name}?", abort=True)
    result = import_file(directory, file, dry_run=False, replace=replace, batch=result.batch, undelete=undelete)
    if choice.origin == "given":
        conn = connect(config.db_path)
        try:
            with transaction(conn):
                keep_choice(conn, choice, at=int(time.time()))
        finally:
            conn.close()
    if as_json:
        _echo_json({**result.as_json(), "venues": choice.venues, "venues_choice": choice.line()})
    c = result.plan.counts()
    click.echo(
        f"Imported {file.name}: {c['add']} added, {c['change']} changed, {c['unchanged']} unchanged, "
        f"{c['delete']} deleted, {len(result.rejected_rows)} row(s) rejected."
    )


def _progress_bar() -> Callable[[int, int], None]:
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if total < 2000 or not sys.stderr.isatty():
            return
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = click.progressbar(length=total, label="Reading rows", file=sys.stderr)
            bar.__enter__()
        bar.update(done - state.get("done", 0))
        state["done"] = done
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


# --------------------------------------------------------------------- delete
@main.command()
@DIR_OPTION
@click.argument("record_id")
@friendly
def delete(directory: Path, record_id: str) -> None:
    """Delete one of this node's listings (publishes a signed tombstone)."""
    from node.core.context import now_us
    from node.publishing.publisher import delete as delete_record
    from node.publishing.publisher import load_identity
    from node.storage.store import connect, transaction

    config = _config(directory)
    conn = connect(config.db_path)
    try:
        from node.storage.store import get_meta

        publisher = get_meta(conn, "publisher") or ""
        ident = load_identity(directory, conn, publisher)
        with transaction(conn):
            kind = delete_record(conn, ident, record_id, now_us=now_us())
    finally:
        conn.close()
    click.echo(f"Deleted {kind} {record_id}; the deletion reaches followers at their next pull.")


@main.command()
@DIR_OPTION
@click.option("--deleted", is_flag=True, help="List the ids of deleted listings too.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@friendly
def listings(directory: Path, deleted: bool, as_json: bool) -> None:
    """This node's own listings: id and name (the ids `signpost delete` takes)."""
    from node.storage.own import own_ids
    from node.storage.store import connect, get_meta

    config = _config(directory)
    conn = connect(config.db_path)
    try:
        rows = [r for r in own_ids(conn, get_meta(conn, "publisher") or "") if deleted or not r[2]]
    finally:
        conn.close()
    if as_json:
        _echo_json([{"id": rid, "name": name, "deleted": gone} for rid, name, gone in rows])
        return
    if not rows:
        click.echo("No listings yet: signpost import LISTINGS.csv")
    for rid, name, gone in rows:
        click.echo(f"{rid}\t{'(deleted)' if gone else name}")


# --------------------------------------------------------------------- follow
@main.command()
@DIR_OPTION
@click.argument("url")
@click.option("--publisher", default=None, help="Pin the peer's publisher id (no confirmation prompt).")
@click.option("--yes", is_flag=True, help="Follow without asking to confirm the fingerprint.")
@friendly
def follow(directory: Path, url: str, publisher: str | None, yes: bool) -> None:
    """Follow a peer node: pull its feed and merge its listings."""
    from node.federation.fetch import check_peer_address, check_peer_url, fetch_node_document
    from node.federation.peers import fingerprint
    from node.federation.peers import follow as follow_peer

    async def go() -> tuple[str, str]:
        async with _Session(directory) as node:
            peer = check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http)
            await check_peer_address(peer, node.config)
            if publisher is None and not yes:
                _, log = await fetch_node_document(node, peer)
                click.echo(f"{peer} is publisher {log.publisher}")
                click.echo(f"Fingerprint: {fingerprint(log.publisher)}")
                click.echo(
                    "Check this fingerprint with the peer's coordinator (by phone or email) before you trust it."
                )
                if not sys.stdin.isatty() or not click.confirm("Follow this peer?"):
                    raise click.ClickException(
                        "not followed; check the fingerprint with the peer's coordinator, then pass --yes "
                        "(or --publisher ID to pin it)"
                    )
                return await follow_peer(node, peer, publisher=log.publisher)
            return await follow_peer(node, peer, publisher=publisher)

    pub, name = run(go())
    click.echo(f"Following {name} ({pub}) at {url}. Run `signpost sync` to pull now.")


@main.command()
@DIR_OPTION
@click.argument("url")
@friendly
def unfollow(directory: Path, url: str) -> None:
    """Stop pulling a peer (listings already merged stay until changed or deleted)."""
    from node.federation.peers import unfollow as unfollow_peer

    async def go() -> None:
        async with _Session(directory) as node:
            await unfollow_peer(node, url)

    run(go())
    click.echo(f"No longer following {url}.")


# --------------------------------------------------------------------- sync
@main.command()
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print per-peer results as JSON.")
@friendly
def sync(directory: Path, as_json: bool) -> None:
    """Pull every followed peer now and report what merged and what was rejected."""
    from node.federation.sync import PullReport, sync_once

    async def go() -> list[PullReport]:
        async with _Session(directory) as node:
            return await sync_once(node)

    reports = run(go())
    if as_json:
        _echo_json([r.__dict__ for r in reports])
    else:
        if not reports:
            click.echo("Not following any peers yet: signpost follow URL")
        for r in reports:
            line = f"{r.peer}: {r.merged} merged, {r.unchanged} unchanged, {len(r.rejected)} rejected"
            if r.quarantined:
                line += f", {r.quarantined} held (dated in the future)"
            if r.not_modified:
                line += " (no changes)"
            if r.error:
                line += f"; failed: {r.error}"
            click.echo(line)
            for item, reason, detail in r.rejected[:20]:
                click.echo(f"    rejected {item}: {reason}: {detail}")
    if any(r.error for r in reports):
        sys.exit(1)


# --------------------------------------------------------------------- status
@main.command()
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@friendly
def status(directory: Path, as_json: bool) -> None:
    """Peers, last success, errors, counts, and listings that may be out of date."""
    from node.federation.health import read_status, render_status
    from node.publishing.keystore import recovery_key_on_disk
    from node.storage.store import connect

    config = _config(directory)
    conn = connect(config.db_path)
    try:
        report = read_status(conn)
    finally:
        conn.close()
    on_disk = recovery_key_on_disk(directory)
    if as_json:
        _echo_json({**report, "recovery_key_on_disk": on_disk})
    else:
        click.echo(render_status(report))
        if on_disk:
            click.echo(
                "Warning: the recovery key is stored on this machine beside the signing key; once your 24 words "
                f"are safe on paper, remove it with: signpost keys forget-recovery --dir {directory}"
            )


# --------------------------------------------------------------------- check-feed
@main.command("check-feed")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print failures as JSON.")
@click.option("--max-pages", type=int, default=10000, show_default=True)
@friendly
def check_feed(url: str, as_json: bool, max_pages: int) -> None:
    """Check any node's feed against the Signpost spec; exit 1 on any failure."""
    from node.federation.checkfeed import check_feed as run_check

    result = run(
        run_check(
            url, max_pages=max_pages, progress=lambda n: click.echo(f"page {n}", err=True) if n % 20 == 0 else None
        )
    )
    if as_json:
        _echo_json(
            {"ok": not result.failures, "failures": result.failures, "records": result.records, "pages": result.pages}
        )
    else:
        for note in result.notes:
            click.echo(f"Note: {note}.")
        for failure in result.failures:
            click.echo(failure)
        click.echo(f"{result.pages} page(s), {result.records} record(s) verified, {len(result.failures)} failure(s)")
    if result.failures:
        sys.exit(1)


# --------------------------------------------------------------------- demo
@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-nodes"),
    show_default=True,
    help="Where the three demo nodes live.",
)
@click.option(
    "--base-port",
    type=int,
    default=8101,
    show_default=True,
    help="Leeds gets this port, Lambeth the next, national the one after.",
)
@click.option("--fresh", is_flag=True, help="Delete the demo nodes and start again.")
@friendly
def demo(directory: Path, base_port: int, fresh: bool) -> None:
    """Start Leeds, Lambeth and a national node (following both) and print their URLs."""
    from node.cli.demo import run_demo

    run_demo(directory, base_port=base_port, fresh=fresh)


# --------------------------------------------------------------------- keys
@main.group()
def keys() -> None:
    """Show, rotate or recover this node's keys (its publisher id never changes)."""


WORDS_FILE_OPTION = click.option(
    "--words-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the 24 recovery words from this file.",
)
WORDS_STDIN_OPTION = click.option(
    "--words-stdin", is_flag=True, help="Read the 24 recovery words from standard input (for scripts)."
)


def _read_words(words_file: Path | None, words_stdin: bool = False) -> str | None:
    """The recovery words: from standard input, a file, or typed when asked; ``None`` if none can be had."""
    if words_stdin:
        return sys.stdin.read()
    if words_file is not None:
        return words_file.read_text("utf-8")
    if sys.stdin.isatty():
        return str(click.prompt("Type your 24 recovery words", hide_input=True))
    return None


_NEED_WORDS = (
    "this needs your 24 recovery words (this node does not keep the recovery key); "
    "type them when asked, or pass them on standard input with --words-stdin"
)


def _forget_recovery(directory: Path, words: str | None) -> None:
    from node.publishing.keystore import forget_recovery_key

    if forget_recovery_key(directory, words):
        click.echo("Removed the recovery key from this machine; your 24 words are now its only copy.")
    else:
        click.echo("This node does not keep its recovery key on disk; nothing to do.")


@keys.command("show")
@DIR_OPTION
@friendly
def keys_show(directory: Path) -> None:
    """The publisher id, signing and recovery keys, and the key log in plain words.

    A node that still keeps its recovery key on disk is offered the move to words only.
    """
    from node.publishing.keyops import describe_keys
    from node.storage.ledger import load_keylog
    from node.storage.store import connect

    config = _config(directory)
    conn = connect(config.db_path)
    try:
        from node.storage.store import get_meta

        log = load_keylog(conn, get_meta(conn, "publisher") or "")
    finally:
        conn.close()
    if log is None:
        raise click.ClickException("this node has no key log")
    click.echo("\n".join(describe_keys(log)))
    from node.publishing.keystore import recovery_key_on_disk

    if recovery_key_on_disk(directory):
        click.echo("")
        click.echo(
            "Warning: the recovery key is stored on this machine beside the signing key, so one stolen copy of "
            "this folder could take over your identity. Once your 24 recovery words are safe on paper, remove it "
            f"with: signpost keys forget-recovery --dir {directory}"
        )
        if sys.stdin.isatty() and click.confirm("Remove it now (you will be asked for the words)?", default=False):
            _forget_recovery(directory, _read_words(None))


@keys.command("forget-recovery")
@DIR_OPTION
@WORDS_STDIN_OPTION
@click.option("--yes", is_flag=True, help="Remove it without checking the words (you are sure you have them).")
@friendly
def keys_forget_recovery(directory: Path, words_stdin: bool, yes: bool) -> None:
    """Remove the recovery key from this machine, keeping only your 24 words (nodes made before they were enough).

    The words are checked against the key first (typed when asked, or
    --words-stdin); --yes removes it without checking.
    """
    _config(directory)
    words = _read_words(None, words_stdin) if words_stdin or not yes else None
    if words is None and not yes:
        raise click.ClickException(
            "give your 24 recovery words to check them before the key is removed: type them when asked, "
            "pass them with --words-stdin, or pass --yes if you are sure you have them"
        )
    _forget_recovery(directory, words)


@keys.command("rotate")
@DIR_OPTION
@click.option("--revoke", is_flag=True, help="The old key may be stolen: revoke it and re-sign every listing now.")
@WORDS_FILE_OPTION
@WORDS_STDIN_OPTION
@friendly
def keys_rotate(directory: Path, revoke: bool, words_file: Path | None, words_stdin: bool) -> None:
    """Start using a new signing key (planned), or revoke a compromised one (--revoke).

    Either needs the 24 recovery words (typed when asked, or --words-stdin).
    """
    from node.publishing.keyops import rotate_in_place
    from node.publishing.keystore import recovery_key_on_disk

    config = _config(directory)
    words = None
    if words_stdin or words_file is not None or not recovery_key_on_disk(directory):
        words = _read_words(words_file, words_stdin)
        if not words:
            raise click.ClickException(_NEED_WORDS)
    change = rotate_in_place(directory, config.db_path, revoke=revoke, words=words)
    click.echo(f"New signing key {change.new_keyid} for {change.publisher}.")
    if change.revoked:
        click.echo(f"Revoked {', '.join(change.revoked)}; re-signed {change.republished} listing(s) and deletion(s).")
        click.echo(
            "Followers drop everything the old key signed and pick up the re-signed versions at their next pull."
        )
    else:
        click.echo(
            "The old key is retired: what it signed stays valid. Followers learn the new key at their next pull."
        )


@keys.command("recover")
@DIR_OPTION
@click.option(
    "--from",
    "source",
    default=None,
    help="A node that carries your listings (a follower or aggregator), to rebuild a lost node from.",
)
@click.option("--publisher", default=None, help="Your publisher id (sp1:...), with --from.")
@click.option("--name", default=None, help="With --from: your network's name for the rebuilt node.")
@click.option("--url", default=None, help="With --from: the rebuilt node's public URL.")
@click.option("--port", type=int, default=8080, show_default=True)
@WORDS_FILE_OPTION
@WORDS_STDIN_OPTION
@friendly
def keys_recover(
    directory: Path,
    source: str | None,
    publisher: str | None,
    name: str | None,
    url: str | None,
    port: int,
    words_file: Path | None,
    words_stdin: bool,
) -> None:
    """Rebuild this node's identity from its recovery words, revoking the old signing key.

    With the node's database still here, recovery happens in place.  On a new
    machine, give --from (any node that carries your listings), --publisher,
    --name and --url: the key log and listings are fetched from there,
    verified, and re-signed under a new key.
    """
    words = _read_words(words_file, words_stdin)
    if not words:
        raise click.ClickException(_NEED_WORDS)
    if source is None:
        from node.publishing.keyops import rotate_in_place

        change = rotate_in_place(directory, _config(directory).db_path, revoke=True, words=words)
    else:
        change = run(_recover_from(directory, source, publisher, name, url, port, words))
    click.echo(f"Recovered {change.publisher} with new signing key {change.new_keyid}.")
    click.echo(f"Revoked {', '.join(change.revoked)}; re-signed {change.republished} listing(s) and deletion(s).")


async def _recover_from(
    directory: Path, source: str, publisher: str | None, name: str | None, url: str | None, port: int, words: str
) -> KeyChange:
    import aiohttp

    from node.core.config import render_config
    from node.core.errors import NodeError
    from node.federation.fetch import check_peer_url
    from node.federation.recover import fetch_identity
    from node.publishing.keyops import recover_into
    from node.publishing.keystore import settle_staged_key
    from node.publishing.lifecycle import write_private
    from node.storage.store import connect, init_schema, secure_node_directory, transaction

    if not (publisher and name and url):
        raise NodeError("recovering from another node needs --publisher, --name and --url")
    if (directory / "signpost.toml").exists() or (directory / "signpost.db").exists():
        raise NodeError(
            f"{directory} already holds a node", hint="recover in place without --from, or choose an empty --dir"
        )
    source = check_peer_url(source, allow_insecure_http=False)
    async with aiohttp.ClientSession() as session:
        log, versions = await fetch_identity(session, source, publisher)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    secure_node_directory(directory)
    (directory / "keys").mkdir(mode=0o700, exist_ok=True)
    conn = connect(directory / "signpost.db")
    try:
        init_schema(conn)
        with transaction(conn):
            change = recover_into(conn, directory, log=log, versions=versions, words=words)
        from node.storage.ledger import load_keylog

        held = load_keylog(conn, publisher)
        assert held is not None
        settle_staged_key(directory / "keys", held.authorised)
    finally:
        conn.close()
    write_private(directory / "signpost.toml", render_config(name=name, url=url, port=port))
    return change


# ------------------------------------------------------------------ password


@main.command()
@DIR_OPTION
@click.option(
    "--password-stdin", is_flag=True, help="Read the new password from the first line of standard input (for scripts)."
)
@friendly
def password(directory: Path, password_stdin: bool) -> None:
    """Set or change the console password (the /admin pages).

    Stored in signpost.toml as a slow scrypt hash; takes effect at the next
    sign-in, without restarting the node.  Signs out nobody already signed in.
    """
    from node.web.auth import write_password_hash
    from node.web.passwords import MIN_LENGTH, hash_password

    _config(directory)
    if password_stdin:
        new = sys.stdin.readline().rstrip("\r\n")
    else:
        new = click.prompt(
            f"New console password (at least {MIN_LENGTH} characters)", hide_input=True, confirmation_prompt=True
        )
    write_password_hash(directory, hash_password(new))
    config = _config(directory)
    click.echo(
        f"Console password set. Sign in at http://127.0.0.1:{config.node.port}/admin on this machine "
        f"while `signpost serve` runs (or {config.base_url}/admin once your public address is live)."
    )
