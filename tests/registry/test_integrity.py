"""Registry integrity on Azurite: write-once hashed versions, the publish guard, verified reads and fallbacks."""

import hashlib
import io
import json
import math

import joblib
import pytest
from azure.core.exceptions import ResourceExistsError

from shared import fleet, registry
from shared.api import Service, respond
from shared.errors import (
    CorruptArtifact,
    NoIntactModel,
    UnpublishableVersion,
    VersionNotFound,
)
from shared.serving import ChampionCache, build_forecast, degraded_series, forecast_headers
from shared.storage import container
from tests.factories import publish


@pytest.fixture
def models(settings):
    return container(settings.models_container, settings)


def blob(models, series, version, name) -> bytes:
    return models.download_blob(f"{series}/{version}/{name}").readall()


def overwrite(models, series, version, name, data: bytes) -> None:
    """What a damaged or tampered blob looks like: someone with write access replaced it."""
    models.upload_blob(f"{series}/{version}/{name}", data, overwrite=True)


def names_under(models, prefix: str) -> list[str]:
    return [b.name for b in models.list_blobs(name_starts_with=prefix)]


# --- writing ----------------------------------------------------------------------------------------


def test_a_version_records_the_sha256_of_each_artifact_and_seals_its_card(settings, models):
    version = publish(settings)
    card = registry.read_card(models, "total", version)
    for name in (registry.MODEL_FILE, registry.FORECAST_FILE):
        data = blob(models, "total", version, name)
        assert card["artifacts"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    stored = json.loads(blob(models, "total", version, registry.CARD_FILE))
    body = {k: v for k, v in stored.items() if k != "card_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert stored["card_sha256"] == hashlib.sha256(canonical).hexdigest()


def test_version_blobs_are_write_once(settings, models):
    version = publish(settings)
    before = {name: blob(models, "total", version, name) for name in ("model.joblib", "forecast.json", "card.json")}
    card = registry.read_card(models, "total", version)
    forecast = registry.read_forecast(models, "total", version)
    model = registry.load_model(models, "total", version)
    with pytest.raises(ResourceExistsError):
        registry.write_version(models, "total", version, model=model, card=card, forecast=forecast)
    after = {name: blob(models, "total", version, name) for name in before}
    assert after == before


def non_finite(doc: dict, where: str) -> dict:
    changed = json.loads(json.dumps(doc))
    point = changed["points"][3]
    if where == "mean-nan":
        point["mean"] = math.nan
    elif where == "upper-inf":
        point["upper_95"] = math.inf
    elif where == "lower-minus-inf":
        point["lower_50"] = -math.inf
    elif where == "missing-bound":
        del point["upper_99"]
    elif where == "null-mean":
        point["mean"] = None
    return changed


@pytest.mark.parametrize("where", ["mean-nan", "upper-inf", "lower-minus-inf", "missing-bound", "null-mean"])
def test_publishing_refuses_a_forecast_that_is_not_finite_and_changes_nothing(settings, models, where):
    champion = publish(settings)
    pointer_before, etag_before = registry.read_champion(models, "total")
    good = registry.read_forecast(models, "total", champion)
    model = registry.load_model(models, "total", champion)
    version = registry.new_version_id()
    card = {**registry.read_card(models, "total", champion), "version": version}
    with pytest.raises(UnpublishableVersion, match="not published: its forecast point 3"):
        registry.write_version(models, "total", version, model=model, card=card, forecast=non_finite(good, where))
    assert names_under(models, f"total/{version}/") == []
    assert registry.read_champion(models, "total") == (pointer_before, etag_before)


# --- reading: hashes, unpickling ----------------------------------------------------------------------


class Payload:
    """Unpickling this creates the file named in it: a stand-in for code planted in a model."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def plant(models, version: str, marker) -> bytes:
    """Replace a version's model with a pickle that creates `marker` when it is loaded."""
    buffer = io.BytesIO()
    joblib.dump(Payload(str(marker)), buffer)
    overwrite(models, "total", version, "model.joblib", buffer.getvalue())
    return buffer.getvalue()


def test_a_planted_model_is_never_unpickled(settings, models, tmp_path):
    version = publish(settings)
    planted = tmp_path / "planted-code-ran"
    plant(models, version, planted)
    with pytest.raises(CorruptArtifact, match=r"model\.joblib has SHA-256"):
        registry.load_model(models, "total", version)
    assert not planted.exists()


def test_a_card_edited_to_match_a_planted_model_fails_its_own_seal(settings, models, tmp_path):
    version = publish(settings)
    planted = tmp_path / "planted-code-ran"
    pickle_bytes = plant(models, version, planted)
    card = json.loads(blob(models, "total", version, "card.json"))
    card["artifacts"]["model.joblib"] = registry.digest(pickle_bytes)
    overwrite(models, "total", version, "card.json", json.dumps(card).encode())
    with pytest.raises(CorruptArtifact, match=r"card\.json content does not match its card_sha256"):
        registry.load_model(models, "total", version)
    assert not planted.exists()


def test_a_card_without_recorded_hashes_never_unpickles_its_model(settings, models, tmp_path):
    version = publish(settings)
    card = json.loads(blob(models, "total", version, "card.json"))
    legacy = {k: v for k, v in card.items() if k not in ("artifacts", "card_sha256")}
    overwrite(models, "total", version, "card.json", json.dumps(legacy).encode())
    with pytest.raises(CorruptArtifact, match="no recorded SHA-256"):
        registry.load_model(models, "total", version)
    assert registry.read_forecast(models, "total", version)["version"] == version  # data stays readable


def sealed_card_for(models, series, version, forecast_bytes: bytes) -> bytes:
    """A card whose recorded forecast hash matches `forecast_bytes` and whose seal is valid."""
    card = json.loads(blob(models, series, version, "card.json"))
    card["artifacts"]["forecast.json"] = registry.digest(forecast_bytes)
    return registry.seal_card(card)[1]


def corrupt(models, version: str, kind: str) -> None:
    """Damage one version in one of the ways a blob can be damaged."""
    forecast = blob(models, "total", version, "forecast.json")
    if kind == "forecast-not-json":
        overwrite(models, "total", version, "forecast.json", b"\x00\x01 not json")
    elif kind == "forecast-edited":
        doc = json.loads(forecast)
        doc["points"][0]["mean"] += 1000
        overwrite(models, "total", version, "forecast.json", json.dumps(doc).encode())
    elif kind == "forecast-non-finite":  # hash and seal consistent: only the numbers say it is bad
        doc = json.loads(forecast)
        doc["points"][0]["upper_95"] = math.inf
        data = json.dumps(doc).encode()
        overwrite(models, "total", version, "forecast.json", data)
        overwrite(models, "total", version, "card.json", sealed_card_for(models, "total", version, data))
    elif kind == "forecast-missing":
        models.delete_blob(f"total/{version}/forecast.json")
    elif kind == "card-not-json":
        overwrite(models, "total", version, "card.json", b"{not json")
    elif kind == "card-edited":
        card = json.loads(blob(models, "total", version, "card.json"))
        card["metrics"]["mase"] = 0.01
        overwrite(models, "total", version, "card.json", json.dumps(card).encode())
    elif kind == "card-without-spec":  # sealed, so only the shape check can tell
        card = json.loads(blob(models, "total", version, "card.json"))
        del card["spec"]
        overwrite(models, "total", version, "card.json", registry.seal_card(card)[1])
    elif kind == "card-of-another-version":
        other = registry.list_versions(models, "total")[0]["version"]
        overwrite(models, "total", version, "card.json", blob(models, "total", other, "card.json"))
    else:
        raise ValueError(kind)


KINDS = [
    "forecast-not-json",
    "forecast-edited",
    "forecast-non-finite",
    "forecast-missing",
    "card-not-json",
    "card-edited",
    "card-without-spec",
    "card-of-another-version",
]


# --- serving: fall back to the last good version, report degraded ------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_corrupt_champion_is_replaced_by_the_last_good_one_and_reported(settings, models, kind):
    good = publish(settings, level=100.0)
    bad = publish(settings, level=500.0)
    corrupt(models, bad, kind)
    service = Service(settings)  # a fresh process: nothing cached
    response = respond("forecast", {"horizon": "7"}, service)
    body = json.loads(response.body)
    assert response.status == 200 and body["model_version"] == good
    assert response.headers["X-Forecast-Degraded"] == f"champion {bad} failed verification"
    assert all(math.isfinite(p[k]) for p in body["points"] for k in ("forecast", "lower", "upper"))
    champion = service.cache.get("total")
    assert (champion.version, champion.pointer_version) == (good, bad) and bad in champion.degraded
    assert forecast_headers(champion) == {"X-Forecast-Degraded": f"champion {bad} failed verification"}
    assert registry.corrupt_series(models) == degraded_series(settings) == ["total"]
    marker = registry.read_corrupt(models, "total")
    assert marker["served_version"] == good and [f["version"] for f in marker["failures"]] == [bad]
    assert registry.read_champion(models, "total")[0]["version"] == bad  # reading changes no pointer
    entry = fleet.read_entry(container(settings.monitoring_container, settings), "total")
    assert entry.corrupt == marker["failures"][0]["artifact"]  # the fleet index shows it too


def test_without_an_intact_version_forecast_is_503_and_the_series_is_reported(settings, models):
    only = publish(settings)
    corrupt(models, only, "forecast-edited")
    response = respond("forecast", {}, Service(settings))
    assert response.status == 503 and "no intact model" in json.loads(response.body)["detail"]
    with pytest.raises(NoIntactModel):
        ChampionCache(settings).get("total")
    assert registry.corrupt_series(models) == ["total"]


@pytest.mark.parametrize(
    ("pointer", "reason"),
    [
        (b"{truncated", "champion.json is not valid JSON"),
        (b'{"series": "total"}', "champion.json names no version"),
        (b'{"version": "v1", "reason": "x"}', "champion.json names no version and promotion time"),
        (b'{"version": "v1", "promoted_at": "t", "history": [{}]}', "history that is not a list of versions"),
    ],
)
def test_an_unreadable_pointer_is_503_not_500(settings, models, pointer, reason):
    publish(settings)
    models.upload_blob(registry.pointer_name("total"), pointer, overwrite=True)
    response = respond("forecast", {}, Service(settings))
    assert response.status == 503 and reason in json.loads(response.body)["detail"]
    assert registry.corrupt_series(models) == ["total"]


def test_promoting_a_verified_version_clears_the_report(settings, models):
    good = publish(settings)
    bad = publish(settings, level=300.0)
    corrupt(models, bad, "forecast-edited")
    cache = ChampionCache(settings)
    assert cache.get("total").version == good and registry.corrupt_series(models) == ["total"]
    fresh = publish(settings, level=200.0)
    assert registry.corrupt_series(models) == []
    served = ChampionCache(settings).get("total")
    assert (served.version, served.degraded) == (fresh, None)


def test_serving_never_emits_a_non_finite_number(settings):
    """Belt and braces: a band scaled past float range is refused, not sent as null."""
    version = publish(settings)
    champion = ChampionCache(settings).get("total")
    huge = json.loads(json.dumps(champion.forecast))
    for point in huge["points"]:
        point["mean"], point["lower_50"], point["upper_50"] = 1e308, -1.7e308, 1.7e308
    from dataclasses import replace

    with pytest.raises(NoIntactModel, match="not a finite number"):
        build_forecast(replace(champion, forecast=huge), 7, 60.0)
    assert build_forecast(champion, 7, 60.0)["model_version"] == version


# --- listing, promotion, rollback -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["card-not-json", "card-edited", "card-without-spec"])
def test_a_corrupt_card_is_listed_as_corrupt_and_models_and_dashboard_answer(settings, models, kind):
    first = publish(settings)
    second = publish(settings, level=200.0)
    corrupt(models, second, kind)
    _, versions = registry.read_versions(models, "total")
    assert [v["version"] for v in versions] == [first, second]
    assert versions[1]["decision"]["outcome"] == "corrupt" and versions[1]["champion"] is True
    assert "card.json" in versions[1]["corrupt"] and "corrupt" not in versions[0]
    service = Service(settings)
    response = respond("models", {"series": "total"}, service)
    body = json.loads(response.body)
    assert response.status == 200 and body["champion"] == second
    assert [v["decision"]["outcome"] for v in body["versions"]] == ["first-model", "corrupt"]
    page = respond("dashboard", {"series": "total"}, service)
    assert page.status == 200 and first.encode() in page.body


def test_a_corrupt_version_cannot_be_promoted_or_rolled_back_to(settings, models):
    first = publish(settings)
    second = publish(settings, level=200.0, promote=False)
    corrupt(models, second, "forecast-edited")
    with pytest.raises(CorruptArtifact, match=r"forecast\.json has SHA-256"):
        registry.promote(models, "total", second)
    assert registry.read_champion(models, "total")[0]["version"] == first
    third = publish(settings, level=300.0)
    corrupt(models, first, "card-not-json")
    with pytest.raises(CorruptArtifact):
        registry.promote(models, "total", first)
    with pytest.raises(VersionNotFound):  # CorruptArtifact is a VersionNotFound: the API answers 404
        registry.rollback(models, "total")
    assert registry.read_champion(models, "total")[0]["version"] == third


def test_promotion_replaces_an_unreadable_pointer(settings, models):
    version = publish(settings)
    models.upload_blob(registry.pointer_name("total"), b"\xff\xfe", overwrite=True)
    pointer = registry.promote(models, "total", version, reason="repair")
    assert registry.read_champion(models, "total")[0] == pointer and pointer["history"] == []


def test_a_damaged_run_claim_counts_as_unfinished(models):
    models.upload_blob(registry.run_claim_name("total", "abc"), b"{oops", overwrite=True)
    assert registry.claim_run(models, "total", "abc") is None
    registry.finish_run(models, "total", "abc", {"version": "v1"})
    assert registry.claim_run(models, "total", "abc")["version"] == "v1"


def test_markers_are_not_series(settings, models):
    version = publish(settings)
    corrupt(models, version, "forecast-edited")
    with pytest.raises(NoIntactModel):
        ChampionCache(settings).get("total")
    assert registry.corrupt_series(models) == ["total"] and registry.list_series(models) == ["total"]


def test_a_series_without_an_intact_version_is_not_reread_on_every_request(settings, models):
    import time

    only = publish(settings)
    corrupt(models, only, "card-not-json")
    cache = ChampionCache(settings)
    with pytest.raises(NoIntactModel):
        cache.get("total")
    fresh = publish(settings, level=200.0)  # the repair lands within the cache period
    with pytest.raises(NoIntactModel, match=only):
        cache.get("total")
    time.sleep(settings.champion_cache_seconds)
    assert cache.get("total").version == fresh
