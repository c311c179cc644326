"""Import the function app module, find its FunctionApp and read each function's binding metadata once."""

from __future__ import annotations

import importlib
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
from azure.functions.decorators.function_app import Function

from localrun.config import ConfigurationError

_cache_lock = threading.Lock()
# get_functions() works once per app object, so its result is kept here (with the app, to pin its id).
_functions_cache: dict[int, tuple[func.FunctionRegister, list[Function]]] = {}


@dataclass(frozen=True)
class FunctionInfo:
    """One function as the host indexes it: name, trigger type and the function.json bindings."""

    name: str
    trigger_type: str
    binding: dict[str, Any]
    bindings: tuple[dict[str, Any], ...]


def import_app_module(module_name: str, app_dir: Path) -> ModuleType:
    """Import the app module with app_dir on sys.path, like the worker does with the script root."""
    root = str(Path(app_dir).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigurationError(f"importing {module_name!r} from {root} failed: {exc!r}") from exc


def find_app(module: ModuleType) -> func.FunctionRegister:
    """The module attribute that is a FunctionRegister (FunctionApp, AsgiFunctionApp, ...)."""
    apps = {id(v): (k, v) for k, v in vars(module).items() if isinstance(v, func.FunctionRegister)}
    if not apps:
        raise ConfigurationError(f"module {module.__name__!r} has no attribute that is an azure.functions.FunctionApp")
    if len(apps) > 1:
        names = ", ".join(sorted(k for k, _ in apps.values()))
        raise ConfigurationError(f"module {module.__name__!r} defines several function apps ({names}); keep one")
    return next(iter(apps.values()))[1]


def functions_of(app: func.FunctionRegister) -> list[Function]:
    """app.get_functions(), called once per app object and cached."""
    with _cache_lock:
        cached = _functions_cache.get(id(app))
        if cached is None or cached[0] is not app:
            cached = (app, list(app.get_functions()))
            _functions_cache[id(app)] = cached
        return cached[1]


def function_bindings(fn: Function) -> list[dict[str, Any]]:
    """The function.json form of the function's bindings (enums as strings)."""
    return json.loads(fn.get_function_json())["bindings"]


def describe_functions(app: func.FunctionRegister) -> list[FunctionInfo]:
    """Name, trigger type and bindings of every function of the app, read from its own metadata."""
    infos = []
    for fn in functions_of(app):
        trigger = fn.get_trigger()
        bindings = function_bindings(fn)
        trigger_binding = next(
            b for b in bindings if b["name"] == trigger.name and b["type"] == trigger.get_binding_name()
        )
        infos.append(FunctionInfo(fn.get_function_name(), trigger.get_binding_name(), trigger_binding, tuple(bindings)))
    return infos
