"""Retrain requests on Azurite: first model, idempotency, superseded requests, refresh, card contents."""

import json
from collections import Counter
from datetime import date, timedelta

import pytest

import shared
from localrun.sample import monthly_files
from shared import registry
from shared.forecasting.champion import MARGIN
from shared.ingest import process_upload
from shared.retrain import UnprocessableRequest, handle_message, handle_request
from shared.storage import container, poison_depths, poison_queue_name, queue, read_json
from tests.factories import count_blob_requests

pytestmark = pytest.mark.slow
MONTHS = monthly_files()


def ingest(settings, *indices):
    results = [process_upload(*MONTHS[i], settings=settings) for i in indices]
    return results[-1].retrain_requests[-1]


def test_first_request_publishes_the_champion_with_a_complete_card(settings):
    request = ingest(settings, 0, 1, 2)
    outcome = handle_request(request, settings=settings)
    assert (outcome.status, outcome.reason) == ("trained", "first-model")
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, "total")
    assert pointer["version"] == outcome.version
    card = registry.read_card(models, "total", outcome.version)
    assert card["dataset"] == {
        "version": request["dataset_version"],
        "start": "2013-07-31",
        "end": "2013-09-30",
        "rows": 62,
        "filled_gaps": 0,
        "frequency": "D",
    }
    assert card["correlation_id"] == request["correlation_id"]
    assert card["code_version"] == shared.__version__
    assert card["spec"]["name"] and card["parameters"] is not None
    assert card["metrics"]["mase"] > 0 and card["decision"]["outcome"] == "first-model"
    for key in ("version", "series", "created_at", "candidates", "backtest"):
        assert key in card
    forecast = registry.read_forecast(models, "total", outcome.version)
    assert forecast["points"][0]["date"] == "2013-10-01" and len(forecast["points"]) == forecast["max_horizon"] == 90
    model = registry.load_model(models, "total", outcome.version)
    assert model.predict(1).index[0].date() == date(2013, 10, 1)


def test_the_same_request_twice_trains_once(settings):
    request = ingest(settings, 0, 1, 2)
    first = handle_request(request, settings=settings)
    again = handle_request(request, settings=settings)
    assert (again.status, again.reason, again.version) == ("skipped", "already trained", first.version)
    models = container(settings.models_container, settings)
    assert len(registry.list_versions(models, "total")) == 1


def test_a_crashed_workers_claim_does_not_block_the_retrain(settings):
    request = ingest(settings, 0, 1, 2)
    models = container(settings.models_container, settings)
    assert registry.claim_run(models, "total", request["dataset_version"]) is None  # a worker claims, then dies
    outcome = handle_request(request, settings=settings)
    assert outcome.status == "trained" and registry.read_champion(models, "total")[0]["version"] == outcome.version


def test_request_for_an_older_dataset_version_is_skipped(settings):
    old = ingest(settings, 0, 1)
    newer = ingest(settings, 2)
    outcome = handle_request(old, settings=settings)
    assert outcome.status == "skipped" and outcome.reason == f"superseded by {newer['dataset_version']}"
    assert registry.list_versions(container(settings.models_container, settings), "total") == []


