"""Delivery tests: Bicep, pipeline, package and smoke test."""
