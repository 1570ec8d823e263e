"""What a training step keeps besides activations: parameters, gradients, optimizer state.

Per trainable parameter, in bytes, with ``s`` the model dtype's size:

============================  ==========  ===========================================
optimizer                     state       as PyTorch's optimizers keep it
============================  ==========  ===========================================
``"sgd"``                     0           plain SGD keeps nothing
``"sgd-momentum"``            s           one momentum buffer
``"adam"``, ``"adamw"``       2·s         exp_avg and exp_avg_sq (``step`` is a scalar)
============================  ==========  ===========================================

With ``master_weights`` (mixed precision: a bfloat16 or float16 model trained against a
float32 copy), the float32 copy adds 4 bytes per parameter and the optimizer state is
float32 as well. Adam's per-parameter ``step`` counters (one scalar tensor each) are not
counted: a few bytes per parameter tensor, not per parameter.
"""

from __future__ import annotations

from ..errors import ShapeError
from ..layers.autograd import DTYPES

__all__ = ["FLOAT_DTYPES", "OPTIMIZERS", "check_dtype", "optimizer_states"]

#: Optimizer name → state tensors kept per parameter.
OPTIMIZERS: dict[str, int] = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}

#: The dtypes a model may be trained in.
FLOAT_DTYPES = ("float32", "bfloat16", "float16", "float64")


def check_dtype(dtype: object) -> str:
    """``dtype`` as one of :data:`FLOAT_DTYPES`, or a :class:`ShapeError` naming them."""
    if isinstance(dtype, str) and dtype in FLOAT_DTYPES:
        return dtype
    raise ShapeError(f"dtype must be one of {', '.join(FLOAT_DTYPES)} (got {dtype!r})")


def optimizer_states(optimizer: object) -> int:
    """How many state tensors ``optimizer`` keeps per parameter (:data:`OPTIMIZERS`)."""
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return OPTIMIZERS[optimizer]
    raise ShapeError(f"optimizer must be one of {', '.join(OPTIMIZERS)} (got {optimizer!r})")


def state_bytes(optimizer: object, dtype: str, master_weights: bool) -> tuple[int, int]:
    """Bytes per parameter of (optimizer state, float32 master copy)."""
    states = optimizer_states(optimizer)
    if master_weights:
        return 4 * states, 4
    return DTYPES[dtype] * states, 0
