"""The bulk job's parallel entry script: each mini-batch is one series, retrained by the queue's own code.

Azure ML's parallel run calls `init()` once per worker process and `run(mini_batch, mini_batch_context)`
per partition (`partition_keys=["series_id"]`: the rows of one series, columns date, value,
dataset_version). `run` checks the rows against their dataset version and hands the series to
`shared.retrain.handle_request`, the function the `retrain` queue trigger calls: the same selection,
backtests, decision, immutable version and `if_match` champion move. The job's run id makes the request
idempotent per job (a retried mini-batch is not trained twice) while a new job re-selects every series.

Program arguments: --run RUN_ID. Storage and names come from the app settings in the job's environment.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

log = logging.getLogger(__name__)

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RESULT_COLUMNS = ("series_id", "dataset_version", "status", "reason", "version")
_state: dict[str, str] = {}


def init(argv: list[str] | None = None) -> None:
    """Once per worker: read --run and make the `shared` package beside this script importable."""
    parser = argparse.ArgumentParser(prog="entry.py")
    parser.add_argument("--run", required=True, help="the bulk job's run id (letters, digits, '_', '-')")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if not RUN_ID.match(args.run):
        raise ValueError(f"--run must be 1-64 letters, digits, '_' or '-', got {args.run!r}")
    code_root = str(Path(__file__).resolve().parents[2])  # the job's code folder holds shared/
    if code_root not in sys.path:
        sys.path.insert(0, code_root)
    _state["run"] = args.run


def _rows_version(mini_batch) -> tuple[str, dict]:
    """The dataset version the rows claim, after checking that the rows are that version's content."""
    import pandas as pd

    from shared.ingest.curated import content_version, serialize

    versions = set(mini_batch["dataset_version"].astype(str))
    if len(versions) != 1:
        raise ValueError(f"a mini-batch must hold one dataset version, got {sorted(versions)}")
    claimed = versions.pop()
    days = dict(zip(pd.to_datetime(mini_batch["date"]).dt.date, mini_batch["value"].astype(float), strict=True))
    actual = content_version(serialize(days))
    if actual != claimed:
        raise ValueError(f"the exported rows hash to {actual}, not to their dataset version {claimed}")
    return claimed, days


def run(mini_batch, mini_batch_context):
    """Retrain the mini-batch's series; returns one row (series_id, dataset_version, status, reason, version)."""
    import pandas as pd

    from shared.retrain import handle_request
    from shared.settings import get_settings

    if "run" not in _state:
        raise RuntimeError("init() has not run")
    series = str(mini_batch_context.partition_key_value["series_id"])
    dataset_version, _ = _rows_version(mini_batch)
    request = {
        "series": series,
        "dataset_version": dataset_version,
        "reason": "bulk-reselection",
        "correlation_id": _state["run"],
        "run": _state["run"],
    }
    outcome = handle_request(request, settings=get_settings())
    log.info("bulk run %s, %s@%s: %s (%s)", _state["run"], series, dataset_version, outcome.status, outcome.reason)
    row = (series, dataset_version, outcome.status, outcome.reason, outcome.version or "")
    return pd.DataFrame([row], columns=list(RESULT_COLUMNS))
