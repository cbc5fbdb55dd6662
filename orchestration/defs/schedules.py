"""Nightly full load."""

import dagster as dg

from ..plan import LoadRefused, plan_load
from ..settings import Settings
from .jobs import LOAD_JOB

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"


@dg.schedule(
    name="nightly_load",
    job_name=LOAD_JOB,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the whole graph every night at 02:00 Shanghai time.",
)
def nightly_load_schedule(context: dg.ScheduleEvaluationContext, settings: Settings):
    """The load, with the code location's settings in its run config (every step sees them); no
    run when the published warehouse is already what it would build."""
    to_read = None
    try:
        plan = plan_load(settings)
        if plan.up_to_date:
            return dg.SkipReason("nothing changed since the published load: the warehouse is up to date")
        to_read = plan.unstored
    except (NotADirectoryError, LoadRefused):
        pass  # the run fails in report_files with the reason, visible in the run history
    return dg.RunRequest(run_config=settings.for_load(to_read).launch_config(), tags=settings.run_tags())
