"""Read the tensors of an official whole-model ``.pytorch`` pickle without the reference's code.

The v0.5 files are pickled ``nn.Module`` objects of the reference's classes (``models.ssd_r34.SSD_R34``,
``models.utils.Conv2d_tf``, ``torchvision.models.resnet.BasicBlock``, ...). Unpickling them normally
imports those modules. Here every class outside torch and the standard library becomes a stand-in
``nn.Module`` subclass with the same name, so the file loads, and its ``state_dict()`` (in the order the
reference registered its modules) is mapped onto our model by position, checking every shape.
Like any ``weights_only=False`` load this runs the pickle's reconstruction calls; only torch and a
short list of standard globals resolve, so a file cannot reach ``eval`` or ``os``.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from common.errors import UsageError

# What a torch whole-model pickle legitimately references outside torch (no eval, exec, os, ...)
_SAFE_GLOBALS = {
    "builtins": {
        "set",
        "frozenset",
        "object",
        "dict",
        "list",
        "tuple",
        "int",
        "float",
        "bool",
        "str",
        "slice",
    },
    "collections": {"OrderedDict", "defaultdict"},
    "copyreg": {"_reconstructor"},
    "_codecs": {"encode"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy": {"ndarray", "dtype"},
}
_STAND_INS: dict[tuple[str, str], type] = {}


def stand_in(module: str, name: str) -> type:
    """An ``nn.Module`` subclass that takes the place of ``module.name`` while unpickling."""
    key = (module, name)
    if key not in _STAND_INS:
        _STAND_INS[key] = type(name, (nn.Module,), {"__module__": f"standin.{module}", "forward": None})
    return _STAND_INS[key]


class StandInUnpickler(pickle.Unpickler):
    """Resolves torch and a few standard globals as usual and every other class to a stand-in.

    Python 2 pickles (``__builtin__``) are read as ``builtins``; a torch name that no longer exists (such
    as ``torch.nn.backends.thnn._get_thnn_function_backend`` of 2019 files) becomes a stand-in too.
    """

    def find_class(self, module: str, name: str) -> Any:
        module = "builtins" if module == "__builtin__" else module
        if module == "torch" or module.startswith("torch."):
            try:
                return super().find_class(module, name)
            except (AttributeError, ModuleNotFoundError):
                return stand_in(module, name)
        if module in _SAFE_GLOBALS:
            if name not in _SAFE_GLOBALS[module]:
                raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a model file")
            return super().find_class(module, name)
        return stand_in(module, name)


def _pickle_module() -> ModuleType:
    module = ModuleType("standin_pickle")
    module.Unpickler = StandInUnpickler  # type: ignore[attr-defined]
    module.load = pickle.load  # type: ignore[attr-defined]
    module.__name__ = "standin_pickle"
    return module


def load_checkpoint(path: Path) -> Any:
    """``torch.load`` of a state dict or whole-model pickle (stand-ins for unknown classes), on CPU."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module())
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise UsageError(f"--model {path}: not a PyTorch checkpoint ({exc}); download it again") from exc


def checkpoint_state(obj: Any, path: Path) -> OrderedDict[str, torch.Tensor]:
    """The ordered tensors of a loaded checkpoint: a module's ``state_dict()`` or the dict itself."""
    if isinstance(obj, nn.Module):
        return OrderedDict(obj.state_dict())
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return OrderedDict(obj)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        return OrderedDict(obj["state_dict"])
    raise UsageError(f"--model {path}: holds a {type(obj).__name__}, not a model or a state dict")


def map_by_order(
    source: OrderedDict[str, torch.Tensor],
    expected_names: Sequence[str],
    target: nn.Module,
    path: Path,
) -> OrderedDict[str, torch.Tensor]:
    """Rename the reference's tensors (``expected_names``, in order) to ``target``'s state-dict names.

    The reference and our model register their tensors in the same order; names and shapes are
    checked so that a different file fails with a clear message instead of loading garbage.
    """
    names = list(source)
    if names != list(expected_names):
        missing = [n for n in expected_names if n not in source][:3]
        extra = [n for n in names if n not in set(expected_names)][:3]
        raise UsageError(
            f"--model {path}: not the expected model (missing {missing}, unexpected {extra}); "
            f"use the official file from download_model.sh"
        )
    ours = target.state_dict()
    if len(ours) != len(names):
        raise UsageError(f"--model {path}: {len(names)} tensors, the model has {len(ours)}")
    mapped: OrderedDict[str, torch.Tensor] = OrderedDict()
    for (our_name, our_tensor), their_name in zip(ours.items(), names, strict=True):
        tensor = source[their_name]
        if tuple(tensor.shape) != tuple(our_tensor.shape):
            raise UsageError(
                f"--model {path}: {their_name} has shape {tuple(tensor.shape)}, "
                f"expected {tuple(our_tensor.shape)}"
            )
        mapped[our_name] = tensor.to(our_tensor.dtype)
    return mapped


def load_weights(path: Path, model: nn.Module, reference_names: Sequence[str]) -> nn.Module:
    """Fill ``model`` from our own state dict (our names) or the official whole-model pickle."""
    path = Path(path)
    state = checkpoint_state(load_checkpoint(path), path)
    if list(state) != list(model.state_dict()):
        state = map_by_order(state, reference_names, model, path)
    model.load_state_dict(state)
    return model.eval()
