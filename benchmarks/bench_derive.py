"""Benchmark: from_torch plus every node's closed-form formulas, for zoo networks.

Run with ``python benchmarks/bench_derive.py`` (needs torch). For LeNet, ResNet-18,
ResNet-50, ResNet-152 and DenseNet-121, written in plain torch (tests/torchzoo.py), it
times ``sc.from_torch(model, (C, H, W))`` followed by every node's output shape, parameters
and products and the totals, all canonical sympy expressions in H and W; and, apart, the
simplified validity domain. "cold" clears symcnn's memo and sympy's cache before every run,
as in a fresh process; "warm" keeps them, as when a network is derived again. torch.fx's
own trace is timed alongside for scale. Medians of interleaved runs, on one pinned core.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sympy
import torch
import torch.fx

import symcnn as sc
from symcnn.layers.base import _derive
from symcnn.symbolic.canonical import _canonical

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import torchzoo as zoo  # noqa: E402

from machine import cpu_model, pin_to_one_core  # noqa: E402

REPEATS = 7
H, W = sc.symbols("H W")

MODELS: dict[str, tuple[Callable[[], Any], int]] = {
    "LeNet (seed)": (zoo.SeedLeNet, 1),
    "ResNet-18": (zoo.resnet18, 3),
    "ResNet-50": (zoo.resnet50, 3),
    "ResNet-152": (zoo.resnet152, 3),
    "DenseNet-121": (zoo.densenet121, 3),
}


def clear_caches() -> None:
    _derive.cache_clear()
    _canonical.cache_clear()
    sympy.core.cache.clear_cache()


def derive(model: Any, channels: int) -> sc.Network:
    net = sc.from_torch(model, (channels, H, W))
    for record in net.layers:
        record.output_shape, record.params, record.products  # noqa: B018
    net.params, net.products  # noqa: B018
    return net


def measure(model: Any, channels: int) -> dict[str, float]:
    """Median seconds of each step over REPEATS interleaved runs."""
    steps: dict[str, list[float]] = {"fx": [], "cold": [], "domain": [], "warm": []}
    for _ in range(REPEATS):
        start = time.perf_counter()
        torch.fx.symbolic_trace(model)
        steps["fx"].append(time.perf_counter() - start)
        clear_caches()
        start = time.perf_counter()
        net = derive(model, channels)
        steps["cold"].append(time.perf_counter() - start)
        start = time.perf_counter()
        net.constraints  # noqa: B018
        steps["domain"].append(time.perf_counter() - start)
        start = time.perf_counter()
        derive(model, channels)
        steps["warm"].append(time.perf_counter() - start)
    return {step: statistics.median(times) for step, times in steps.items()}


def main() -> None:
    pinned = pin_to_one_core()
    torch.set_num_threads(1)
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} model={cpu_model()!r}, {pinned}")
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, sympy {sympy.__version__}"
    )
    print(f"median of {REPEATS} interleaved runs; cold = symcnn memo and sympy cache cleared first")
    print()
    header = ("network", "nodes", "fx trace", "derive cold", "derive warm", "domain", "cold/fx")
    rows = []
    figures = {}
    for name, (build, channels) in MODELS.items():
        model = build()
        derive(model, channels)  # import-time work and first-use paths out of the way
        t = measure(model, channels)
        figures[name] = t
        nodes = len(sc.from_torch(model, (channels, H, W)).layers)
        rows.append(
            (
                name,
                str(nodes),
                f"{t['fx'] * 1e3:.1f} ms",
                f"{t['cold'] * 1e3:.0f} ms",
                f"{t['warm'] * 1e3:.0f} ms",
                f"{t['domain'] * 1e3:.0f} ms",
                f"{t['cold'] / t['fx']:.0f}×",
            )
        )
    print(sc.export.text.grid(header, rows))
    ratio = figures["ResNet-152"]["cold"] / figures["ResNet-50"]["cold"]
    print()
    print(f"ResNet-152 / ResNet-50, cold derive: {ratio:.2f} (nodes: 515 / 175 = 2.94)")
    print(f"ResNet-50 cold derive: {figures['ResNet-50']['cold'] * 1e3:.0f} ms (target < 200 ms)")


if __name__ == "__main__":
    main()
