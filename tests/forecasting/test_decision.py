"""The champion/challenger decision rule and its JSON record."""

from __future__ import annotations

import json

import pytest

from shared.forecasting.decision import MARGIN, decide

CHALLENGER = {"name": "ets", "freq": "D"}
CHAMPION = {"name": "arima", "freq": "D"}


def summary(per_window):
    return {"mase": sum(per_window) / len(per_window), "per_window_mase": per_window, "windows": len(per_window)}


def test_first_model_is_promoted():
    out = decide(CHALLENGER, summary([0.8, 0.9]), None, None)
    assert out["promote"] is True and "no champion" in out["reason"]


def test_better_challenger_on_every_window_is_promoted():
    out = decide(CHALLENGER, summary([0.7, 0.6, 0.8, 0.7, 0.9, 0.6]), CHAMPION, summary([0.9, 0.8, 1.0, 0.8, 1.1, 0.9]))
    assert out["promote"] is True
    assert out["test"]["p_value"] == pytest.approx(1 / 64)
    json.dumps(out)  # the record is JSON-able
    assert out["challenger"]["spec"] == CHALLENGER and out["champion"]["spec"] == CHAMPION
    assert out["per_window_mase"]["champion"] == [0.9, 0.8, 1.0, 0.8, 1.1, 0.9]
    assert "Wilcoxon" in out["rule"] and f"{MARGIN:.0%}" in out["rule"]


def test_worse_challenger_keeps_the_champion():
    out = decide(CHALLENGER, summary([1.0, 1.1, 0.9, 1.0, 1.0, 1.2]), CHAMPION, summary([0.9] * 6))
    assert out["promote"] is False and "not 2% below" in out["reason"]


def test_margin_alone_is_not_enough_without_a_significant_paired_test():
    # Lower mean, but only because of one window: the signed-rank test does not reject.
    challenger = summary([0.5, 1.01, 1.01, 1.01, 1.01, 1.01])
    out = decide(CHALLENGER, challenger, CHAMPION, summary([1.0] * 6))
    assert out["improvement"] > MARGIN
    assert out["promote"] is False and "not significant" in out["reason"]


def test_few_windows_use_the_margin_only():
    out = decide(CHALLENGER, summary([0.8, 0.9]), CHAMPION, summary([1.0, 1.0]))
    assert out["promote"] is True and out["test"]["p_value"] is None


def test_champion_that_cannot_be_evaluated_is_replaced():
    out = decide(CHALLENGER, summary([0.8]), CHAMPION, None, "ValueError: boom")
    assert out["promote"] is True and "boom" in out["reason"]
