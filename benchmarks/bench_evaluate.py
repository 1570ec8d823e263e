"""Benchmark: exact vectorized evaluation of total products.

Run with ``python benchmarks/bench_evaluate.py``. Two cases, each timed by the median of
interleaved runs on one core:

1. the seed LeNet's total-products formula at 10**6 input sizes n = 22 .. 10**6 + 21
   (k = 5): symcnn.evaluate against sympy.lambdify (numpy, float-based) and a pure-Python
   integer loop;
2. ResNet-50 (torchvision's layout, built with torch) with a symbolic input (3, H, W):
   ``net.evaluate("products", H=..., W=...)`` over a 1000 x 1000 grid of (H, W), every
   layer's condition checked at every point, against plain sympy.lambdify of the same
   formula on float64.
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

import numpy as np
import sympy

import symcnn
from symcnn.evaluate import compile_expr, evaluate

from machine import cpu_model, pin_to_one_core

TESTS = Path(__file__).resolve().parent.parent / "tests"

REPEATS = 15
SIZES = 10**6
LOOP_SIZES = 10**5
SUBS_SIZES = 200
GRID = 1000

n, k = symcnn.symbols("n k")
# The seed network's total products, written out (not derived) so that this benchmark does
# not depend on symcnn.graph.network.
PRODUCTS = (
    32 * k**2 * (n - k + 1) ** 2 + 2048 * k**2 * (sympy.floor((n - k + 1) / 3) - k + 1) ** 2 + 53200
)


def median_seconds(runs: dict[str, Callable[[], Any]]) -> dict[str, tuple[float, Any]]:
    """Median wall time and last result of each run, the runs interleaved round-robin so
    that a noisy neighbour slows every method alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(REPEATS):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in runs}


def products_loop(sizes: range, kernel: int) -> list[int]:
    """The formula by hand, in Python ints."""
    out = []
    for size in sizes:
        width = size - kernel + 1
        pooled = width // 3 - kernel + 1
        out.append(32 * kernel**2 * width**2 + 2048 * kernel**2 * pooled**2 + 53200)
    return out


