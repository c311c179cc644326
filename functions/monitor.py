"""Timer trigger: the monitor's run enqueues one check request per batch of series (schedule DRIFT_SCHEDULE)."""

import azure.functions as func

bp = func.Blueprint()


# No retry policy on purpose: a failed run is reported as failed and the next schedule runs as usual.
@bp.function_name("monitor")
@bp.timer_trigger(arg_name="timer", schedule="%DRIFT_SCHEDULE%", run_on_startup=False, use_monitor=True)
def monitor(timer: func.TimerRequest) -> None:
    from shared.monitoring.service import run_scheduled

    run_scheduled(past_due=timer.past_due)
