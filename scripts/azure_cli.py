"""The Azure CLI as the deployment scripts call it: stdout of a successful `az`, an error otherwise."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

Az = Callable[[Sequence[str]], str]


class AzureError(RuntimeError):
    """The Azure CLI failed or answered something unexpected."""


def run_az(args: Sequence[str]) -> str:
    """stdout of `az ARGS`; a non-zero exit raises AzureError with the end of az's message."""
    completed = subprocess.run(["az", *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise AzureError(f"az {' '.join(args[:3])} failed: {completed.stderr.strip()[-500:]}")
    return completed.stdout