def test_malformed_request_is_refused(settings):
    with pytest.raises(UnprocessableRequest, match="lacks dataset_version"):
        handle_request({"series": "total"}, settings=settings)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json at all", "is not JSON"),
        (b"\xff\xfe\x00", "is not JSON"),
        (b"[1, 2]", "is not a JSON object: list"),
        (b'{"series": "total"}', "lacks dataset_version"),
        (b'{"series": "../etc", "dataset_version": "x"}', "invalid series id '../etc'"),
        (b'{"series": "total\\n", "dataset_version": "x"}', "invalid series id 'total\\n'"),
        (b'{"series": "total", "dataset_version": 7}', "dataset_version that is not a string"),
        (b'{"series": "total", "dataset_version": "x", "deferrals": "many"}', "invalid deferral count"),
        (b'{"batch": [], "reason": "new-data"}', "batch is not a list of 1 to 200 requests"),
        (b'{"batch": {"series": "total"}}', "batch is not a list of 1 to 200 requests"),
        (b'{"batch": [{"series": "total", "dataset_version": "x"}, 7]}', "an item that is not a request object"),
    ],
)
def test_a_request_that_can_never_succeed_goes_to_poison_at_once_with_its_reason(settings, raw, reason):
    [outcome] = handle_message(raw, message_id="m-1", dequeue_count=1, settings=settings)
    assert outcome.status == "poisoned" and reason in outcome.reason
    [message] = queue(poison_queue_name(settings.retrain_queue), settings).peek_messages()
    envelope = json.loads(message.content)
    assert reason in envelope["reason"] and envelope["body"] == raw.decode("utf-8", errors="replace")
    assert (envelope["message_id"], envelope["dequeue_count"], envelope["body_truncated"]) == ("m-1", 1, False)
    assert poison_depths(settings)[poison_queue_name(settings.retrain_queue)] == 1
    assert registry.list_series(container(settings.models_container, settings)) == []


def test_a_valid_message_is_handled_not_poisoned(settings):
    request = ingest(settings, 0, 1, 2)
    [outcome] = handle_message(json.dumps(request).encode(), message_id="m-2", settings=settings)
    assert (outcome.status, outcome.reason) == ("trained", "first-model")
    assert poison_depths(settings)[poison_queue_name(settings.retrain_queue)] == 0


def store_days(settings, series: str, days: dict) -> str:
    from shared.ingest.curated import merge_series, update_manifest

    curated = container(settings.curated_container, settings)
    outcome = merge_series(curated, series, days)
    update_manifest(curated, [series])
    return outcome.version


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the candidates overflow on purpose
def test_a_retrain_whose_forecast_is_not_finite_is_refused_and_the_champion_kept(settings):
    """Finite but huge daily totals (1e307..1.7e308) make every candidate's band overflow to infinity."""
    from tests.factories import publish

    champion = publish(settings, series="huge")
    models = container(settings.models_container, settings)
    pointer_before = registry.read_champion(models, "huge")
    start = date(2024, 1, 1)
    days = {start + timedelta(d): (1.7e308 if d % 7 == 3 else 1e307 * (1 + d % 5)) for d in range(70)}
    dataset_version = store_days(settings, "huge", days)
    outcome = handle_request({"series": "huge", "dataset_version": dataset_version}, settings=settings)
    assert outcome.status == "refused" and outcome.version is None
    assert "not published: its forecast point" in outcome.reason and "not a finite number" in outcome.reason
    assert registry.read_champion(models, "huge") == pointer_before
    assert [c["version"] for c in registry.list_versions(models, "huge")] == [champion]
    record, _ = read_json(models, registry.run_claim_name("huge", dataset_version))
    assert record["status"] == "done" and record["outcome"] == "refused" and record["refused"] == outcome.reason
    again = handle_request({"series": "huge", "dataset_version": dataset_version}, settings=settings)
    assert (again.status, again.reason) == ("skipped", "already trained")  # the same data is not retried


