"""ForecastOps domain package: ingestion, training, registry, serving and monitoring."""

__version__ = "0.1.0"
