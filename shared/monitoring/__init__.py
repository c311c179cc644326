"""Drift and decay monitoring: detectors, reports, alerts and retrain requests."""
