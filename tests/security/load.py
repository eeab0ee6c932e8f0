"""A bounded load test on 127.0.0.1: searchers and feed pollers while a sync and an import run.

Run the full size by hand (documented in docs/security.md):
    .venv/bin/python tests/security/load.py --searchers 200 --pollers 20 --seconds 30
The test suite runs a smaller size (tests/security/test_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nodeutil import NodeHandle, ServeProcess, example_listings, group, make_node, signpost

QUERIES = [
    "/search?near=LS6",
    "/search?q=hearing+voices",
    "/search?q=walk&near=Leeds",
    "/search?near=SW9&when=this-weekend",
    "/search?kind=group&topic=anxiety",
    "/search?q=crisis&delivery=phone",
    "/search?q=bipolar&near=SE11&within=10",
    "/search?q=men",
    "/api/v1/search?near=LS6&kind=group",
    "/search?q=%22%29%20OR%20*",
    "/",
]


@dataclass
class Figures:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def searcher(
    session: aiohttp.ClientSession, base: str, until: float, figures: Figures, rng: random.Random
) -> None:
    while time.monotonic() < until:
        path = rng.choice(QUERIES)
        started = time.perf_counter()
        try:
            async with session.get(base + path) as resp:
                await resp.read()
                if resp.status != 200:
                    figures.errors.append(f"{path}: HTTP {resp.status}")
        except (TimeoutError, aiohttp.ClientError) as e:
            figures.errors.append(f"{path}: {e!r}")
        figures.latencies.append(time.perf_counter() - started)
        figures.requests += 1


async def poller(session: aiohttp.ClientSession, base: str, until: float, figures: Figures) -> None:
    url = f"{base}/feed"
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200:
                    figures.errors.append(f"feed: HTTP {resp.status}")
                    continue
                page = json.loads(body)
        except (TimeoutError, aiohttp.ClientError) as e:
            figures.errors.append(f"feed: {e!r}")
            continue
        finally:
            figures.latencies.append(time.perf_counter() - started)
            figures.requests += 1
        url = page["next"] if page["items"] else f"{base}/feed"


async def sample_memory(pid: int, until: float, figures: Figures) -> None:
    while time.monotonic() < until:
        figures.rss_mb.append(rss_mb(pid))
        await asyncio.sleep(0.5)


def build(root: Path) -> tuple[NodeHandle, NodeHandle, Path]:
    leeds = make_node(root / "leeds", "Leeds")
    leeds.publish(example_listings("leeds"))
    leeds.publish([group(i, description="A peer support group meeting weekly. " * 5) for i in range(4000)])
    national = make_node(root / "national", "National")
    national.publish(example_listings("lambeth"))
    national.publish(example_listings("national"))
    sheet = root / "import.jsonl"
    with sheet.open("w") as f:
        for i in range(3000):
            rid, fields = group(100000 + i, summary="Imported during the load test.")
            f.write(json.dumps({"id": rid, **fields}) + "\n")
    return leeds, national, sheet


async def run_load(searchers: int, pollers: int, seconds: float, root: Path) -> Figures:
    leeds, national, sheet = build(root)
    figures = Figures()
    with ServeProcess(leeds), ServeProcess(national) as serving:
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        assert serving.proc is not None
        pid = serving.proc.pid
        until = time.monotonic() + seconds
        background = [
            subprocess.Popen(
                [sys.executable, "-m", "node", "sync", "--dir", str(national.directory)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
            subprocess.Popen(
                [sys.executable, "-m", "node", "import", str(sheet), "--dir", str(national.directory)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
        ]
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=searchers + pollers)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            rng = random.Random(1)
            await asyncio.gather(
                *(
                    searcher(session, national.url, until, figures, random.Random(rng.random()))
                    for _ in range(searchers)
                ),
                *(poller(session, national.url, until, figures) for _ in range(pollers)),
                sample_memory(pid, until, figures),
            )
        for proc in background:
            _, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                figures.errors.append(f"background {proc.args[3]} failed: {err.decode()[-500:]}")
        figures.rss_mb.append(rss_mb(pid))
    return figures


def report(figures: Figures, seconds: float) -> str:
    lines = [
        f"requests: {figures.requests} ({figures.requests / seconds:.0f}/s), errors: {len(figures.errors)}",
        f"latency ms: p50 {figures.percentile(50):.1f}, p95 {figures.percentile(95):.1f}, p99 {figures.percentile(99):.1f}",
        f"serve RSS MB: start {figures.rss_mb[0]:.0f}, max {max(figures.rss_mb):.0f}, end {figures.rss_mb[-1]:.0f}"
        if figures.rss_mb
        else "serve RSS: not sampled",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searchers", type=int, default=200)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run_load(args.searchers, args.pollers, args.seconds, Path(tmp)))
    print(report(figures, args.seconds))
    for e in figures.errors[:10]:
        print("error:", e)
    sys.exit(1 if figures.errors else 0)


if __name__ == "__main__":
    main()
