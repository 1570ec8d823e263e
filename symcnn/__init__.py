"""symcnn: closed-form shapes, parameters, products and validity of CNNs, with sympy.

>>> import symcnn as sc
>>> n, k = sc.symbols("n k")
>>> net = sc.Sequential(sc.Conv2d(1, 32, kernel_size=k), input_shape=(1, n, n))
>>> net.output_shape
Shape((32, -k + n + 1, -k + n + 1))
>>> net.subs({n: 28, k: 5}).layers[0].params_text
'32·(5²+1) = 832'
"""

from .validity.condition import Condition
from .symbolic.derivation import Derivation
from .errors import (
    GraphError,
    GraphvizError,
    ShapeError,
    SolverError,
    SpecError,
    SymcnnError,
    UnsupportedLayerError,
)
from .export import (
    plot,
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
from .layers import (
    GELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    Add,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    BatchNorm2d,
    Concat,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    Dropout,
    Flatten,
    Hardswish,
    Identity,
    Input,
    Layer,
    LazyLinear,
    LeakyReLU,
    Linear,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    Mean,
    Mul,
    ReLU,
    ReLU6,
    Reshape,
    Sigmoid,
    SiLU,
    Tanh,
    Upsample,
    View,
    ZeroPad2d,
)
from .graph.network import Network, Sequential
from .symbolic.printing import format_formula
from .graph.record import LayerRecord
from .symbolic.shape import Shape, as_size
from .symbolic.sizes import (
    adaptive_windows,
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
    same_padding,
)
from .frontends.spec import parse_spec
from .symbolic.symbols import symbols
from .layers.tensor import Tensor
from .frontends.torch import from_torch

__all__ = [
    "GELU",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "Add",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "BatchNorm2d",
    "Concat",
    "Condition",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Derivation",
    "Dropout",
    "Flatten",
    "GraphError",
    "GraphvizError",
    "Hardswish",
    "Identity",
    "Input",
    "Layer",
    "LayerRecord",
    "LazyLinear",
    "LeakyReLU",
    "Linear",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "Mean",
    "Mul",
    "Network",
    "ReLU",
    "ReLU6",
    "Reshape",
    "Sequential",
    "Shape",
    "ShapeError",
    "SolverError",
    "SiLU",
    "Sigmoid",
    "SpecError",
    "SymcnnError",
    "Tanh",
    "Tensor",
    "UnsupportedLayerError",
    "Upsample",
    "View",
    "ZeroPad2d",
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
__version__ = "0.1.0"
