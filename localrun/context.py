"""The `context` argument of a function invocation: ids, name, directory, trace and retry context."""

from __future__ import annotations

import random
import threading

import azure.functions as func
from azure.functions import _abc as func_abc


class _TraceContext(func_abc.TraceContext):
    def __init__(self, trace_parent: str) -> None:
        self._trace_parent = trace_parent

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(func_abc.RetryContext):
    def __init__(self, retry_count: int) -> None:
        self._retry_count = retry_count

    @property
    def retry_count(self) -> int:
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> None:
        return None


class InvocationContext(func.Context):
    """The `context` argument: invocation id, function name and directory, trace and retry context."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str, retry_count: int = 0):
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local = threading.local()
        self._thread_local.invocation_id = invocation_id
        self._trace = _TraceContext(f"00-{random.getrandbits(128):032x}-{random.getrandbits(64):016x}-01")
        self._retry = _RetryContext(retry_count)

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> _TraceContext:
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        return self._retry