@pytest.mark.parametrize("damage", ["card-not-json", "forecast-edited", "pointer-not-json"])
def test_a_corrupt_champion_is_replaced_by_the_next_retrain_with_the_reason_recorded(settings, damage):
    first = handle_request(ingest(settings, 0, 1, 2), settings=settings)
    models = container(settings.models_container, settings)
    if damage == "card-not-json":
        models.upload_blob(f"total/{first.version}/card.json", b"{not json", overwrite=True)
    elif damage == "forecast-edited":
        models.upload_blob(f"total/{first.version}/forecast.json", b'{"points": []}', overwrite=True)
    else:
        models.upload_blob(registry.pointer_name("total"), b"{not json", overwrite=True)
    second = handle_request(ingest(settings, 3), settings=settings)
    assert (second.status, second.reason) == ("trained", "first-model")  # no intact champion to beat
    pointer, _ = registry.read_champion(models, "total")
    assert pointer["version"] == second.version and "replaces corrupt" in pointer["reason"]
    card = registry.read_card(models, "total", second.version)
    [replaced] = card["decision"]["replaced_corrupt"]
    assert replaced["version"] == ("champion" if damage == "pointer-not-json" else first.version)
    assert registry.corrupt_series(models) == []
    if damage != "pointer-not-json":
        assert [h["version"] for h in pointer["history"]] == [first.version]
    from shared.serving import ChampionCache

    assert ChampionCache(settings).get("total").version == second.version


def test_unknown_series_is_skipped(settings):
    outcome = handle_request({"series": "ghost", "dataset_version": "x"}, settings=settings)
    assert outcome.status == "skipped" and outcome.reason == "unknown series"


def test_new_month_moves_the_champion_to_a_model_trained_through_it(settings):
    first = handle_request(ingest(settings, 0, 1, 2), settings=settings)
    second = handle_request(ingest(settings, 3), settings=settings)
    # October's data re-selects the combination with other members; on the four shared windows its mean MASE
    # is more than the margin below the champion's, and four windows are too few for the paired test.
    assert (second.status, second.reason) == ("trained", "promoted")
    decision = second.decision
    assert decision["promote"] is True and decision["improvement"] >= MARGIN
    assert decision["test"] == {"name": "none (too few windows)", "windows": 4, "p_value": None}
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, "total")
    assert pointer["version"] == second.version and pointer["reason"] == f"challenger beat champion {first.version}"
    assert pointer["history"][0]["version"] == first.version
    card = registry.read_card(models, "total", second.version)
    assert card["dataset"]["end"] == "2013-10-31"
    assert card["decision"]["champion_version"] == first.version
    forecast = registry.read_forecast(models, "total", second.version)
    assert date.fromisoformat(forecast["points"][0]["date"]) == date(2013, 10, 31) + timedelta(days=1)


def test_retrain_queue_messages_are_base64_json(settings):
    ingest(settings, 0)
    message = next(iter(queue(settings.retrain_queue, settings).receive_messages()))
    body = json.loads(message.content)
    assert set(body) == {"series", "dataset_version", "reason", "correlation_id", "upload"}


def test_request_for_a_series_being_retrained_is_deferred(settings):
    from shared.retrain import DEFER_SECONDS, series_lock

    request = ingest(settings, 0, 1, 2)
    retrain_queue = queue(settings.retrain_queue, settings)
    retrain_queue.clear_messages()
    models = container(settings.models_container, settings)
    with series_lock(models, "total"):
        outcome = handle_request(request, settings=settings)
    assert (outcome.status, outcome.reason) == ("deferred", "series busy")
    assert registry.list_versions(models, "total") == []
    assert list(retrain_queue.receive_messages()) == []  # invisible for DEFER_SECONDS
    assert retrain_queue.get_queue_properties().approximate_message_count == 1
    sent = outcome.redelivery
    assert sent.next_visible_on - sent.inserted_on == timedelta(seconds=DEFER_SECONDS)
    retrain_queue.update_message(sent.id, sent.pop_receipt, visibility_timeout=0)  # the deferral has elapsed
    redelivered = json.loads(next(iter(retrain_queue.receive_messages())).content)
    assert redelivered == {**request, "deferrals": 1}
    assert handle_request(redelivered, settings=settings).status == "trained"


