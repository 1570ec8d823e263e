"""Training in closed form: backward products and the memory a training step keeps.

:meth:`Network.training <symcnn.graph.network.Network.training>` is the entry point; see
:mod:`symcnn.training.result` for what it derives and :mod:`symcnn.layers.autograd` for
the per-layer rules it reads.
"""

from .memory import FLOAT_DTYPES, OPTIMIZERS
from .result import Training, TrainingLayer

__all__ = ["FLOAT_DTYPES", "OPTIMIZERS", "Training", "TrainingLayer"]
