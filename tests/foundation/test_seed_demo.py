import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from hybridreview.accounts.models import Team

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_demo_user_with_their_role_and_is_idempotent(client):
    call_command("seed_demo", password="demo-pass-1", no_examples=True)
    call_command("seed_demo", password="demo-pass-1", no_examples=True)
    team = Team.objects.get(slug="demo")
    users = get_user_model().objects.filter(memberships__team=team)
    expected = {
        "analyst": "analyst",
        "approver": "approver",
        "approver2": "approver",
        "admin": "admin",
        "consumer": "consumer",
        "auditor": "auditor",
        "operator": "operator",
    }
    assert {u.username for u in users} == set(expected)
    for username, role in expected.items():
        user = users.get(username=username)
        assert user.groups.filter(name=role).exists()
        assert client.login(username=username, password="demo-pass-1")
        # The Django admin is for the roles that configure backends and budgets.
        assert user.is_staff == (role in ("admin", "operator"))


def test_seed_demo_generates_and_prints_a_password_when_none_is_set(capsys, settings):
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", no_examples=True)
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("Demo password:"))
    password = line.split(":", 1)[1].split()[0]
    assert get_user_model().objects.get(username="analyst").check_password(password)