def test_a_new_series_with_a_few_days_is_served_a_marked_fallback_then_moves_to_selection(settings):
    from shared.api import Service, respond

    request = ingest(settings, 0)  # the sample's first month holds one day
    outcome = handle_request(request, settings=settings)
    assert (outcome.status, outcome.reason) == ("trained", "first-model")
    models = container(settings.models_container, settings)
    card = registry.read_card(models, "total", outcome.version)
    assert card["spec"]["name"] == "fallback" and card["spec"]["fallback"] is True
    assert card["fallback"]["observations"] == 1 and card["fallback"]["needed"] > 1
    assert card["failures"]["engine"] == 0
    doc = registry.read_forecast(models, "total", outcome.version)
    assert doc["fallback"] is True and doc["trained_through"] == card["dataset"]["end"]
    widths = [p["upper_95"] - p["lower_95"] for p in doc["points"]]
    assert widths[0] > 0 and widths[-1] > widths[0]  # wide, and wider with the horizon
    body = json.loads(respond("forecast", {"horizon": "7"}, Service(settings)).body)
    assert body["model_version"] == outcome.version and len(body["points"]) == 7

    later = handle_request(ingest(settings, 1, 2), settings=settings)  # three months: full selection
    card = registry.read_card(models, "total", later.version)
    assert later.reason == "promoted" and card["spec"]["name"] != "fallback" and card["fallback"] is None
    assert "cold-start fallback" in card["decision"]["reason"]
    assert registry.read_forecast(models, "total", later.version)["fallback"] is False


def test_sales_forecasts_are_never_negative(settings):
    from shared.api import Service, respond

    handle_request(ingest(settings, 0, 1, 2), settings=settings)
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, "total")
    doc = registry.read_forecast(models, "total", pointer["version"])
    assert doc["floor"] == 0.0
    assert min(p["lower_99"] for p in doc["points"]) >= 0
    for level in ("99.5", "97", "60"):
        body = json.loads(respond("forecast", {"horizon": "90", "level": level}, Service(settings)).body)
        assert min(p["lower"] for p in body["points"]) >= 0 and min(p["forecast"] for p in body["points"]) >= 0


def install_champion(settings, spec: dict) -> str:
    """A champion with a chosen specification, published like a retrain would."""
    from tests.factories import publish

    version = publish(settings)
    models = container(settings.models_container, settings)
    card = registry.read_card(models, "total", version)
    # The card is immutable: publish a second version whose card carries the wanted spec.
    second = registry.new_version_id()
    model = registry.load_model(models, "total", version)
    registry.write_version(
        models,
        "total",
        second,
        model=model,
        card={**card, "version": second, "spec": spec},
        forecast=registry.read_forecast(models, "total", version),
    )
    registry.promote(models, "total", second)
    return second


def test_challenger_that_is_not_better_keeps_and_refreshes_the_champion(settings):
    from shared.forecasting import select_model
    from shared.ingest.curated import read_series
    from shared.training import training_series

    request = ingest(settings, 0, 1, 2, 3)
    days = read_series(container(settings.curated_container, settings), "total").days
    y, _ = training_series(days)
    same_spec = select_model(y).spec  # the challenger this data selects: it cannot beat itself by the margin
    stale_interval = {"method": "model", "backtest_coverage": None, "points": 0}
    champion = install_champion(settings, {**same_spec, "interval": stale_interval})
    outcome = handle_request(request, settings=settings)
    assert (outcome.status, outcome.reason) == ("trained", "kept-champion")
    models = container(settings.models_container, settings)
    card = registry.read_card(models, "total", outcome.version)
    assert card["decision"]["outcome"] == "kept-champion" and card["decision"]["promote"] is False
    assert card["decision"]["champion_version"] == champion and card["decision"]["rule"]
    assert card["spec"]["name"] == same_spec["name"] and card["dataset"]["end"] == "2013-10-31"
    assert card["spec"]["interval"] == same_spec["interval"] != stale_interval  # recalibrated on the new data
    assert registry.read_champion(models, "total")[0]["version"] == outcome.version  # the refreshed champion
    assert registry.read_forecast(models, "total", outcome.version)["points"][0]["date"] == "2013-11-01"


