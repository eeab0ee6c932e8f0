"""Body-size attack: peak memory of a real ``signpost serve`` under large unauthenticated POSTs.

Run from the repository root::

    .venv/bin/python tests/bench/body_attack.py            # 20 x 31 MB reports, 10 x 19 MB uploads
    .venv/bin/python tests/bench/body_attack.py --quick    # 4 x 31 MB, 2 x 19 MB

It starts a fresh node on 127.0.0.1 with one listing, then, from this process,
sends ``--reports`` concurrent 31 MB form posts to that listing's public
"Something wrong?" form and ``--uploads`` concurrent 19 MB multipart posts to
``/admin/upload`` without a cookie.  Every request goes to 127.0.0.1, the
count is fixed and each has a time cap, so the run ends by itself.

It prints the node's resident memory before the attack, its peak (``VmHWM``
from ``/proc/PID/status``, the kernel's high-water mark, so nothing between two
samples is missed), the answers the node gave, and the most bytes seen in the
node's temporary directory (its own ``TMPDIR``, polled every 5 ms): an
unauthenticated upload must write nothing there (docs/security.md §6).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from nodeutil import group, make_node


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):  # a file removed while we looked
                total += (Path(dirpath) / name).stat().st_size
    return total


async def _post(session: aiohttp.ClientSession, url: str, **kwargs: object) -> str:
    try:
        async with session.post(url, allow_redirects=False, **kwargs) as resp:  # type: ignore[arg-type]
            await resp.read()
            return str(resp.status)
    except (aiohttp.ClientError, TimeoutError) as e:
        # The node may answer 413 and close before the whole body is sent.
        return f"closed ({e.__class__.__name__})"


async def _attack(base: str, report_url: str, reports: int, uploads: int) -> collections.Counter[str]:
    report_body = b"message=" + b"A" * (31 * 1000 * 1000)
    upload_bytes = b"name,kind\n" + b"x" * (19 * 1000 * 1000)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        def upload() -> aiohttp.FormData:
            form = aiohttp.FormData()
            form.add_field("csrf", "nothing")
            form.add_field("file", upload_bytes, filename="big.csv", content_type="text/csv")
            return form

        jobs = [
            _post(
                session,
                report_url,
                data=report_body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            for _ in range(reports)
        ]
        jobs += [_post(session, f"{base}/admin/upload", data=upload()) for _ in range(uploads)]
        answers = await asyncio.gather(*jobs)
    return collections.Counter(answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="4 reports and 2 uploads")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.uploads = 4, 2
    with tempfile.TemporaryDirectory(prefix="signpost-body-attack-") as work:
        node = make_node(Path(work) / "node", "Body Attack Network")
        node.publish([group(1)])
        node_tmp = Path(work) / "node-tmp"
        node_tmp.mkdir()
        log = (Path(work) / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--dir", str(node.directory), "--port", str(node.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": str(node_tmp), "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{node.url}/.well-known/signpost", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the node did not start") from None
                    time.sleep(0.1)
            time.sleep(0.5)
            before = _status_kb(proc.pid, "VmRSS")
            seen = [0]
            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    seen[0] = max(seen[0], _tree_bytes(node_tmp))
                    time.sleep(0.005)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            started = time.monotonic()
            report_url = f"{node.url}/listing/{node.publisher}/group-000001/report"
            answers = asyncio.run(_attack(node.url, report_url, args.reports, args.uploads))
            took = time.monotonic() - started
            time.sleep(0.3)
            stop.set()
            watcher.join()
            peak = _status_kb(proc.pid, "VmHWM")
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
    print(f"attack: {args.reports} x 31 MB report posts + {args.uploads} x 19 MB uploads without a cookie")
    print(f"answers: {dict(sorted(answers.items()))} in {took:.1f} s")
    print(f"node RSS before: {before / 1024:.0f} MB; peak during the attack (VmHWM): {peak / 1024:.0f} MB")
    print(f"most bytes seen in the node's TMPDIR: {seen[0]}")
    print(f"node still running afterwards: {alive}")


if __name__ == "__main__":
    main()
