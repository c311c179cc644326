"""JSON-ready values: NaN and infinities become null, numpy values plain Python, keys strings (no numpy import)."""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """A copy of `value` that `json.dumps(..., allow_nan=False)` accepts.

    JSON has no NaN or infinity, so a non-finite number (an undefined metric, say) becomes null; numpy
    scalars and arrays become Python numbers and lists (recognised by their module, so this stays cheap
    to import on the serving path); dict keys become strings; tuples become lists.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
