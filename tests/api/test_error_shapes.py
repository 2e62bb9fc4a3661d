"""Errors raised outside the API's views still answer in the API's shapes (not HTML pages)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from kapflow.core.views import page_not_found, server_error


@pytest.mark.parametrize(
    ("path", "content_type", "key"),
    [
        ("/api/v1/nowhere/", "application/problem+json", "status"),
        ("/fhir/a/b/c", "application/fhir+json", "resourceType"),
    ],
)
def test_unknown_addresses_and_server_errors_answer_in_the_api_shapes(path, content_type, key):
    request = RequestFactory().get(path)
    for response, status in ((page_not_found(request, None), 404), (server_error(request), 500)):
        assert response.status_code == status
        assert response["Content-Type"] == content_type
        assert key in json.loads(response.content)


@pytest.mark.django_db
def test_a_deep_unknown_fhir_path_is_an_operation_outcome(client):
    response = client.get("/fhir/Patient/x/y/z")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
