"""Schemathesis fuzzes every operation of the app's own OpenAPI schema: never a 5xx, and every
answer matches the documented status codes, content types and response schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from service.main import create_app
from service.settings import Settings
from tests.service.helpers import conll_random, ud_random

TAGGERS = [conll_random(), ud_random()]
SETTINGS = {"max_text_length": 2000, "max_documents": 8, "max_body_bytes": 20_000}

# POST /admin/reload would load the configured (shipped) models in place of the random ones:
# it has its own tests (test_admin.py).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(**SETTINGS), taggers=TAGGERS).openapi()
).exclude(path="/admin/reload")


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    """One app, with its lifespan (models loaded, batchers running), for every generated case."""
    app = create_app(Settings(**SETTINGS), taggers=TAGGERS)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors_and_documented_answers(case: Case, api: TestClient) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    request = dict(kwargs)
    cookies = request.pop("cookies", None)
    if cookies:  # per-request cookies are deprecated in the test client: send the header
        jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
        request["headers"] = {**(request.get("headers") or {}), "Cookie": jar}
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    response = api.request(**request)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        transport_kwargs=kwargs,
    )
