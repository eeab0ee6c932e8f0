"""``signpost demo``: three example networks as three real node processes.

Leeds and Lambeth publish their example listings; a national node follows
both.  Each is a separate ``signpost serve`` process with its own SQLite
file, exactly as a coordinator would run one.  Ctrl-C stops all three.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

from node.core.config import load_config
from node.publishing.lifecycle import init_node
from node.web.workers import die_with_parent, stop_processes

__all__ = ["DemoNode", "DEMO_NODES", "prepare_demo", "run_demo", "examples_dir"]


@dataclass(frozen=True)
class DemoNode:
    key: str
    name: str
    contact: str


DEMO_NODES = (
    DemoNode("leeds", "Leeds Peer Support Network", "hello@leeds-peer-support.example.org"),
    DemoNode("lambeth", "Lambeth Living Well Collaborative", "peer.support@lambeth-living-well.example.org"),
    DemoNode("national", "Signpost National Directory", "directory@signpost.example.org"),
)


def examples_dir() -> Path:
    """The repository's examples/ (the demo runs from a checkout)."""
    here = Path(__file__).resolve().parents[2] / "examples"
    if not here.is_dir():
        raise click.ClickException(f"cannot find the example networks at {here}; run the demo from a Signpost checkout")
    return here


def prepare_demo(directory: Path, *, base_port: int, fresh: bool = False) -> dict[str, Path]:
    """Create (once) the three node directories and import their example listings."""
    import shutil

    from node.core.config import update_config
    from node.importer.pipeline import import_file

    if fresh and directory.exists():
        shutil.rmtree(directory)
    dirs = {}
    for i, spec in enumerate(DEMO_NODES):
        d = directory / spec.key
        dirs[spec.key] = d
        port = base_port + i
        if not (d / "signpost.toml").exists():
            init_node(d, name=spec.name, url=f"http://127.0.0.1:{port}", port=port, contact=spec.contact)
            update_config(d, "sync", "interval", 20, comment="the demo polls often so changes show up quickly")
            click.echo(f"Created the {spec.name} node in {d}", err=True)
        source = examples_dir() / spec.key / "listings.jsonl"
        result = import_file(d, source, dry_run=False, replace=True)
        c = result.plan.counts()
        if c["add"] or c["change"] or c["delete"]:
            click.echo(f"  {spec.name}: {c['add']} added, {c['change']} changed, {c['delete']} deleted", err=True)
    return dirs


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"the node for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/.well-known/signpost", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"the node for {url} did not start within {timeout:.0f} s")


async def _federate(national: Path, peers: list[Path]) -> None:
    import aiohttp

    from node.federation.peers import follow
    from node.federation.sync import sync_once
    from node.web.app import open_node

    node = open_node(load_config(national))
    node.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    try:
        for peer in peers:
            cfg = load_config(peer)
            from node.storage.store import connect, get_meta

            conn = connect(cfg.db_path)
            publisher = get_meta(conn, "publisher")
            conn.close()
            await follow(node, cfg.node.url, publisher=publisher)
        for report in await sync_once(node):
            click.echo(
                f"  national pulled {report.peer}: {report.merged} merged"
                + (f" ({report.error})" if report.error else ""),
                err=True,
            )
    finally:
        await node.session.close()
        if node.syncer is not None:
            node.syncer.close()
        node.store.close()


def run_demo(directory: Path, *, base_port: int, fresh: bool) -> None:
    dirs = prepare_demo(directory, base_port=base_port, fresh=fresh)
    procs: list[subprocess.Popen[bytes]] = []

    def stop_on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        for key in ("leeds", "lambeth", "national"):
            procs.append(
                subprocess.Popen(
                    # One process a node: three networks on one laptop need no reader processes.
                    [sys.executable, "-m", "node", "serve", "--dir", str(dirs[key]), "--workers", "1"],
                    env=env,
                    preexec_fn=die_with_parent,  # a node stops if the demo itself is killed
                )
            )
        for key, proc in zip(("leeds", "lambeth", "national"), procs, strict=False):
            _wait_ready(load_config(dirs[key]).node.url, proc)
        asyncio.run(_federate(dirs["national"], [dirs["leeds"], dirs["lambeth"]]))
        urls = {key: load_config(d).node.url for key, d in dirs.items()}
        click.echo("")
        click.echo(f"Leeds:    {urls['leeds']}")
        click.echo(f"Lambeth:  {urls['lambeth']}")
        click.echo(f"National directory (follows Leeds and Lambeth): {urls['national']}")
        click.echo("Press Ctrl-C to stop all three.", err=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise click.ClickException("a demo node stopped unexpectedly; see the messages above")
    except KeyboardInterrupt:
        click.echo("\nStopping the demo nodes...", err=True)
    finally:
        stop_processes(procs)