def test_clearly_better_challenger_is_promoted(settings):
    request = ingest(settings, 0, 1, 2, 3)
    naive_mean = {"name": "snaive", "freq": "D", "period": 1}  # yesterday's value: a weak champion
    champion = install_champion(settings, naive_mean)
    outcome = handle_request(request, settings=settings)
    assert (outcome.status, outcome.reason) == ("trained", "promoted")
    card = registry.read_card(container(settings.models_container, settings), "total", outcome.version)
    decision = card["decision"]
    assert (
        decision["outcome"] == "promoted" and decision["promote"] is True and decision["champion_version"] == champion
    )
    assert decision["challenger"]["metrics"]["mase"] < 0.98 * decision["champion"]["metrics"]["mase"]


def _short_estate(settings, names, days=6):
    """Six days per series by default: too short for selection, so each retrain is the quick cold-start fallback."""
    rows = "".join(f"{name},2026-03-{d:02d},{10 + d}\n" for name in names for d in range(1, days + 1))
    return process_upload("estate.csv", f"series_id,date,value\n{rows}".encode(), settings=settings)


def _in_other_shards(count):
    from shared.ingest.curated import shard_of

    names, shards = [], set()
    for i in range(1000):
        name = f"sku-{i}"
        if shard_of(name) not in shards:
            names.append(name)
            shards.add(shard_of(name))
        if len(names) == count:
            return names
    raise AssertionError("not enough distinct shards")


def test_a_batch_trains_each_series_and_isolates_the_one_that_fails_and_the_one_that_is_invalid(settings):
    from shared.ingest.curated import shard_of

    good, other, broken = _in_other_shards(3)
    result = _short_estate(settings, [good, other, broken])
    curated = container(settings.curated_container, settings)
    shard, _ = read_json(curated, shard_of(broken))
    shard["series"][broken]["csv"] = "date,value\nnot-a-date,1\n"  # its data cannot be read: the retrain raises
    curated.upload_blob(shard_of(broken), json.dumps(shard).encode(), overwrite=True)
    retrain = queue(settings.retrain_queue, settings)
    retrain.clear_messages()
    items = _items(result)
    body = {"batch": [*items, {"series": "../bad", "dataset_version": "x"}], "reason": "new-data", "upload": "u"}

    outcomes = handle_message(json.dumps(body).encode(), message_id="b-1", dequeue_count=1, settings=settings)

    assert [o.status for o in outcomes] == ["trained", "trained", "requeued", "poisoned"]
    models = container(settings.models_container, settings)
    assert registry.read_champion(models, good)[0] and registry.read_champion(models, other)[0]
    assert registry.read_champion(models, broken)[0] is None
    [again] = [json.loads(m.content) for m in retrain.peek_messages(max_messages=32)]
    assert again == {**items[2], "reason": "new-data", "upload": "u"}  # on its own: its own retries and poison
    [poisoned] = queue(poison_queue_name(settings.retrain_queue), settings).peek_messages()
    envelope = json.loads(poisoned.content)
    assert "invalid series id '../bad'" in envelope["reason"] and json.loads(envelope["body"])["series"] == "../bad"


def test_a_batch_delivered_again_is_split_into_single_requests(settings):
    names = _in_other_shards(3)
    result = _short_estate(settings, names)
    retrain = queue(settings.retrain_queue, settings)
    retrain.clear_messages()
    items = _items(result)
    body = {"batch": items, "reason": "new-data"}

    outcomes = handle_message(json.dumps(body).encode(), message_id="b-2", dequeue_count=2, settings=settings)

    assert [o.status for o in outcomes] == ["requeued"] * 3
    singles = [json.loads(m.content) for m in retrain.peek_messages(max_messages=32)]
    assert sorted(singles, key=lambda m: m["series"]) == sorted(
        ({**item, "reason": "new-data"} for item in items), key=lambda m: m["series"]
    )
    assert registry.list_series(container(settings.models_container, settings)) == []
    assert [o.status for o in handle_message(json.dumps(singles[0]).encode(), settings=settings)] == ["trained"]


