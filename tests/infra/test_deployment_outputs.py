"""scripts/deployment_outputs.py: deployment outputs read without case, as Azure Pipelines variables."""

from __future__ import annotations

import json

import pytest

from scripts.deployment_outputs import OutputError, get_output, main, pipeline_variables, read_outputs

# Output names as ARM has been seen to hand them back (Azure/azure-dev#512, Azure/bicep#9360).
MIXED_CASE = {
    "azurE_RESOURCE_GROUP": {"type": "String", "value": "rg-forecastops-prod"},
    "AZURE_FUNCTION_APP_NAME": {"type": "String", "value": "func-abc"},
    "azure_eventgrid_system_topic": {"type": "String", "value": "evgst-abc"},
    "AZURE_app_ROLE_ASSIGNMENTS": {"type": "Array", "value": [{"principalId": "p", "scope": "/s"}]},
}


def test_lookup_ignores_case_in_both_document_forms():
    for document in (MIXED_CASE, {"name": "forecastops-prod", "properties": {"outputs": MIXED_CASE}}):
        outputs = read_outputs(document)
        assert get_output(outputs, "AZURE_RESOURCE_GROUP") == "rg-forecastops-prod"
        assert get_output(outputs, "Azure_EventGrid_System_Topic") == "evgst-abc"
        assert get_output(outputs, "AZURE_APP_ROLE_ASSIGNMENTS") == [{"principalId": "p", "scope": "/s"}]


def test_a_missing_output_names_the_available_ones():
    with pytest.raises(OutputError, match=r"no output 'AZURE_ML_WORKSPACE_NAME' \(outputs: .*azure_function_app_name"):
        get_output(read_outputs(MIXED_CASE), "AZURE_ML_WORKSPACE_NAME")


def test_names_that_differ_only_in_case_must_agree():
    clash = {"AZURE_X": {"value": "a"}, "azure_x": {"value": "b"}}
    with pytest.raises(OutputError, match="differ only in case"):
        read_outputs(clash)
    assert read_outputs({"AZURE_X": {"value": "a"}, "azure_x": {"value": "a"}}) == {"azure_x": "a"}


def test_pipeline_variables_are_output_variables_and_non_strings_are_json():
    lines = pipeline_variables(
        read_outputs(MIXED_CASE), [("resourceGroup", "AZURE_RESOURCE_GROUP"), ("roles", "AZURE_APP_ROLE_ASSIGNMENTS")]
    )
    assert lines == [
        "##vso[task.setvariable variable=resourceGroup;isOutput=true]rg-forecastops-prod",
        '##vso[task.setvariable variable=roles;isOutput=true][{"principalId":"p","scope":"/s"}]',
    ]
    with pytest.raises(OutputError, match="line break"):
        pipeline_variables({"x": "a\n##vso[task.setvariable variable=y]z"}, [("x", "x")])


def test_cli_publishes_every_pair_or_fails_without_output(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(MIXED_CASE))
    assert main([str(path), "resourceGroup=AZURE_RESOURCE_GROUP", "functionAppName=AZURE_FUNCTION_APP_NAME"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "##vso[task.setvariable variable=resourceGroup;isOutput=true]rg-forecastops-prod",
        "##vso[task.setvariable variable=functionAppName;isOutput=true]func-abc",
    ]
    assert main([str(path), "--get", "azure_function_app_name"]) == 0
    assert capsys.readouterr().out == "func-abc\n"
    # One missing output: nothing is published (no half-set variables), exit 1 with the reason.
    assert main([str(path), "resourceGroup=AZURE_RESOURCE_GROUP", "topic=AZURE_TOPIC"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no output 'AZURE_TOPIC'" in captured.err
