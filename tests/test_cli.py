"""The forecastops command line against Azurite: upload and model registry operations."""

import json

import pandas as pd
import pytest

from localrun.sample import monthly_files
from shared import registry
from shared.cli import main
from shared.ingest import process_upload
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


@pytest.mark.slow
def test_batch_forecast_writes_h_rows_per_series(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    rows = []
    for sid, freq, n in (("daily", "D", 70), ("monthly", "MS", 40)):
        dates = pd.date_range("2020-01-01", periods=n, freq=freq)
        values = 100 + 10 * np.sin(np.arange(n)) + np.arange(n)
        rows += [
            {"series_id": sid, "date": d.date().isoformat(), "value": v} for d, v in zip(dates, values, strict=True)
        ]
    source, target, report = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "report.json"
    pd.DataFrame(rows).to_csv(source, index=False)
    args = ["forecast", "--input", str(source), "--output", str(target), "--horizon", "6", "--jobs", "1"]
    assert main([*args, "--no-progress", "--report", str(report)]) == 0
    out = pd.read_csv(target)
    assert list(out.columns) == ["series_id", "date", "forecast", "lower", "upper"]
    assert out.groupby("series_id").size().to_dict() == {"daily": 6, "monthly": 6}
    assert out[out.series_id == "monthly"].date.iloc[0] == "2023-05-01"
    assert "2 series, 6 steps each" in capsys.readouterr().out and report.exists()


def test_batch_forecast_forecasts_every_usable_series_and_names_the_rest_on_stderr(tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = ["series_id,date,value"] + [f"good,2020-01-{d:02d},{10 + d % 7}" for d in range(1, 31)]
    rows += ["new,2020-01-30,4", "broken,2020-01-01,1", "broken,2020-01-02,x"]
    source.write_text("\n".join(rows) + "\n")
    args = ["forecast", "--input", str(source), "--output", str(target), "--horizon", "3", "--jobs", "1"]
    assert main([*args, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "not forecast: series 'broken': row 33: value 'x' is not a finite number" in captured.err
    assert "cold-start fallback: new" in captured.out
    out = pd.read_csv(target)
    assert out.groupby("series_id").size().to_dict() == {"good": 3, "new": 3}
    target.unlink()
    assert main([*args, "--no-progress", "--strict"]) == 2
    assert "(strict): series 'broken'" in capsys.readouterr().err and not target.exists()


def test_batch_forecast_reports_malformed_input(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("series_id,day,value\na,2020-01-01,1\n")
    assert main(["forecast", "--input", str(source), "--output", str(tmp_path / "o.csv"), "--horizon", "3"]) == 2
    assert "date" in capsys.readouterr().err


def test_backtest_prints_every_candidate(tmp_path, capsys):
    from localrun.sample import monthly_files

    source = tmp_path / "sales.csv"
    months = monthly_files()[-3:]
    source.write_bytes(months[0][1] + b"".join(data.split(b"\n", 1)[1] for _, data in months[1:]))
    assert main(["backtest", "--input", str(source), "--horizon", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("total: 92 points (0 filled), selected ")
    for candidate in ("arima", "ets", "theta", "snaive"):
        assert f"  {candidate} " in out


def test_drift_check_and_show(app_env, capsys):
    from shared.retrain import handle_request

    for name, data in monthly_files()[-4:]:
        request = process_upload(name, data, settings=app_env).retrain_requests[0]
    handle_request(request, settings=app_env)
    assert main(["drift", "show", "--series", "total"]) == 1
    assert "no drift report yet" in capsys.readouterr().out
    assert main(["drift", "check"]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line.startswith("total: ") and "(checked " in first_line
    assert main(["drift", "show", "--series", "total", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["series"] == "total" and report["status"] in {"ok", "drift", "decay", "drift+decay", "not-evaluated"}


def test_an_unreadable_local_settings_file_is_a_clear_error(app_env, tmp_path, capsys):
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text("{not json")
    assert main(["--settings", str(settings_file), "models", "list"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
