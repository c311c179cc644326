"""The local runner: loads the real function app and serves its HTTP, blob, queue and timer functions."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import threading
import time
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import azure.functions as func

from localrun.activity import Activity, Counters
from localrun.blob_trigger import BlobPath, BlobTrigger
from localrun.config import HostConfig, default_host_id, resolve_settings
from localrun.functions import BLOB, HTTP, QUEUE, FunctionSpec, build_spec, is_disabled
from localrun.http_frontend import HTTP_REASON, HttpFrontend
from localrun.http_server import HttpServer
from localrun.invoke import Invoker, sync_workers
from localrun.loading import FunctionInfo, describe_functions, find_app, functions_of, import_app_module
from localrun.queue_trigger import QueueTrigger
from localrun.storage import Storage
from localrun.timer_trigger import Schedule, TimerTrigger
from localrun.workers import InvocationCancelled, WorkerPool, worker_process_count

log = logging.getLogger("localrun")

REPO_ROOT = Path(__file__).resolve().parent.parent
# Stop within this: work in flight gets STOP_GRACE_SHARE of it to finish, then it is abandoned.
STOP_TIMEOUT_SECONDS = 4.0
STOP_GRACE_SHARE = 0.6
SYNC_THREADS_WAIT_SECONDS = 0.5
SIGNAL_CHECK_SECONDS = 0.2


class _Component(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class Runner:
    """Serves a v2-model function app like the Functions host: `with Runner(...) as runner: ...`.

    `env` is laid over os.environ for the runner's own use (binding expressions, connections);
    the app itself sees os.environ, which `load_local_settings` fills like `func start`.
    Like `func start`, the runner is open: HTTP auth levels and admin keys are not enforced.
    Blob and queue triggers poll storage (also for blob triggers whose source is Event Grid).
    FUNCTIONS_WORKER_PROCESS_COUNT above 1 runs blob, queue and timer functions in that many worker
    processes (HTTP stays in this process); 1, the host's default, runs everything here.
    `stop()` returns within `stop_timeout` seconds: work still running then is abandoned, as in a crash.
    """

    def __init__(
        self,
        app_module: str = "function_app",
        app_dir: Path = REPO_ROOT,
        host: str = "127.0.0.1",
        port: int = 7071,
        poll_interval: float = 1.0,
        env: Mapping[str, str] | None = None,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.app_module = app_module
        self.stop_timeout = stop_timeout
        self.abandoned: list[str] = []  # components still busy when the last stop gave up on them
        self.app_dir = Path(app_dir).resolve()
        self.host = host
        self.poll_interval = poll_interval
        self.env: Mapping[str, str] = ChainMap(dict(env), os.environ) if env is not None else os.environ
        self.app: func.FunctionRegister | None = None
        self.specs: dict[str, FunctionSpec] = {}
        self._port = port
        self._activity = Activity()
        self._components: list[_Component] = []
        self._timers: dict[str, TimerTrigger] = {}
        self._http: HttpServer | None = None
        self._invoker: Invoker | None = None

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> list[FunctionSpec]:
        """Import the app and validate every enabled function (no storage or network yet)."""
        if self.app is None:
            self.app = find_app(import_app_module(self.app_module, self.app_dir))
        specs = []
        for fn in functions_of(self.app):
            if is_disabled(fn.get_function_name(), self.env):
                log.info("Function '%s' is disabled by its AzureWebJobs.*.Disabled setting", fn.get_function_name())
                continue
            specs.append(build_spec(fn, self.env))
        self.specs = {s.name: s for s in specs}
        return specs

    def functions(self) -> list[FunctionInfo]:
        """Every function of the app with its trigger type and bindings (disabled ones included)."""
        if self.app is None:
            self.app = find_app(import_app_module(self.app_module, self.app_dir))
        return describe_functions(self.app)

    def _trigger(
        self, spec: FunctionSpec, storage: Storage, invoker: Invoker, host: HostConfig, host_id: str
    ) -> _Component:
        trigger, where = spec.trigger, f"function '{spec.name}'"
        if spec.trigger_type == BLOB:
            storage.connection_string(trigger.connection)
            path = BlobPath.parse(resolve_settings(trigger.path, self.env, f"{where} path"), where)
            if str(getattr(trigger.source, "value", trigger.source)) == "EventGrid":
                log.info("Function '%s': Event Grid source in Azure, container polling here", spec.name)
            return BlobTrigger(
                spec, path, trigger.connection, storage, invoker, self._activity, host_id,
                self.poll_interval, host.queues.concurrency,
            )  # fmt: skip
        if spec.trigger_type == QUEUE:
            storage.connection_string(trigger.connection)
            name = resolve_settings(trigger.queue_name, self.env, f"{where} queue_name")
            return QueueTrigger(
                spec, name, trigger.connection, storage, invoker, self._activity, host.queues, self.poll_interval
            )
        schedule = Schedule(resolve_settings(trigger.schedule, self.env, f"{where} schedule"), where)
        timer = TimerTrigger(spec, schedule, bool(trigger.run_on_startup), invoker, self._activity)
        self._timers[spec.name] = timer
        return timer

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Runner:
        """Validate everything, then start the event loop, the triggers and the HTTP server."""
        if self._components:
            raise RuntimeError("the runner is already started")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        host = HostConfig.from_file(self.app_dir / "host.json")
        host_id = default_host_id(self.env)
        storage = Storage(self.env)
        specs = self.load()
        count = worker_process_count(self.env)
        processes = WorkerPool(self.app_module, self.app_dir, count) if count > 1 else None
        invoker = Invoker(self.app_dir, storage, self._activity, sync_workers(self.env), processes)
        self._invoker = invoker
        for spec in specs:
            for output in spec.outputs:
                storage.connection_string(output.connection)
        triggers = [self._trigger(s, storage, invoker, host, host_id) for s in specs if s.trigger_type != HTTP]
        frontend = HttpFrontend(
            [s for s in specs if s.trigger_type == HTTP], host.route_prefix, invoker, self._admin_invoke, host_id
        )
        self._http = HttpServer(frontend, self.host, self._port, invoker)
        for component in (invoker, *triggers, self._http):
            component.start()
            self._components.append(component)
        self._log_functions(specs, host.route_prefix)
        # Objects alive after loading the app (modules, the app) leave the collector's generations, so the
        # full collections that request garbage triggers stay short instead of pausing every request.
        gc.freeze()

    def stop(self) -> None:
        """Stop within `stop_timeout` seconds; idempotent.

        HTTP stops accepting and the pollers stop receiving at once, together; requests and invocations in
        flight get a grace period to finish. Then the worker processes are stopped (their invocations are
        abandoned: a message comes back after its visibility timeout, a blob without a receipt at the next
        start) and the event loop ends. Work still running in this process then is left behind and named
        in `abandoned`; `python -m localrun serve` exits regardless.
        """
        if not self._components:
            return
        deadline = time.monotonic() + self.stop_timeout
        grace = self.stop_timeout * STOP_GRACE_SHARE
        invoker, others = self._invoker, [c for c in reversed(self._components) if c is not self._invoker]
        self._components.clear()
        stopping = [self._stop_in_thread(c, grace) for c in others]
        _join_until(stopping, time.monotonic() + grace)
        if invoker is not None:
            if any(t.is_alive() for t in stopping):
                invoker.abort()
                _join_until(stopping, deadline - 1.0)
            # Sync threads still busy run HTTP functions whose connections are closed: nobody waits for them.
            invoker.stop(timeout=min(SYNC_THREADS_WAIT_SECONDS, max(0.0, deadline - time.monotonic())))
        self.abandoned = [t.name.removeprefix("stop-") for t in stopping if t.is_alive()]
        if self.abandoned:
            log.warning("stopped with work still running in %s: abandoned", ", ".join(self.abandoned))
        self._timers.clear()
        self._invoker = None

    def _stop_in_thread(self, component: _Component, grace: float) -> threading.Thread:
        def stop() -> None:
            try:
                if isinstance(component, HttpServer):
                    component.stop(timeout=grace)
                else:
                    component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)

        name = f"stop-{getattr(component, 'key', type(component).__name__)}"
        thread = threading.Thread(target=stop, name=name, daemon=True)
        thread.start()
        return thread

    def __enter__(self) -> Runner:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- observing and operating ---------------------------------------------------------------
    @property
    def port(self) -> int:
        """The HTTP port (the one chosen by the system when the runner was created with port=0)."""
        if self._http is None:
            raise RuntimeError("the runner is not started")
        return self._http.port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no blob, message or timer run is in flight and every poller has found nothing new."""
        return self._activity.wait_idle(timeout)

    def counters(self) -> dict[str, Counters]:
        """Per-function counters: processed (succeeded), failed (each failed attempt), poisoned."""
        return self._activity.counters()

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes (none with FUNCTIONS_WORKER_PROCESS_COUNT=1)."""
        return self._invoker.worker_pids() if self._invoker is not None else []

    def counter(self, function: str) -> Counters:
        return self._activity.counters().get(function, Counters())

    def trigger_timer(self, function: str) -> None:
        """Run a timer function now, in this thread; its exception propagates."""
        timer = self._timers.get(function)
        if timer is None:
            raise KeyError(f"no running timer function named {function!r} (timers: {sorted(self._timers)})")
        timer.fire(past_due=False, reason=HTTP_REASON)

    def _admin_invoke(self, function: str) -> int:
        if function not in self._timers:
            return 404
        threading.Thread(target=self._invoke_quietly, args=(function,), name=f"admin-{function}").start()
        return 202

    def _invoke_quietly(self, function: str) -> None:
        with contextlib.suppress(Exception, InvocationCancelled):  # the invoker has logged it
            self.trigger_timer(function)

    def _log_functions(self, specs: list[FunctionSpec], prefix: str) -> None:
        log.info("Host started (app %s, %d functions)", self.app_module, len(specs))
        for spec in specs:
            trigger = spec.trigger
            if spec.trigger_type == HTTP:
                methods = ",".join(str(getattr(m, "value", m)) for m in trigger.methods or []) or "ALL"
                route = "/".join(p for p in (prefix, (trigger.route or spec.name).strip("/")) if p)
                detail = f"[{methods}] {self.base_url}/{route}"
            elif spec.trigger_type == BLOB:
                detail = f"blobTrigger {trigger.path}"
            elif spec.trigger_type == QUEUE:
                detail = f"queueTrigger {trigger.queue_name}"
            else:
                detail = f"timerTrigger {trigger.schedule}"
            log.info("    %s: %s", spec.name, detail, extra={"function": spec.name, "trigger": spec.trigger_type})


def _join_until(threads: list[threading.Thread], deadline: float) -> None:
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def wait_for_shutdown() -> None:
    """Block until Ctrl-C or SIGTERM (also when started in the background, where SIGINT is ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # Timed waits: Python runs a signal's handler only when this thread runs bytecode, and a signal the
    # kernel hands to another thread does not wake an untimed wait here.
    while not stop.wait(SIGNAL_CHECK_SECONDS):
        pass
