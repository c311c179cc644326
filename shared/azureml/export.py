"""The bulk job's first step: the curated series exported as an MLTable partitioned by series_id.

Layout of the output folder: `{series_id}/part.csv` (columns date, value, dataset_version) per series,
and an `MLTable` file that reads every part and takes `series_id` from the folder name, so the parallel
step's `partition_keys=["series_id"]` hands each series to one `run()` call. Series ids are safe folder
names (1-64 letters, digits, `.`, `_`, `-`, starting with a letter or digit: the upload rule).

Usage (the command step): python -m shared.azureml.export --output DIR [--prefix P]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

PART_FILE = "part.csv"
PART_COLUMNS = ("date", "value", "dataset_version")
# JSON is YAML: the MLTable file is written without a YAML library.
MLTABLE = {
    "type": "mltable",
    "paths": [{"pattern": f"./*/{PART_FILE}"}],
    "transformations": [
        {
            "read_delimited": {
                "delimiter": ",",
                "encoding": "utf8",
                "header": "all_files_same_headers",
                "empty_as_string": False,
                "include_path_column": True,
            }
        },
        {"extract_columns_from_partition_format": {"partition_format": "{series_id}/{file_name}.{extension}"}},
        {"drop_columns": ["Path", "file_name", "extension"]},
    ],
}


def export_series(output: Path, settings: Settings | None = None, prefix: str = "") -> dict[str, str]:
    """Write every curated series whose id starts with `prefix`; returns {series: dataset version}."""
    from shared.ingest.curated import read_manifest, read_many
    from shared.storage import container

    settings = settings or get_settings()
    curated = container(settings.curated_container, settings)
    names = sorted(name for name in read_manifest(curated)["series"] if name.startswith(prefix))
    output.mkdir(parents=True, exist_ok=True)
    exported = {}
    for name, series in read_many(curated, names):
        if series is None:
            log.warning("series %s is in the manifest but has no curated data; not exported", name)
            continue
        lines = [",".join(PART_COLUMNS)]
        lines += [f"{day.isoformat()},{series.days[day]!r},{series.version}" for day in sorted(series.days)]
        folder = output / name
        folder.mkdir(exist_ok=True)
        (folder / PART_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        exported[name] = series.version
    exported = dict(sorted(exported.items()))
    (output / "MLTable").write_text(json.dumps(MLTABLE, indent=2) + "\n", encoding="utf-8")
    log.info("exported %d series (prefix %r) to %s", len(exported), prefix, output)
    return exported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.azureml.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="the MLTable folder to write")
    parser.add_argument("--prefix", default="", help="only series whose id starts with this")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    exported = export_series(args.output, prefix=args.prefix)
    if not exported:
        log.error("no curated series%s to export", f" with prefix {args.prefix!r}" if args.prefix else "")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
