"""Language worker processes: FUNCTIONS_WORKER_PROCESS_COUNT processes, each running one invocation at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import multiprocessing
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localrun.config import ConfigurationError
from localrun.context import InvocationContext
from localrun.outputs import Out

log = logging.getLogger("localrun.workers")

WORKER_COUNT_SETTING = "FUNCTIONS_WORKER_PROCESS_COUNT"
MAX_WORKER_PROCESSES = 10  # the host's limit for FUNCTIONS_WORKER_PROCESS_COUNT
KILL_AFTER_SECONDS = 0.5  # a worker that ignores SIGTERM this long is killed
READY_TIMEOUT_SECONDS = 60.0  # start() waits this long at most for the workers to import the app
RESTART_DELAY_SECONDS = 5.0  # before starting again a worker that could not import the app


def worker_process_count(env: Mapping[str, str]) -> int:
    """The setting FUNCTIONS_WORKER_PROCESS_COUNT (1 to 10), 1 when unset, as the host reads it."""
    raw = env.get(WORKER_COUNT_SETTING, "").strip()
    if not raw:
        return 1
    try:
        count = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{WORKER_COUNT_SETTING} must be an integer from 1 to 10, got {raw!r}") from exc
    if not 1 <= count <= MAX_WORKER_PROCESSES:
        raise ConfigurationError(f"{WORKER_COUNT_SETTING} must be from 1 to {MAX_WORKER_PROCESSES}, got {count}")
    return count


class InvocationCancelled(BaseException):
    """The runner stopped while the invocation ran: it is abandoned, as if the process had been killed.

    A BaseException like asyncio.CancelledError, so trigger code that handles a function's failure does not
    treat it as one: no retry, no receipt, no poison message; storage brings the work back as after a crash.
    """


class WorkerLost(RuntimeError):
    """The worker process running the invocation exited (crashed or was killed); a new one replaces it."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process, attached as its __cause__."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Job:
    """One invocation sent to a worker: the function, its trigger value and what it needs besides."""

    function: str
    trigger_arg: str
    trigger_value: Any
    outputs: tuple[str, ...]  # names of the Out parameters
    context: tuple[str, str, str, int] | None  # invocation id, function name, directory, retry count


# -- inside a worker process ---------------------------------------------------------------------


def _logger_levels() -> dict[str, int]:
    """The level of the root logger and of every logger given one, so workers log what the runner would."""
    levels = {"": logging.getLogger().level}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


def _worker_main(conn: Any, app_module: str, app_dir: str, log_queue: Any, levels: dict[str, int]) -> None:
    """A worker process: import the app once, then run the jobs that arrive on conn until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the runner stops us
    logging.getLogger().handlers[:] = [logging.handlers.QueueHandler(log_queue)]
    for name, level in levels.items():
        logging.getLogger(name or None).setLevel(level)
    from localrun.loading import find_app, functions_of, import_app_module

    app = find_app(import_app_module(app_module, Path(app_dir)))
    functions = {fn.get_function_name(): fn.get_user_function() for fn in functions_of(app)}
    loop = asyncio.new_event_loop()
    conn.send("ready")
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_run_job(job, functions[job.function], loop))


def _run_job(job: Job, function: Callable[..., Any], loop: asyncio.AbstractEventLoop) -> tuple:
    outs = {name: Out() for name in job.outputs}
    kwargs: dict[str, Any] = {job.trigger_arg: job.trigger_value, **outs}
    if job.context is not None:
        kwargs["context"] = InvocationContext(*job.context)
    try:
        result = function(**kwargs)
        if asyncio.iscoroutine(result):
            result = loop.run_until_complete(result)
        reply = ("ok", result, {name: out.get() for name, out in outs.items()})
        pickle.loads(pickle.dumps(reply))  # a value the runner cannot receive fails the function, not the worker
        return reply
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return ("error", exc, text)


# -- in the runner -------------------------------------------------------------------------------


class _Worker:
    def __init__(self, ctx: Any, index: int, args: tuple) -> None:
        parent, child = ctx.Pipe()
        self.index = index
        self.process = ctx.Process(
            target=_worker_main, args=(child, *args), name=f"localrun-worker-{index}", daemon=True
        )
        self.process.start()
        child.close()
        self.conn = parent


class _LogRelay:
    """Hands the records that workers log to the runner's loggers, as the host shows worker logs."""

    def __init__(self, log_queue: Any) -> None:
        self._queue = log_queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="localrun-worker-logs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                record = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):  # the queue was closed under us at stop
                return
            logging.getLogger(record.name).handle(record)


