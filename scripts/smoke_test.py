"""Smoke test of a running ForecastOps app (an Azure slot or the local runner): health, a forecast, the models.

Usage:
    FORECASTOPS_FUNCTION_KEY=... python scripts/smoke_test.py --base-url https://<app>-staging.azurewebsites.net
    python scripts/smoke_test.py --base-url http://127.0.0.1:7071          # local runner: no key needed

Health is polled until it answers 200 with status "ok" (a slot that is still starting answers with
connection errors or platform 5xx pages), then the forecast and the models list of one series are
checked against the champion that `GET /api/models` names. Standard library only, so it runs on any agent.
Exit code 0 when every check passed, 1 when one failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

KEY_ENV = "FORECASTOPS_FUNCTION_KEY"
BASE_URL_ENV = "FORECASTOPS_BASE_URL"
KEY_HEADER = "x-functions-key"


class SmokeFailure(Exception):
    """A check failed; the message says what was expected and what came back."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, parsed JSON body (None if the body is not JSON) and the raw text."""

    status: int
    document: Any
    text: str

    @property
    def from_app(self) -> bool:
        """True if the app answered (a JSON body); platform pages while a slot starts are HTML."""
        return self.document is not None

    def describe(self) -> str:
        return f"HTTP {self.status}: {self.text[:300].strip() or '(empty body)'}"


