"""Benchmark: symbolic work stays bounded on deep chains and on power-heavy spec text.

Run with ``python benchmarks/bench_scale.py`` (no torch needed). Two parts:

1. Chains of ``Conv2d(8, 8, 3)`` (fixed kernel) and of ``Conv2d(8, 8, k)`` (symbolic
   kernel) on an ``8×n×n`` input, 250 to 2000 layers deep: the time from the layer list to
   ``net.constraints``, each depth in a fresh process (cold: no memo, no sympy cache), the
   median of three. The time per layer should stay flat as depth doubles; the target is
   1,000 layers in at most 2 s.
2. ``SPECS`` random spec strings of at most 100 characters, heavy in powers (``n**37 + 5``,
   ``(n + 2)**4*(k + 1)**3``...), drawn with a fixed seed, each run through the three
   subcommands ``table``, ``formula`` and ``domain`` of the ``symcnn`` command in this
   process: the slowest call, and how many took over 2 s (the target: none). A call over
   60 s is stopped and counted as such.
"""

from __future__ import annotations

import contextlib
import io
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model, pin_to_one_core  # noqa: E402

DEPTHS = (250, 500, 1000, 2000)
REPEATS = 3
SPECS = 300
LIMIT = 2.0

_CHAIN = """
import sys, time
import symcnn as sc
n, k = sc.symbols("n k")
size = {kernel}
start = time.perf_counter()
net = sc.Sequential(*[sc.Conv2d(8, 8, size) for _ in range({depth})], input_shape=(8, n, n))
net.constraints
print(time.perf_counter() - start, file=sys.stderr)
"""


def chain_seconds(depth: int, kernel: str) -> float:
    """Seconds from the layer list to ``constraints`` (after import), in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _CHAIN.format(kernel=kernel, depth=depth)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stderr.strip().splitlines()[-1])


def chains() -> None:
    print("| chain | layers | seconds to constraints (median of 3) | ms per layer |")
    print("|---|---|---|---|")
    for label, kernel in (("Conv2d(8, 8, 3)", "3"), ("Conv2d(8, 8, k)", "k")):
        for depth in DEPTHS:
            seconds = statistics.median(chain_seconds(depth, kernel) for _ in range(REPEATS))
            print(f"| {label} | {depth} | {seconds:.2f} | {1000 * seconds / depth:.2f} |")


# -- power-heavy specs ----------------------------------------------------------------------
def _power(rng: random.Random, names: str) -> str:
    """A size heavy in powers: ``n**37 + 5``, ``(n + 2)**4*(k + 1)**3``, ``n**9//7``."""
    x, y = rng.choice(names), rng.choice(names)
    e1, e2 = rng.randint(1, 64), rng.randint(1, 12)
    return rng.choice(
        [
            f"{x}**{e1} + {rng.randint(0, 9)}",
            f"({x} + {rng.randint(1, 9)})**{e2}*({y} + {rng.randint(1, 9)})**{rng.randint(1, 12)}",
            f"{x}**{e2}//{rng.randint(2, 9)}",
            f"{x}*{y}**{e2} - {x}",
            str(rng.randint(1, 9)),
            x,
        ]
    )


def _layer(rng: random.Random, names: str) -> str:
    p = lambda: _power(rng, names)  # noqa: E731
    return rng.choice(
        [
            f"Conv2d(1, 1, {p()})",
            f"Conv2d(1, 1, 3, stride={p()})",
            f"MaxPool2d({p()})",
            f"AvgPool2d(2, stride={p()}, ceil_mode=True)",
            f"Upsample(scale_factor={p()})",
            f"Flatten | Linear({p()}, 10)",
            "ReLU",
        ]
    )


def specs(count: int, seed: int = 12) -> list[tuple[str, str]]:
    """``count`` (spec, input) pairs of at most 100 characters, from a fixed seed."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    while len(out) < count:
        names = rng.choice(["n", "nk"])
        spec = " | ".join(_layer(rng, names) for _ in range(rng.randint(1, 3)))
        if len(spec) <= 100:
            out.append((spec, "1,n,n"))
    return out


class _Stop(Exception):  # noqa: N818
    """A call ran past its 60 s."""


def _alarm(signum: int, frame: object) -> None:
    raise _Stop


def timed_call(args: list[str]) -> tuple[float, int | str]:
    """Seconds and exit status of ``symcnn ARGS`` run in this process (stopped at 60 s)."""
    from symcnn.cli import main

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status: int | str = main(args)
    except _Stop:
        status = "stopped at 60 s"
    finally:
        signal.alarm(0)
    return time.perf_counter() - start, status


def spec_timings() -> None:
    slow: list[tuple[float, str, list[str]]] = []
    worst = 0.0
    statuses: dict[str, int] = {}
    for spec, sizes in specs(SPECS):
        for command in (["table"], ["formula", "--quantity", "products"], ["domain"]):
            args = [*command, spec, "--input", sizes]
            seconds, status = timed_call(args)
            worst = max(worst, seconds)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if seconds > LIMIT:
                slow.append((seconds, str(status), args))
    print(f"{SPECS} specs x 3 subcommands: slowest call {worst:.2f} s; exit statuses {statuses}")
    print(f"calls over {LIMIT:g} s: {len(slow)}")
    for seconds, status, args in sorted(slow, reverse=True)[:10]:
        print(f"  {seconds:.2f} s (status {status}): symcnn {' '.join(repr(a) for a in args)}")


if __name__ == "__main__":
    print(f"machine: {cpu_model()}, python {sys.version.split()[0]}, {pin_to_one_core()}")
    chains()
    print()
    spec_timings()
