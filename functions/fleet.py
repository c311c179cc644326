"""Timer trigger: recount the fleet index every five minutes (the counts health and the overview read), repair it."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("fleet_summary")
@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False, use_monitor=False)
def fleet_summary(timer: func.TimerRequest) -> None:
    from shared.fleet import summarize
    from shared.settings import get_settings
    from shared.storage import container

    settings = get_settings()
    summarize(container(settings.monitoring_container, settings), repair=True)
