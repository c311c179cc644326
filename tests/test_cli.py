"""The forecastops command line against Azurite: upload and model registry operations."""

import pytest

from localrun.sample import monthly_files
from shared import registry
from shared.cli import main
from shared.storage import container
from tests.factories import publish


def test_upload_puts_the_file_in_the_landing_container_with_its_series(app_env, tmp_path, capsys):
    name, data = monthly_files()[0]
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["--settings", str(tmp_path / "none.json"), "upload", str(path), "--series", "web"]) == 0
    blob = container(app_env.incoming_container, app_env).get_blob_client(name)
    assert blob.download_blob().readall() == data
    assert blob.get_blob_properties().metadata == {"series_id": "web"}
    assert f"{app_env.incoming_container}/{name}" in capsys.readouterr().out


def test_upload_of_a_missing_file_is_a_clear_error(app_env, tmp_path):
    with pytest.raises(SystemExit, match="is not a file"):
        main(["upload", str(tmp_path / "missing.csv")])


def test_models_list_promote_rollback(app_env, capsys):
    first = publish(app_env)
    second = publish(app_env, promote=False)
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"* {first}") and out[1].startswith(f"  {second}")
    assert main(["models", "promote", "--version", second]) == 0
    assert registry.read_champion(container(app_env.models_container, app_env), "total")[0]["version"] == second
    assert main(["models", "rollback"]) == 0
    assert f"champion of total is now {first}" in capsys.readouterr().out
    assert main(["models", "promote", "--version", "v-nope"]) == 2
    assert "has no model version v-nope" in capsys.readouterr().err


def test_models_list_of_unknown_series(app_env, capsys):
    assert main(["models", "list", "--series", "ghost"]) == 1
    assert "no model versions" in capsys.readouterr().out
