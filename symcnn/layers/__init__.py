"""The layer catalogue, one module per family; every class mirrors a ``torch.nn`` name."""

from .base import Layer
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .elementwise import (
    GELU,
    Dropout,
    Hardswish,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Tanh,
)
from .input import Input
from .linear import LazyLinear, Linear
from .merge import Add, Concat, Mul
from .norm import BatchNorm2d
from .pool import AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d
from .reduce import Mean
from .resample import AdaptiveAvgPool2d, AdaptiveMaxPool2d, Upsample, ZeroPad2d
from .reshape import Flatten, Reshape, View

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
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Dropout",
    "Flatten",
    "Hardswish",
    "Identity",
    "Input",
    "Layer",
    "LazyLinear",
    "LeakyReLU",
    "Linear",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "Mean",
    "Mul",
    "ReLU",
    "ReLU6",
    "Reshape",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Upsample",
    "View",
    "ZeroPad2d",
]
