"""``from_torch``: a ``torch.nn.Module`` traced with ``torch.fx`` and mapped onto symcnn layers.

The module is traced once, symbolically (no forward pass, no weights read), in inference
mode: dropout is the identity, BatchNorm uses its running statistics, training-only
branches (GoogLeNet's auxiliary heads) are left out. Every module and call the outputs
depend on becomes one symcnn node named after it (``layer1.0.conv1``, ``add_3``); anything
symcnn has no rule for raises :class:`~symcnn.errors.UnsupportedLayerError` naming it,
never a silent zero. The user's module is left as it was: its train/eval flags are restored
and nothing is attached to it.

Your own layers and modules: ``rules={MyBlock: lambda m: MyLayer(...)}`` maps a module class,
a function or a Tensor method onto symcnn layers of your choice (:mod:`.rules`), before
symcnn's own rules.

torch is imported only when :func:`from_torch` is called. The package: :mod:`.api`
(:func:`from_torch`), :mod:`.convert` (the walk over the traced graph), :mod:`.modules`
(module → layer), :mod:`.functions` (the calls symcnn maps), :mod:`.rules` (the user's),
:mod:`.values` (what flows through the walk).
"""

from .api import from_torch

__all__ = ["from_torch"]
