"""Aggregator: a fresh node follows 500 HTTPS peers of 200 records each, then re-polls them idle.

Run from the repository root::

    .venv/bin/python tests/bench/aggregator.py           # 500 peers x 200 records
    .venv/bin/python tests/bench/aggregator.py --quick   # 20 peers x 50 records

A national aggregator sees its peers as separate HTTPS hosts: every pull
opens its own connection and pays its own TLS handshake, and with the sync
interval (300 s) far beyond any keep-alive, every poll does so again.  So
each simulated peer here is its own HTTPS server on its own port of
127.0.0.1, with its own certificate (the IP address 127.0.0.1 in its
subject alternative names), issued for this run by a bench CA the way a
public CA issues them: a root, an intermediate, and a leaf per peer, the
server sending leaf and intermediate (``--chain ecdsa``, the default: a
P-256 leaf under P-384 intermediate and root, as Let's Encrypt issues for
certbot 2 and Caddy; ``--chain rsa``: RSA-2048 leaf and intermediate under an
RSA-4096 root).  One helper process (this file with ``--serve``) holds all
the peers' listening sockets, each with its own TLS context, over one
aiohttp app; each peer is a distinct publisher with its own key log, its node
document, ``/keys/{publisher}`` and an RPDE feed rendered by the node's own
``node.web.views.feed.render_page``, with the node's ETag rule and a 304 for
a matching ``If-None-Match``.  The signed peers are cached under
/tmp/signpost-bench.

The pulling node runs in a process of its own (this file with ``--pull``),
started with ``SSL_CERT_FILE`` naming the bench root, which OpenSSL (and so
aiohttp's default verified context) trusts instead of the system store;
certificates are verified in full, host name included.  Its client session is
built as ``signpost serve`` builds it (``node.web.app``).  Its own address is
on loopback, so the peer-address check lets it follow peers on this machine
(``node.federation.fetch.check_peer_address``, a development node).  It follows
every peer with ``node.federation.peers.follow`` (timed apart), pulls them all
with ``sync_once`` (the full sync), then, on a new client session (as the
next poll finds every connection long closed), calls ``sync_once`` again,
when every peer answers 304 (the idle re-poll), timing its wall clock and the
pulling process's CPU time (user and system; on loopback the system share
includes the kernel's delivery to the helper, which a real network would not
charge here).  The node resumes each peer's TLS session on the next new
connection (``node.federation.fetch``): in this bench the re-poll follows the
full sync at once, so every ticket is young; a real peer honours it only
within its server's ticket lifetime (OpenSSL's default and Go/Caddy: hours to
days; nginx's and Apache's defaults: 5 minutes, the default sync interval), and
a peer that no longer honours it costs a full handshake, as without
resumption.  A last re-poll on the connections the idle one left open shows
what per-host keep-alive would save; it is not judged.

Goals (docs/benchmarks.md): full sync under 30 s; idle re-poll under 3 s wall and
under 1 s CPU.  ``--profile DIR`` writes cProfile reports of the syncs there.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from peers import CACHE, REPO, Timer, machine

GOAL_FULL_S = 30.0
GOAL_IDLE_WALL_S = 3.0
GOAL_IDLE_CPU_S = 1.0
CACHE_FORMAT = 1
HOST = "127.0.0.1"


class SimPeer(msgspec.Struct, array_like=True):
    publisher: str
    keylog: bytes
    items: list[tuple[str, str, bytes]]  # (kind, id, envelope)


def _make_peer(args: tuple[int, int]) -> SimPeer:
    """Peer ``n``: its own keys (derived from ``n``), key log and ``records`` signed listings."""
    from corpus import listing

    from node.core.context import now_us
    from protocol import envelope as dsse
    from protocol.keylog import make_genesis, verify_keylog
    from protocol.keys import keyid_for, private_key_from_seed
    from protocol.publish import rfc3339, seal_version
    from protocol.records import Record

    n, records = args
    signing = private_key_from_seed(hashlib.sha256(f"bench-signing-{n}".encode()).digest())
    recovery = private_key_from_seed(hashlib.sha256(f"bench-recovery-{n}".encode()).digest())
    genesis = make_genesis([keyid_for(signing.public_key())], recovery, created="2026-01-01T00:00:00Z")
    log = verify_keylog([genesis])
    rev_base = now_us() - records - 60_000_000
    items = []
    for i in range(records):
        rid, fields = listing(n * records + i, seed=7)
        rev = rev_base + i
        record = msgspec.convert(
            {**fields, "publisher": log.publisher, "id": rid, "rev": rev, "updated": rfc3339(rev)}, type=Record
        )
        env, _ = seal_version(record, signing)
        items.append((record.kind, rid, dsse.encode_envelope(env)))
    return SimPeer(log.publisher, dsse.encode_envelope(genesis), items)


def build_peers(count: int, records: int) -> Path:
    """Sign every simulated peer once (all cores) and cache them as one msgpack file."""
    import multiprocessing

    path = CACHE / f"aggregator-{count}x{records}-f{CACHE_FORMAT}.msgpack"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        peers = pool.map(_make_peer, [(n, records) for n in range(count)], chunksize=4)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.msgpack.encode(peers))
    tmp.rename(path)
    print(
        f"signed {count} peers x {records} records in {time.perf_counter() - started:.1f} s ({path})", file=sys.stderr
    )
    return path


def make_tls(directory: Path, count: int, chain: str) -> Path:
    """A bench CA for this run: ``root.pem`` (to trust), and ``peer-{n}.pem`` (leaf and intermediate) with ``leaf.key``.

    Every peer has a certificate of its own (its own serial and name) for the address 127.0.0.1;
    the leaves share one key, which changes nothing a client does (it verifies every handshake in full).
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def key(kind: str) -> Any:
        if kind == "rsa-4096":
            return rsa.generate_private_key(65537, 4096)
        if kind == "rsa-2048":
            return rsa.generate_private_key(65537, 2048)
        return ec.generate_private_key(ec.SECP384R1() if kind == "p-384" else ec.SECP256R1())

    kinds = ("rsa-4096", "rsa-2048", "rsa-2048") if chain == "rsa" else ("p-384", "p-384", "p-256")
    root_key, inter_key, leaf_key = (key(k) for k in kinds)
    sign_hash = hashes.SHA256() if chain == "rsa" else hashes.SHA384()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Signpost bench"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    def issue(
        subject: x509.Name, public: Any, issuer: x509.Name, signer: Any, *, ca: bool, serial: int
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(serial)
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(
                x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer != subject else None), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False
            )
        return builder.sign(signer, sign_hash)

    directory.mkdir(parents=True, exist_ok=True)
    root_name, inter_name = name("Bench Root"), name("Bench Intermediate")
    root = issue(root_name, root_key.public_key(), root_name, root_key, ca=True, serial=1)
    inter = issue(inter_name, inter_key.public_key(), root_name, root_key, ca=True, serial=2)
    pem = serialization.Encoding.PEM
    (directory / "root.pem").write_bytes(root.public_bytes(pem))
    (directory / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    inter_pem = inter.public_bytes(pem)
    for n in range(count):
        leaf = issue(
            name(f"peer-{n}.bench.invalid"), leaf_key.public_key(), inter_name, inter_key, ca=False, serial=1000 + n
        )
        (directory / f"peer-{n}.pem").write_bytes(leaf.public_bytes(pem) + inter_pem)
    return directory


def serve(cache: Path, tls: Path) -> None:
    """The helper process: every simulated peer on its own HTTPS port of 127.0.0.1, one aiohttp app.

    Prints ``ready`` and the peers' ports (JSON) once every port listens.
    """
    import socket
    import ssl

    from aiohttp import web

    from node.storage.ledger import FeedRow
    from node.web.views.feed import item_for, render_page
    from protocol import envelope as dsse
    from protocol.feed import PAGE_SIZE, PROTOCOL, NodeDocument

    peers = msgspec.msgpack.decode(cache.read_bytes(), type=list[SimPeer])
    sockets = []
    for _ in peers:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        sockets.append(sock)
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    by_port = {port: n for n, port in enumerate(ports)}
    envelopes = msgspec.json.Decoder(list[dsse.Envelope])
    encode = msgspec.json.Encoder().encode
    license = "https://creativecommons.org/licenses/by/4.0/"
    bases = [f"https://{HOST}:{port}" for port in ports]
    docs, keys, rows = [], [], []
    for n, p in enumerate(peers):
        docs.append(
            encode(
                NodeDocument(
                    protocol=PROTOCOL,
                    name=f"Sim peer {n}",
                    url=bases[n],
                    publisher=p.publisher,
                    keylog=envelopes.decode(b"[" + p.keylog + b"]"),
                    feed=f"{bases[n]}/feed",
                    license=license,
                )
            )
        )
        keys.append(b'{"publisher":"' + p.publisher.encode() + b'","keylog":[' + p.keylog + b"]}")
        rows.append([FeedRow(c + 1, p.publisher, rid, kind, False, env) for c, (kind, rid, env) in enumerate(p.items)])

    def peer(request: web.Request) -> int:
        """Which peer was asked: the port the connection came in on."""
        assert request.transport is not None
        return by_port[int(request.transport.get_extra_info("sockname")[1])]

    def json_response(body: bytes, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def node_document(request: web.Request) -> web.Response:
        return json_response(docs[peer(request)])

    async def keylog(request: web.Request) -> web.Response:
        n = peer(request)
        if request.match_info["publisher"] != peers[n].publisher:
            raise web.HTTPNotFound()
        return json_response(keys[n])

    async def feed(request: web.Request) -> web.Response:
        n = peer(request)
        after = int(request.query.get("afterChangeNumber", "0"))
        epoch = f"sim{n:04d}"
        page = [r for r in rows[n] if r.change > after][:PAGE_SIZE]
        last = page[-1].change if page else after
        etag = f'W/"{epoch}-{after}-{last}-{len(page)}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=8"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        body = render_page(bases[n], after, [item_for(r) for r in page], license=license, epoch=epoch)
        return json_response(body, headers)

    app = web.Application()
    app.router.add_get("/.well-known/signpost", node_document)
    app.router.add_get("/keys/{publisher}", keylog)
    app.router.add_get("/feed", feed)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for n, sock in enumerate(sockets):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls / f"peer-{n}.pem", tls / "leaf.key")
            await web.SockSite(runner, sock, ssl_context=context, backlog=1024).start()
        print("ready", json.dumps(ports), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())


async def _profiled(profile: Path | None, name: str, coro: Any) -> Any:
    """Await ``coro``, under cProfile when ``profile`` names a directory (the event loop's thread)."""
    if profile is None:
        return await coro
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return await coro
    finally:
        profiler.disable()
        profile.mkdir(parents=True, exist_ok=True)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        (profile / f"{name}.txt").write_text(out.getvalue())


def _client_session(timeout: float) -> Any:
    """The node's client session, as ``signpost serve`` makes it (``node.web.app``)."""
    import aiohttp

    from node import SOFTWARE

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=10),
        headers={"User-Agent": SOFTWARE},
        auto_decompress=True,
    )


