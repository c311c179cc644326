"""How a series and a model version are named in the Azure ML model registry (v2 has no tag filter on lists)."""

from __future__ import annotations

import hashlib
import re

MODEL_NAME_PREFIX = "forecastops-"
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def model_name(series: str) -> str:
    """The registry model name of a series: one name per series, so `models.list(name=...)` finds its versions.

    `forecastops-` + the series id, each character other than a letter, digit, `_` or `-` replaced by `-`
    (series ids may hold `.`, model names may not); when anything was replaced, `-` and the first 8 hex digits
    of the SHA-256 of the series id follow, so `a.b` and `a-b` stay two models.
    """
    if not series:
        raise ValueError("series id is empty")
    slug = _NOT_IN_NAME.sub("-", series)
    if slug != series:
        slug = f"{slug}-{hashlib.sha256(series.encode()).hexdigest()[:8]}"
    return f"{MODEL_NAME_PREFIX}{slug}"


def model_version(version: str) -> str:
    """The registry version of one of our versions: our version id itself (letters, digits, `.`, `_`, `-`)."""
    if not _VERSION.match(version):
        raise ValueError(f"version {version!r} cannot be a registry version: expected letters, digits, '.', '_', '-'")
    return version
