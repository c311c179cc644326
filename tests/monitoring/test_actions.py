"""Action decisions (cooldown, retrain only on changed data, once per version) and the webhook on loopback."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.monitoring.actions import decide, post_webhook, retrain_reason, webhook_payload

NOW = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
COOLDOWN = timedelta(hours=24)
EMPTY = {"alerts": {}, "retrain": None}


def plan_for(state, events=("DriftDetected",), now=NOW, data="d2", champion="d1"):
    return decide(
        state,
        events=list(events),
        now=now,
        cooldown=COOLDOWN,
        data_version=data,
        champion_data_version=champion,
        run_id="run-1",
    )


def test_first_detection_alerts_and_requests_a_retrain_of_the_new_data():
    state, plan = plan_for(EMPTY)
    assert plan.alerts == ["DriftDetected"] and plan.suppressed == {} and plan.retrain
    assert state["retrain"] == {"dataset_version": "d2", "requested_at": NOW.isoformat(), "run_id": "run-1"}
    assert state["alerts"]["DriftDetected"]["at"] == NOW.isoformat()


def test_no_retrain_when_the_champion_was_trained_on_the_current_data():
    state, plan = plan_for(EMPTY, data="d1", champion="d1")
    assert plan.alerts == ["DriftDetected"] and not plan.retrain
    assert "alert only" in plan.retrain_note and state["retrain"] is None


def test_the_same_dataset_version_is_never_requested_twice():
    state, _ = plan_for(EMPTY)
    later = NOW + timedelta(days=3)
    _, plan = plan_for(state, now=later)
    assert plan.alerts == ["DriftDetected"] and not plan.retrain and "already requested" in plan.retrain_note
    _, newer = plan_for(state, now=later, data="d3")
    assert newer.retrain


def test_cooldown_holds_back_the_same_event_but_not_the_other_one():
    state, _ = plan_for(EMPTY)
    _, soon = plan_for(state, events=("DriftDetected", "ModelDecayDetected"), now=NOW + timedelta(hours=23))
    assert soon.alerts == ["ModelDecayDetected"]
    assert soon.suppressed == {"DriftDetected": (NOW + COOLDOWN).isoformat()}
    _, after = plan_for(state, now=NOW + COOLDOWN)
    assert after.alerts == ["DriftDetected"]


def test_nothing_fired_changes_nothing():
    state, plan = plan_for(EMPTY, events=())
    assert state == EMPTY and plan.alerts == [] and not plan.retrain


def report():
    return {
        "series": "total",
        "status": "drift",
        "run_id": "run-1",
        "checked_at": NOW.isoformat(),
        "champion": {"version": "v1"},
        "reasons": ["drift level_shift: 1.2 (threshold 0.6)", "decay cusum_mean: 9 (threshold 5)"],
        "window": {"start": "2026-02-01", "end": "2026-02-28", "points": 28},
        "drift": {"fired": ["level_shift"], "checks": {"level_shift": {"statistic": 1.2, "threshold": 0.6}}},
        "decay": {"fired": [], "checks": {"cusum_mean": {"statistic": 1.0, "threshold": 5.0}}},
        "actions": {"retrain": {"requested": True}},
    }


def test_webhook_payload_and_retrain_reason():
    payload = webhook_payload("DriftDetected", report())
    assert payload == {
        "event": "DriftDetected",
        "series": "total",
        "status": "drift",
        "checked_at": NOW.isoformat(),
        "run_id": "run-1",
        "champion_version": "v1",
        "fired": ["level_shift"],
        "reasons": ["drift level_shift: 1.2 (threshold 0.6)"],
        "statistics": {"level_shift": 1.2},
        "thresholds": {"level_shift": 0.6},
        "window": {"start": "2026-02-01", "end": "2026-02-28", "points": 28},
        "retrain_requested": True,
        "report": "/api/drift?series=total",
    }
    assert retrain_reason(report()) == "monitor: drift (level_shift) [run run-1]"


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what is POSTed and answers with a set status."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                if delay:
                    threading.Event().wait(delay)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/drift"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_webhook_posts_the_payload_as_json():
    with Receiver() as receiver:
        outcome = post_webhook(receiver.url, webhook_payload("DriftDetected", report()), timeout=5)
    assert outcome == {"event": "DriftDetected", "status": "sent", "http_status": 204}
    [request] = receiver.requests
    assert request["path"] == "/hooks/drift"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == webhook_payload("DriftDetected", report())


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (204, 2.0)])
def test_webhook_failure_is_reported_not_raised(status, delay, caplog):
    with Receiver(status=status, delay=delay) as receiver:
        outcome = post_webhook(receiver.url, webhook_payload("DriftDetected", report()), timeout=0.5)
    assert outcome["status"] == "failed"
    assert (outcome.get("http_status") == 500) if status == 500 else ("timed out" in outcome["error"])
    assert "webhook for DriftDetected of total" in caplog.text


def test_webhook_to_a_closed_port_fails_quietly():
    with Receiver() as receiver:
        url = receiver.url
    outcome = post_webhook(url, webhook_payload("DriftDetected", report()), timeout=1)
    assert outcome["status"] == "failed" and "error" in outcome
