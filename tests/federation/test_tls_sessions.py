"""Fetching over HTTPS: certificates verified in full, and a peer's TLS session resumed on the next poll.

Each case runs in its own process started with ``SSL_CERT_FILE`` naming a test CA (the trust store
OpenSSL reads when the node's TLS context is made), against a real HTTPS server on 127.0.0.1 that
reports whether the handshake resumed a session.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parent.parent.parent

# Two HTTPS servers (two origins: two ports) answering {"reused": <did this handshake resume?>};
# each fetch uses a new client session, as each poll finds every connection closed.
SCRIPT = """
import asyncio, json, socket, ssl, sys
from pathlib import Path

import aiohttp
from aiohttp import web

from node.core.errors import PeerUnavailable
from node.federation.fetch import get

certs = Path(sys.argv[1])


async def reused(request):
    tls = request.transport.get_extra_info("ssl_object")
    return web.json_response({"reused": tls.session_reused})


async def main():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs / sys.argv[2], certs / "leaf.key")
    app = web.Application()
    app.router.add_get("/", reused)
    runner = web.AppRunner(app)
    await runner.setup()
    origins = []
    for _ in range(2):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, ssl_context=context).start()
        origins.append(f"https://127.0.0.1:{sock.getsockname()[1]}/")
    seen = []
    for origin in (origins[0], origins[0], origins[1], origins[0]):
        async with aiohttp.ClientSession() as session:
            try:
                got = await get(session, origin, max_bytes=1000, timeout=10)
                seen.append(json.loads(got.body)["reused"])
            except PeerUnavailable as e:
                seen.append(str(e).split(": ", 1)[1])
    await runner.cleanup()
    print(json.dumps(seen))


asyncio.run(main())
"""


def _certificates(directory: Path) -> None:
    """A test root, a leaf for 127.0.0.1 it issued (``good.pem``), and the same leaf self-signed (``stranger.pem``)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer.test")])

    def cert(subject: x509.Name, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey, *, ca: bool) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key((root_key if ca else leaf_key).public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    (directory / "root.pem").write_bytes(cert(root_name, root_name, root_key, ca=True))
    (directory / "good.pem").write_bytes(cert(leaf_name, root_name, root_key, ca=False))
    (directory / "stranger.pem").write_bytes(cert(leaf_name, leaf_name, leaf_key, ca=False))
    (directory / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _fetches(tmp_path: Path, served: str) -> list[object]:
    _certificates(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), served],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "SSL_CERT_FILE": str(tmp_path / "root.pem")},
    )
    assert proc.returncode == 0, proc.stderr
    result: list[object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_the_next_poll_of_an_https_peer_resumes_its_tls_session_and_another_origin_does_not(tmp_path: Path) -> None:
    # Fresh connection each time: full handshake, resumed, another origin's full handshake, resumed.
    assert _fetches(tmp_path, "good.pem") == [False, True, False, True]


def test_a_peer_whose_certificate_the_trust_store_does_not_vouch_for_is_not_fetched(tmp_path: Path) -> None:
    refused = "its HTTPS certificate could not be checked"
    assert _fetches(tmp_path, "stranger.pem") == [refused] * 4
