"""The OpenAPI schema describes the lists as they are served: pages."""

from __future__ import annotations

import pytest

PAGE_KEYS = {"count", "next", "previous", "results"}
# A list endpoint, and a role of the demo-like team that may read it.
LISTS = {
    "/api/v1/requests/": "analyst",
    "/api/v1/decisions/": "consumer",
    "/api/v1/campaigns/": "analyst",
    "/api/v1/backends/": "admin",
    "/api/v1/budgets/": "admin",
}


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def _ok_schema(schema, path):
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]
    return content["application/json"]["schema"]


def test_no_endpoint_is_documented_as_a_bare_array(schema):
    for path, operations in schema["paths"].items():
        if "get" in operations and "200" in operations["get"]["responses"]:
            ok = operations["get"]["responses"]["200"].get("content", {})
            assert ok.get("application/json", {}).get("schema", {}).get("type") != "array", path


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "role"), LISTS.items())
def test_every_list_is_documented_and_served_as_a_page(schema, path, role, make_user, client_as):
    ref = _ok_schema(schema, path)["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == PAGE_KEYS
    response = client_as(make_user(f"u-{role}", role)).get(path)
    assert response.status_code == 200, response.content
    assert set(response.json()) == PAGE_KEYS


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "role"), LISTS.items())
def test_a_misspelt_list_parameter_is_a_400_naming_it(path, role, make_user, client_as):
    response = client_as(make_user(f"u-{role}", role)).get(path, {"pgae": 2})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "pgae"
