"""Turn each indexed function into a validated spec: trigger, parameters, outputs; reject what is unsupported."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.functions.decorators.core import InputBinding, OutputBinding, Trigger
from azure.functions.decorators.function_app import Function

from localrun.config import ConfigurationError, resolve_settings
from localrun.outputs import OutputSpec

HTTP, BLOB, QUEUE, TIMER = "httpTrigger", "blobTrigger", "queueTrigger", "timerTrigger"
SUPPORTED_TRIGGERS = (HTTP, BLOB, QUEUE, TIMER)
SUPPORTED_OUTPUTS = ("queue", "blob")
CONTEXT_PARAMETER = "context"
TRUE_VALUES = ("1", "true", "yes")


@dataclass(frozen=True)
class FunctionSpec:
    """What the runner needs to serve one function."""

    name: str
    trigger_type: str
    trigger: Trigger
    arg_name: str
    user_function: Callable[..., Any]
    is_async: bool
    wants_context: bool
    trigger_annotation: Any
    outputs: tuple[OutputSpec, ...]


def is_disabled(name: str, env: Mapping[str, str]) -> bool:
    """True if the app setting AzureWebJobs.<name>.Disabled is set to true, as the host honours it."""
    return env.get(f"AzureWebJobs.{name}.Disabled", "").strip().lower() in TRUE_VALUES


def _annotation(fn: Callable[..., Any], parameter: inspect.Parameter) -> Any:
    try:
        return typing.get_type_hints(fn).get(parameter.name, parameter.annotation)
    except Exception:
        return parameter.annotation


def _outputs(name: str, trigger_type: str, bindings: list, env: Mapping[str, str]) -> tuple[OutputSpec, ...]:
    outputs = []
    for binding in bindings:
        kind = binding.get_binding_name()
        if isinstance(binding, Trigger):
            continue
        if isinstance(binding, InputBinding) or not isinstance(binding, OutputBinding):
            raise ConfigurationError(
                f"function '{name}': input binding '{binding.name}' ({kind}) is not supported by the local runner"
            )
        if kind == "http" and trigger_type == HTTP:
            continue
        if kind not in SUPPORTED_OUTPUTS:
            raise ConfigurationError(
                f"function '{name}': output binding '{binding.name}' ({kind}) is not supported by the local "
                f"runner (supported: {', '.join(SUPPORTED_OUTPUTS)})"
            )
        raw = binding.queue_name if kind == "queue" else binding.path
        what = f"output '{binding.name}' of function '{name}'"
        outputs.append(OutputSpec(binding.name, kind, resolve_settings(raw, env, what), binding.connection))
    return tuple(outputs)


def build_spec(fn: Function, env: Mapping[str, str]) -> FunctionSpec:
    """Validate one function against what the runner serves and resolve its output settings."""
    name = fn.get_function_name()
    trigger = fn.get_trigger()
    trigger_type = trigger.get_binding_name()
    if trigger_type not in SUPPORTED_TRIGGERS:
        raise ConfigurationError(
            f"function '{name}': trigger type '{trigger_type}' is not supported by the local runner "
            f"(supported: {', '.join(SUPPORTED_TRIGGERS)})"
        )
    outputs = _outputs(name, trigger_type, fn.get_bindings(), env)
    user_function = fn.get_user_function()
    parameters = inspect.signature(user_function).parameters
    bound = {trigger.name} | {o.name for o in outputs if not o.is_return}
    unbound = set(parameters) - bound - {CONTEXT_PARAMETER}
    if unbound:
        raise ConfigurationError(f"function '{name}': parameters {sorted(unbound)} have no binding")
    missing = bound - set(parameters)
    if missing:
        raise ConfigurationError(f"function '{name}': bindings {sorted(missing)} have no parameter")
    return FunctionSpec(
        name=name,
        trigger_type=trigger_type,
        trigger=trigger,
        arg_name=trigger.name,
        user_function=user_function,
        is_async=inspect.iscoroutinefunction(user_function),
        wants_context=CONTEXT_PARAMETER in parameters,
        trigger_annotation=_annotation(user_function, parameters[trigger.name]),
        outputs=outputs,
    )
