"""Roles are groups whose permissions migrate sets: exactly what the role says."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from hybridreview.accounts.roles import ensure_roles

pytestmark = pytest.mark.django_db


def test_migrate_takes_back_a_permission_a_role_no_longer_has():
    # Before the operator role, the admin group could change backends; a
    # deployment upgraded from then must lose that at its next migrate.
    ensure_roles()
    admin = Group.objects.get(name="admin")
    change = Permission.objects.get(
        content_type__app_label="quantum", codename="change_backendconfig"
    )
    admin.permissions.add(change)
    ensure_roles()
    held = set(admin.permissions.values_list("codename", flat=True))
    assert "change_backendconfig" not in held
    assert {"view_backendconfig", "change_budget"} <= held
    operator = set(
        Group.objects.get(name="operator").permissions.values_list("codename", flat=True)
    )
    assert operator == {"view_backendconfig", "add_backendconfig", "change_backendconfig"}
