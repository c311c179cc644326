"""scripts/resolve_parameters.py: one parameters file for azd and the Azure CLI, typed as main.bicep declares."""

from __future__ import annotations

import json
import re

import pytest

from scripts.resolve_parameters import ParameterError, declared_types, main, resolve, substitute
from tests.infra.conftest import INFRA

BICEP = """
param environmentName string
@description('x')
param enabled bool = false
param count int = 3
param ranges array = []
"""


def _parameters(**values) -> dict:
    return {"parameters": {name: {"value": value} for name, value in values.items()}}


def test_declared_types_reads_param_lines():
    assert declared_types(BICEP) == {"environmentName": "string", "enabled": "bool", "count": "int", "ranges": "array"}


def test_environment_wins_over_default_and_default_over_nothing():
    assert substitute("${A=x}-${B=y}", {"A": "a"}, "p") == "a-y"
    assert substitute("rg-${A}", {"A": "dev"}, "p") == "rg-dev"
    assert substitute("${A=}", {}, "p") == ""
    assert substitute("${A=0 0 6 * * *}", {}, "p") == "0 0 6 * * *"


def test_a_variable_without_value_or_default_is_an_error():
    with pytest.raises(ParameterError, match="'environmentName' needs the environment variable AZURE_ENV_NAME"):
        resolve(_parameters(environmentName="${AZURE_ENV_NAME}"), BICEP, {})


def test_values_take_the_declared_types():
    document = _parameters(environmentName="${E}", enabled="${F=false}", count="${C=3}", ranges="${R=[]}")
    resolved = resolve(document, BICEP, {"E": "dev", "F": "True", "R": '["1.2.3.4"]'})
    values = {name: entry["value"] for name, entry in resolved["parameters"].items()}
    assert values == {"environmentName": "dev", "enabled": True, "count": 3, "ranges": ["1.2.3.4"]}
    assert document["parameters"]["enabled"]["value"] == "${F=false}"  # input untouched


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("enabled", "yes", "is a bool"), ("count", "three", "is an int"), ("ranges", "{}", "is an array")],
)
def test_badly_typed_values_are_errors(name, value, message):
    with pytest.raises(ParameterError, match=message):
        resolve(_parameters(**{name: "${V}"}), BICEP, {"V": value})


def test_a_parameter_unknown_to_the_template_is_an_error():
    with pytest.raises(ParameterError, match="'colour' is not declared"):
        resolve(_parameters(colour="red"), BICEP, {})


def test_the_real_parameters_file_resolves_against_main_bicep(tmp_path, monkeypatch):
    for name in ("AZURE_PRINCIPAL_ID", "ALERT_EMAIL", "ENABLE_AZURE_ML", "FUNCTIONS_MAX_INSTANCES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_ENV_NAME", "dev")
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    output = tmp_path / "resolved.json"
    assert main(["--output", str(output)]) == 0
    values = {name: entry["value"] for name, entry in json.loads(output.read_text())["parameters"].items()}
    assert values["environmentName"] == "dev" and values["location"] == "westeurope"
    assert values["enableMachineLearning"] is False
    assert values["maximumElasticWorkerCount"] == 10
    assert values["planSku"] == "EP1"
    assert values["principalId"] == ""


def test_every_required_template_parameter_is_in_the_parameters_file():
    text = (INFRA / "main.bicep").read_text()
    in_file = set(json.loads((INFRA / "main.parameters.json").read_text())["parameters"])
    declared = declared_types(text)
    assert in_file <= set(declared)
    required = {name for name in declared if f"param {name} {declared[name]}\n" in text}
    assert required <= in_file


def test_cli_reports_a_missing_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AZURE_ENV_NAME", raising=False)
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    assert main(["--output", str(tmp_path / "out.json")]) == 1
    assert "AZURE_ENV_NAME" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_every_parameter_variable_is_documented():
    text = (INFRA / "main.parameters.json").read_text()
    guide = (INFRA.parent / "docs" / "deploy.md").read_text()
    variables = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert {"AZURE_ENV_NAME", "AZURE_LOCATION"} <= variables
    assert {v for v in variables if f"`{v}`" not in guide} == set()
