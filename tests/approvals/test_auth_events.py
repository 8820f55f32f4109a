"""Logins, failed logins, API tokens and grants each leave an audit event."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from approvals.audit import AuditAction
from approvals.models import AuditEvent

pytestmark = pytest.mark.django_db


def last(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no {action} event"
    return event


def test_a_form_login_is_recorded_with_address_and_agent(client, make_user, password):
    user = make_user("ana", "analyst")
    client.post(
        "/accounts/login/",
        {"username": "ana", "password": password},
        HTTP_USER_AGENT="Firefox",
        REMOTE_ADDR="198.51.100.4",
    )
    event = last(AuditAction.LOGIN)
    assert (event.actor_id, event.object_type, event.object_id) == (
        user.pk,
        "auth.user",
        str(user.pk),
    )
    assert (event.ip, event.user_agent) == ("198.51.100.4", "Firefox")
    assert event.correlation_id


def test_a_failed_login_names_the_account_but_never_the_password(client, make_user):
    user = make_user("ana", "analyst")
    client.post("/accounts/login/", {"username": "ana", "password": "guess-123"})
    event = last(AuditAction.LOGIN_FAILED)
    assert event.actor_id is None
    assert (event.object_type, event.object_id) == ("auth.user", str(user.pk))
    assert event.after == {"username": "ana"}
    assert "guess-123" not in str(AuditEvent.objects.values_list("before", "after", "reason"))


def test_a_failed_login_for_an_unknown_name_is_recorded_without_an_object(client, db):
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    event = last(AuditAction.LOGIN_FAILED)
    assert (event.object_type, event.after) == ("", {"username": "nobody"})


def test_a_failed_token_login_is_recorded(api_client, make_user):
    make_user("ana", "analyst")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "ana", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert last(AuditAction.LOGIN_FAILED).after == {"username": "ana"}


def test_token_creation_and_revocation_are_recorded_by_key_prefix_only(
    api_client, make_user, password
):
    user = make_user("ana", "analyst")
    token = api_client.post(
        "/api/v1/auth/token/", {"username": "ana", "password": password}, format="json"
    ).json()["token"]
    created = last(AuditAction.TOKEN_CREATED)
    assert created.actor_id == user.pk
    assert token.startswith(created.after["token_key"]) and token != created.after["token_key"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.post("/api/v1/auth/token/revoke/").status_code == 204
    revoked = last(AuditAction.TOKEN_REVOKED)
    assert revoked.after == {"token_keys": [created.after["token_key"]], "all": False}
    assert token not in str(AuditEvent.objects.values_list("after", flat=True))


def test_revoking_all_tokens_is_one_event_naming_each(client_as, make_user):
    user = make_user("ana", "analyst")
    first, second = client_as(user), client_as(user)
    assert second.post("/api/v1/auth/token/revoke/?all=true").status_code == 204
    revoked = last(AuditAction.TOKEN_REVOKED)
    assert revoked.after["all"] is True and len(revoked.after["token_keys"]) == 2
    assert first.get("/api/v1/schemas/").status_code == 401


def test_adding_a_member_with_a_role_is_a_recorded_grant(make_team, make_user):
    team = make_team("alpha")
    user = make_user("ana", "analyst", team=team)
    event = last(AuditAction.PERMISSION_GRANTED)
    assert event.team_id == team.pk
    assert event.after == {"user": "ana", "team": "alpha", "roles_added": ["analyst"]}
    assert user.groups.filter(name="team:alpha").exists()


def test_a_grant_that_changes_nothing_is_not_recorded(make_team, make_user):
    from hybridreview.accounts.services import membership_add

    team = make_team("alpha")
    user = make_user("ana", "analyst", team=team)
    before = AuditEvent.objects.count()
    membership_add(team=team, user=user, roles=("analyst",))
    assert AuditEvent.objects.count() == before


def test_a_new_request_grants_its_team_group_and_records_it(make_team, make_user, make_request):
    team = make_team("alpha")
    ana = make_user("ana", "analyst", team=team)
    request_obj = make_request(ana, "t", team=team)
    event = last(AuditAction.PERMISSION_GRANTED)
    assert (event.object_type, event.object_id) == ("jobs.optimizationrequest", str(request_obj.pk))
    assert event.request_ref == request_obj.pk and event.team_id == team.pk
    assert event.after["group"] == "team:alpha"
    from approvals.models import RequestGroupObjectPermission

    granted = RequestGroupObjectPermission.objects.filter(content_object=request_obj)
    assert set(granted.values_list("permission__codename", flat=True)) == {
        "view_optimizationrequest",
        "review_optimizationrequest",
        "approve_optimizationrequest",
    }
    assert set(granted.values_list("group", flat=True)) == {Group.objects.get(name="team:alpha").pk}