async def pull_all(directory: Path, bases: list[str], records: int, profile: Path | None) -> bool:
    from node.core.config import load_config
    from node.federation.peers import follow
    from node.federation.sync import sync_once
    from node.web.app import open_node

    count = len(bases)
    config = load_config(directory)
    node = open_node(config)
    node.session = _client_session(config.sync.timeout)
    try:
        limit = asyncio.Semaphore(16)

        async def one(base: str) -> None:
            async with limit:
                await follow(node, base)

        with Timer() as t_follow:
            await asyncio.gather(*(one(b) for b in bases))
        print(f"followed {count} HTTPS peers (node documents, key logs) in {t_follow.wall:.2f} s", flush=True)
        with Timer() as t_full:
            reports = await _profiled(profile, "aggregator-full-sync", sync_once(node))
        merged = sum(r.merged for r in reports)
        errors = [r.error for r in reports if r.error]
        if errors or merged != count * records:
            raise SystemExit(f"full sync incomplete: merged {merged} of {count * records}; errors: {errors[:3]}")
        full_ok = t_full.wall < GOAL_FULL_S
        print(
            f"full sync: {merged} records from {count} peers in {t_full.wall:.2f} s wall, {t_full.cpu:.2f} s CPU "
            f"= {merged / t_full.wall:,.0f} records/s (goal < {GOAL_FULL_S:.0f} s: {'met' if full_ok else 'MISSED'})",
            flush=True,
        )
        # The next poll comes sync.interval (300 s) later: every connection has long been closed.
        await node.session.close()
        node.session = _client_session(config.sync.timeout)

        async def repoll(name: str) -> tuple[Timer, float, float]:
            before = resource.getrusage(resource.RUSAGE_SELF)
            with Timer() as timer:
                idle = await _profiled(profile, name, sync_once(node))
            after = resource.getrusage(resource.RUSAGE_SELF)
            not_modified = sum(r.not_modified for r in idle)
            if not_modified != count or any(r.error for r in idle):
                errors = [r.error for r in idle if r.error]
                raise SystemExit(f"{name}: only {not_modified} of {count} peers answered 304; errors: {errors[:3]}")
            return timer, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime

        t_idle, user, system = await repoll("aggregator-idle-repoll")
        wall_ok, cpu_ok = t_idle.wall < GOAL_IDLE_WALL_S, t_idle.cpu < GOAL_IDLE_CPU_S
        print(
            f"idle re-poll: {count} peers, new connections (TCP and TLS handshakes), all 304, "
            f"in {t_idle.wall:.2f} s wall (goal < {GOAL_IDLE_WALL_S:.0f} s: {'met' if wall_ok else 'MISSED'}), "
            f"{t_idle.cpu:.2f} s CPU (goal < {GOAL_IDLE_CPU_S:.0f} s: {'met' if cpu_ok else 'MISSED'}; "
            f"user {user:.2f} s, system {system:.2f} s) = {t_idle.cpu / count * 1000:.2f} ms CPU a peer",
            flush=True,
        )
        t_warm, _, _ = await repoll("aggregator-repoll-kept-alive")
        print(
            f"re-poll at once on the connections kept alive (not judged: the interval outlasts keep-alive): "
            f"{t_warm.wall:.2f} s wall, {t_warm.cpu:.2f} s CPU = {t_warm.cpu / count * 1000:.2f} ms CPU a peer",
            flush=True,
        )
        print(
            f"RESULT aggregator: full sync {t_full.wall:.2f} s / {GOAL_FULL_S:.0f} s = {t_full.wall / GOAL_FULL_S:.2f}; "
            f"idle re-poll {t_idle.wall:.2f} s / {GOAL_IDLE_WALL_S:.0f} s wall = {t_idle.wall / GOAL_IDLE_WALL_S:.2f}, "
            f"{t_idle.cpu:.2f} s / {GOAL_IDLE_CPU_S:.0f} s CPU = {t_idle.cpu / GOAL_IDLE_CPU_S:.2f} "
            f"(goals met when each ratio < 1: {'all met' if full_ok and wall_ok and cpu_ok else 'MISSED'})",
            flush=True,
        )
        return full_ok and wall_ok and cpu_ok
    finally:
        await node.session.close()
        if node.syncer is not None:
            node.syncer.close()
        node.store.close()


