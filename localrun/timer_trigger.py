"""Timer trigger: NCRONTAB (6 fields, seconds first) or TimeSpan schedules, run_on_startup, past-due runs."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import azure.functions as func
from croniter import croniter

from localrun.activity import Activity
from localrun.config import TIMESPAN, ConfigurationError, parse_timespan
from localrun.functions import FunctionSpec
from localrun.invoke import Invoker
from localrun.workers import InvocationCancelled

log = logging.getLogger("localrun.timer")

# A run that starts later than this after its due time is reported as past due.
PAST_DUE_TOLERANCE = timedelta(seconds=1)
NCRONTAB_FIELDS = 6
NEVER = datetime.min.replace(tzinfo=UTC)


class Schedule:
    """Next occurrences of a timer schedule, in UTC like the host's default."""

    def __init__(self, expression: str, where: str) -> None:
        self.expression = expression.strip()
        self._interval: timedelta | None = None
        if TIMESPAN.match(self.expression):
            self._interval = timedelta(seconds=parse_timespan(self.expression))
            if self._interval <= timedelta(0):
                raise ConfigurationError(f"{where}: schedule {expression!r} must be a positive interval")
            return
        if len(self.expression.split()) != NCRONTAB_FIELDS:
            raise ConfigurationError(
                f"{where}: schedule {expression!r} is not an NCRONTAB expression with 6 fields "
                "(second minute hour day month day-of-week)"
            )
        if not croniter.is_valid(self.expression, second_at_beginning=True):
            raise ConfigurationError(f"{where}: schedule {expression!r} is not a valid NCRONTAB expression")

    def next_after(self, moment: datetime) -> datetime:
        if self._interval is not None:
            return moment + self._interval
        return croniter(self.expression, moment, second_at_beginning=True).get_next(datetime)


class TimerTrigger:
    """Runs one timer function on its schedule in its own thread; runs never overlap."""

    def __init__(
        self, spec: FunctionSpec, schedule: Schedule, run_on_startup: bool, invoker: Invoker, activity: Activity
    ) -> None:
        self.spec, self.schedule, self.run_on_startup = spec, schedule, run_on_startup
        self._invoker, self._activity = invoker, activity
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last: datetime | None = None
        self._next: datetime | None = None
        self._thread = threading.Thread(target=self._run, name=f"timer-{spec.name}", daemon=True)

    def start(self) -> None:
        self._next = self.schedule.next_after(datetime.now(UTC))
        log.info("Timer '%s' (%s): next run at %s", self.spec.name, self.schedule.expression, self._next.isoformat())
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        if self.run_on_startup:
            self._fire_logged(past_due=False, reason="Timer fired because of run_on_startup")
        while self._next is not None:
            due = self._next
            if self._stop.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
                return
            now = datetime.now(UTC)
            if now < due:
                continue
            late = now - due > PAST_DUE_TOLERANCE
            self._next = self.schedule.next_after(now if late else due)
            self._fire_logged(past_due=late, reason=f"Timer fired at {now.isoformat()}", due=due)

    def _fire_logged(self, past_due: bool, reason: str, due: datetime | None = None) -> None:
        with contextlib.suppress(Exception, InvocationCancelled):  # logged by the invoker; the schedule goes on
            self.fire(past_due, reason, due)

    def fire(self, past_due: bool, reason: str, due: datetime | None = None) -> None:
        """Run the function now (never concurrently with another run of it); its exception propagates."""
        with self._lock:
            self._activity.begin()
            try:
                now = datetime.now(UTC)
                status = {
                    "Last": (self._last or NEVER).isoformat(),
                    "Next": (self._next or now).isoformat(),
                    "LastUpdated": now.isoformat(),
                }
                request = func.timer.TimerRequest(
                    past_due=past_due, schedule_status=status, schedule={"AdjustForDST": True}
                )
                self._last = due or now
                self._invoker.invoke(self.spec, request, {}, reason)
            finally:
                self._activity.end()
