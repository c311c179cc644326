"""Baseline for the serving benchmark: what the old scoring script did, as an HTTP function.

The model (a pickled statsmodels ARIMA results object) is unpickled once per process, and every
request calls statsmodels' forecast; this is what the stored-forecast serving path is compared with.
"""

import json
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
_model = None


@app.route(route="forecast", methods=["GET"])
def baseline_forecast(req: func.HttpRequest) -> func.HttpResponse:
    global _model
    if _model is None:
        import joblib

        _model = joblib.load(os.environ["BASELINE_MODEL"])
    horizon = int(req.params.get("horizon", "28"))
    forecast = _model.get_forecast(horizon)
    bounds = forecast.conf_int(alpha=0.05)
    points = [
        {"date": str(stamp.date()), "forecast": float(mean), "lower": float(lo), "upper": float(hi)}
        for stamp, mean, lo, hi in zip(
            forecast.predicted_mean.index, forecast.predicted_mean, bounds.iloc[:, 0], bounds.iloc[:, 1], strict=True
        )
    ]
    return func.HttpResponse(json.dumps({"points": points}), mimetype="application/json")
