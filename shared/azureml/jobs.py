"""The bulk re-selection pipeline job: export the curated series as an MLTable, retrain them in parallel.

Step `export_curated` (command) runs `python -m shared.azureml.export`; step `retrain_series`
(`parallel_run_function`) partitions that MLTable by `series_id` (direct mode) and calls
`shared/azureml/entry.py` once per series. Both steps run the repository's `shared` package in an
environment built from the pinned requirements.txt, with the app settings that point them at the
data account through the cluster's managed identity.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared import __version__
from shared.errors import ConfigurationError
from shared.settings import DEFAULT_CONNECTION_SETTING, Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "requirements.txt"
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20250601.v1"
# Only in the job's environment: the parallel step reads its MLTable input with it.
JOB_ONLY_REQUIREMENTS = ("mltable==1.7.0",)
ENTRY_SCRIPT = "shared/azureml/entry.py"
EXPORT_STEP, TRAIN_STEP = "export_curated", "retrain_series"
# A series that fails (after retries) is reported and skipped; the job fails once more than this many did.
MINI_BATCH_ERROR_THRESHOLD = 10
MINI_BATCH_RETRIES = 2
MINI_BATCH_TIMEOUT_SECONDS = 900  # one series' full selection takes seconds; daily series with long history more


@dataclass(frozen=True)
class BulkOptions:
    """What one bulk run does: which series, on which cluster, how wide."""

    compute: str
    prefix: str = ""
    instance_count: int = 2
    max_concurrency: int = 2
    run_id: str = ""

    def __post_init__(self) -> None:
        for name in ("instance_count", "max_concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not re.match(r"^[A-Za-z0-9_.-]*$", self.prefix):
            raise ValueError(f"prefix may hold only letters, digits, '.', '_' and '-', got {self.prefix!r}")


def new_run_id(now: datetime | None = None) -> str:
    """A job name that sorts by time, such as forecastops-bulk-20260101T120000-3f9a2c."""
    return f"forecastops-bulk-{(now or datetime.now(UTC)):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def pinned_requirements(path: Path = REQUIREMENTS) -> list[str]:
    """The `name==version` lines of a requirements file (comments and options dropped)."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    pins = [line for line in lines if line and not line.startswith("-")]
    loose = [line for line in pins if "==" not in line]
    if loose:
        raise ConfigurationError(f"{path.name} must pin every package (name==version): {', '.join(loose)}")
    return pins


def environment():
    """The job environment: Python 3.11 on the Azure ML base image with exactly the app's pinned packages."""
    from azure.ai.ml.entities import Environment

    conda = {
        "name": "forecastops",
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": [*pinned_requirements(), *JOB_ONLY_REQUIREMENTS]}],
    }
    return Environment(image=BASE_IMAGE, conda_file=conda, description="ForecastOps bulk retraining")


def job_settings(settings: Settings) -> dict[str, str]:
    """The app settings the steps run with: identity-based storage only (no key leaves the app)."""
    if not settings.storage_account_name:
        raise ConfigurationError(
            "the bulk job reaches storage through the cluster's identity: set "
            f"{DEFAULT_CONNECTION_SETTING}__accountName to the data account (no connection string goes to Azure ML)"
        )
    env = settings.as_env()
    env.pop(DEFAULT_CONNECTION_SETTING, None)
    return env


def stage_code(destination: Path) -> Path:
    """Copy the `shared` package (no byte code) into `destination`: the code both steps upload."""
    source = REPO_ROOT / "shared"
    shutil.copytree(source, destination / "shared", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


def build_pipeline_job(code: Path, options: BulkOptions, env_vars: dict[str, str]):
    """The pipeline job entity (nothing is sent): export step, then the parallel retrain step."""
    from azure.ai.ml import Input, Output, command, dsl
    from azure.ai.ml.constants import AssetTypes, InputOutputModes
    from azure.ai.ml.parallel import RunFunction, parallel_run_function

    run_id = options.run_id or new_run_id()
    job_environment = environment()
    prefix = f" --prefix {options.prefix}" if options.prefix else ""
    export_step = command(
        name=EXPORT_STEP,
        display_name="Export the curated series as an MLTable partitioned by series_id",
        code=str(code),
        command="python -m shared.azureml.export --output ${{outputs.series}}" + prefix,
        outputs={"series": Output(type=AssetTypes.MLTABLE)},
        environment=job_environment,
        environment_variables=env_vars,
    )
    train_step = parallel_run_function(
        name=TRAIN_STEP,
        display_name="Retrain each series with the queue's selection and decision",
        inputs={"series": Input(type=AssetTypes.MLTABLE, mode=InputOutputModes.DIRECT)},
        outputs={"results": Output(type=AssetTypes.URI_FILE)},
        input_data="${{inputs.series}}",
        partition_keys=["series_id"],
        instance_count=options.instance_count,
        max_concurrency_per_instance=options.max_concurrency,
        error_threshold=-1,
        mini_batch_error_threshold=MINI_BATCH_ERROR_THRESHOLD,
        retry_settings={"max_retries": MINI_BATCH_RETRIES, "timeout": MINI_BATCH_TIMEOUT_SECONDS},
        logging_level="INFO",
        environment_variables=env_vars,
        task=RunFunction(
            code=str(code),
            entry_script=ENTRY_SCRIPT,
            environment=job_environment,
            program_arguments=f"--run {run_id}",
            append_row_to="${{outputs.results}}",
        ),
    )

    scope = f"series {options.prefix}*" if options.prefix else "every series"

    @dsl.pipeline(compute=options.compute, description=f"ForecastOps bulk re-selection of {scope}")
    def forecastops_bulk_retrain():
        export_curated = export_step()
        retrain_series = train_step(series=export_curated.outputs.series)
        return {"results": retrain_series.outputs.results}

    job = forecastops_bulk_retrain()
    job.name = run_id
    job.display_name = run_id
    job.experiment_name = "forecastops-bulk-retrain"
    code_version = os.environ.get("FORECASTOPS_CODE_VERSION", __version__)
    job.tags = {"prefix": options.prefix or "*", "code_version": code_version}
    return job


def submit(ml_client, job):
    """Send the job to the workspace (uploads the code; needs credentials). Returns the created job."""
    return ml_client.jobs.create_or_update(job)
