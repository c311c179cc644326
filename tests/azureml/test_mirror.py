"""Registry mirror on Azurite: outbox on every champion change, idempotent ordered sync, lag, failures raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared import registry as versions
from shared.azureml.mirror import handle_message, read_state
from shared.azureml.naming import model_name
from shared.azureml.outbox import BadOutboxMessage, registry_lag
from shared.storage import container, queue
from tests.factories import publish


def outbox(settings) -> list[dict]:
    """Take every message off the outbox (in order), as the registry-sync function would receive them."""
    client = queue(settings.registry_outbox_queue, settings)
    bodies = []
    while batch := list(client.receive_messages(messages_per_page=32, visibility_timeout=60)):
        for message in batch:
            bodies.append(json.loads(message.content))
            client.delete_message(message)
    return bodies


def test_promotion_and_rollback_each_write_one_outbox_message(mirror_settings):
    first = publish(mirror_settings)  # first model: promoted on publish
    second = publish(mirror_settings, level=200.0)
    models = container(mirror_settings.models_container, mirror_settings)
    versions.rollback(models, "total")
    versions.promote(models, "total", first)  # already the champion: no change, no message
    messages = outbox(mirror_settings)
    assert [(m["series"], m["version"]) for m in messages] == [("total", first), ("total", second), ("total", first)]
    assert messages[2]["reason"].startswith("manual rollback")
    assert messages[0]["changed_at"] < messages[1]["changed_at"] < messages[2]["changed_at"]


def test_no_outbox_while_the_mirror_is_off(mirror_settings, monkeypatch):
    from shared.settings import get_settings

    monkeypatch.setenv("AZURE_ML_WORKSPACE_NAME", "")
    get_settings.cache_clear()
    off = get_settings()
    publish(off)
    assert registry_lag(off) == {"mirror": "off"}
    assert queue(off.registry_outbox_queue, off).get_queue_properties().approximate_message_count == 0


def test_sync_registers_the_version_with_tags_properties_and_its_folder(mirror_settings, registry):
    version = publish(mirror_settings)
    [message] = outbox(mirror_settings)
    outcome = handle_message(message, mirror_settings, registry)
    assert (outcome.status, outcome.model_name, outcome.model_version) == ("registered", "forecastops-total", version)
    model = registry.models[("forecastops-total", version)]
    assert model.type == "custom_model"
    assert model.tags["series"] == "total" and model.tags["model_family"] == "snaive"
    assert model.tags["backtest_mase"] == "1.0000" and model.tags["decision"] == "first-model"
    assert model.tags["champion"] == "true" and model.tags["champion_since"] == message["changed_at"]
    assert model.properties["forecastops.card"].endswith(
        f"/{mirror_settings.models_container}/total/{version}/card.json"
    )

    assert sorted(p.name for p in Path(model.path).iterdir()) == ["card.json", "forecast.json", "model.joblib"]
    card = json.loads((Path(model.path) / "card.json").read_text())
    assert card["version"] == version
    state = read_state(container(mirror_settings.models_container, mirror_settings), "total")
    assert (state["version"], state["changed_at"]) == (version, message["changed_at"])


def test_sync_is_idempotent(mirror_settings, registry):
    publish(mirror_settings)
    [message] = outbox(mirror_settings)
    assert handle_message(message, mirror_settings, registry).status == "registered"
    writes = len(registry.writes)
    again = handle_message(message, mirror_settings, registry)
    assert again.status == "already-synced"
    assert len(registry.writes) == writes


def test_late_messages_keep_the_champion_order(mirror_settings, registry):
    first = publish(mirror_settings)
    second = publish(mirror_settings, level=200.0)
    versions.rollback(container(mirror_settings.models_container, mirror_settings), "total")
    promoted_first, promoted_second, rolled_back = outbox(mirror_settings)
    name = model_name("total")
    # Delivered out of order: the rollback first, then the two older changes (one of them twice).
    assert handle_message(rolled_back, mirror_settings, registry).status == "registered"
    assert handle_message(promoted_second, mirror_settings, registry).status == "registered"
    assert handle_message(promoted_first, mirror_settings, registry).status == "stale"
    assert handle_message(promoted_second, mirror_settings, registry).status == "stale"
    assert registry.champions(name) == [first]
    assert registry.models[(name, second)].tags["champion"] == "false"
    state = read_state(container(mirror_settings.models_container, mirror_settings), "total")
    assert (state["version"], state["changed_at"]) == (first, rolled_back["changed_at"])


def test_in_order_promotion_then_rollback_moves_the_champion_mark(mirror_settings, registry):
    first = publish(mirror_settings)
    second = publish(mirror_settings, level=200.0)
    versions.rollback(container(mirror_settings.models_container, mirror_settings), "total")
    name = model_name("total")
    seen = []
    for message in outbox(mirror_settings):
        handle_message(message, mirror_settings, registry)
        seen.append(registry.champions(name))
    assert seen == [[first], [second], [first]]


def test_registry_failures_raise_so_the_queue_retries(mirror_settings, tmp_path):
    from tests.azureml.conftest import InMemoryRegistry

    publish(mirror_settings)
    [message] = outbox(mirror_settings)
    failing = InMemoryRegistry(tmp_path, fail=PermissionError("identity lacks AzureML Data Scientist"))
    with pytest.raises(PermissionError):
        handle_message(message, mirror_settings, failing)
    assert read_state(container(mirror_settings.models_container, mirror_settings), "total") is None


@pytest.mark.parametrize(
    "body", [{"series": "total"}, {"series": "total", "version": "v1", "changed_at": "yesterday"}, ["total"]]
)
def test_malformed_outbox_messages_are_refused(mirror_settings, registry, body):
    with pytest.raises(BadOutboxMessage):
        handle_message(body, mirror_settings, registry)
    assert registry.writes == []


def test_lag_counts_pending_and_failed_changes(mirror_settings):
    publish(mirror_settings)
    publish(mirror_settings, series="web-shop")
    queue(f"{mirror_settings.registry_outbox_queue}-poison", mirror_settings).send_message(b'{"series": "x"}')
    lag = registry_lag(mirror_settings)
    assert (lag["mirror"], lag["pending"], lag["failed"]) == ("on", 2, 1)
    assert lag["workspace"] == "mlw-placeholder"
    assert 0 <= lag["oldest_pending_seconds"] < 60
    outbox(mirror_settings)
    assert registry_lag(mirror_settings)["pending"] == 0
