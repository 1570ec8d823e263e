"""The layer catalogue, one module per family; every class mirrors a ``torch.nn`` name.

A family module lists its layers in ``__all__``; this package and ``symcnn`` re-export
them from there, so a new layer is public once its family module exports it
(docs/ARCHITECTURE.md, "Where to add things").
"""

from . import (
    attention,
    axes,
    conv,
    elementwise,
    index,
    input,
    linear,
    matmul,
    merge,
    multiscale,
    norm,
    pad,
    param,
    pool,
    reduce,
    resample,
    reshape,
    window,
)
from .attention import *  # noqa: F403
from .axes import *  # noqa: F403
from .base import Layer
from .conv import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .index import *  # noqa: F403
from .input import *  # noqa: F403
from .linear import *  # noqa: F403
from .matmul import *  # noqa: F403
from .merge import *  # noqa: F403
from .multiscale import *  # noqa: F403
from .norm import *  # noqa: F403
from .pad import *  # noqa: F403
from .param import *  # noqa: F403
from .pool import *  # noqa: F403
from .reduce import *  # noqa: F403
from .resample import *  # noqa: F403
from .reshape import *  # noqa: F403
from .window import *  # noqa: F403

__all__ = ["Layer"]
__all__ += attention.__all__
__all__ += axes.__all__
__all__ += conv.__all__
__all__ += elementwise.__all__
__all__ += index.__all__
__all__ += input.__all__
__all__ += linear.__all__
__all__ += matmul.__all__
__all__ += merge.__all__
__all__ += multiscale.__all__
__all__ += norm.__all__
__all__ += pad.__all__
__all__ += param.__all__
__all__ += pool.__all__
__all__ += reduce.__all__
__all__ += resample.__all__
__all__ += reshape.__all__
__all__ += window.__all__
