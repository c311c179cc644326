"""The champion rule on its own: scoring, margin and paired test, the outcome of a retrain."""

from __future__ import annotations

import json

import pytest

from shared.forecasting.champion import MARGIN, cold_start_decision, decide_outcome, decide_promotion, score_champion

CHALLENGER = {"name": "ets", "freq": "D"}
CHAMPION = {"name": "arima", "freq": "D"}


def summary(per_window):
    return {"mase": sum(per_window) / len(per_window), "per_window_mase": per_window, "windows": len(per_window)}


def test_first_model_is_promoted():
    out = decide_promotion(CHALLENGER, summary([0.8, 0.9]), None, None)
    assert out["promote"] is True and "no champion" in out["reason"]


def test_better_challenger_on_every_window_is_promoted():
    out = decide_promotion(
        CHALLENGER, summary([0.7, 0.6, 0.8, 0.7, 0.9, 0.6]), CHAMPION, summary([0.9, 0.8, 1.0, 0.8, 1.1, 0.9])
    )
    assert out["promote"] is True
    assert out["test"]["p_value"] == pytest.approx(1 / 64)
    json.dumps(out)  # the record is JSON-able
    assert out["challenger"]["spec"] == CHALLENGER and out["champion"]["spec"] == CHAMPION
    assert out["per_window_mase"]["champion"] == [0.9, 0.8, 1.0, 0.8, 1.1, 0.9]
    assert "Wilcoxon" in out["rule"] and f"{MARGIN:.0%}" in out["rule"]


def test_worse_challenger_keeps_the_champion():
    out = decide_promotion(CHALLENGER, summary([1.0, 1.1, 0.9, 1.0, 1.0, 1.2]), CHAMPION, summary([0.9] * 6))
    assert out["promote"] is False and "not 2% below" in out["reason"]


def test_margin_alone_is_not_enough_without_a_significant_paired_test():
    # Lower mean, but only because of one window: the signed-rank test does not reject.
    challenger = summary([0.5, 1.01, 1.01, 1.01, 1.01, 1.01])
    out = decide_promotion(CHALLENGER, challenger, CHAMPION, summary([1.0] * 6))
    assert out["improvement"] > MARGIN
    assert out["promote"] is False and "not significant" in out["reason"]


def test_few_windows_use_the_margin_only():
    out = decide_promotion(CHALLENGER, summary([0.8, 0.9]), CHAMPION, summary([1.0, 1.0]))
    assert out["promote"] is True and out["test"]["p_value"] is None


def test_champion_that_cannot_be_evaluated_is_replaced():
    out = decide_promotion(CHALLENGER, summary([0.8]), CHAMPION, None, "ValueError: boom")
    assert out["promote"] is True and "boom" in out["reason"]


def test_the_margin_boundary_promotes_at_two_percent_and_keeps_just_below():
    # Two windows: the margin alone decides. Exactly 2% below promotes; 1.9% below keeps.
    at = decide_promotion(CHALLENGER, summary([0.98, 0.98]), CHAMPION, summary([1.0, 1.0]))
    below = decide_promotion(CHALLENGER, summary([0.981, 0.981]), CHAMPION, summary([1.0, 1.0]))
    assert at["improvement"] == pytest.approx(MARGIN) and at["promote"] is True
    assert below["improvement"] < MARGIN and below["promote"] is False and "not 2% below" in below["reason"]


def test_equal_errors_keep_the_champion():
    out = decide_promotion(CHALLENGER, summary([0.9] * 6), CHAMPION, summary([0.9] * 6))
    assert out["promote"] is False and out["improvement"] == 0


def test_a_challenger_without_backtest_windows_keeps_the_champion():
    out = decide_promotion(CHALLENGER, {"per_window_mase": [], "windows": 0}, CHAMPION, summary([1.0, 1.0]))
    assert out["promote"] is False and "no backtest window" in out["reason"]
    assert out["per_window_mase"] == {"challenger": [], "champion": [1.0, 1.0]}


def test_a_cold_start_fallback_champion_is_replaced_without_being_scored():
    fallback = {"name": "fallback", "freq": "D", "fallback": True}
    out = decide_promotion(CHALLENGER, summary([2.0, 2.0]), fallback, None, replaces_fallback=True)
    assert out["promote"] is True and "cold-start fallback" in out["reason"] and out["champion"] is None


def test_scoring_a_champion_that_no_longer_fits_records_why(caplog):
    def evaluate(spec):
        raise ValueError("order too long for 12 points")

    scored = score_champion(CHAMPION, evaluate)
    assert scored.summary is None and scored.model is None
    assert scored.error == "ValueError: order too long for 12 points"
    assert "could not be evaluated" in caplog.text
    ok = score_champion(CHAMPION, lambda spec: (summary([1.0]), "fitted"))
    assert (ok.summary, ok.model, ok.error) == (summary([1.0]), "fitted", None)


class Damaged:
    def __init__(self, version, artifact="card.json", reason="is not JSON"):
        self.version, self.artifact, self.reason = version, artifact, reason


@pytest.mark.parametrize(
    ("promote", "champion", "corrupt", "expected"),
    [
        (True, None, [], ("first-model", True, "first model")),
        (True, None, [Damaged("v1")], ("first-model", True, "first intact model; replaces corrupt v1")),
        (True, "v2", [], ("promoted", True, "challenger beat champion v2")),
        (False, "v2", [], ("kept-champion", False, "refresh of champion v2 with new data")),
        (
            False,
            "v1",
            [Damaged("v2", "forecast.json", "hash mismatch"), Damaged("v3")],
            ("kept-champion", False, "refresh of champion v1 with new data; replaces corrupt v2 (forecast.json hash"),
        ),
    ],
)
def test_each_outcome_of_a_retrain(promote, champion, corrupt, expected):
    out = decide_outcome({"promote": promote}, champion, corrupt)
    name, serve, reason = expected
    assert (out.name, out.serve_challenger) == (name, serve) and out.reason.startswith(reason)
    assert [c["version"] for c in out.replaced_corrupt] == [c.version for c in corrupt]


def test_without_a_backtest_window_the_fallback_is_promoted_and_a_champion_is_replaced():
    out = cold_start_decision("1 observation(s): too short for a backtest window; full selection from 35")
    assert out["promote"] is True and out["rule"].startswith("cold start") and "too short" in out["reason"]
    assert decide_outcome(out, "v1").name == "promoted" and decide_outcome(out, "v1").serve_challenger is True
