"""Offline proof: entities round-trip through YAML, schema errors are raised client side, MLClient sends nothing.

azure.ai.ml takes seconds to import, so the tests that need it import it themselves and are marked slow.
"""

from __future__ import annotations

import pytest
import yaml

from shared.azureml import jobs
from shared.azureml.naming import model_name, model_version
from shared.azureml.outbox import ChampionChange

ENV_VARS = {"AzureWebJobsStorage__accountName": "stdataexample", "MODELS_CONTAINER": "models"}


@pytest.fixture
def pipeline_job(tmp_path):
    code = jobs.stage_code(tmp_path / "code")
    options = jobs.BulkOptions("cpu-cluster", prefix="store-1", instance_count=4, max_concurrency=3, run_id="bulk-1")
    return jobs.build_pipeline_job(code, options, ENV_VARS)


def test_model_names_are_one_per_series_and_never_collide():
    assert model_name("total") == "forecastops-total"
    assert model_name("store_1-web") == "forecastops-store_1-web"
    dotted = model_name("a.b")
    assert dotted.startswith("forecastops-a-b-") and len(dotted) == len("forecastops-a-b-") + 8
    assert dotted != model_name("a-b") and dotted == model_name("a.b")
    assert model_version("v20260101T120000.123456Z-3f9a") == "v20260101T120000.123456Z-3f9a"
    with pytest.raises(ValueError, match="cannot be a registry version"):
        model_version("v1/../x")


@pytest.mark.slow
def test_model_entity_round_trips_through_yaml(tmp_path):
    from azure.ai.ml import load_model

    from shared.azureml.mirror import model_entity

    folder = tmp_path / "v1"
    folder.mkdir()
    for name in ("model.joblib", "card.json", "forecast.json"):
        (folder / name).write_bytes(b"{}")
    card = {
        "version": "v1",
        "spec": {"name": "ets"},
        "metrics": {"mase": 0.6912, "coverage_95": 0.982},
        "decision": {"outcome": "promoted"},
        "dataset": {"version": "abc123", "end": "2014-05-31"},
        "upload": "2014-05.csv.sha",
        "correlation_id": "c-1",
    }
    change = ChampionChange("store.1", "v1", "2026-01-01T00:00:00+00:00", "challenger beat champion v0")
    model = model_entity(card, change, folder, card_url="https://x/models/store.1/v1/card.json", champion=True)
    model.dump(tmp_path / "model.yml")
    loaded = load_model(tmp_path / "model.yml")
    assert (loaded.name, loaded.version, loaded.type) == (model_name("store.1"), "v1", "custom_model")
    assert loaded.tags == model.tags
    assert loaded.tags["backtest_mase"] == "0.6912" and loaded.tags["coverage_95"] == "0.9820"
    assert loaded.tags["dataset_version"] == "abc123" and loaded.tags["decision"] == "promoted"
    assert loaded.properties == model.properties
    assert loaded.properties["forecastops.upload"] == "2014-05.csv.sha"
    assert str(loaded.path) == str(folder)


