"""`forecastops train --on azureml`: the contract, and a clear error without a workspace or credentials."""

from __future__ import annotations

import pytest

from shared.cli import main

WORKSPACE = [
    "--subscription",
    "00000000-0000-0000-0000-000000000000",
    "--resource-group",
    "rg-x",
    "--workspace",
    "mlw-x",
]


@pytest.fixture
def clean_env(monkeypatch):
    from shared.settings import get_settings

    for name in ("AzureWebJobsStorage", "AzureWebJobsStorage__accountName"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_train_needs_the_engine_and_the_workspace(clean_env, capsys, no_network):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--on", "azureml", "--resource-group", "rg-x", "--workspace", "mlw-x"])
    assert exit_info.value.code == 2
    assert "--subscription" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--on", "local", *WORKSPACE])
    assert "invalid choice: 'local'" in capsys.readouterr().err
    assert no_network == []


@pytest.mark.parametrize("option", ["--instance-count", "--max-concurrency"])
def test_train_refuses_a_non_positive_width(clean_env, capsys, option, no_network):
    clean_env.setenv("AzureWebJobsStorage__accountName", "stdataexample")
    with pytest.raises(SystemExit, match=f"{option.lstrip('-').replace('-', '_')}"):
        main(["train", "--on", "azureml", *WORKSPACE, option, "0"])
    with pytest.raises(SystemExit):
        main(["train", "--on", "azureml", *WORKSPACE, option, "two"])
    assert "invalid int value" in capsys.readouterr().err
    assert no_network == []


def test_train_sends_no_storage_key_to_azure_ml(clean_env, capsys, no_network):
    clean_env.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    assert main(["train", "--on", "azureml", *WORKSPACE]) == 2
    assert "AzureWebJobsStorage__accountName" in capsys.readouterr().err
    assert no_network == []


@pytest.mark.slow
def test_train_without_credentials_is_a_clear_error_before_anything_is_sent(clean_env, capsys, no_network):
    clean_env.setenv("AzureWebJobsStorage__accountName", "stdataexample")
    clean_env.setenv("AZURE_TOKEN_CREDENTIALS", "dev")  # developer sign-ins only: none exists on this machine
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        clean_env.delenv(name, raising=False)
    assert main(["train", "--on", "azureml", *WORKSPACE, "--prefix", "store-"]) == 2
    err = capsys.readouterr().err
    assert "no Azure credentials" in err and "az login" in err
    assert no_network == []
