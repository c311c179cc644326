"""Print the content share each slot of the deployed function app uses now, for the next deployment.

Usage (signed in with the Azure CLI, before `az deployment sub create`, from the repository root):
    eval "$(python -m scripts.content_shares --resource-group rg-forecastops-prod)"
    python scripts/resolve_parameters.py --output main.parameters.json

WEBSITE_CONTENTSHARE names the Azure Files share that holds a slot's deployed code. It is not a slot
setting, so a swap exchanges it between the slots along with the code. infra/ therefore never writes
the names of the first deployment again: it takes the values printed here (PRODUCTION_CONTENT_SHARE,
STAGING_CONTENT_SHARE, as shell `export` lines), which are empty only when there is no app yet.
An Azure CLI failure stops the script (exit 1) instead of printing empty values, since empty values
would put the first deployment's shares back. See docs/deploy.md "What happens on the second release".
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys

from scripts.azure_cli import Az, AzureError, run_az

APP_TAG = "forecastops"  # the `application` tag infra/main.bicep puts on every resource
STAGING_SLOT = "staging"
VARIABLES = {"production": "PRODUCTION_CONTENT_SHARE", STAGING_SLOT: "STAGING_CONTENT_SHARE"}
# Azure Files share names: 3-63 lower-case letters, digits and single hyphens.
SHARE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


def current_shares(resource_group: str, az: Az = run_az) -> dict[str, str]:
    """{slot: current WEBSITE_CONTENTSHARE}; empty strings where the app or the slot does not exist yet."""
    shares = dict.fromkeys(VARIABLES, "")
    if az(["group", "exists", "--name", resource_group]).strip() != "true":
        return shares
    query = f"[?tags.application=='{APP_TAG}'].name"
    apps = json.loads(az(["functionapp", "list", "--resource-group", resource_group, "--query", query, "-o", "json"]))
    if not apps:
        return shares
    if len(apps) > 1:
        raise AzureError(f"{resource_group} holds several ForecastOps function apps: {apps}")
    app = apps[0]
    slots = json.loads(
        az(["functionapp", "deployment", "slot", "list", "--resource-group", resource_group, "--name", app,
            "--query", "[].name", "-o", "json"])
    )  # fmt: skip
    for slot in VARIABLES:
        if slot != "production" and slot not in slots:
            continue
        slot_args = [] if slot == "production" else ["--slot", slot]
        settings = json.loads(
            az(["functionapp", "config", "appsettings", "list", "--resource-group", resource_group, "--name", app,
                *slot_args, "-o", "json"])
        )  # fmt: skip
        value = next((s.get("value") for s in settings if s.get("name") == "WEBSITE_CONTENTSHARE"), None)
        if value is None:
            raise AzureError(
                f"{app} ({slot}) has no readable WEBSITE_CONTENTSHARE: is the caller allowed to read settings?"
            )
        if not SHARE_NAME.match(value):
            raise AzureError(f"{app} ({slot}) has WEBSITE_CONTENTSHARE {value!r}, which is not a file share name")
        shares[slot] = value
    if shares["production"] and shares["production"] == shares[STAGING_SLOT]:
        raise AzureError(f"both slots of {app} use the content share {shares['production']!r}")
    return shares


def export_lines(shares: dict[str, str]) -> list[str]:
    return [f"export {VARIABLES[slot]}={shlex.quote(value)}" for slot, value in shares.items()]


def main(argv: list[str] | None = None, az: Az = run_az) -> int:
    parser = argparse.ArgumentParser(prog="content_shares.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--resource-group", required=True, help="resource group of the deployment")
    args = parser.parse_args(argv)
    try:
        shares = current_shares(args.resource_group, az)
    except (AzureError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    for slot, value in shares.items():
        sys.stderr.write(f"{slot}: {value or '(no app yet: the first deployment names it)'}\n")
    sys.stdout.write("".join(f"{line}\n" for line in export_lines(shares)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
