"""Model registry on Azurite: immutable versions, atomic champion pointer, rollback, run claims."""

import numpy as np
import pandas as pd
import pytest
from azure.core.exceptions import ResourceExistsError

from shared import registry
from shared.errors import ConcurrencyConflict, CorruptArtifact
from shared.forecasting.naive import SeasonalNaive
from shared.storage import container
from shared.training import forecast_document
from tests.factories import count_blob_requests


def fitted(level: float):
    index = pd.date_range("2024-01-01", periods=35, freq="D")
    y = pd.Series(level + np.arange(35) % 7, index=index, dtype=float)
    return SeasonalNaive({"freq": "D"}).fit(y)


def publish(client, series, level):
    version = registry.new_version_id()
    model = fitted(level)
    forecast = forecast_document(model, series=series, version=version, freq="D", trained_through="2024-02-04")
    card = {
        "version": version,
        "series": series,
        "spec": model.spec,
        "created_at": "now",
        "dataset": {"end": "2024-02-04"},
        "decision": {"outcome": "test"},
    }
    registry.write_version(client, series, version, model=model, card=card, forecast=forecast)
    return version


@pytest.fixture
def models(settings):
    return container(settings.models_container, settings)


def test_versions_are_immutable_and_loadable(models):
    version = publish(models, "total", 100)
    assert registry.read_card(models, "total", version)["version"] == version
    assert registry.load_model(models, "total", version).predict(3)["mean"].tolist() == [100.0, 101.0, 102.0]
    forecast = registry.read_forecast(models, "total", version)
    with pytest.raises(ResourceExistsError):
        registry.write_version(models, "total", version, model=fitted(1), card={}, forecast=forecast)


def test_promote_rollback_and_history(models):
    first, second, third = (publish(models, "total", level) for level in (1, 2, 3))
    registry.promote(models, "total", first)
    registry.promote(models, "total", second)
    pointer = registry.promote(models, "total", third, reason="better")
    assert pointer["version"] == third
    assert [h["version"] for h in pointer["history"]] == [second, first]
    back = registry.rollback(models, "total")
    assert back["version"] == second and [h["version"] for h in back["history"]] == [first]
    assert registry.rollback(models, "total")["version"] == first
    with pytest.raises(registry.VersionNotFound, match="no earlier champion"):
        registry.rollback(models, "total")
    listed = registry.list_versions(models, "total")
    assert [c["version"] for c in listed] == [first, second, third]
    assert [c["champion"] for c in listed] == [True, False, False]


def test_promote_unknown_version_changes_nothing(models):
    version = publish(models, "total", 1)
    registry.promote(models, "total", version)
    with pytest.raises(registry.VersionNotFound):
        registry.promote(models, "total", "v-does-not-exist")
    assert registry.read_champion(models, "total")[0]["version"] == version


def test_stale_decision_cannot_move_the_pointer(models):
    first, second = publish(models, "total", 1), publish(models, "total", 2)
    registry.promote(models, "total", first)
    stale, etag = registry.read_champion(models, "total")
    registry.promote(models, "total", second)
    with pytest.raises(ConcurrencyConflict):
        registry.set_champion(models, "total", first, reason="stale", current=stale, etag=etag)
    assert registry.read_champion(models, "total")[0]["version"] == second


def test_run_claims(models):
    assert registry.claim_run(models, "total", "abc") is None
    # Claims are taken under the series lock: an unfinished one is a crashed worker's, taken over at once.
    assert registry.claim_run(models, "total", "abc") is None
    registry.finish_run(models, "total", "abc", {"version": "v1"})
    assert registry.claim_run(models, "total", "abc")["version"] == "v1"


def test_a_first_claim_is_one_write_and_a_finished_claim_is_never_rewritten(settings, monkeypatch):
    sent = count_blob_requests(monkeypatch, settings)
    models = container(settings.models_container, settings)
    assert registry.claim_run(models, "total", "abc") is None
    assert [method for method, _ in sent] == ["PUT"]  # created, not read first
    registry.finish_run(models, "total", "abc", {"version": "v1"})
    claim = models.get_blob_client(registry.run_claim_name("total", "abc"))
    etag = claim.get_blob_properties().etag
    sent.clear()
    assert registry.claim_run(models, "total", "abc")["version"] == "v1"
    assert [method for method, _ in sent] == ["PUT", "GET"]  # the create is refused, the finished claim read
    assert claim.get_blob_properties().etag == etag


def test_a_new_champion_clears_the_corruption_marker_unless_told_there_is_none(models):
    first, second = publish(models, "total", 1), publish(models, "total", 2)
    registry.mark_corrupt(models, "total", [CorruptArtifact("total", "v0", "card.json", "is missing")], None)
    pointer = registry.set_champion(models, "total", first, reason="r", current=None, etag=None, clear_marker=False)
    assert registry.corrupt_series(models) == ["total"]
    _, etag = registry.read_champion(models, "total")
    registry.set_champion(models, "total", second, reason="r", current=pointer, etag=etag)
    assert registry.corrupt_series(models) == []


def test_list_series(models):
    publish(models, "a", 1)
    publish(models, "b", 1)
    assert registry.list_series(models) == ["a", "b"]
