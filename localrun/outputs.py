"""Queue and blob output bindings: the Out values a function sets, written after it returns."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import azure.functions as func

from localrun.storage import encode_message

if TYPE_CHECKING:
    from localrun.storage import Storage

T = TypeVar("T")
BINDING_EXPRESSION = re.compile(r"\{([^{}]+)\}")


class BindingExpressionError(ValueError):
    """An output path or queue name refers to a value the trigger does not provide."""


class Out(func.Out, Generic[T]):
    """The value a function sets on an output binding parameter."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T | None:
        return self._value


@dataclass(frozen=True)
class OutputSpec:
    """One queue or blob output binding, its %SETTING% expressions already resolved."""

    name: str
    type: str
    target: str
    connection: str | None

    @property
    def is_return(self) -> bool:
        return self.name == "$return"


def expand(template: str, data: Mapping[str, Any], what: str) -> str:
    """Fill {name}-style binding expressions from the trigger's binding data (case-insensitive keys)."""
    lookup = {k.lower(): v for k, v in data.items()}

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        low = key.lower()
        if low == "rand-guid":
            return str(uuid.uuid4())
        if low == "datetime":
            return datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
        if low in lookup:
            return str(lookup[low])
        known = ", ".join(sorted(data)) or "none"
        raise BindingExpressionError(f"{what}: the trigger has no value {{{key}}} (it has: {known})")

    return BINDING_EXPRESSION.sub(substitute, template)


def _messages(value: Any) -> list[bytes]:
    if isinstance(value, str):
        return [value.encode("utf-8")]
    if isinstance(value, bytes | bytearray):
        return [bytes(value)]
    if isinstance(value, func.QueueMessage):
        return [value.get_body()]
    if isinstance(value, list | tuple):
        return [body for item in value for body in _messages(item)]
    raise TypeError(f"a queue output takes str, bytes, QueueMessage or a list of them, not {type(value).__name__}")


def _blob_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "read"):
        return value.read()
    raise TypeError(f"a blob output takes bytes, str or a readable stream, not {type(value).__name__}")


def write_outputs(
    function: str,
    outputs: tuple[OutputSpec, ...],
    values: Mapping[str, Out],
    result: Any,
    data: Mapping[str, Any],
    storage: Storage,
) -> None:
    """Write every output that the function set (or returned, for `$return`); unset outputs write nothing."""
    for output in outputs:
        value = result if output.is_return else values[output.name].get()
        if value is None:
            continue
        what = f"output '{output.name}' of function '{function}'"
        target = expand(output.target, data, what)
        if output.type == "queue":
            client = storage.queue(output.connection, target)
            for body in _messages(value):
                client.send_message(encode_message(body))
        else:
            container, _, blob = target.partition("/")
            if not blob:
                raise BindingExpressionError(f"{what}: path {target!r} has no blob name after the container")
            storage.container(output.connection, container).upload_blob(blob, _blob_bytes(value), overwrite=True)
