"""Accounts changed in Django's admin are audited: created, given or stripped
of privileges, deactivated, renamed, their password reset, deleted. The
trail says who did it, never the password."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from approvals.audit import AuditAction, audit_verify
from approvals.models import AuditEvent
from approvals.selectors import audit_events_for_user
from hybridreview.accounts.models import Membership
from tests.conftest import PASSWORD


@pytest.fixture
def world(make_team, make_user, django_user_model):
    class World:
        pass

    w = World()
    w.alpha = make_team("alpha")
    w.root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    w.boss = make_user("boss", "admin", team=w.alpha)
    w.ana = make_user("ana", "analyst", team=w.alpha)
    w.admin = Client()
    w.admin.force_login(w.root)
    return w


def form_of(user: User, **changes) -> dict:
    """The change form as the browser sends it, with ``changes`` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "platform_roles": list(user.groups.filter(name="operator").values_list("name", flat=True)),
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        elif value is True:
            data[key] = "on"
        else:
            data[key] = value
    return data


def change(client: Client, user: User, **changes):
    response = client.post(f"/admin/auth/user/{user.pk}/change/", form_of(user, **changes))
    assert response.status_code == 302, re.findall(r"errorlist.{0,300}", response.content.decode())
    return response


def new_events(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))


def head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_an_account_created_in_the_admin_is_recorded_with_who_created_it(world):
    start = head()
    response = world.admin.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "a-long-passphrase-91",
            "password2": "a-long-passphrase-91",
        },
    )
    assert response.status_code == 302
    (created,) = new_events(start)
    assert created.action == AuditAction.ACCOUNT_CREATED
    assert created.actor_id == world.root.pk
    assert created.object_id == str(User.objects.get(username="newbie").pk)
    assert created.after["username"] == "newbie" and created.after["is_superuser"] is False
    assert "pbkdf2" not in json.dumps(created.after)


def test_making_an_operator_and_a_superuser_is_a_grant_and_undoing_it_a_revocation(world):
    start = head()
    change(world.admin, world.ana, platform_roles=["operator"], is_staff=True, is_superuser=True)
    (granted,) = new_events(start)
    assert granted.action == AuditAction.PERMISSION_GRANTED
    assert granted.after["roles_added"] == ["operator"]
    assert granted.after["privileges_added"] == ["is_staff", "is_superuser"]
    assert granted.actor_id == world.root.pk and granted.after["user"] == "ana"
    world.ana.refresh_from_db()
    assert world.ana.is_superuser and world.ana.groups.filter(name="operator").exists()

    start = head()
    change(world.admin, world.ana, platform_roles=[], is_superuser=False)
    (revoked,) = new_events(start)
    assert revoked.action == AuditAction.PERMISSION_REVOKED
    assert revoked.after["roles_removed"] == ["operator"]
    assert revoked.after["privileges_removed"] == ["is_superuser"]
    assert revoked.before == {"privileges": ["is_staff", "is_superuser"], "roles": ["operator"]}
    assert audit_verify().ok


def test_the_platform_role_field_leaves_the_team_and_its_roles_alone(world):
    # Only the platform role is on the form: saving it must not drop the
    # groups that mirror the account's memberships (team:alpha, analyst).
    change(world.admin, world.ana, platform_roles=["operator"])
    names = set(world.ana.groups.values_list("name", flat=True))
    assert names == {"team:alpha", "analyst", "operator"}
    assert Membership.objects.get(user=world.ana).roles.get().name == "analyst"
    body = world.admin.get(f"/admin/auth/user/{world.ana.pk}/change/").content.decode()
    assert 'name="groups"' not in body and 'name="user_permissions"' not in body
    assert 'href="/teams/alpha/members/">alpha</a>: analyst' in body


def test_deactivating_and_reactivating_an_account_are_recorded(world):
    start = head()
    change(world.admin, world.ana, is_active=False)
    (off,) = new_events(start)
    assert off.action == AuditAction.ACCOUNT_DEACTIVATED
    assert (off.before, off.after) == ({"is_active": True}, {"user": "ana", "is_active": False})
    world.ana.refresh_from_db()
    start = head()
    change(world.admin, world.ana, is_active=True)
    assert [e.action for e in new_events(start)] == [AuditAction.ACCOUNT_REACTIVATED]