class WorkerPool:
    """N worker processes that import the app and run its functions, each one invocation at a time.

    An invocation goes to whichever worker is idle (the caller waits for one). A worker that dies is
    replaced and its invocation fails with WorkerLost; after `abort()` every invocation, running or
    waiting, ends with InvocationCancelled.
    """

    def __init__(self, app_module: str, app_dir: Path, count: int) -> None:
        self._app = (app_module, str(app_dir))
        self.count = count
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        self._workers: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._stopped = threading.Event()
        self._ready = threading.Condition()
        self._ready_count = 0
        self._log_queue: Any = None
        self._relay: _LogRelay | None = None

    def start(self) -> None:
        self._log_queue = self._ctx.Queue()
        self._relay = _LogRelay(self._log_queue)
        self._relay.start()
        for index in range(self.count):
            self._spawn(index)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with self._ready:  # like the host, start serving once the workers have indexed the app
            while self._ready_count < self.count and time.monotonic() < deadline:
                self._ready.wait(deadline - time.monotonic())
        log.info("%d of %d worker processes ready (%s)", self._ready_count, self.count, WORKER_COUNT_SETTING)

    def _spawn(self, index: int, delay: float = 0.0) -> None:
        """Start worker `index`; it becomes idle once it has imported the app (a failed start is retried)."""
        if delay and self._stopped.wait(delay):
            return
        worker = _Worker(self._ctx, index, (*self._app, self._log_queue, _logger_levels()))
        with self._lock:
            self._workers[index] = worker
        threading.Thread(target=self._await_ready, args=(worker,), name=f"worker-{index}-start", daemon=True).start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(KILL_AFTER_SECONDS)
            if not self._stopping:
                log.error(
                    "worker process %s exited with code %s while importing the app; starting another in %.0fs",
                    worker.process.pid, worker.process.exitcode, RESTART_DELAY_SECONDS,
                )  # fmt: skip
                self._spawn(worker.index, RESTART_DELAY_SECONDS)
            return
        self._idle.put(worker)
        with self._ready:
            self._ready_count += 1
            self._ready.notify_all()

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers.values() if w.process.pid is not None]

    def run(self, job: Job) -> tuple[Any, dict[str, Any]]:
        """Run one job on an idle worker: (return value, Out values); the function's exception propagates."""
        worker = self._idle.get()
        if worker is None or self._stopping:
            self._idle.put(None)  # wake the next waiter too
            raise InvocationCancelled(f"the runner stopped before '{job.function}' started")
        try:
            payload = pickle.dumps(job)
        except Exception as exc:
            self._idle.put(worker)
            raise RuntimeError(f"the trigger value of '{job.function}' cannot be sent to a worker: {exc}") from exc
        try:
            worker.conn.send_bytes(payload)
            reply = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._lost(worker, job)
            raise WorkerLost(
                f"worker process {worker.process.pid} exited (code {worker.process.exitcode}) while running "
                f"'{job.function}'"
            ) from exc
        self._idle.put(worker)
        if reply[0] == "ok":
            return reply[1], reply[2]
        error: BaseException = reply[1]
        error.__cause__ = RemoteTraceback(reply[2])
        raise error

    def _lost(self, worker: _Worker, job: Job) -> None:
        worker.process.join(KILL_AFTER_SECONDS)
        if self._stopping:
            raise InvocationCancelled(f"the runner stopped while '{job.function}' ran")
        log.warning(
            "worker process %s exited with code %s; starting a new one", worker.process.pid, worker.process.exitcode
        )
        worker.conn.close()
        self._spawn(worker.index)

    def abort(self) -> None:
        """Stop every worker now: running and waiting invocations end with InvocationCancelled."""
        self._stopping = True
        self._stopped.set()
        with self._lock:
            workers = list(self._workers.values())
        for _ in range(len(workers) + 1):
            self._idle.put(None)
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + KILL_AFTER_SECONDS
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(KILL_AFTER_SECONDS)
            with contextlib.suppress(OSError):
                worker.conn.close()

    def stop(self, timeout: float = 1.0) -> None:
        self.abort()
        if self._relay is not None:
            self._relay.stop(timeout)
        if self._log_queue is not None:
            self._log_queue.close()
            self._log_queue.cancel_join_thread()
