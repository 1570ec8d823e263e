"""symcnn: closed-form shapes, parameters, products and validity of CNNs, with sympy.

>>> import symcnn as sc
>>> n, k = sc.symbols("n k")
>>> net = sc.Sequential(sc.Conv2d(1, 32, kernel_size=k), input_shape=(1, n, n))
>>> net.output_shape
Shape((32, -k + n + 1, -k + n + 1))
>>> net.subs({n: 28, k: 5}).layers[0].params_text
'32·(5²+1) = 832'
"""

from typing import TYPE_CHECKING, Any

from . import layers as _layers
from .conventions import Convention, Quantity
from .errors import (
    GraphError,
    GraphvizError,
    ShapeError,
    SolverError,
    SpecError,
    SymcnnError,
    UnsupportedLayerError,
)
from .graph.network import Network, Sequential
from .graph.record import LayerRecord
from .layers import *  # noqa: F403  (every layer; symcnn/layers/__init__.py)
from .layers.tensor import Tensor
from .symbolic.derivation import Derivation
from .symbolic.printing import format_formula
from .symbolic.shape import Shape, as_size
from .symbolic.sizes import (
    adaptive_windows,
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
    same_padding,
)
from .symbolic.symbols import symbols
from .training import Training, TrainingLayer
from .validity.condition import Condition

if TYPE_CHECKING:
    from .export import (
        render,
        to_csv,
        to_dot,
        to_html,
        to_json,
        to_latex,
        to_markdown,
        to_records,
        to_text,
    )
    from .export.plot import plot
    from .frontends.spec import parse_spec
    from .frontends.torch import from_torch

#: Public names whose modules load on first use, so that ``import symcnn`` stays close
#: to ``import sympy`` in time (docs/ARCHITECTURE.md, "Import cost").
_LAZY = {
    "from_torch": "symcnn.frontends.torch",
    "parse_spec": "symcnn.frontends.spec",
    **dict.fromkeys(
        (
            "plot",
            "render",
            "to_csv",
            "to_dot",
            "to_html",
            "to_json",
            "to_latex",
            "to_markdown",
            "to_records",
            "to_text",
        ),
        "symcnn.export",
    ),
}


def __getattr__(name: str) -> Any:
    """Load a front-end, an exporter or ``symcnn.models`` on first use (PEP 562)."""
    if name == "models":  # sc.models.lenet() after a plain "import symcnn as sc"
        import importlib

        return importlib.import_module("symcnn.models")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'symcnn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Condition",
    "Convention",
    "Derivation",
    "GraphError",
    "GraphvizError",
    "LayerRecord",
    "Network",
    "Quantity",
    "Sequential",
    "Shape",
    "ShapeError",
    "SolverError",
    "SpecError",
    "SymcnnError",
    "Tensor",
    "Training",
    "TrainingLayer",
    "UnsupportedLayerError",
    "adaptive_windows",
    "as_size",
    "conv_output_size",
    "conv_transpose_output_size",
    "format_formula",
    "from_torch",
    "parse_spec",
    "plot",
    "pool_output_size",
    "render",
    "same_padding",
    "symbols",
    "to_csv",
    "to_dot",
    "to_html",
    "to_json",
    "to_latex",
    "to_markdown",
    "to_records",
    "to_text",
]
__all__ += _layers.__all__
__version__ = "0.1.0"