def test_a_rename_is_recorded_with_both_names_and_an_unchanged_save_records_nothing(world):
    start = head()
    change(world.admin, world.ana)
    assert new_events(start) == []
    change(world.admin, world.ana, username="ana.b", email="ana@example.org")
    (renamed,) = new_events(start)
    assert renamed.action == AuditAction.ACCOUNT_CHANGED
    assert renamed.before == {"username": "ana", "email": ""}
    assert renamed.after == {
        "username": "ana.b",
        "email": "ana@example.org",
        "user": "ana.b",
        "password_changed": False,
    }


def test_a_password_reset_in_the_admin_is_recorded_without_the_password(world):
    start = head()
    response = world.admin.post(
        f"/admin/auth/user/{world.ana.pk}/password/",
        {
            "usable_password": "true",
            "password1": "another-passphrase-27",
            "password2": "another-passphrase-27",
            "set-password": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    (changed,) = new_events(start)
    assert changed.action == AuditAction.ACCOUNT_CHANGED
    assert changed.after == {"user": "ana", "password_changed": True}
    world.ana.refresh_from_db()
    text = json.dumps([changed.before, changed.after])
    assert world.ana.password not in text and "another-passphrase" not in text
    assert world.ana.check_password("another-passphrase-27")


def test_a_refused_password_form_records_nothing(world):
    start = head()
    response = world.admin.post(
        f"/admin/auth/user/{world.ana.pk}/password/",
        {"usable_password": "true", "password1": "x1", "password2": "x2", "set-password": ""},
    )
    assert response.status_code == 200  # the form again, with its errors
    assert new_events(start) == []


def test_deleting_an_account_tells_each_of_its_teams(world, make_user, make_team):
    beta = make_team("beta")
    gone = make_user("gone", "analyst", team=world.alpha)
    Membership.objects.create(team=beta, user=gone).roles.add(Group.objects.get(name="consumer"))
    start = head()
    response = world.admin.post(f"/admin/auth/user/{gone.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="gone").exists()
    recorded = new_events(start)
    assert [(e.action, e.team.slug if e.team else None) for e in recorded] == [
        (AuditAction.PERMISSION_REVOKED, "alpha"),
        (AuditAction.PERMISSION_REVOKED, "beta"),
        (AuditAction.ACCOUNT_DELETED, None),
    ]
    assert recorded[0].after["roles_removed"] == ["analyst"]
    assert recorded[0].after["account_deleted"] is True
    assert recorded[2].before["username"] == "gone" and recorded[2].actor_id == world.root.pk
    # alpha's admin still reads, in the team's trail, that the member went.
    seen = audit_events_for_user(world.boss).filter(seq__gt=start)
    assert [e.action for e in seen] == [AuditAction.PERMISSION_REVOKED]
    assert audit_verify().ok


def test_deleting_accounts_in_bulk_records_each_one(world, make_user):
    a = make_user("temp1", "analyst", team=world.alpha)
    b = make_user("temp2", "consumer", team=world.alpha)
    start = head()
    response = world.admin.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = [e for e in new_events(start) if e.action == AuditAction.ACCOUNT_DELETED]
    assert sorted(e.before["username"] for e in deleted) == ["temp1", "temp2"]


def test_an_account_that_has_acted_cannot_be_deleted_and_nothing_is_recorded(world):
    # Its events name it as their actor: the trail keeps it (PROTECT), so the
    # admin refuses and the audit records nothing of a deletion that did not happen.
    Client().login(username="ana", password=PASSWORD)  # auth.login, actor ana
    start = head()
    response = world.admin.post(f"/admin/auth/user/{world.ana.pk}/delete/", {"post": "yes"})
    assert response.status_code in {200, 403}
    assert User.objects.filter(username="ana").exists()
    assert new_events(start) == []
