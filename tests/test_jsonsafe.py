"""The one JSON cleaner: what json.dumps(allow_nan=False) refuses becomes null or plain Python."""

import json
import math
import subprocess
import sys

import numpy as np

from shared.jsonsafe import json_safe


def test_non_finite_numbers_become_null_at_any_depth():
    document = {"a": math.nan, "b": [1.5, math.inf, {"c": -math.inf}], "d": (2, "x", None, True)}
    assert json_safe(document) == {"a": None, "b": [1.5, None, {"c": None}], "d": [2, "x", None, True]}
    json.dumps(json_safe(document), allow_nan=False)


def test_numpy_values_become_plain_python():
    document = {1: np.float32(0.5), "n": np.int64(3), "ok": np.bool_(True), "v": np.array([1.0, np.nan])}
    cleaned = json_safe(document)
    assert cleaned == {"1": 0.5, "n": 3, "ok": True, "v": [1.0, None]}
    assert [type(cleaned[k]) for k in ("1", "n", "ok")] == [float, int, bool]
    assert json_safe(np.float64(np.inf)) is None


def test_the_input_is_left_as_it_was():
    document = {"a": [math.nan]}
    json_safe(document)
    assert math.isnan(document["a"][0])


def test_importing_it_does_not_import_numpy():
    code = "import sys, shared.jsonsafe; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