def run(count: int, records: int, chain: str, profile: Path | None) -> int:
    from nodeutil import make_node

    print(machine(), flush=True)
    cache = build_peers(count, records)
    work = Path(tempfile.mkdtemp(prefix="signpost-aggregator-"))
    helper = None
    try:
        started = time.perf_counter()
        tls = make_tls(work / "tls", count, chain)
        print(f"bench CA ({chain} chain) and {count} peer certificates made in {time.perf_counter() - started:.1f} s")
        helper = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(cache), str(tls)], stdout=subprocess.PIPE, cwd=REPO
        )
        assert helper.stdout is not None
        word, _, ports = helper.stdout.readline().decode().partition(" ")
        if word != "ready":
            raise SystemExit("the peer helper process did not start")
        bases = [f"https://{HOST}:{port}" for port in json.loads(ports)]
        (work / "bases.json").write_text(json.dumps(bases))
        puller = make_node(work / "aggregator", "Bench Aggregator")
        cfg = puller.directory / "signpost.toml"
        cfg.write_text(cfg.read_text() + "enabled = false\n")
        print(
            f"{count} simulated peers x {records} records, each its own HTTPS host on {HOST} "
            f"(ports {bases[0].rsplit(':', 1)[1]}..., one helper process); the pulling node in its own process",
            flush=True,
        )
        command = [sys.executable, __file__, "--pull", str(puller.directory), str(work / "bases.json"), str(records)]
        if profile is not None:
            command += ["--profile", str(profile)]
        pull = subprocess.run(command, cwd=REPO, env={**os.environ, "SSL_CERT_FILE": str(tls / "root.pem")})
        return pull.returncode
    finally:
        if helper is not None:
            helper.terminate()
            helper.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 peers x 50 records: a smoke run")
    parser.add_argument("--peers", type=int, default=None)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--chain", choices=("ecdsa", "rsa"), default="ecdsa", help="the peers' certificate chains")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile reports of the syncs here")
    parser.add_argument("--serve", nargs=2, metavar=("CACHE", "TLS"), help=argparse.SUPPRESS)
    parser.add_argument("--pull", nargs=3, metavar=("NODE", "BASES", "RECORDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), Path(args.serve[1]))
        return
    if args.pull:
        bases = json.loads(Path(args.pull[1]).read_text())
        # A missed goal is reported on the RESULT line; the exit status says the run completed.
        asyncio.run(pull_all(Path(args.pull[0]), bases, int(args.pull[2]), args.profile))
        return
    count = args.peers or (20 if args.quick else 500)
    records = args.records or (50 if args.quick else 200)
    raise SystemExit(run(count, records, args.chain, args.profile))


if __name__ == "__main__":
    main()