@pytest.mark.slow
def test_pipeline_job_round_trips_through_yaml(pipeline_job, tmp_path):
    from azure.ai.ml import load_job

    pipeline_job.dump(tmp_path / "job.yml")
    loaded = load_job(tmp_path / "job.yml")
    assert loaded.name == "bulk-1" and loaded.compute == "cpu-cluster"
    export, train = loaded.jobs[jobs.EXPORT_STEP], loaded.jobs[jobs.TRAIN_STEP]
    assert export.command == "python -m shared.azureml.export --output ${{outputs.series}} --prefix store-1"
    assert export.outputs["series"].type == "mltable"
    assert train.inputs["series"].path == "${{parent.jobs.export_curated.outputs.series}}"
    assert train.partition_keys == ["series_id"]
    assert train.resources.instance_count == 4 and train.max_concurrency_per_instance == 3
    assert train.mini_batch_error_threshold == jobs.MINI_BATCH_ERROR_THRESHOLD and train.error_threshold == -1
    assert train.retry_settings.max_retries == jobs.MINI_BATCH_RETRIES
    assert train.retry_settings.timeout == jobs.MINI_BATCH_TIMEOUT_SECONDS
    assert train.task["entry_script"] == "shared/azureml/entry.py" and train.task["program_arguments"] == "--run bulk-1"
    assert train.environment_variables == ENV_VARS == export.environment_variables
    document = yaml.safe_load((tmp_path / "job.yml").read_text())
    component = document["jobs"][jobs.TRAIN_STEP]["component"]
    assert component["inputs"]["series"] == {"type": "mltable", "mode": "direct"}
    pip = component["task"]["environment"]["conda_file"]["dependencies"][2]["pip"]
    assert pip == [*jobs.pinned_requirements(), *jobs.JOB_ONLY_REQUIREMENTS]
    assert "azure-ai-ml==1.35.2" in pip and "statsmodels==0.15.0" in pip
    staged = jobs.REPO_ROOT / "shared" / "azureml" / "entry.py"
    assert (tmp_path / "code" / "shared" / "azureml" / "entry.py").read_bytes() == staged.read_bytes()


@pytest.mark.slow
def test_a_non_integer_instance_count_is_a_client_side_schema_error(pipeline_job, tmp_path):
    from azure.ai.ml import load_job
    from marshmallow.exceptions import ValidationError

    pipeline_job.dump(tmp_path / "job.yml")
    document = yaml.safe_load((tmp_path / "job.yml").read_text())
    document["jobs"][jobs.TRAIN_STEP]["resources"]["instance_count"] = "many"
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(document))
    with pytest.raises(ValidationError, match="instance_count"):
        load_job(tmp_path / "bad.yml")


@pytest.mark.slow
def test_parallel_step_refuses_a_non_integer_instance_count():
    from azure.ai.ml import Input
    from azure.ai.ml.parallel import parallel_run_function
    from marshmallow.exceptions import ValidationError

    step = parallel_run_function(
        name="x", inputs={"s": Input(type="mltable", mode="direct")}, input_data="${{inputs.s}}",
        partition_keys=["series_id"], instance_count="many",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="many"):
        step._validate(raise_error=True)


@pytest.mark.parametrize("field", ["instance_count", "max_concurrency"])
@pytest.mark.parametrize("value", [0, "3", 2.5, True])
def test_bulk_options_refuse_what_is_not_a_positive_integer(field, value):
    with pytest.raises(ValueError, match=field):
        jobs.BulkOptions("cpu-cluster", **{field: value})


def test_a_requirements_file_with_a_loose_pin_is_refused(tmp_path):
    from shared.errors import ConfigurationError

    (tmp_path / "requirements.txt").write_text("# c\npandas==3.1.1\nnumpy>=2\n")
    with pytest.raises(ConfigurationError, match="numpy>=2"):
        jobs.pinned_requirements(tmp_path / "requirements.txt")


@pytest.mark.slow
def test_ml_client_with_placeholder_ids_makes_no_network_call(no_network):
    from azure.identity import DefaultAzureCredential

    from shared.azureml.mirror import AzureMLModels
    from shared.azureml.workspace import Workspace, ml_client

    workspace = Workspace("00000000-0000-0000-0000-000000000000", "rg-placeholder", "mlw-placeholder")
    client = ml_client(workspace, DefaultAzureCredential())
    AzureMLModels(client)
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == (
        "00000000-0000-0000-0000-000000000000", "rg-placeholder", "mlw-placeholder",
    )  # fmt: skip
    assert no_network == []


def test_job_settings_send_no_connection_string():
    from shared.errors import ConfigurationError
    from shared.settings import Settings

    with pytest.raises(ConfigurationError, match="__accountName"):
        jobs.job_settings(Settings(storage_connection_string="UseDevelopmentStorage=true", storage_account_name=None))
    env = jobs.job_settings(Settings(storage_connection_string="secret", storage_account_name="stdata1"))
    assert env["AzureWebJobsStorage__accountName"] == "stdata1" and "AzureWebJobsStorage" not in env
    assert "secret" not in env.values()
