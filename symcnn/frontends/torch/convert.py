"""The walk: each node of the traced graph, in order, derived at once by a Builder.

Every supported fx node becomes ``builder.add(name, layer, input_node_names)``; the shape
it returns is what later size queries (``x.size(1)``, ``x.shape``, view arguments) read.
Nothing is derived twice: the builder's records are the network's. A tensor used twice by
one call (``x * x``, ``torch.cat([x, x])``) is two edges from the same node.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import sympy

from ... import layers as sl
from ...errors import GraphError, ShapeError, UnsupportedLayerError
from ...graph.derive import Builder
from ...graph.network import Network
from ...layers.base import Layer
from ...symbolic.shape import Shape
from .arith import Arith
from .functions import AXIS_CALLS, BY_NAME, Call, calls
from .guards import SIZE_OPS, assertion, decide, size_op, source_line
from .indexing import sliced
from .library import call_module, library_call
from .modules import layer_from_module, module_kind
from .multi import module_call
from .params import Params
from .rules import UserRules, as_layers, as_shapes
from .values import BATCH, Param, Piece, Value, _Batch, leaves, name_of, qualified, show
from .weights import compute, computes

__all__ = ["Converter"]


class Converter:
    """Walks a traced graph in order, turning each node into a builder node or a size."""

    def __init__(
        self,
        torch: ModuleType,
        traced: Any,
        user: UserRules,
        shapes: Sequence[tuple[Any, ...]],
        at: Mapping[sympy.Symbol, Any] | None = None,
    ):
        self.torch = torch
        self.traced = traced
        self.user = user
        self.shapes = list(shapes)
        self.at = at
        self.functions, self.methods = calls(torch)
        self.builder = Builder()
        self.env: dict[Any, Any] = {}
        self.inputs: list[str] = []
        self.layers_by_module: dict[int, tuple[Layer, ...]] = {}
        self.owner_of_param: dict[int, str] = {}
        self.calls: dict[str, int] = {}
        self.pieces: dict[tuple[str, int], Value] = {}
        self.params = Params(torch, traced)
        self.arith = Arith(self)
        self.axis_functions = {getattr(torch, op): op for op in AXIS_CALLS if hasattr(torch, op)}

    def network(self) -> Network:
        """The network: the inputs, then every node the outputs depend on, in order."""
        graph = self.traced.graph
        needed = self._needed(graph)
        outputs: list[str] = []
        for node in graph.nodes:
            if node in self.env:  # converted already, to decide a branch while tracing
                continue
            if node.op == "output":
                outputs = [self._tensor(node, v).node for v in leaves(self._arg(node.args[0]))]
            elif node in needed or node.op == "placeholder":
                self.env[node] = self._node(node)
            elif node.target is self.torch._assert:  # a check on sizes: part of the domain
                self.value_of(node)
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        if len(self.inputs) != len(self.shapes):
            raise ShapeError(
                f"{type(self.traced.module).__name__} takes {len(placeholders)} input(s) "
                f"({', '.join(p.name for p in placeholders)}); input_shape gives "
                f"{len(self.shapes)}"
            )
        # tables show torch's node names by default
        return self._pruned(outputs).network(outputs, source="torch")

    def value_of(self, node: Any) -> Any:
        """What ``node`` computes, converting it and what it reads first: while tracing."""
        wanted = {node}
        stack = [node]
        while stack:
            for parent in stack.pop().all_input_nodes:
                if parent not in wanted:
                    wanted.add(parent)
                    stack.append(parent)
        for n in self.traced.graph.nodes:
            if n in wanted and n not in self.env:
                self.env[n] = self._node(n)
        return self.env[node]

    def _node(self, node: Any) -> Any:
        if node.op != "placeholder":
            outer = self.builder.scope
            self.builder.scope = self._scope(node) or outer
            try:
                return self._convert(node)
            finally:
                self.builder.scope = outer
        i = len(self.inputs)
        if i >= len(self.shapes):
            if node.args:  # an optional argument of forward: traced with its default
                return node.args[0]
            placeholders = [n.name for n in self.traced.graph.nodes if n.op == "placeholder"]
            raise ShapeError(
                f"{type(self.traced.module).__name__} takes {len(placeholders)} input(s) "
                f"({', '.join(placeholders)}); input_shape gives {len(self.shapes)}"
            )
        name = "input" if len(self.shapes) == 1 else f"input{i + 1}"
        shape = self.builder.add(name, sl.Input(self.shapes[i]))
        self.inputs.append(name)
        return Value(name, shape)

    def _scope(self, node: Any) -> tuple[str, ...]:
        """The modules torch.fx recorded around ``node``, outermost first; their classes.

        A module's own call is not inside itself: its node is named after it already.
        torch.fx's entries are ``path: (path, class)``; older releases wrote
        ``path: class``.
        """
        scope = []
        for key, value in node.meta.get("nn_module_stack", {}).items():
            path, kind = value if isinstance(value, tuple) else (key, value)
            if node.op == "call_module" and path == node.target:
                continue
            scope.append(path)
            self.builder.kinds.setdefault(path, getattr(kind, "__name__", str(kind)))
        return tuple(scope)

    def decide(self, node: Any) -> bool:
        """``bool()`` of a traced size comparison: decided, and kept as a guard if needed."""
        where = source_line()
        tensors = (Value, Piece, Param)
        try:
            value = self.value_of(node)
        except UnsupportedLayerError:  # x.sum(1) > 0: a comparison of a tensor's values
            if not any(isinstance(self.env.get(a), tensors) for a in node.all_input_nodes):
                raise
            value = Value(node.name, Shape(()))
        if isinstance(value, tensors):
            raise UnsupportedLayerError(
                f"the traced forward branches on a tensor's values at {where} (node "
                f"{node.name!r}); symcnn derives what holds for every input, which "
                "data-dependent control flow does not"
            )
        if isinstance(value, _Batch):
            value = 1  # a batch size is at least 1
        taken, guard = decide(value, self.at, where)
        if guard is not None:
            self.builder.guard(f"branch at {where}", guard)
        return taken

    def _pruned(self, outputs: list[str]) -> Builder:
        """The builder, less the nodes only read for their sizes (``conv(x).size(1)``)."""
        wiring = self.builder.wiring
        reached: set[str] = set()
        stack = list(outputs)
        while stack:
            name = stack.pop()
            if name not in reached:
                reached.add(name)
                stack.extend(wiring[name].inputs)
        for name in self.inputs:
            if name not in reached:
                layer = wiring[name].layer
                raise GraphError(f"the outputs do not depend on the input {layer!r}")
        if len(reached) == len(wiring):
            return self.builder
        pruned = Builder()  # rare: derive the kept nodes again, in the same order
        pruned.scopes, pruned.kinds = self.builder.scopes, self.builder.kinds
        guards = list(self.builder.guards)
        for i, (name, node) in enumerate(wiring.items()):
            while guards and guards[0].before <= i:
                guard = guards.pop(0)
                pruned.guard(guard.where, guard.condition)
            if name in reached:
                pruned.add(name, node.layer, node.inputs)
        for guard in guards:
            pruned.guard(guard.where, guard.condition)
        return pruned

    @staticmethod
    def _needed(graph: Any) -> set[Any]:
        """The nodes the outputs depend on; dead code is not converted."""
        out = next(n for n in reversed(graph.nodes) if n.op == "output")
        seen: set[Any] = set()
        stack = [out]
        while stack:
            node = stack.pop()
            for parent in node.all_input_nodes:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    # -- one node ------------------------------------------------------------------------
    def _convert(self, node: Any) -> Any:
        args = self._arg(node.args)
        kwargs = self._arg(dict(node.kwargs))
        if node.op == "call_module":
            return self._module(node, args, kwargs)
        if node.op == "get_attr":
            return self.params.read(node)
        if computes(args, kwargs):  # a call on a module's own tensors alone: run in torch
            return compute(self.torch, node, args, kwargs)
        target = node.target
        call: Call | None
        if node.op == "call_method":
            what = f"Tensor.{target}"
            rule = self.user.methods.get(target)
            if rule is not None:
                return self._user_call(node, what, rule, args, kwargs)
            if target in ("size", "dim"):
                return self._size_query(node, target, args)
            call = self.methods.get(target)
            if target in ("view", "reshape"):
                return self._view(node, target, args)
            if target in AXIS_CALLS:
                return self._axis_call(node, f"x.{target}", target, args, kwargs)
            if target in self.arith.methods:
                return self.arith.method(node, target, args, kwargs)
        else:
            what = name_of(target)
            rule = self.user.function_rule(target)
            if rule is not None:
                return self._user_call(node, what, rule, args, kwargs)
            if target is getattr and len(args) == 2 and args[1] == "shape":
                return self._size_query(node, "shape", args[:1])
            if target is operator.getitem:
                return self._getitem(node, args)
            if target in self.arith.functions:
                return self.arith.function(node, target, args, kwargs)
            if target in SIZE_OPS:
                return size_op(node, target, args, kwargs)
            if target is self.torch._assert:
                return self._assert(node, args, kwargs)
            if target is self.torch.reshape:
                return self._view(node, "reshape", args)
            if target in self.axis_functions:
                op = self.axis_functions[target]
                return self._axis_call(node, f"torch.{op}", op, args, kwargs)
            call = self.functions.get(target) or BY_NAME.get(qualified(target))
        if call is None:
            used = [a for a in leaves((args, kwargs)) if isinstance(a, Param)]
            if used:
                raise UnsupportedLayerError(
                    f"{what} at node {node.name!r} reads the {used[0]!r} directly and has "
                    "no symcnn rule; symcnn maps a module's own tensors in x * w and as the "
                    "weights of F.conv*, F.conv_transpose*, F.linear, F.*_norm and F.prelu"
                )
            raise UnsupportedLayerError(
                f"{what} at node {node.name!r} has no symcnn rule; "
                f"{self._shapes_of(args)}{self._nearest(what)}"
            )
        where = f"{what} at node {node.name!r}"
        bound = call.bind(where, args, kwargs)
        x = bound.pop(call.params[0][0])
        if "input_shape" in bound:  # not torch's: the per-sample shape, for rules reading it
            bound["input_shape"] = self._tensor(node, x).shape
        try:
            layer = call.make(**bound)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(f"{where}: {err}") from None
        except (ShapeError, TypeError) as err:
            raise ShapeError(f"{where}: {err}") from None
        if layer is None:
            return self._tensor(node, x)
        used = [v for v in bound.values() if isinstance(v, Param)]
        if used:  # one layer object per set of tensors: read twice, counted once
            layer = self.params.layer(where, layer, used, self._tensor(node, x).shape)
        return self._add(node, node.name, layer, [x])

    def _module(self, node: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        m = self.traced.get_submodule(node.target)
        rule = self.user.module_rule(m)
        if rule is not None:
            return self._user_module(node, m, rule, [*args, *kwargs.values()])
        called = library_call(m)  # a library module called with sizes: MViT's (library.py)
        if called is not None:
            return call_module(self, node, m, called, args, kwargs)
        kind = module_kind(m)
        if kind is None:
            raise UnsupportedLayerError(
                f"module {node.target!r} ({type(m).__module__}.{type(m).__name__}) at node "
                f"{node.name!r} has no symcnn rule"
            )
        if kind.arity != 1 or kwargs or len(args) != 1:  # several inputs, options (multi.py)
            return module_call(self, node, m, kind, args, kwargs)
        known = self.layers_by_module.get(id(m))
        if known is None:
            try:
                layer = layer_from_module(m, kind)
            except UnsupportedLayerError as err:
                raise UnsupportedLayerError(
                    f"module {node.target!r} at node {node.name!r}: {err}"
                ) from None
            layer = self._shared_with(node.target, m, layer)
            self.layers_by_module[id(m)] = (layer,)
        else:
            (layer,) = known
        name = self._call_name(node.target)
        value = self._add(node, name, layer, list(args))
        self._check_params(node, m, layer, [name], recurse=False)
        return value

    def _call_name(self, target: str) -> str:
        """``layer1.0.relu``, then ``layer1.0.relu:2`` for the module's second call."""
        count = self.calls[target] = self.calls.get(target, 0) + 1
        return target if count == 1 else f"{target}:{count}"

    def _shared_with(self, target: str, m: Any, layer: Layer) -> Layer:
        """The layer of an earlier module whose parameters ``m`` shares, or ``layer``."""
        params = list(m.parameters(recurse=False))
        owners = {self.owner_of_param.get(id(p)) for p in params}
        if owners <= {None}:
            for p in params:
                self.owner_of_param[id(p)] = target
            return layer
        if len(owners) == 1:
            (owner,) = owners
            (earlier,) = self.layers_by_module[id(self.traced.get_submodule(owner))]
            if earlier == layer:
                return earlier
        raise UnsupportedLayerError(
            f"module {target!r} shares some of its parameters with "
            f"{', '.join(sorted(o for o in owners if o))} but not all of them, or with "
            "different hyperparameters; symcnn counts a shared layer once, as a whole"
        )

    def _check_params(
        self, node: Any, m: Any, layer: Layer | None, names: Sequence[str], *, recurse: bool
    ) -> None:
        """Guard: the parameter count symcnn derives equals the module's own, when known.

        ``layer`` is symcnn's own layer for the module, None for the user's rule.
        """
        try:
            torch_count = sum(p.numel() for p in m.parameters(recurse=recurse))
        except ValueError:  # an uninitialized lazy parameter
            return
        by_name = self.builder.by_name
        derived = sympy.Add(*(by_name[n].params_derivation.value for n in names))  # type: ignore[union-attr]
        if derived.is_Integer and int(derived) != torch_count:
            rule = f"the rule for {type(m).__name__}"
            if layer is not None:
                rule = f"symcnn's rule for {layer!r}"
            extra = "" if recurse else ": a subclass with extra parameters has no symcnn rule"
            raise UnsupportedLayerError(
                f"module {node.target!r} ({type(m).__name__}) holds {torch_count} parameters "
                f"but {rule} gives {derived}{extra}"
            )

    # -- the user's rules ------------------------------------------------------------------
    def _user_module(self, node: Any, m: Any, rule: Any, inputs: list[Any]) -> Value:
        where = f"module {node.target!r} ({type(m).__name__}) at node {node.name!r}"
        layers = self.layers_by_module.get(id(m))
        if layers is None:
            layers = as_layers(self._run(where, rule, (m,), {}), where)
            self.layers_by_module[id(m)] = layers
        name = self._call_name(node.target)
        value, names = self._chain(node, name, layers, inputs)
        self._check_params(node, m, None, names, recurse=True)
        return value

    def _user_call(
        self, node: Any, what: str, rule: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Value:
        where = f"{what} at node {node.name!r}"
        tensors = [v for v in leaves((args, kwargs)) if isinstance(v, Value)]
        if not tensors:
            raise UnsupportedLayerError(f"{where} has a user rule but no tensor argument")
        shapes = as_shapes(args), as_shapes(kwargs)
        layers = as_layers(self._run(where, rule, *shapes), where)
        value, _ = self._chain(node, node.name, layers, tensors)
        return value

    @staticmethod
    def _run(where: str, rule: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            return rule(*args, **kwargs)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(f"{where}: {err}") from None
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None

    def _chain(
        self, node: Any, name: str, layers: Sequence[Layer], inputs: list[Any]
    ) -> tuple[Value, list[str]]:
        """One node ``name``, or a chain ``name.0``, ``name.1``, ... fed by ``inputs``."""
        if len(layers) == 1:
            return self._add(node, name, layers[0], inputs), [name]
        names = [f"{name}.{i}" for i in range(len(layers))]
        value = self._add(node, names[0], layers[0], inputs)
        for layer, step in zip(layers[1:], names[1:], strict=True):
            value = self._add(node, step, layer, [value])
        return value, names

    # -- tensors -------------------------------------------------------------------------
    def _add(self, node: Any, name: str, layer: Layer, inputs: Sequence[Any]) -> Value:
        sources = [self._tensor(node, x).node for x in inputs]
        return Value(name, self.builder.add(name, layer, sources))

    def _tensor(self, node: Any, x: Any) -> Value:
        if isinstance(x, Piece):
            return self._piece(x, f"{x.origin}.{x.index}")
        if not isinstance(x, Value):
            raise UnsupportedLayerError(
                f"node {node.name!r} uses {x!r} where symcnn expects a tensor"
            )
        return x

    def _view(self, node: Any, method: str, args: Sequence[Any]) -> Any:
        x, *sizes = args
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = list(sizes[0])
        if isinstance(x, Param):
            return self.params.view(node, x, method, sizes)
        shape = self._tensor(node, x).shape
        where = f"x.{method} at node {node.name!r}"
        if not sizes or sizes[0] is not BATCH and sizes[0] != -1:
            raise UnsupportedLayerError(
                f"{where}: the first size must be -1 or x.size(0), the batch axis "
                f"(got {sizes[0] if sizes else 'none'}); symcnn shapes are per sample"
            )
        rest = list(sizes[1:])
        if sizes[0] is BATCH:
            if rest == [-1]:
                return self._add(node, node.name, sl.Flatten(), [x])
            if rest.count(-1) == 1:
                known = sympy.Mul(*(s for s in rest if s != -1))
                rest[rest.index(-1)] = shape.numel / known
        kind = sl.View if method == "view" else sl.Reshape
        try:
            layer = kind(-1, *rest)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self._add(node, node.name, layer, [x])

    # -- axes ----------------------------------------------------------------------------
    def _axis_call(
        self, node: Any, what: str, op: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """``permute`` (varargs), ``squeeze`` (no dim: every size-1 axis), ``chunk``, ``split``."""
        where = f"{what} at node {node.name!r}"
        x, rest = self._tensor(node, args[0]), list(args[1:])
        try:
            if op == "permute":
                dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
                return self._add(node, node.name, sl.Permute(*kwargs.get("dims", dims)), [x])
            dim = rest[1] if len(rest) > 1 else kwargs.get("dim", 0 if op != "squeeze" else None)
            if op == "squeeze":
                dim = rest[0] if rest else dim
                if dim is None:
                    if not all(s.is_Integer for s in x.shape):
                        raise UnsupportedLayerError(
                            f"x.squeeze() of {x.shape} removes the axes of size 1, which "
                            "depends on the symbolic sizes; name the axes: x.squeeze(dim)"
                        )
                    dim = tuple(i + 1 for i, s in enumerate(x.shape) if s == 1)
                    if not dim:
                        return x
                return self._add(node, node.name, sl.Squeeze(dim), [x])
            (count,) = rest[:1] or [
                v
                for k, v in kwargs.items()
                if k in ("chunks", "split_size", "split_size_or_sections")
            ]
            axis = sl.axes.axis_of(sl.Narrow(dim, 0, 1), "dim", dim, x.shape)
            cut = sl.axes.chunk_bounds if op == "chunk" else sl.axes.split_bounds
            bounds = cut(x.shape[axis], count)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(f"{where}: {err}") from None
        except (ShapeError, TypeError, ValueError) as err:
            raise ShapeError(f"{where}: {err}") from None
        return tuple(Piece(x, dim, a, n, node.name, i) for i, (a, n) in enumerate(bounds))

    def _piece(self, piece: Piece, name: str) -> Value:
        """A piece of a chunk or split as a Narrow node, made once, on first use."""
        key = (piece.origin, piece.index)
        if key not in self.pieces:
            layer = sl.Narrow(piece.dim, piece.start, piece.length)
            self.pieces[key] = Value(name, self.builder.add(name, layer, [piece.source.node]))
        return self.pieces[key]

    # -- sizes ---------------------------------------------------------------------------
    def _size_query(self, node: Any, what: str, args: Sequence[Any]) -> Any:
        x = self._tensor(node, args[0])
        full = (BATCH, *x.shape)
        if what == "dim":
            return len(full)
        if len(args) > 1:
            return full[args[1]]
        return full

    def _getitem(self, node: Any, args: Sequence[Any]) -> Any:
        seq, index = args
        if isinstance(seq, tuple) and not isinstance(seq, Shape):
            item = seq[index]
            return self._piece(item, node.name) if isinstance(item, Piece) else item
        if isinstance(seq, (Value, Piece)):
            return sliced(self, node, self._tensor(node, seq), index)
        raise UnsupportedLayerError(
            f"indexing at node {node.name!r} ({show(seq)}[{index!r}]) has no symcnn rule"
        )

    def _assert(self, node: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        """``torch._assert(h == 224, "...")`` on sizes: a guard named by its message."""
        cond, *rest = [*args, *kwargs.values()]
        where = f"torch._assert at node {node.name!r}"
        if isinstance(cond, (Value, Piece, Param)):
            raise UnsupportedLayerError(f"{where} tests a tensor's values")
        message = str(rest[0] if rest else "")
        if "Proxy(" in message:  # Proxy(getitem_2) -> H: only the values the message names
            values = {n.name: v for n, v in self.env.items()}
            message = re.sub(
                r"Proxy\((\w+)\)",
                lambda m: show(values[m[1]]) if m[1] in values else m[1],
                message,
            )
        self.builder.guard(where, assertion(cond, message, where))

    def _nearest(self, what: str) -> str:
        """The supported call whose name is nearest ``what``'s, as a message says it."""
        names = {f"Tensor.{m}" for m in (*self.methods, *self.arith.methods, *AXIS_CALLS)}
        names |= {name_of(f) for f in (*self.functions, *self.arith.functions)}
        bare = what.rpartition(".")[2]
        by_bare = {n.rpartition(".")[2]: n for n in sorted(names, reverse=True)}
        close = difflib.get_close_matches(bare, list(by_bare), n=1, cutoff=0.7)
        if close:
            return f"the nearest supported call is {by_bare[close[0]]}"
        return "supported calls are listed in symcnn.frontends.torch"

    def _shapes_of(self, args: Sequence[Any]) -> str:
        shown = [str(a.shape) for a in leaves(args) if isinstance(a, Value)]
        return f"its input is {', '.join(shown)}; " if shown else ""

    def _arg(self, value: Any) -> Any:
        """Replace fx nodes in (nested) arguments by their converted values."""
        if type(value).__name__ == "Node" and value in self.env:
            return self.env[value]
        if isinstance(value, tuple) and not isinstance(value, Shape):
            return tuple(self._arg(v) for v in value)
        if isinstance(value, list):
            return [self._arg(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        if type(value).__name__ == "Size":
            return tuple(value)
        if isinstance(value, slice):
            return slice(self._arg(value.start), self._arg(value.stop), self._arg(value.step))
        return value
