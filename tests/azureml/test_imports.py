"""azure.ai.ml stays off the serving path: neither the app nor the HTTP functions import it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import function_app
from functions import api
from shared import api as http_api
from shared.azureml import naming, outbox
found = sorted(name for name in sys.modules if name == "azure.ai.ml" or name.startswith("azure.ai.ml."))
functions = sorted(fn.get_function_name() for fn in function_app.app.get_functions())
json.dump({"found": found, "functions": functions}, sys.stdout)
"""


@pytest.mark.slow
def test_import_function_app_does_not_import_azure_ai_ml():
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(completed.stdout)
    assert result["found"] == []
    assert "registry-sync" in result["functions"]


@pytest.mark.slow
def test_the_probe_would_see_azure_ai_ml_if_it_were_imported():
    probe = _PROBE.replace(
        "import function_app\n", "import function_app\nimport shared.azureml.jobs as j\nj.environment()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert "azure.ai.ml" in json.loads(completed.stdout)["found"]
