"""Property-based API test generated from the OpenAPI document: no 5xx, every response conforms."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from localrun import Runner
from shared.api import ENDPOINTS
from shared.openapi import document
from tests.conftest import make_settings
from tests.factories import publish

pytestmark = pytest.mark.slow
schema = schemathesis.openapi.from_dict(document(ENDPOINTS.values()))


@pytest.fixture(scope="module")
def base_url(azurite):
    """A runner over a champion for `total`, shared by the generated cases of this module."""
    from shared.api import default_service
    from shared.settings import get_settings
    from shared.storage import ensure_resources

    app_settings = make_settings(azurite.connection_string)
    ensure_resources(app_settings)
    publish(app_settings)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in app_settings.as_env().items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        default_service.cache_clear()
        with Runner(port=0, poll_interval=0.5) as runner:
            yield runner.base_url
    get_settings.cache_clear()
    default_service.cache_clear()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, base_url):
    response = case.call(base_url=base_url)
    assert response.status_code < 500, response.text
    # The local runner does not enforce function keys (like `func start`); Azure does.
    excluded = [ignored_auth]
    if response.status_code == 400 and response.json()["error"] == "invalid parameter cursor":
        # A cursor is opaque: only the ones the API returned are valid, so a made-up one is rightly a 400.
        assert (case.query or {}).get("cursor") is not None
        excluded.append(positive_data_acceptance)
    case.validate_response(response, excluded_checks=excluded)
