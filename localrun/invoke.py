"""Call user functions like the worker: keyword arguments, context, async on one event loop, sync in a pool.

With FUNCTIONS_WORKER_PROCESS_COUNT above 1, blob, queue and timer functions run in that many worker
processes (localrun.workers), so CPU-bound invocations use every core; HTTP functions always run here,
next to the server, so a request never waits for a worker busy with a retrain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localrun.activity import Activity
from localrun.context import InvocationContext
from localrun.functions import HTTP, FunctionSpec
from localrun.outputs import Out, write_outputs
from localrun.storage import Storage
from localrun.sync_pool import SyncPool
from localrun.workers import InvocationCancelled, Job, WorkerPool

log = logging.getLogger("localrun.invoke")

THREADPOOL_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"


def sync_workers(env: Mapping[str, str]) -> int:
    """Threads for sync functions called from the event loop: the worker's setting, else its default."""
    configured = env.get(THREADPOOL_SETTING, "").strip()
    return int(configured) if configured else min(32, (os.cpu_count() or 1) + 4)


@dataclass
class _Call:
    spec: FunctionSpec
    invocation_id: str
    kwargs: dict[str, Any]
    outs: dict[str, Out]
    level: int
    started: float = field(default_factory=time.perf_counter)


class Invoker:
    """Runs user functions and writes their outputs; owns the event loop and the sync thread pool."""

    def __init__(
        self,
        app_dir: Path,
        storage: Storage,
        activity: Activity,
        workers: int,
        processes: WorkerPool | None = None,
    ) -> None:
        self._app_dir = str(app_dir)
        self._storage = storage
        self._activity = activity
        self._pool = SyncPool(workers)
        self._processes = processes
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._pool.start(self.loop)
        self._thread = threading.Thread(target=self.loop.run_forever, name="localrun-event-loop", daemon=True)
        self._thread.start()
        if self._processes is not None:
            self._processes.start()

    def abort(self) -> None:
        """Stop the worker processes now: their invocations end with InvocationCancelled (see workers)."""
        if self._processes is not None:
            self._processes.abort()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker processes, the sync threads and the event loop, within about `timeout` seconds."""
        deadline = time.monotonic() + timeout
        if self._processes is not None:
            self._processes.stop(timeout=min(1.0, timeout))
        self._pool.stop(max(0.0, deadline - time.monotonic()))
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self._thread is not None:
                self._thread.join(max(0.1, deadline - time.monotonic()))
            if not self.loop.is_running():
                self.loop.close()
        self.loop, self._thread = None, None

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes (none when functions run in this process)."""
        return self._processes.pids() if self._processes is not None else []

    def _begin(self, spec: FunctionSpec, trigger_value: Any, reason: str, retry_count: int) -> _Call:
        # A version-4 UUID from the process PRNG: no system call on the request path.
        invocation_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        level = logging.DEBUG if spec.trigger_type == HTTP else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
        outs = {o.name: Out() for o in spec.outputs if not o.is_return}
        kwargs: dict[str, Any] = {spec.arg_name: trigger_value, **outs}
        if spec.wants_context:
            kwargs["context"] = InvocationContext(invocation_id, spec.name, self._app_dir, retry_count)
        return _Call(spec, invocation_id, kwargs, outs, level)

    def _end(self, call: _Call, ok: bool) -> None:
        ms = (time.perf_counter() - call.started) * 1000
        name = call.spec.name
        self._activity.count(name, "processed" if ok else "failed")
        status = "Succeeded" if ok else "Failed"
        level = call.level if ok else logging.ERROR
        if log.isEnabledFor(level):
            fields = {"function": name, "invocation_id": call.invocation_id, "trigger": call.spec.trigger_type}
            log.log(
                level, "Executed 'Functions.%s' (%s, Id=%s, Duration=%.0fms)", name, status, call.invocation_id, ms,
                exc_info=not ok, extra={**fields, "status": status.lower(), "duration_ms": ms},
            )  # fmt: skip

    def _call_sync(self, call: _Call, data: Mapping[str, Any]) -> Any:
        result = call.spec.user_function(**call.kwargs)
        write_outputs(call.spec.name, call.spec.outputs, call.outs, result, data, self._storage)
        return result

    def _call_in_worker(self, call: _Call, trigger_value: Any, data: Mapping[str, Any]) -> Any:
        spec, context = call.spec, call.kwargs.get("context")
        job = Job(
            function=spec.name,
            trigger_arg=spec.arg_name,
            trigger_value=trigger_value,
            outputs=tuple(call.outs),
            context=(call.invocation_id, spec.name, self._app_dir, context.retry_context.retry_count)
            if context is not None
            else None,
        )
        assert self._processes is not None
        result, values = self._processes.run(job)
        for name, value in values.items():
            call.outs[name].set(value)
        write_outputs(spec.name, spec.outputs, call.outs, result, data, self._storage)
        return result

    def invoke(
        self, spec: FunctionSpec, trigger_value: Any, data: Mapping[str, Any], reason: str, retry_count: int = 0
    ) -> Any:
        """From a trigger thread (never the loop): call, write outputs, count; the exception propagates."""
        call = self._begin(spec, trigger_value, reason, retry_count)
        try:
            if self._processes is not None:
                result = self._call_in_worker(call, trigger_value, data)
            elif spec.is_async:
                if self.loop is None:
                    raise RuntimeError("the runner's event loop is not running")
                coroutine = spec.user_function(**call.kwargs)
                result = asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()
                write_outputs(spec.name, spec.outputs, call.outs, result, data, self._storage)
            else:
                result = self._call_sync(call, data)
        except InvocationCancelled:
            log.warning("Cancelled 'Functions.%s' (Id=%s): the runner is stopping", spec.name, call.invocation_id)
            raise
        except Exception:
            self._end(call, ok=False)
            raise
        self._end(call, ok=True)
        return result

    async def invoke_async(self, spec: FunctionSpec, trigger_value: Any, data: Mapping[str, Any], reason: str) -> Any:
        """On the event loop (HTTP): async functions run here, sync ones in the thread pool."""
        call = self._begin(spec, trigger_value, reason, 0)
        try:
            if spec.is_async:
                result = await spec.user_function(**call.kwargs)
                if spec.outputs:
                    args = (spec.name, spec.outputs, call.outs, result, data, self._storage)
                    await self._pool.run(write_outputs, *args)
            else:
                result = await self._pool.run(self._call_sync, call, data)
        except Exception:
            self._end(call, ok=False)
            raise
        self._end(call, ok=True)
        return result
