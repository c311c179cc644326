"""scripts/content_shares.py: each slot's current content share is read before a deployment and kept."""

from __future__ import annotations

import json
import os

import pytest

from scripts import resolve_parameters
from scripts.content_shares import AzureError, current_shares, main
from tests.infra.conftest import INFRA

RG = "rg-forecastops-prod"
APP = "func-abc"


class FakeAzure:
    """Answers the `az` calls of content_shares.py from a model of the deployed app, and records them."""

    def __init__(self, slots: dict[str, str] | None, group: bool = True, fail_on: str | None = None) -> None:
        self.slots = slots  # slot -> WEBSITE_CONTENTSHARE; None: no app
        self.group = group
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    def __call__(self, args) -> str:
        args = list(args)
        self.calls.append(args)
        command = " ".join(args)
        if self.fail_on and self.fail_on in command:
            raise AzureError(f"az {self.fail_on} failed: (AuthorizationFailed)")
        if command.startswith("group exists"):
            return "true\n" if self.group else "false\n"
        if command.startswith("functionapp list"):
            return json.dumps([] if self.slots is None else [APP])
        if command.startswith("functionapp deployment slot list"):
            return json.dumps([s for s in self.slots if s != "production"])
        if command.startswith("functionapp config appsettings list"):
            slot = args[args.index("--slot") + 1] if "--slot" in args else "production"
            return json.dumps([
                {"name": "FUNCTIONS_WORKER_RUNTIME", "value": "python", "slotSetting": False},
                {"name": "WEBSITE_CONTENTSHARE", "value": self.slots[slot], "slotSetting": False},
            ])  # fmt: skip
        raise AssertionError(f"unexpected az call: {command}")

    def swap(self) -> None:
        """A slot swap exchanges every setting that is not sticky, the content share included."""
        self.slots["production"], self.slots["staging"] = self.slots["staging"], self.slots["production"]


def test_first_deployment_has_no_current_shares():
    assert current_shares(RG, FakeAzure(None, group=False)) == {"production": "", "staging": ""}
    assert current_shares(RG, FakeAzure(None)) == {"production": "", "staging": ""}


def test_shares_follow_the_code_through_swaps():
    azure = FakeAzure({"production": APP, "staging": f"{APP}-staging"})
    assert current_shares(RG, azure) == {"production": APP, "staging": f"{APP}-staging"}
    azure.swap()  # release 1 goes live: production now serves the staging share
    assert current_shares(RG, azure) == {"production": f"{APP}-staging", "staging": APP}
    azure.swap()  # swapped back
    assert current_shares(RG, azure) == {"production": APP, "staging": f"{APP}-staging"}


def test_a_missing_staging_slot_leaves_its_share_to_the_template():
    azure = FakeAzure({"production": APP})
    assert current_shares(RG, azure) == {"production": APP, "staging": ""}
    assert not any("--slot" in call for call in azure.calls)


def test_an_azure_failure_prints_nothing(capsys):
    azure = FakeAzure({"production": APP, "staging": f"{APP}-staging"}, fail_on="appsettings list")
    assert main(["--resource-group", RG], az=azure) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "AuthorizationFailed" in captured.err


@pytest.mark.parametrize("value", ["", "Bad_Share", "x; rm -rf /", f"{APP}-staging"])
def test_unexpected_values_are_refused(value):
    slots = {"production": value, "staging": f"{APP}-staging"}
    with pytest.raises(AzureError):
        current_shares(RG, FakeAzure(slots))


def test_after_a_swap_the_next_deployment_keeps_each_slots_share(capsys, monkeypatch, tmp_path):
    """End to end: az -> content_shares.py exports -> resolve_parameters.py -> the Bicep parameters."""
    azure = FakeAzure({"production": APP, "staging": f"{APP}-staging"})
    azure.swap()
    assert main(["--resource-group", RG], az=azure) == 0
    exports = capsys.readouterr().out.splitlines()
    assert exports == [f"export PRODUCTION_CONTENT_SHARE={APP}-staging", f"export STAGING_CONTENT_SHARE={APP}"]
    for line in exports:
        name, value = line.removeprefix("export ").split("=", 1)
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_ENV_NAME", "prod")
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    output = tmp_path / "parameters.json"
    assert resolve_parameters.main(["--output", str(output)]) == 0
    parameters = json.loads(output.read_text())["parameters"]
    assert parameters["productionContentShare"]["value"] == f"{APP}-staging"
    assert parameters["stagingContentShare"]["value"] == APP
    assert os.environ["PRODUCTION_CONTENT_SHARE"] != parameters["stagingContentShare"]["value"]


def test_without_current_values_the_parameters_are_empty(monkeypatch, tmp_path):
    for name in ("PRODUCTION_CONTENT_SHARE", "STAGING_CONTENT_SHARE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_ENV_NAME", "prod")
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    output = tmp_path / "parameters.json"
    assert resolve_parameters.main(["--output", str(output), "--template", str(INFRA / "main.bicep")]) == 0
    parameters = json.loads(output.read_text())["parameters"]
    assert parameters["productionContentShare"]["value"] == parameters["stagingContentShare"]["value"] == ""
