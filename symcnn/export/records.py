"""Machine-readable records of a network: a list of dicts, CSV and JSON.

Formulas are sympy ``str`` forms (``32*k**2 + 32``, ``floor((n - k + 1)/3)``), which
``sympy.sympify`` reads back — a program's own output, never a user's text. When the
network is numeric, or a point ``at`` binds every symbol, each record also holds the
exact integer values (``*_value`` keys), which JSON writes as integers, never floats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sympy

from ..symbolic.shape import Shape
from ._table import Row, paired, point

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["CSV_FIELDS", "to_csv", "to_json", "to_records"]

#: The columns of :func:`to_csv`, in order; the ``*_value`` columns are empty when the
#: network is symbolic and no point is given.
CSV_FIELDS = (
    "index",
    "name",
    "description",
    "input_shapes",
    "output_shape",
    "params",
    "products",
    "shared",
    "input_shapes_value",
    "output_shape_value",
    "params_value",
    "products_value",
)


def to_records(
    net: Network, *, at: Mapping[Any, Any] | None = None, depth: int | None = None
) -> list[dict[str, Any]]:
    """One dict per layer, in order: its shapes and counts as formulas, and values.

    Keys: ``index``, ``name``, ``description``, ``input_shapes`` (a list of shapes, each
    a list of formula strings), ``output_shape``, ``params``, ``products`` (formula
    strings) and ``shared``; then, when the network is numeric or ``at`` binds every
    symbol, ``input_shapes_value``, ``output_shape_value``, ``params_value`` and
    ``products_value`` as Python ints. The totals are in :func:`to_json` and in the last
    row of :func:`to_csv`. With ``depth``, one dict per module at that depth of the
    hierarchy (see :func:`symcnn.to_text`), with a ``layers`` key: how many it sums.

    Raises
    ------
    ValueError
        When ``at`` leaves a symbol unbound.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> net = sc.Sequential(sc.Conv2d(1, 2, 3), input_shape=(1, n, n))
    >>> (record,) = to_records(net, at={n: 5})
    >>> record["output_shape"], record["products"], record["products_value"]
    (['2', 'n - 2', 'n - 2'], '18*(n - 2)**2', 162)
    """
    pairs = paired(net, _point(net, at), depth)
    return [_record(r, p, depth) for r, p in pairs if not r.is_total]


def to_csv(
    net: Network, *, at: Mapping[Any, Any] | None = None, depth: int | None = None
) -> str:
    r"""The records of :func:`to_records` as CSV: a header row, one row per layer, the totals.

    A shape is written as a tuple, ``(32, 24, 24)``, several inputs as a list of them;
    formulas in sympy's ``str`` form. The last row holds the totals, as in the text table:
    ``name`` and ``description`` are ``total``, ``params`` and ``products`` (and their
    ``*_value`` columns) the network's totals, and the other cells are empty. With
    ``depth`` the rows are modules and a last column, ``layers``, counts their layers.

    Examples
    --------
    >>> import symcnn as sc
    >>> text = to_csv(sc.Sequential(sc.Linear(256, 200), input_shape=(256,)))
    >>> row, total = csv.DictReader(io.StringIO(text))
    >>> row["description"], row["input_shapes"], row["output_shape"], row["params_value"]
    ('nn.Linear(256, 200)', '[(256,)]', '(200,)', '51400')
    >>> total["index"], total["name"], total["params"], total["products_value"]
    ('', 'total', '51400', '51200')
    """
    pairs = paired(net, _point(net, at), depth)
    fields = CSV_FIELDS if depth is None else (*CSV_FIELDS, "layers")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", restval="")
    writer.writeheader()
    for row, fixed in pairs[:-1]:
        record = _record(row, fixed, depth)
        writer.writerow({key: _csv_cell(key, value) for key, value in record.items()})
    writer.writerow({"name": "total", "description": "total", **_totals(*pairs[-1])})
    return out.getvalue()


def to_json(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    indent: int | None = 2,
    depth: int | None = None,
) -> str:
    """The network as JSON: ``{"at": ..., "layers": [...], "totals": {...}}``.

    ``layers`` holds the records of :func:`to_records` (by module with ``depth``),
    ``totals`` the network's
    ``params`` and ``products`` (formulas, and values when numeric); ``at`` the point's
    bindings by symbol name, or null. Values are exact JSON integers.

    Examples
    --------
    >>> import json
    >>> import symcnn as sc
    >>> data = json.loads(to_json(sc.Sequential(sc.Linear(256, 200), input_shape=(256,))))
    >>> data["totals"]["params_value"], data["layers"][0]["output_shape_value"]
    (51400, [200])
    """
    fixed = _point(net, at)
    pairs = paired(net, fixed, depth)
    totals = _totals(*pairs[-1])
    document = {
        "at": None
        if at is None or fixed is None
        else {str(s): _int(v) for s, v in fixed.bindings.items()},
        "layers": [_record(r, p, depth) for r, p in pairs[:-1]],
        "totals": totals,
    }
    return json.dumps(document, indent=indent, ensure_ascii=False)


def _point(net: Network, at: Mapping[Any, Any] | None) -> Network | None:
    """The network where values are read: at ``at``, itself when numeric, else None."""
    if at is not None:
        return point(net, at)
    return None if net.free_symbols else net


def _totals(total: Row, total_value: Row | None) -> dict[str, Any]:
    """The totals row's counts: formulas, and values where they are read."""
    out: dict[str, Any] = {
        "params": str(total.params.value),
        "products": str(total.products.value),
    }
    if total_value is not None:
        out |= {
            "params_value": _int(total_value.params.value),
            "products_value": _int(total_value.products.value),
        }
    return out


def _record(row: Row, fixed: Row | None, depth: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": row.index,
        "name": row.name,
        "description": row.description,
        "input_shapes": [_dims(s) for s in row.input_shapes],
        "output_shape": _dims(row.output_shapes[0]),
        "params": str(row.params.value),
        "products": str(row.products.value),
        "shared": row.shared,
    }
    if fixed is not None:
        out |= {
            "input_shapes_value": [[_int(d) for d in s] for s in fixed.input_shapes],
            "output_shape_value": [_int(d) for d in fixed.output_shapes[0]],
            "params_value": _int(fixed.params.value),
            "products_value": _int(fixed.products.value),
        }
    if depth is not None:
        out["layers"] = row.layers
    return out


def _dims(shape: Shape) -> list[str]:
    return [str(d) for d in shape]


def _int(value: sympy.Expr) -> int:
    return int(sympy.Integer(value))


def _tuple(dims: list[Any]) -> str:
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def _csv_cell(key: str, value: Any) -> Any:
    if key.startswith("input_shapes"):
        return "[" + ", ".join(map(_tuple, value)) + "]"
    if key.startswith("output_shape"):
        return _tuple(value)
    return value
