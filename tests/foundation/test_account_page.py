"""Your account page: who you are, and your API tokens: made with the
password typed again, shown once, listed by their first characters, revoked
one by one or all at once, each step audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from knox.models import AuthToken

from approvals.audit import AuditAction
from approvals.models import AuditEvent
from tests.conftest import PASSWORD


@pytest.fixture
def con(make_user, make_team):
    return make_user("con", "consumer", team=make_team("alpha"))


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_consumer_makes_a_token_sees_it_once_and_uses_it(con, api_client):
    browser = signed_in(con)
    page = browser.get("/accounts/").content.decode()
    assert "alpha (consumer)" in page and "You have no API tokens." in page
    made = browser.post("/accounts/", {"op": "create", "password": PASSWORD})
    assert made.status_code == 201
    token = re.search(r'id="token-value"[^>]*value="([^"]+)"', made.content.decode()).group(1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/decisions/").status_code == 200
    created = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED)
    assert created.actor_id == con.pk and created.after["token_key"] == token[:15]
    later = browser.get("/accounts/").content.decode()
    assert token not in later and f"<code>{token[:15]}…</code>" in later


def test_a_wrong_password_makes_no_token_and_says_so_at_the_field(con):
    response = signed_in(con).post("/accounts/", {"op": "create", "password": "not it"})
    assert response.status_code == 403
    error = re.search(r'id="id_password_error">(.*?)</div>', response.content.decode(), re.S)
    assert error and "Your password was not accepted; no token was made." in error.group(1)
    assert not AuthToken.objects.exists()


def test_wrong_passwords_hold_the_account_back(con, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "1/min", "password_reset": "5/hour"}
    }
    browser = signed_in(con)
    assert browser.post("/accounts/", {"op": "create", "password": "no"}).status_code == 403
    held = browser.post("/accounts/", {"op": "create", "password": PASSWORD})
    assert held.status_code == 429 and "Too many wrong passwords" in held.content.decode()
    assert not AuthToken.objects.exists()


def test_tokens_are_revoked_one_by_one_or_all_at_once(con, api_client):
    browser = signed_in(con)
    for _ in range(3):
        assert browser.post("/accounts/", {"op": "create", "password": PASSWORD}).status_code == 201
    first = AuthToken.objects.order_by("created").first()
    response = browser.post("/accounts/", {"op": "revoke", "key": first.token_key})
    assert response.status_code == 302
    assert AuthToken.objects.count() == 2
    assert f"Token {first.token_key}… was revoked." in browser.get("/accounts/").content.decode()
    browser.post("/accounts/", {"op": "revoke_all"})
    assert not AuthToken.objects.exists()
    revoked = AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).order_by("seq")
    assert [e.after["all"] for e in revoked] == [False, True]


def test_nobody_revokes_anothers_token(con, make_user):
    other = make_user("ana", "analyst")
    signed_in(other).post("/accounts/", {"op": "create", "password": PASSWORD})
    key = AuthToken.objects.get().token_key
    response = signed_in(con).post("/accounts/", {"op": "revoke", "key": key})
    assert response.status_code == 404 and AuthToken.objects.count() == 1


def test_the_account_page_needs_signing_in(db):
    response = Client().get("/accounts/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
