"""The `forecastops` command line: uploads, batch forecasts, backtests, model registry operations, bulk training."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def cmd_upload(args: argparse.Namespace) -> int:
    from shared.settings import get_settings
    from shared.storage import container

    settings = get_settings()
    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"error: {path} is not a file")
    name = args.name or path.name
    metadata = {"series_id": args.series} if args.series else None
    with path.open("rb") as handle:
        container(settings.incoming_container, settings).upload_blob(name, handle, overwrite=True, metadata=metadata)
    print(f"uploaded {path} to {settings.incoming_container}/{name}; the ingest trigger takes it from there")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from shared import registry
    from shared.settings import get_settings
    from shared.storage import container

    settings = get_settings()
    client = container(settings.models_container, settings)
    if args.action == "list":
        versions = registry.list_versions(client, args.series)
        if not versions:
            print(f"series {args.series} has no model versions")
            return 1
        for card in versions:
            mark = "*" if card["champion"] else " "
            metrics = card.get("metrics") or {}
            mase = metrics.get("mase")
            print(
                f"{mark} {card['version']}  {card['spec'].get('name', '?'):<14} "
                f"MASE {mase if mase is None else round(mase, 3)!s:<6} "
                f"{card['decision']['outcome']:<14} data through {card['dataset']['end']}"
            )
        return 0
    if args.action == "promote":
        if not args.version:
            raise SystemExit("error: promote needs --version")
        pointer = registry.promote(client, args.series, args.version, reason=args.reason or "manual promotion")
    else:
        pointer = registry.rollback(client, args.series, reason=args.reason or "manual rollback")
    print(f"champion of {args.series} is now {pointer['version']} ({pointer['reason']})")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from shared.forecasting import forecast_file

    if not Path(args.input).is_file():
        raise SystemExit(f"error: {args.input} is not a file")
    try:
        report = forecast_file(
            args.input, args.output, args.horizon, args.level, args.jobs, not args.no_progress, args.strict
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    models = ", ".join(f"{name} {count}" for name, count in sorted(report["models"].items()))
    print(
        f"{report['series']} series, {args.horizon} steps each, written to {args.output} "
        f"in {report['seconds']:.1f}s ({report['series_per_second']} series/s); models: {models}"
    )
    for fallback in report["fallbacks"]:
        print(f"  fell back to seasonal naive: {fallback['series_id']}: {fallback['error']}")
    for cold in report["cold_start"]:
        print(f"  cold-start fallback: {cold['series_id']}: {cold['reason']}")
    for skipped in report["skipped"]:
        print(f"not forecast: series {skipped['series_id']!r}: {skipped['error']}", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from shared.errors import UploadRejected
    from shared.forecasting import select_model
    from shared.ingest.parse import parse_upload
    from shared.training import training_series

    try:
        parsed = parse_upload(Path(args.input).read_bytes(), default_series=args.series or "total")
    except (OSError, UploadRejected) as exc:
        problems = "; ".join(f"line {p['line']}: {p['reason']}" for p in getattr(exc, "problems", [])[:5])
        raise SystemExit(f"error: {args.input}: {exc}{' (' + problems + ')' if problems else ''}") from exc
    series = [args.series] if args.series else parsed.series
    for name in series:
        if name not in parsed.daily:
            raise SystemExit(f"error: no series {name} in {args.input}; it has {', '.join(parsed.series)}")
        y, filled = training_series(parsed.daily[name])
        selection = select_model(y, horizon=args.horizon)
        print(f"{name}: {len(y)} points ({filled} filled), selected {selection.spec.get('name')}")
        print(f"  {'candidate':<14} {'MASE':>7} {'sMAPE':>7} {'RMSE':>10} {'cover95':>8}")
        for candidate, metrics in sorted(selection.candidates.items(), key=lambda kv: kv[1].get("mase") or 1e9):
            print(
                f"  {candidate:<14} {metrics.get('mase', float('nan')):7.3f} {metrics.get('smape', float('nan')):7.2f} "
                f"{metrics.get('rmse', float('nan')):10.2f} {metrics.get('coverage_95', float('nan')):8.2%}"
            )
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    from shared.monitoring.service import latest_report, run_checks
    from shared.settings import get_settings

    settings = get_settings()
    if args.action == "check":
        reports = run_checks(settings, series=args.series)
    else:
        if not args.series:
            raise SystemExit("error: drift show needs --series")
        report = latest_report(settings, args.series)
        if report is None:
            print(f"series {args.series} has no drift report yet; run `forecastops drift check`")
            return 1
        reports = [report]
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    if not reports:
        print("no series with a champion to check")
    for report in reports:
        print(f"{report['series']}: {report['status']} (checked {report['checked_at']})")
        for reason in report.get("reasons", []):
            print(f"  {reason}")
        retrain = (report.get("actions") or {}).get("retrain") or {}
        if retrain.get("requested"):
            print(f"  retrain requested: {retrain.get('reason')}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import tempfile

    from shared.azureml.jobs import BulkOptions, build_pipeline_job, job_settings, stage_code, submit
    from shared.azureml.workspace import Workspace, ml_client, signed_in_credential
    from shared.settings import get_settings

    settings = get_settings()
    workspace = Workspace.resolve(settings, args.subscription, args.resource_group, args.workspace)
    try:
        options = BulkOptions(settings.azure_ml_compute, args.prefix, args.instance_count, args.max_concurrency)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    env_vars = job_settings(settings)
    with tempfile.TemporaryDirectory(prefix="forecastops-job-") as tmp:
        job = build_pipeline_job(stage_code(Path(tmp)), options, env_vars)
        created = submit(ml_client(workspace, signed_in_credential()), job)
    print(f"submitted pipeline job {created.name} to workspace {workspace.name}: {created.studio_url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forecastops", description=__doc__)
    parser.add_argument(
        "--settings",
        default="local.settings.json",
        help="local settings file used for values the environment does not set",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    upload = sub.add_parser("upload", help="put a sales file into the incoming container")
    upload.add_argument("file")
    upload.add_argument("--series", help="series id for a file without a series_id column")
    upload.add_argument("--name", help="blob name (default: the file name)")
    upload.set_defaults(func=cmd_upload)

    forecast = sub.add_parser(
        "forecast",
        help="batch forecast a long-format CSV (series_id,date,value)",
        description="Exit status: 0 when every usable series was forecast (series that cannot be used are "
        "listed on stderr and left out of the output); 2 when the file cannot be used, or with --strict when "
        "any series cannot be (nothing is written then).",
    )
    forecast.add_argument("--input", required=True)
    forecast.add_argument("--output", required=True)
    forecast.add_argument("--horizon", type=int, required=True)
    forecast.add_argument("--level", type=float, default=95.0)
    forecast.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    forecast.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    forecast.add_argument("--report", help="write the run report (models, fallbacks, timing) as JSON")
    forecast.add_argument("--strict", action="store_true", help="fail the whole batch if any series cannot be used")
    forecast.set_defaults(func=cmd_forecast)

    backtest = sub.add_parser("backtest", help="model selection and rolling-origin backtest of a sales file")
    backtest.add_argument("--input", required=True, help="a file in the upload format")
    backtest.add_argument("--series", help="only this series (default: every series in the file)")
    backtest.add_argument("--horizon", type=int, help="forecast horizon (default: by frequency, 28 for daily)")
    backtest.set_defaults(func=cmd_backtest)

    drift = sub.add_parser("drift", help="run the drift and decay check now, or show the latest report")
    drift.add_argument("action", choices=["check", "show"])
    drift.add_argument("--series", help="one series (check: default every series with a champion)")
    drift.add_argument("--json", action="store_true", help="print the full report(s) as JSON")
    drift.set_defaults(func=cmd_drift)

    models = sub.add_parser("models", help="list model versions, promote one, or roll back the champion")
    models.add_argument("action", choices=["list", "promote", "rollback"])
    models.add_argument("--series", default="total")
    models.add_argument("--version", help="version to promote")
    models.add_argument("--reason", help="reason recorded in the champion history")
    models.set_defaults(func=cmd_models)

    train = sub.add_parser("train", help="bulk re-selection of every series (or --prefix) as an Azure ML pipeline job")
    train.add_argument("--on", required=True, choices=["azureml"], help="the engine (the queue retrains on upload)")
    train.add_argument("--subscription", required=True, help="Azure subscription id of the workspace")
    train.add_argument("--resource-group", required=True)
    train.add_argument("--workspace", required=True, help="Azure ML workspace name")
    train.add_argument("--prefix", default="", help="only series whose id starts with this")
    train.add_argument("--instance-count", type=int, default=2, help="cluster nodes (default: %(default)s)")
    train.add_argument("--max-concurrency", type=int, default=2, help="series at once per node (default: %(default)s)")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from shared.errors import ForecastOpsError
    from shared.settings import load_local_settings

    try:
        if Path(args.settings).exists():  # values the environment does not set, as `func start` does
            load_local_settings(args.settings)
        return args.func(args)
    except ForecastOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
