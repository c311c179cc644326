"""Command line of the local stack: `serve` serves function_app until Ctrl-C; `demo` is what `make run` runs."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from localrun.config import ConfigurationError
from localrun.demo import add_demo_arguments, run_demo
from localrun.runner import REPO_ROOT, STOP_TIMEOUT_SECONDS, Runner, wait_for_shutdown
from shared.settings import load_local_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy", "azure.identity")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        type=Path,
        default=REPO_ROOT / "local.settings.json",
        help="local.settings.json whose Values become app settings (default: %(default)s)",
    )
    parser.add_argument("--app", default="function_app", help="module that defines the FunctionApp")
    parser.add_argument("--app-dir", type=Path, default=REPO_ROOT, help="folder of the app and its host.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between blob/queue polls")
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=STOP_TIMEOUT_SECONDS,
        help="seconds a stop may take; work still running then is abandoned (default: %(default)s)",
    )
    parser.add_argument(
        "--create-storage",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="create the ForecastOps containers and queues before serving (default: when serving this "
        "repository's function_app)",
    )


def create_storage() -> None:
    """Create the containers and queues the ForecastOps app uses, as the infrastructure does in Azure."""
    from azure.core.exceptions import AzureError

    from shared.settings import get_settings
    from shared.storage import ensure_resources

    settings = get_settings()
    try:
        ensure_resources(settings)
    except (RuntimeError, AzureError) as exc:
        raise ConfigurationError(f"cannot set up the app's storage: {exc}") from exc
    logging.getLogger("localrun").info("storage ready: containers %s", ", ".join(settings.containers))


def serve(args: argparse.Namespace) -> int:
    """Load the settings, create the app's storage, start the runner and keep it up until Ctrl-C or SIGTERM."""
    if args.settings.exists():
        load_local_settings(args.settings)
    else:
        logging.getLogger("localrun").warning("%s not found: using the environment only", args.settings)
    serves_this_app = args.app == "function_app" and args.app_dir.resolve() == REPO_ROOT
    if args.create_storage or (args.create_storage is None and serves_this_app):
        create_storage()
    runner = Runner(args.app, args.app_dir, args.host, args.port, args.poll_interval, stop_timeout=args.stop_timeout)
    with runner:
        print(f"ForecastOps local runner on {runner.base_url} — Ctrl-C to stop", flush=True)
        for info in runner.functions():
            print(f"  {info.name}: {info.trigger_type}")
        wait_for_shutdown()
        print("stopping", flush=True)
    if runner.abandoned:  # threads still running a function would hold the interpreter's exit: leave now
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    return 0


# Each subcommand: (help, add its arguments, run it). New subcommands register here.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "serve": ("serve function_app like `func start`", add_serve_arguments, serve),
    "demo": ("Azurite + the runner + the AdventureWorks sample, month by month", add_demo_arguments, run_demo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localrun", description=__doc__)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return args.run(args)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
