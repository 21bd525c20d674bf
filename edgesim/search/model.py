"""The model a search works on: its IR (always) and its torch module (built only when needed)."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgesim.errors import EdgesimError, SearchError
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    from torch import nn


def import_object(ref: str, field: str) -> Any:
    """``"pkg.module:name"`` -> the object; a clear :class:`SearchError` when it cannot load."""
    mod_name, sep, attr = ref.partition(":")
    if not sep or not mod_name or not attr:
        raise SearchError(f"expected 'pkg.module:function', got {ref!r}", field=field)
    try:
        module = importlib.import_module(mod_name)
    except Exception as exc:  # an unimportable user module is bad input, whatever it raises
        raise SearchError(f"cannot import {mod_name!r}: {type(exc).__name__}: {exc}",
                          field=field) from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SearchError(f"module {mod_name!r} has no {attr!r}", field=field)
        obj = getattr(obj, part)
    return obj


@dataclass
class ModelSource:
    """A model given as a zoo name, a workload path, ``"pkg.module:function"`` or
    ``(module, example_inputs)``: its IR, and a way to its torch module when there is one.

    Pickles small: a zoo model or an importable builder is rebuilt where it is unpickled (seeded
    weights, so the same module); a module given as an object travels with it.
    """

    ref: str  # what the user gave (a name, path or import reference; "<module>" for an object)
    workload: Workload
    has_module: bool
    _module: tuple[nn.Module, tuple[Any, ...]] | None = field(default=None, repr=False)
    _rebuild: Callable[[], tuple[nn.Module, tuple[Any, ...]]] | None = field(default=None,
                                                                              repr=False)
    _weights_digest: str | None = field(default=None, repr=False)

    def module(self) -> tuple[nn.Module, tuple[Any, ...]]:
        """The torch module and its example inputs (built on first use)."""
        if self._module is None:
            if self._rebuild is None:
                raise SearchError(f"model {self.ref!r} is not a torch module (a workload file "
                                  f"has no weights)", field="model")
            self._module = self._rebuild()
        return self._module

    def fingerprint(self, weights: bool = True) -> str:
        """Hash of the IR and, for a torch model with ``weights``, of its weights (what decoding
        or accuracy read of them; a problem that never reads them leaves them out)."""
        h = hashlib.sha256(repr(self.workload.layers).encode())
        if weights and self.has_module:
            if self._weights_digest is None:
                self._weights_digest = _weights_digest(self.module()[0])
            h.update(self._weights_digest.encode())
        return h.hexdigest()[:32]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._rebuild is not None:
            state["_module"] = None  # rebuilt on the other side
        return state


def _weights_digest(module: nn.Module) -> str:
    import torch

    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(name.encode())
        if isinstance(t, torch.Tensor):
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class _ZooBuilder:
    name: str

    def __call__(self) -> tuple[nn.Module, tuple[Any, ...]]:
        from edgesim.workload import zoo

        return zoo.get(self.name)


@dataclass(frozen=True)
class _ImportBuilder:
    ref: str

    def __call__(self) -> tuple[nn.Module, tuple[Any, ...]]:
        out = import_object(self.ref, "model")()
        return _as_module_pair(out, self.ref)


def _as_module_pair(out: object, ref: str) -> tuple[nn.Module, tuple[Any, ...]]:
    from torch import nn

    if (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], nn.Module)):
        inputs = out[1] if isinstance(out[1], tuple | list) else (out[1],)
        return out[0], tuple(inputs)
    raise SearchError(f"{ref} must return (torch_module, example_inputs) or a Workload, got "
                      f"{type(out).__name__}", field="model")


def resolve_model(model: object, name: str | None = None) -> ModelSource:
    """A :class:`ModelSource` for what ``es.search.run(model=...)`` was given."""
    if isinstance(model, Workload):
        return ModelSource(model.name, model, has_module=False)
    if isinstance(model, tuple) and len(model) == 2:
        from edgesim.workload.trace import trace

        module, inputs = _as_module_pair(model, "model")
        wl = trace(module, inputs, name=name or type(module).__name__.lower())
        return ModelSource("<module>", wl, has_module=True, _module=(module, inputs))
    if not isinstance(model, str) or not model:
        raise SearchError(f"expected a zoo name, a workload path, 'pkg.module:function' or "
                          f"(module, example_inputs), got {type(model).__name__}", field="model")
    if ":" in model and not model.lower().endswith((".yaml", ".yml", ".onnx")):
        out = import_object(model, "model")()
        if isinstance(out, Workload):
            return ModelSource(model, out, has_module=False)
        from edgesim.workload.trace import trace

        module, inputs = _as_module_pair(out, model)
        wl = trace(module, inputs, name=name or model.rpartition(":")[2])
        return ModelSource(model, wl, has_module=True, _module=(module, inputs),
                           _rebuild=_ImportBuilder(model))
    from edgesim.workload.load import ZOO_NAMES, load_workload

    try:
        wl = load_workload(model)
    except EdgesimError as exc:
        raise SearchError(exc.detail, file=exc.file,
                          field=f"model{'.' + exc.field if exc.field else ''}") from None
    if model in ZOO_NAMES:
        return ModelSource(model, wl, has_module=True, _rebuild=_ZooBuilder(model))
    return ModelSource(model, wl, has_module=False)


__all__ = ["ModelSource", "import_object", "resolve_model"]
