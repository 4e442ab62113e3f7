"""`extends:` with many ids: CPU seconds to merge a file onto its parent, and how that grows.

A parent declares N actors, a child extends it and changes every actor's `resolve` (each a
replaced value, which before the fix rescanned every location of the scenario). The
merge is timed alone (the files parsed beforehand) and with reading both files, for N and 2N
and 4N; linear means the 2N/N ratio stays near 2. The largest N fits the 1 MB file limit.

    python benchmarks/extends_benchmark.py [N ...]
"""

from __future__ import annotations

import copy
import platform
import sys
import tempfile
import time
from pathlib import Path

from sim.scenario import loader
from sim.scenario.merge import merge
from sim.scenario.yamlio import read_yaml


def write_pair(directory: Path, n: int) -> Path:
    """parent.yaml with n actors and child.yaml that extends it and changes each actor's resolve."""
    parent = "actors:\n" + "".join(f" a{i}: {{resolve: 0.5}}\n" for i in range(n))
    child = "extends: parent.yaml\nactors:\n" + "".join(f" a{i}: {{resolve: 0.6}}\n" for i in range(n))
    (directory / "parent.yaml").write_text(parent, encoding="utf-8")
    (directory / "child.yaml").write_text(child, encoding="utf-8")
    return directory / "child.yaml"


def merge_seconds(child: Path) -> tuple[float, float]:
    """CPU seconds of the merge alone, and of reading both files and merging (best of 3)."""
    base, base_locs = read_yaml(child.parent / "parent.yaml")
    over, over_locs = read_yaml(child)
    over.pop("extends")
    merge_only = []
    for _ in range(3):
        b, bl, o, ol = copy.deepcopy(base), dict(base_locs), copy.deepcopy(over), dict(over_locs)
        start = time.process_time()
        merge(b, bl, o, ol, loader._replaces)
        merge_only.append(time.process_time() - start)
    start = time.process_time()
    loader._resolve(child, [])
    return min(merge_only), time.process_time() - start


def main(sizes: list[int]) -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    previous = None
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            child = write_pair(Path(tmp), n)
            size = child.stat().st_size
            merged, whole = merge_seconds(child)
        ratio = f", {merged / previous:.2f}x the previous N" if previous else ""
        print(f"N={n:>6} actors (child {size:,} bytes): merge {merged:.3f} CPU s{ratio}; read both + merge {whole:.2f} CPU s")
        previous = merged


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 20_000, 40_000])