def _items(result) -> list[dict]:
    """The retrain requests of every series an upload changed, as batch items."""
    return [{"series": r["series"], "dataset_version": r["dataset_version"]} for r in result.retrain_requests]


def _batch(result, **common) -> bytes:
    """One retrain message for every series an upload changed, as the upload's Batcher sends them."""
    return json.dumps({"batch": _items(result), "reason": "new-data", **common}).encode()


def _kinds(sent) -> str:
    """The requests by method and what they touch (lock, claim, pointer, ...), for a readable failure."""
    import re

    def kind(method: str, path: str) -> str:
        name, query = path.split("?", 1)
        name = re.sub(r"sku-\d+|v\d{8}T[^/]+|[0-9a-f]{16}\.json|shards/\d+", "*", name.split("/", 1)[-1])
        return f"{method} {name} {query.split('&')[0]}".strip()

    return ", ".join(f"{k} x{v}" for k, v in sorted(Counter(kind(*s) for s in sent).items()))


def test_a_batch_retrain_costs_13_blob_requests_for_a_new_series_and_15_for_a_known_one(settings, monkeypatch):
    """The request budget of the event path (bench/README "Event path"): a new series is its shard, the lock
    (created, leased, released), the run claim (created, finished), the pointer read and write, the three
    version blobs and the fleet entry with its status copy; a known series reads its champion's card and
    forecast, leases its existing lock at once, and merges its fleet entry (read, write, copy). A batch
    lists the corruption markers once and deletes none where there are none."""
    from shared.fleet import read_entry

    names = _in_other_shards(4)
    first = _short_estate(settings, names)
    sent = count_blob_requests(monkeypatch, settings)
    outcomes = handle_message(_batch(first), message_id="b-1", dequeue_count=1, settings=settings)
    assert [o.status for o in outcomes] == ["trained"] * 4
    assert len(sent) == 1 + 13 * len(names), _kinds(sent)
    assert sum(method == "DELETE" for method, _ in sent) == 0

    later = _short_estate(settings, names, days=9)  # three more days: a new dataset version of each series
    sent.clear()
    outcomes = handle_message(_batch(later), message_id="b-2", dequeue_count=1, settings=settings)
    assert [o.status for o in outcomes] == ["trained"] * 4
    assert len(sent) == 1 + 15 * len(names), _kinds(sent)
    assert sum(method == "DELETE" for method, _ in sent) == 0
    monitoring = container(settings.monitoring_container, settings)
    assert [read_entry(monitoring, name).champion for name in names] == [o.version for o in outcomes]


def test_a_batch_delivered_twice_trains_each_series_once(settings):
    from shared.fleet import read_entry

    names = _in_other_shards(3)
    body = _batch(_short_estate(settings, names))
    first = handle_message(body, message_id="b-1", dequeue_count=1, settings=settings)
    models = container(settings.models_container, settings)
    pointers = [registry.read_champion(models, name) for name in names]
    again = handle_message(body, message_id="b-1", dequeue_count=1, settings=settings)
    assert [(o.status, o.reason, o.version) for o in again] == [
        ("skipped", "already trained", o.version) for o in first
    ]
    assert [registry.read_champion(models, name) for name in names] == pointers  # same pointers, same ETags
    assert [len(registry.list_versions(models, name)) for name in names] == [1, 1, 1]
    monitoring = container(settings.monitoring_container, settings)
    assert [read_entry(monitoring, name).champion for name in names] == [o.version for o in first]


