"""API bodies take values of the JSON type each field declares; nothing is coerced.

DRF on its own reads "12" and 12.0 as the integer 12, true as the number 1,
5 as the string "5" and "yes" as true. A client that sends those has a bug
that the API should name, not guess around.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from approvals.models import ApprovalPolicy
from jobs.models import Budget, OptimizationRequest
from quantum.models import BackendConfig
from tests.jobs.conftest import maxcut

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_team):
    return make_team("demo")


@pytest.fixture
def as_role(client_as, make_user, team):
    return lambda role: client_as(make_user(role, role, team=team))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"shots": " 12 "}, "shots", "must be a whole number; got a string"),
        ({"shots": 12.0}, "shots", "must be a whole number; got a fraction"),
        ({"seed": True}, "seed", "must be a whole number; got true"),
        ({"title": 123}, "title", "must be a string; got a whole number"),
        ({"schema_version": 1}, "schema_version", "must be a string; got a whole number"),
    ],
)
def test_a_submission_with_a_value_of_the_wrong_type_is_a_400_naming_it(
    as_role, change, field, message
):
    body = {"problem": maxcut(), "solvers": [{"name": "exact"}], **change}
    response = as_role("analyst").post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400, response.json()
    assert {"field": field, "message": message} in response.json()["errors"]
    assert not OptimizationRequest.objects.exists()


def test_a_batch_item_of_the_wrong_type_is_named_by_its_index(as_role):
    items = [{"problem": maxcut()}, {"problem": maxcut(), "shots": "100"}]
    analyst = as_role("analyst")
    response = analyst.post("/api/v1/requests/batch/", {"requests": items}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "requests[1].shots"
    assert not OptimizationRequest.objects.exists()


def test_a_flag_or_a_list_of_numbers_takes_no_lookalikes(as_role, team):
    admin = as_role("admin")
    budget = admin.get("/api/v1/budgets/").json()["results"][0]["id"]
    url = f"/api/v1/budgets/{budget}/"
    response = admin.patch(url, {"alert_thresholds": [True]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "alert_thresholds", "message": "items must be a number; got true"}
    ]
    response = admin.patch(url, {"hard": 0}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "hard"
    assert Budget.objects.get(pk=budget).alert_thresholds != [1.0]

    operator = as_role("operator")
    response = operator.patch("/api/v1/backends/aer_mps/", {"enabled": "yes"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "enabled", "message": "must be true or false; got a string"}
    ]
    assert BackendConfig.objects.get(name="aer_mps").enabled is True


def test_a_policy_count_sent_as_text_is_refused(as_role, team):
    as_role("approver")
    response = as_role("admin").patch(
        f"/api/v1/teams/{team.slug}/policy/", {"approvals_required": "2"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "approvals_required"
    assert not ApprovalPolicy.objects.filter(team=team).exists()


def test_a_budget_limit_may_come_as_a_string_to_keep_its_decimals(as_role):
    admin = as_role("admin")
    budget = admin.get("/api/v1/budgets/").json()["results"][0]["id"]
    response = admin.patch(f"/api/v1/budgets/{budget}/", {"limit_credits": "120.50"}, format="json")
    assert response.status_code == 200, response.json()
    assert Budget.objects.get(pk=budget).limit_credits == Decimal("120.5")


def test_query_strings_are_text_and_still_read_as_numbers(as_role):
    analyst = as_role("analyst")
    assert analyst.get("/api/v1/requests/", {"page": "1", "page_size": "5"}).status_code == 200
