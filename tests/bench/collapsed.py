"""Summarise a py-spy collapsed-stack profile: where each thread's samples went.

    .venv/bin/python tests/bench/collapsed.py /tmp/bench-prof/ingest.collapsed.txt [--top 25]

Prints, per thread, the share of samples whose stack passes through each
function (inclusive) and the share spent in each function itself (self),
so a hotspot's cost can be quoted as a fraction of the pull.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def frames(stack: str) -> list[str]:
    out = []
    for frame in stack.split(";"):
        m = _FRAME.match(frame.strip())
        if m:
            out.append(f"{m.group('fn')} ({Path(m.group('file')).name})")
    return out


def summarise(path: Path, top: int) -> None:
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    own: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        parts = stack.split(";")
        thread = next((p for p in parts if p.startswith("thread")), "thread ?")
        name = (
            "sqlite-writer"
            if "_run_tx" in stack
            else ("sqlite-reader" if "store.py" in stack and "_run " in stack else "event loop/main")
        )
        fs = frames(stack)
        n = int(count)
        totals[name] += n
        for f in set(fs):
            inclusive[name][f] += n
        if fs:
            own[name][fs[-1]] += n
        del thread
    grand = sum(totals.values())
    for name, total in totals.most_common():
        print(f"== {name}: {total} samples, {100 * total / grand:.1f}% of all")
        print("   inclusive:")
        for f, n in inclusive[name].most_common(top):
            print(f"   {100 * n / total:5.1f}%  {f}")
        print("   self:")
        for f, n in own[name].most_common(top // 2):
            print(f"   {100 * n / total:5.1f}%  {f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    summarise(args.profile, args.top)


if __name__ == "__main__":
    main()
