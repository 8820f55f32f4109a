"""Passwords: anyone signed in changes their own; anyone who forgot theirs
gets a link by email. Each new password is in the audit trail (never the
password), and the pages say nothing about which addresses have accounts."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from approvals.audit import AuditAction, audit_verify
from approvals.models import AuditEvent
from tests.conftest import PASSWORD

NEW = "another-passphrase-31"


@pytest.fixture
def ana(make_user, make_team):
    user = make_user("ana", "analyst", team=make_team("alpha"))
    user.email = "ana@example.org"
    user.save()
    return user


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def password_events():
    return list(AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CHANGED).order_by("seq"))


def test_a_user_changes_their_password_and_it_is_recorded(ana):
    browser = Client()
    assert browser.login(username="ana", password=PASSWORD)
    other = Client()
    assert other.login(username="ana", password=PASSWORD)
    response = browser.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    ana.refresh_from_db()
    assert ana.check_password(NEW)
    (event,) = password_events()
    assert event.actor_id == ana.pk and event.after == {"user": "ana", "password_changed": True}
    # This session stays signed in; the account's other session has ended.
    assert "Your password was changed." in browser.get("/").content.decode()
    assert other.get("/").status_code == 302
    assert audit_verify().ok


def test_a_wrong_old_password_is_refused_at_its_field_and_nothing_changes(ana):
    response = signed_in(ana).post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'id="id_old_password_error">(.*?)</div>', body, re.S)
    assert error and "Your old password was entered incorrectly" in error.group(1)
    assert 'aria-invalid="true"' in body
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD) and password_events() == []


def test_a_forgotten_password_is_reset_from_the_emailed_link_once(ana, mailoutbox):
    visitor = Client()
    assert 'href="/accounts/password/reset/"' in visitor.get("/accounts/login/").content.decode()
    response = visitor.post("/accounts/password/reset/", {"email": "ana@example.org"})
    assert response.status_code == 302
    assert "If an account has that address" in visitor.get(response["Location"]).content.decode()
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.org"] and "account ana" in mail.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)
    assert "24 hours or less" in mail.body

    opened = visitor.get(link)
    # Django's own step: the token leaves the address bar for .../set-password/.
    assert opened.status_code == 302 and opened["Location"].endswith("/set-password/")
    form = visitor.get(opened["Location"])
    assert "Choose a new password" in form.content.decode()
    done = visitor.post(opened["Location"], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    ana.refresh_from_db()
    assert ana.check_password(NEW)
    (event,) = password_events()
    assert event.actor_id == ana.pk and event.after["password_changed"] is True

    again = Client().get(link)
    assert again.status_code == 200 and "This link does not work" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db, mailoutbox):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mailoutbox == [] and password_events() == []


def test_a_refused_mail_server_gives_the_same_answer_not_an_error(ana, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 5
    response = Client().post("/accounts/password/reset/", {"email": "ana@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"


def test_with_mail_off_the_page_says_whom_to_ask(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    body = Client().get("/accounts/password/reset/").content.decode()
    assert "Email is not set up on this server" in body and 'name="email"' not in body


def test_a_weak_new_password_is_refused_at_its_field(ana, mailoutbox):
    visitor = Client()
    visitor.post("/accounts/password/reset/", {"email": "ana@example.org"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = visitor.get(link)["Location"]
    response = visitor.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 400
    error = re.search(r'id="id_new_password2_error">(.*?)</div>', response.content.decode(), re.S)
    assert error and "too common" in error.group(1)
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD) and password_events() == []


def test_a_reset_links_token_never_reaches_a_log_line(ana, mailoutbox, monkeypatch):
    lines: list[str] = []

    def emit(handler: logging.Handler, record: logging.LogRecord) -> None:
        if not type(handler).__module__.startswith("_pytest"):
            lines.append(handler.format(record))

    Client().post("/accounts/password/reset/", {"email": "ana@example.org"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    token = link.rstrip("/").rsplit("/", 1)[1]
    monkeypatch.setattr(logging.StreamHandler, "emit", emit)
    logging.getLogger("django.server").info('"%s" %s %s', f"GET {link} HTTP/1.1", 302, 0)
    assert Client().post(link).status_code in {302, 400, 405}
    assert lines and all(token not in line for line in lines), lines


def test_an_address_that_keeps_failing_to_sign_in_is_held_back(ana, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "3/min", "password_reset": "5/hour"}
    }
    guesser = Client()
    for guess in ("a", "b", "c"):
        response = guesser.post("/accounts/login/", {"username": "ana", "password": guess})
        assert response.status_code == 200 and "didn't match" in response.content.decode()
    held = guesser.post("/accounts/login/", {"username": "ana", "password": PASSWORD})
    assert held.status_code == 429
    assert "Too many failed sign-ins from your address. Try again in" in held.content.decode()
    assert "_auth_user_id" not in guesser.session  # not even the right password gets in


def test_signing_in_right_is_never_held_back(ana, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "3/min", "password_reset": "5/hour"}
    }
    for _ in range(5):
        browser = Client()
        response = browser.post("/accounts/login/", {"username": "ana", "password": PASSWORD})
        assert response.status_code == 302


def test_reset_requests_from_one_address_are_limited(ana, settings, mailoutbox):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "10/min", "password_reset": "2/hour"}
    }
    visitor = Client()
    for _ in range(2):
        assert (
            visitor.post("/accounts/password/reset/", {"email": "ana@example.org"}).status_code
            == 302
        )
    held = visitor.post("/accounts/password/reset/", {"email": "ana@example.org"})
    assert held.status_code == 429
    assert "Too many reset requests from your address." in held.content.decode()
    assert len(mailoutbox) == 2


def test_reset_mails_to_one_person_are_limited_whatever_address_asks(ana, settings, mailoutbox):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "10/min", "password_reset": "2/hour"}
    }
    for n in range(4):
        # Each request from a different client address, as from many machines.
        response = Client(REMOTE_ADDR=f"10.0.0.{n + 1}").post(
            "/accounts/password/reset/", {"email": "ANA@example.org "}
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 2