def lazy_products_loop(sizes: range, kernel: int) -> list[int]:
    """The seed network with Flatten + LazyLinear(200), by hand: its linear layer grows."""
    out = []
    for size in sizes:
        width = size - kernel + 1
        pooled = width // 3 - kernel + 1
        features = 64 * ((size - 4 * kernel + 4) // 6) ** 2
        out.append(32 * kernel**2 * width**2 + 2048 * kernel**2 * pooled**2 + 200 * features + 2000)
    return out


def seed_network() -> symcnn.Network:
    """The seed network in its design form (Flatten, LazyLinear): valid for n >= 4k + 2."""
    return symcnn.Sequential(
        symcnn.Conv2d(1, 32, kernel_size=k),
        symcnn.MaxPool2d(kernel_size=3),
        symcnn.ReLU(),
        symcnn.Conv2d(32, 64, kernel_size=k),
        symcnn.MaxPool2d(kernel_size=2),
        symcnn.ReLU(),
        symcnn.Flatten(),
        symcnn.LazyLinear(200),
        symcnn.ReLU(),
        symcnn.Linear(200, 10),
        input_shape=(1, n, n),
    )


def print_table(rows: list[tuple[str, int, float, bool]], reference: str) -> None:
    """Rows of (method, sizes, median seconds, exact), rates relative to the first row."""
    ours = rows[0][1] / rows[0][2]
    header = ("method", "sizes", "median", "sizes/s", f"time/size vs {reference}", "exact")
    table = [header]
    for name, count, seconds, ok in rows:
        rate = count / seconds
        table.append(
            (
                name,
                f"{count:,}",
                f"{seconds * 1e3:.2f} ms",
                f"{rate:.3g}",
                f"{ours / rate:.3g}x",
                "yes" if ok else "NO",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(
            "  ".join(
                cell.ljust(w) if j == 0 else cell.rjust(w)
                for j, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def resnet50_grid() -> None:
    """ResNet-50's total products over a 1000 x 1000 grid of input sizes (H, W)."""
    sys.path.insert(0, str(TESTS))
    from torchzoo import resnet50  # noqa: PLC0415 - the test suite's torch model zoo

    height, width = symbolic_sizes = symcnn.symbols("H W")
    start = time.perf_counter()
    net = symcnn.from_torch(resnet50().eval(), (3, height, width))
    built = time.perf_counter() - start
    formula = net.products
    # The grid: H a column, W a row, broadcast to 1000 x 1000 (what numpy users write),
    # and the same grid as two full 1000 x 1000 arrays (what meshgrid gives).
    hs = np.arange(32, 32 + GRID, dtype=np.int64).reshape(-1, 1)
    ws = np.arange(32, 32 + GRID, dtype=np.int64).reshape(1, -1)
    hh, ww = (a.copy() for a in np.broadcast_arrays(hs, ws))

    start = time.perf_counter()
    first = net.evaluate("products", H=hs, W=ws)
    first_call = time.perf_counter() - start
    # Reference: the exact formula on object arrays of Python ints (no int64 anywhere),
    # itself checked against sympy's exact substitution at the corners and 200 points.
    reference = compile_expr(formula, symbolic_sizes)(hs.astype(object), ws.astype(object))
    rng = np.random.default_rng(0)
    sample = [(0, 0), (0, GRID - 1), (GRID - 1, 0), (GRID - 1, GRID - 1)]
    sample += [tuple(map(int, p)) for p in rng.integers(0, GRID, size=(200, 2))]
    for i, j in sample:
        at = {height: sympy.Integer(int(hs[i, 0])), width: sympy.Integer(int(ws[0, j]))}
        assert formula.xreplace(at) == reference[i, j], (i, j)
    assert first.dtype == np.int64 and np.array_equal(first, reference)

    lambdified = sympy.lambdify(symbolic_sizes, formula, modules="numpy")
    timed = median_seconds(
        {
            "grid": lambda: net.evaluate("products", H=hs, W=ws),
            "full": lambda: net.evaluate("products", H=hh, W=ww),
            "formula": lambda: evaluate(formula, {height: hs, width: ws}),
            "lambdify": lambda: lambdified(hs, ws),
        }
    )
    floats = np.asarray(timed["lambdify"][1])
    wrong = np.count_nonzero(floats != reference.astype(float))
    points = GRID * GRID
    rows = [
        (
            "Network.evaluate, H column x W row (domain checked)",
            points,
            timed["grid"][0],
            bool(np.array_equal(timed["grid"][1], reference)),
        ),
        (
            "Network.evaluate, two full 1000x1000 arrays (checked)",
            points,
            timed["full"][0],
            bool(np.array_equal(timed["full"][1], reference)),
        ),
        (
            "symcnn evaluate of the formula alone (no domain)",
            points,
            timed["formula"][0],
            bool(np.array_equal(timed["formula"][1], reference)),
        ),
        (f"sympy lambdify numpy ({floats.dtype})", points, timed["lambdify"][0], not wrong),
    ]
    print(f"\nResNet-50 (torchvision layout, input (3, H, W)), built in {built:.2f} s")
    print(f"products: {formula}")
    print(
        f"domain: {len(net.domain)} located conditions, "
        f"{len({c.relation for _, c in net.domain})} distinct relations, every one checked "
        f"at every point; simplified constraints: {len(net.constraints)} (not used)"
    )
    print(f"grid: H, W = 32 .. {31 + GRID}, {points:,} sizes")
    print(f"first call (compile + evaluate, grid): {first_call * 1e3:.1f} ms")
    print(
        f"median of {REPEATS} interleaved runs; exact = equal to the Python-int reference "
        f"(itself checked against sympy at {len(sample)} points)\n"
    )
    print_table(rows, "grid")
    largest = int(np.max(np.abs(reference)))
    print(
        f"\nlambdify (float64) differs from the exact value at {wrong:,} of {points:,} sizes; "
        f"largest product {largest:,} (float64 is exact up to 2**53 = {2**53:,})"
    )


def main() -> None:
    pinned = pin_to_one_core()
    sizes = np.arange(22, SIZES + 22, dtype=np.int64)
    values = {n: sizes, k: 5}

    start = time.perf_counter()
    first = evaluate(PRODUCTS, values)
    first_call = time.perf_counter() - start

    # Reference: Python ints over all 10**6 sizes (not timed), and sympy at a sample.
    exact = products_loop(range(22, SIZES + 22), 5)
    assert first.dtype == np.int64 and first.tolist() == exact
    for size in (22, 28, 1000, 999_999, SIZES + 21):
        assert int(PRODUCTS.subs({n: size, k: 5})) == exact[size - 22]
    exact_array = np.array(exact, dtype=np.int64)

    net = seed_network()
    lazy_exact = np.array(lazy_products_loop(range(22, SIZES + 22), 5), dtype=np.int64)
    compiled = compile_expr(PRODUCTS, [n, k])
    lambdified = sympy.lambdify((n, k), PRODUCTS, modules="numpy")
    loop_sizes = range(22, LOOP_SIZES + 22)
    # The path evaluate takes when int64 could overflow: object arrays of Python ints.
    object_sizes = sizes[:LOOP_SIZES].astype(object)
    subs_sizes = range(22, SUBS_SIZES + 22)
    timed = median_seconds(
        {
            "evaluate": lambda: evaluate(PRODUCTS, values),
            "network": lambda: net.evaluate("products", n=sizes, k=5),
            "compiled": lambda: compiled(sizes, 5),
            "lambdify": lambda: lambdified(sizes, 5),
            "object": lambda: compiled(object_sizes, 5),
            "loop": lambda: products_loop(loop_sizes, 5),
            "subs": lambda: [int(PRODUCTS.subs({n: s, k: 5})) for s in subs_sizes],
        }
    )
    lambdified_result = np.asarray(timed["lambdify"][1])
    wrong = np.flatnonzero(lambdified_result != exact_array)
    rows = [
        (
            "symcnn evaluate (int64, checked)",
            SIZES,
            *timed["evaluate"][:1],
            bool(np.array_equal(timed["evaluate"][1], exact_array)),
        ),
        (
            "Network.evaluate (lazy seed net, domain checked)",
            SIZES,
            *timed["network"][:1],
            bool(np.array_equal(timed["network"][1], lazy_exact)),
        ),
        (
            "symcnn compile_expr function",
            SIZES,
            *timed["compiled"][:1],
            bool(np.array_equal(timed["compiled"][1], exact_array)),
        ),
        (
            f"sympy lambdify numpy ({lambdified_result.dtype})",
            SIZES,
            *timed["lambdify"][:1],
            not wrong.size,
        ),
        (
            "symcnn compile_expr, object ints",
            LOOP_SIZES,
            *timed["object"][:1],
            timed["object"][1].tolist() == exact[:LOOP_SIZES],
        ),
        (
            "pure-Python int loop",
            LOOP_SIZES,
            *timed["loop"][:1],
            timed["loop"][1] == exact[:LOOP_SIZES],
        ),
        (
            "sympy .subs per size",
            SUBS_SIZES,
            *timed["subs"][:1],
            timed["subs"][1] == exact[:SUBS_SIZES],
        ),
    ]

    print(
        f"machine: processor={platform.processor()!r} machine={platform.machine()} "
        f"cpus={os.cpu_count()} model={cpu_model()!r}, {pinned}"
    )
    print(
        f"python {platform.python_version()} ({sys.implementation.name}), numpy {np.__version__}, "
        f"sympy {sympy.__version__}"
    )
    print(f"formula: {PRODUCTS}")
    print(f"first call (compile + evaluate, 10**6 sizes): {first_call * 1e3:.1f} ms")
    print(
        f"median of {REPEATS} interleaved runs; sizes/s from each method's own batch;\n"
        "exact = equal to the Python-int reference (itself checked against sympy at 5 sizes)\n"
    )
    print_table(rows, "evaluate")
    if wrong.size:
        at = int(sizes[wrong[0]])
        got = lambdified(np.array([at]), 5)[0]
        print(
            f"\nlambdify differs from the exact value at {wrong.size:,} of {SIZES:,} sizes; "
            f"first at n={at}: got {got!r}, exact {exact[at - 22]}"
        )
        multiple = (sizes - 5 + 1) % 3 == 0
        print(
            f"wrong where n - k + 1 is a multiple of 3: {np.count_nonzero(multiple[wrong]):,} "
            f"(of {np.count_nonzero(multiple):,} such sizes); elsewhere: "
            f"{np.count_nonzero(~multiple[wrong]):,}"
        )
    else:
        print("\nlambdify agrees with the exact values at all sizes")
    resnet50_grid()


if __name__ == "__main__":
    main()
