"""The layer catalogue, one module per family; every class mirrors a ``torch.nn`` name."""

from .base import Layer
from .conv import Conv2d
from .elementwise import GELU, Dropout, Hardswish, LeakyReLU, ReLU, ReLU6, Sigmoid, SiLU, Tanh
from .input import Input
from .linear import LazyLinear, Linear
from .pool import AvgPool2d, MaxPool2d
from .reshape import Flatten, Reshape, View

__all__ = [
    "GELU",
    "AvgPool2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Hardswish",
    "Input",
    "Layer",
    "LazyLinear",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "ReLU6",
    "Reshape",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "View",
]
