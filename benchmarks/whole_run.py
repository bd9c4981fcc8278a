"""Whole-run wall time of a small recipe: `python -m zoo.run iris_mlp` vs the same work in plain Keras (issue 14).

One process each, alternated, `--repeats` times; prints each time and the ratio of the medians
(plain / zoo: 1.0 means no overhead). The plain side is benchmarks/plain_iris.py. With
`--cpu-replicas 2` both sides run under MirroredStrategy over two logical CPUs.

    python benchmarks/whole_run.py --data-dir ../shared/data --repeats 3
    python benchmarks/whole_run.py --data-dir ../shared/data --repeats 3 --cpu-replicas 2
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cpu-replicas", type=int, default=1, help="> 1: MirroredStrategy over logical CPUs")
    args = parser.parse_args()
    strategy = (
        ["--strategy", "one"]
        if args.cpu_replicas == 1
        else ["--strategy", "mirrored", "--cpu-replicas", str(args.cpu_replicas)]
    )
    tmp = Path(tempfile.mkdtemp(prefix="whole-run-"))
    times: dict[str, list[float]] = {"zoo": [], "plain": []}
    for repeat in range(args.repeats):
        zoo_cmd = [
            sys.executable,
            "-m",
            "zoo.run",
            "iris_mlp",
            "--seed",
            str(args.seed),
            *strategy,
            "--data-dir",
            args.data_dir,
            "--out",
            str(tmp / f"zoo{repeat}"),
        ]
        plain_cmd = [
            sys.executable,
            "benchmarks/plain_iris.py",
            "--seed",
            str(args.seed),
            "--data-dir",
            args.data_dir,
            "--cpu-replicas",
            str(args.cpu_replicas),
            "--out",
            str(tmp / f"plain{repeat}"),
        ]
        for name, command in (("zoo", zoo_cmd), ("plain", plain_cmd)):
            times[name].append(timed(command))
            print(f"repeat {repeat + 1} {name:>5}: {times[name][-1]:.1f} s", flush=True)
    zoo, plain = statistics.median(times["zoo"]), statistics.median(times["plain"])
    print(f"median: zoo {zoo:.1f} s, plain Keras {plain:.1f} s, ratio plain/zoo {plain / zoo:.2f}")


if __name__ == "__main__":
    main()