class Client:
    """GET requests to one base URL, with the function key header when a key is given."""

    def __init__(self, base_url: str, key: str | None, request_timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.request_timeout = request_timeout

    def get(self, path: str, **params: Any) -> Answer:
        query = urllib.parse.urlencode(params)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json", "User-Agent": "forecastops-smoke-test"}
        if self.key:
            headers[KEY_HEADER] = self.key
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        return Answer(status, document, text)


def retry(
    what: str, attempt: Callable[[], Answer], done: Callable[[Answer], bool], timeout: float, interval: float
) -> Answer:
    """Call `attempt` until `done(answer)` or `timeout` seconds passed; connection errors are retried too."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            answer = attempt()
            if done(answer):
                return answer
            last = answer.describe()
        except (OSError, urllib.error.URLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + interval > deadline:
            raise SmokeFailure(f"{what}: no valid answer within {timeout:g}s; last: {last}")
        time.sleep(interval)


def check_health(client: Client, timeout: float, interval: float) -> dict:
    """Wait until /api/health says the app is up and storage reachable; return its document."""

    def healthy(answer: Answer) -> bool:
        doc = answer.document
        return answer.status == 200 and isinstance(doc, dict) and doc.get("status") == "ok"

    # On a new deployment this also waits for the slot's role assignments to reach the data plane.
    what = "GET /api/health (status ok: the app is up and reaches storage with its identity)"
    doc = retry(what, lambda: client.get("/api/health"), healthy, timeout, interval).document
    if "storage" not in doc:
        raise SmokeFailure(f"GET /api/health: no 'storage' in {doc}")
    if doc["storage"] != "ok":
        raise SmokeFailure(f"GET /api/health: storage is {doc['storage']!r}, expected 'ok'")
    return doc


def find_champion(client: Client, series: str, timeout: float, interval: float) -> tuple[str | None, Answer]:
    """The champion version of `series` from GET /api/models (None while it has none: a JSON 404 or 503)."""
    answer = _app_answer(client, "/api/models", timeout, interval, series=series)
    if answer.status == 200 and isinstance(answer.document, dict):
        return answer.document.get("champion"), answer
    if answer.status in (404, 503) and isinstance(answer.document, dict):
        return None, answer
    raise SmokeFailure(f"GET /api/models?series={series}: expected 200, 404 or 503, got {answer.describe()}")


def _app_answer(client: Client, path: str, timeout: float, interval: float, **params: Any) -> Answer:
    """The app's own answer to a GET (a JSON body), retrying platform errors while the slot warms up."""
    return retry(f"GET {path}", lambda: client.get(path, **params), lambda a: a.from_app, timeout, interval)


def check_forecast(
    client: Client, series: str, horizon: int, level: float, champion: str, timeout: float, interval: float
) -> dict:
    """The forecast of `series` comes from `champion` and has `horizon` ordered points inside their bands."""
    answer = _app_answer(client, "/api/forecast", timeout, interval, series=series, horizon=horizon, level=level)
    if answer.status != 200:
        raise SmokeFailure(f"GET /api/forecast?series={series}: expected 200, got {answer.describe()}")
    doc = answer.document
    missing = {"series", "model_version", "trained_through", "generated_at", "level", "points"} - set(doc)
    if missing:
        raise SmokeFailure(f"GET /api/forecast: missing {sorted(missing)} in the answer")
    if doc["series"] != series or doc["model_version"] != champion:
        raise SmokeFailure(
            f"GET /api/forecast: expected series {series!r} from champion {champion!r}, "
            f"got series {doc['series']!r} from {doc['model_version']!r}"
        )
    points = doc["points"]
    if len(points) != horizon:
        raise SmokeFailure(f"GET /api/forecast: expected {horizon} points, got {len(points)}")
    dates = [date.fromisoformat(str(p["date"])[:10]) for p in points]
    if dates != sorted(set(dates)):
        raise SmokeFailure("GET /api/forecast: point dates are not strictly increasing")
    if dates[0] <= date.fromisoformat(str(doc["trained_through"])[:10]):
        raise SmokeFailure(f"GET /api/forecast: first date {dates[0]} is not after {doc['trained_through']}")
    for point in points:
        if not point["lower"] <= point["forecast"] <= point["upper"]:
            raise SmokeFailure(f"GET /api/forecast: point outside its interval: {point}")
    return doc


def check_models(client: Client, series: str, champion: str, timeout: float, interval: float) -> dict:
    """The models list of `series` marks `champion` and contains it."""
    answer = _app_answer(client, "/api/models", timeout, interval, series=series)
    if answer.status != 200:
        raise SmokeFailure(f"GET /api/models?series={series}: expected 200, got {answer.describe()}")
    doc = answer.document
    versions = [v.get("version") for v in doc.get("versions", [])]
    if doc.get("champion") != champion or champion not in versions:
        raise SmokeFailure(
            f"GET /api/models: expected champion {champion!r} among the versions, "
            f"got champion {doc.get('champion')!r} and versions {versions}"
        )
    return doc


def check_no_model_answer(client: Client, series: str, timeout: float, interval: float) -> Answer:
    """Without a champion, the forecast must be a clean JSON 404 (unknown series) or 503 (no model yet)."""
    answer = _app_answer(client, "/api/forecast", timeout, interval, series=series, horizon=1)
    doc = answer.document
    if answer.status not in (404, 503) or not isinstance(doc, dict) or not {"error", "detail"} <= set(doc):
        raise SmokeFailure(f"GET /api/forecast without a model: expected a JSON 404/503, got {answer.describe()}")
    return answer


def run(args: argparse.Namespace, key: str | None, out: Callable[[str], None]) -> None:
    """Run every check in order; raise SmokeFailure at the first that fails."""
    client = Client(args.base_url, key, args.request_timeout)
    check_health(client, args.timeout, args.interval)
    out("ok   health: status ok, storage ok")
    champion, models = find_champion(client, args.series, args.timeout, args.interval)
    if champion is None:
        if not args.allow_missing_champion:
            raise SmokeFailure(
                f"no champion for series {args.series!r} (GET /api/models: {models.status}): "
                "upload sales data and let retrain promote a model first, or pass --allow-missing-champion "
                "on the very first deployment (docs/deploy.md)"
            )
        answer = check_no_model_answer(client, args.series, args.timeout, args.interval)
        error = answer.document["error"]
        out(f"ok   forecast: no champion for {args.series!r} yet, the API answers {answer.status} {error!r}")
        return
    forecast = check_forecast(client, args.series, args.horizon, args.level, champion, args.timeout, args.interval)
    out(
        f"ok   forecast: {len(forecast['points'])} points of {args.series!r} from {champion}, "
        f"{forecast['points'][0]['date']} to {forecast['points'][-1]['date']}"
    )
    models = check_models(client, args.series, champion, args.timeout, args.interval)
    out(f"ok   models: {len(models['versions'])} version(s) of {args.series!r}, champion {champion}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smoke_test.py",
        description=__doc__.split("\n\n")[0],
        epilog=f"The function key is read from ${KEY_ENV} (sent as {KEY_HEADER}); the local runner needs none.",
    )
    parser.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_ENV),
        help=f"root URL of the app, without /api (default: ${BASE_URL_ENV})",
    )
    parser.add_argument("--series", default="total", help="series to forecast (default: %(default)s)")
    parser.add_argument("--horizon", type=int, default=7, help="forecast horizon to ask for (default: %(default)s)")
    parser.add_argument("--level", type=float, default=95.0, help="interval level in percent (default: %(default)s)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for each check while the app warms up"
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between retries (default: %(default)s)")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="seconds for one HTTP request")
    parser.add_argument(
        "--allow-missing-champion",
        action="store_true",
        help="first deployment only: pass without a champion if the API answers that cleanly",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.base_url:
        parser.error(f"give --base-url or set {BASE_URL_ENV}")
    if args.horizon < 1:
        parser.error("--horizon must be at least 1")

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    key = os.environ.get(KEY_ENV) or None
    out(f"smoke test of {args.base_url} (series {args.series!r}, function key {'set' if key else 'not set'})")
    try:
        run(args, key, out)
    except SmokeFailure as exc:
        out(f"FAIL {exc}")
        return 1
    out("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