def test_two_deliveries_of_one_request_at_once_train_it_once(settings):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    request = ingest(settings, 0, 1, 2)
    start = Barrier(2)

    def deliver(_):
        start.wait()
        return handle_request(request, settings=settings)

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(deliver, range(2)), key=lambda o: o.status)
    assert [o.status for o in outcomes] in (["deferred", "trained"], ["skipped", "trained"])
    trained = outcomes[-1]
    models = container(settings.models_container, settings)
    assert [c["version"] for c in registry.list_versions(models, "total")] == [trained.version]
    claim, _ = read_json(models, registry.run_claim_name("total", request["dataset_version"]))
    assert (claim["status"], claim["version"]) == ("done", trained.version)


def test_a_batch_clears_the_corruption_markers_there_are_and_deletes_no_other(settings, monkeypatch):
    from shared.errors import CorruptArtifact

    marked, damaged, _clean = names = _in_other_shards(3)
    handle_message(_batch(_short_estate(settings, names)), message_id="b-1", dequeue_count=1, settings=settings)
    models = container(settings.models_container, settings)
    # A marker on an intact champion (serving found a failure since repaired, say): only the batch's listing
    # knows of it. The other champion is damaged: its retrain finds that itself and marks it.
    failure = CorruptArtifact(marked, "v0", "forecast.json", "was edited")
    registry.mark_corrupt(models, marked, [failure], registry.read_champion(models, marked)[0]["version"])
    version = registry.read_champion(models, damaged)[0]["version"]
    models.upload_blob(f"{damaged}/{version}/forecast.json", b'{"points": []}', overwrite=True)
    later = _short_estate(settings, names, days=9)
    sent = count_blob_requests(monkeypatch, settings)

    outcomes = handle_message(_batch(later), message_id="b-2", dequeue_count=1, settings=settings)

    assert [o.status for o in outcomes] == ["trained"] * 3
    deleted = sorted(path for method, path in sent if method == "DELETE")
    assert deleted == sorted(f"{settings.models_container}/_corrupt/{name}.json?" for name in (marked, damaged))
    assert registry.corrupt_series(models) == []
    card = registry.read_card(models, damaged, outcomes[1].version)
    assert [r["version"] for r in card["decision"]["replaced_corrupt"]] == [version]


def test_the_series_lock_is_taken_whether_or_not_its_blob_exists(settings):
    from shared.retrain import SeriesBusy, series_lock

    models = container(settings.models_container, settings)
    with series_lock(models, "fresh", exists=True):  # a wrong guess: the series was never locked
        for exists in (True, False):
            with pytest.raises(SeriesBusy), series_lock(models, "fresh", exists=exists):
                pass
    with series_lock(models, "fresh"):  # released, and its blob exists now: taken again
        assert models.get_blob_client("fresh/lock").get_blob_properties().lease.state == "leased"
    assert models.get_blob_client("fresh/lock").get_blob_properties().lease.state == "available"


def test_the_stored_forecast_path_is_the_models_prediction_at_every_level():
    import numpy as np
    import pandas as pd

    from shared.forecasting.naive import SeasonalNaive
    from shared.schemas import STORED_LEVELS
    from shared.training import forecast_document

    index = pd.date_range("2024-01-01", periods=60, freq="D")
    model = SeasonalNaive({"freq": "D"}).fit(pd.Series(100 + 9 * np.sin(np.arange(60)), index=index))
    doc = forecast_document(model, series="s", version="v", freq="D", trained_through="2024-02-29", floor=98.0)
    frame = model.predict(90, levels=STORED_LEVELS).clip(lower=98.0)
    keys = ["date", "mean", *(f"{side}_{level}" for level in STORED_LEVELS for side in ("lower", "upper"))]
    assert len(doc["points"]) == doc["max_horizon"] == 90
    for point, (stamp, row) in zip(doc["points"], frame.iterrows(), strict=True):
        assert list(point) == keys and point["date"] == stamp.date().isoformat()
        assert all(type(point[key]) is float and point[key] == row[key] for key in keys[1:])
    assert min(p["lower_99"] for p in doc["points"]) == 98.0  # the floor clips the widest band
