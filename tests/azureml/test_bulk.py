"""The bulk job's steps run locally against Azurite: export to an MLTable, then the entry script per series."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from localrun.sample import monthly_files
from shared import registry
from shared.azureml import entry
from shared.azureml.export import PART_FILE, export_series
from shared.ingest import process_upload
from shared.retrain import handle_request
from shared.storage import container
from tests.conftest import make_settings

pytestmark = pytest.mark.slow
MONTHS = monthly_files()


@pytest.fixture
def env_settings(azurite, monkeypatch):
    """Fresh settings exported as app settings: the entry script reads them from its environment like in the job."""
    from shared.settings import get_settings
    from shared.storage import ensure_resources

    def make():
        value = make_settings(azurite.connection_string)
        ensure_resources(value)
        for key, setting in value.as_env().items():
            monkeypatch.setenv(key, setting)
        get_settings.cache_clear()
        return value

    yield make
    get_settings.cache_clear()


def ingest(settings, *indices):
    return [process_upload(*MONTHS[i], settings=settings) for i in indices][-1].retrain_requests[-1]


def mini_batches(folder):
    """The partitions the parallel step hands to run(): the rows of each exported series, read as a table."""
    for part in sorted(folder.glob(f"*/{PART_FILE}")):
        yield part.parent.name, pd.read_csv(part)


def run_bulk(settings, folder, run_id):
    export_series(folder, settings)
    entry.init(["--run", run_id])
    results = [
        entry.run(batch, SimpleNamespace(partition_key_value={"series_id": s})) for s, batch in mini_batches(folder)
    ]
    return pd.concat(results, ignore_index=True)


def champion(settings, series="total"):
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, series)
    return registry.read_card(models, series, pointer["version"]), registry.read_forecast(
        models, series, pointer["version"]
    )


def same_model(a, b):
    card_a, forecast_a = a
    card_b, forecast_b = b
    assert card_a["spec"] == card_b["spec"]
    assert card_a["parameters"] == card_b["parameters"]
    assert card_a["metrics"] == card_b["metrics"]
    assert card_a["decision"]["outcome"] == card_b["decision"]["outcome"]
    assert card_a["dataset"] == card_b["dataset"]
    assert forecast_a["points"] == forecast_b["points"]


def test_export_writes_one_partition_per_series_and_an_mltable(env_settings, tmp_path):
    settings = env_settings()
    process_upload(
        "two.csv", b"series_id,date,value\na.1,2024-01-01,5\na.1,2024-01-02,6\nb,2024-01-01,7\n", settings=settings
    )
    exported = export_series(tmp_path / "all", settings)
    assert sorted(exported) == ["a.1", "b"]
    assert (tmp_path / "all" / "a.1" / PART_FILE).read_text().splitlines() == [
        "date,value,dataset_version", f"2024-01-01,5.0,{exported['a.1']}", f"2024-01-02,6.0,{exported['a.1']}",
    ]  # fmt: skip
    mltable = json.loads((tmp_path / "all" / "MLTable").read_text())
    assert mltable["paths"] == [{"pattern": f"./*/{PART_FILE}"}]
    assert {"extract_columns_from_partition_format": {"partition_format": "{series_id}/{file_name}.{extension}"}} in (
        mltable["transformations"]
    )
    assert sorted(export_series(tmp_path / "a", settings, prefix="a")) == ["a.1"]


def test_entry_script_publishes_the_champion_a_queue_retrain_publishes(env_settings, tmp_path):
    queue_side = env_settings()
    handle_request(ingest(queue_side, 0, 1, 2), settings=queue_side)
    queued = champion(queue_side)

    bulk_side = env_settings()  # the same uploads in a store of its own, retrained by the bulk job's steps
    ingest(bulk_side, 0, 1, 2)
    results = run_bulk(bulk_side, tmp_path / "mltable", "bulk-1")
    assert results[["series_id", "status", "reason"]].values.tolist() == [["total", "trained", "first-model"]]
    bulk = champion(bulk_side)
    same_model(bulk, queued)
    assert bulk[0]["version"] == results.loc[0, "version"] and bulk[0]["correlation_id"] == "bulk-1"


def test_a_bulk_run_reselects_trained_data_once_and_moves_the_champion_with_if_match(env_settings, tmp_path):
    settings = env_settings()
    first = handle_request(ingest(settings, 0, 1, 2), settings=settings)
    results = run_bulk(settings, tmp_path / "one", "bulk-1")
    assert results.loc[0, "status"] == "trained" and results.loc[0, "reason"] in {"promoted", "kept-champion"}
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, "total")
    assert pointer["version"] == results.loc[0, "version"] and pointer["history"][0]["version"] == first.version
    again = run_bulk(settings, tmp_path / "two", "bulk-1")  # a retried mini-batch of the same job
    assert (again.loc[0, "status"], again.loc[0, "reason"]) == ("skipped", "already trained")
    assert registry.read_champion(models, "total")[0]["version"] == pointer["version"]


def test_rows_that_do_not_match_their_dataset_version_fail_the_mini_batch(env_settings, tmp_path):
    settings = env_settings()
    ingest(settings, 0, 1, 2)
    export_series(tmp_path, settings)
    entry.init(["--run", "bulk-1"])
    batch = pd.read_csv(tmp_path / "total" / PART_FILE)
    batch.loc[3, "value"] += 1.0
    with pytest.raises(ValueError, match="hash to"):
        entry.run(batch, SimpleNamespace(partition_key_value={"series_id": "total"}))
    assert registry.list_versions(container(settings.models_container, settings), "total") == []


def test_entry_script_refuses_a_run_id_that_is_not_a_name():
    with pytest.raises(ValueError, match="--run"):
        entry.init(["--run", "../x"])
