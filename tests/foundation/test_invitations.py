"""Invitations: a team's admin invites an email address with roles; the
invitee opens the link, creates an account (or joins with the one they are
signed in with) and is in the team with those roles. The link works once,
expires, can be withdrawn, and is never stored or recorded in clear."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from approvals.audit import AuditAction, audit_verify
from approvals.models import AuditEvent
from hybridreview.accounts.models import Invitation, Membership
from hybridreview.accounts.services import MembershipRefused
from hybridreview.accounts.services.invitations import (
    invitation_accept,
    invitation_create,
    token_hash,
)
from tests.support.concurrency import at_once

NEW_PASSWORD = "a-fresh-passphrase-58"


@pytest.fixture
def team(make_team, make_user):
    class World:
        pass

    w = World()
    w.team = make_team("alpha")
    w.boss = make_user("boss", "admin", team=w.team)
    w.ana = make_user("ana", "analyst", team=w.team)
    return w


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def invite(client: Client, email: str, *roles: str):
    return client.post(
        "/teams/alpha/members/",
        {"op": "invite", "invite-email": email, "invite-roles": list(roles)},
    )


def link_in(response) -> str:
    found = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', response.content.decode())
    assert found, response.content.decode()[:3000]
    return found.group(1)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def actions_since(seq: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True)
    )


def head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_an_invitee_creates_an_account_and_is_in_the_team_with_the_invited_roles(team, mailoutbox):
    response = invite(signed_in(team.boss), "neo@example.org", "analyst", "approver")
    assert response.status_code == 201
    link = link_in(response)
    body = response.content.decode()
    assert "It was emailed to them." in body
    (mail,) = mailoutbox
    assert mail.to == ["neo@example.org"] and link in mail.body
    assert "as analyst, approver" in mail.body

    start = head()
    visitor = Client()
    opened = visitor.get(path_of(link))
    # The token leaves the address bar: the form lives at a URL without it.
    assert opened.status_code == 302 and opened["Location"] == "/invitations/accept/"
    page = visitor.get("/invitations/accept/")
    assert page.status_code == 200
    assert "invites <strong>neo@example.org</strong> to team alpha" in page.content.decode()
    done = visitor.post(
        "/invitations/accept/",
        {
            "username": "neo",
            "first_name": "Neo",
            "last_name": "Anderson",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302 and done["Location"] == "/"
    neo = User.objects.get(username="neo")
    assert neo.email == "neo@example.org" and neo.check_password(NEW_PASSWORD)
    roles = set(
        Membership.objects.get(team=team.team, user=neo).roles.values_list("name", flat=True)
    )
    assert roles == {"analyst", "approver"}
    home = visitor.get("/")
    assert "Welcome: you are in team alpha (analyst, approver)." in home.content.decode()
    assert actions_since(start) == [
        AuditAction.ACCOUNT_CREATED,
        AuditAction.PERMISSION_GRANTED,
        AuditAction.INVITATION_ACCEPTED,
        AuditAction.LOGIN,
    ]
    accepted = AuditEvent.objects.get(action=AuditAction.INVITATION_ACCEPTED)
    assert accepted.after["invited_by"] == "boss" and accepted.actor_id == neo.pk
    assert audit_verify().ok

    # Used up: the same link again opens nothing.
    again = Client()
    again.get(path_of(link))
    closed = again.get("/invitations/accept/")
    assert closed.status_code == 410
    assert "This invitation has been used already." in closed.content.decode()


def test_the_token_is_never_stored_or_recorded_in_clear(team):
    response = invite(signed_in(team.boss), "neo@example.org", "analyst")
    token = link_in(response).rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    trail = json.dumps(list(AuditEvent.objects.values("before", "after", "reason")), default=str)
    assert token not in trail and invitation.token_hash not in trail
    # Nor shown again: the members page lists the invitation without its link.
    listed = signed_in(team.boss).get("/teams/alpha/members/").content.decode()
    assert "neo@example.org" in listed and token not in listed


@pytest.mark.parametrize(
    ("email", "field", "message"),
    [
        ("not-an-address", "invite-email", "Enter a valid email address."),
        ("", "invite-email", "This field is required."),
    ],
)
def test_a_bad_address_is_refused_at_its_field_and_nothing_is_made(team, email, field, message):
    response = invite(signed_in(team.boss), email, "analyst")
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body and message in body
    assert not Invitation.objects.exists()


def test_a_members_address_is_refused_with_their_name(team):
    team.ana.email = "ana@example.org"
    team.ana.save()
    response = invite(signed_in(team.boss), "ANA@example.org", "approver")
    assert response.status_code == 400
    assert "is the address of ana, already a member of team alpha" in response.content.decode()
    assert not Invitation.objects.exists()


def test_inviting_an_address_again_replaces_its_link(team):
    boss = signed_in(team.boss)
    first = link_in(invite(boss, "neo@example.org", "analyst"))
    second = link_in(invite(boss, "neo@example.org", "consumer"))
    assert first != second
    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    old = Client()
    old.get(path_of(first))
    assert "This invitation was withdrawn." in old.get("/invitations/accept/").content.decode()
    new = Client()
    new.get(path_of(second))
    assert "as <strong>consumer</strong>" in new.get("/invitations/accept/").content.decode()
    created = AuditEvent.objects.filter(action=AuditAction.INVITATION_CREATED).last()
    assert created.after["replaces"] == [Invitation.objects.get(revoked_at__isnull=False).pk]


def test_a_withdrawn_invitation_no_longer_opens(team):
    boss = signed_in(team.boss)
    link = link_in(invite(boss, "neo@example.org", "analyst"))
    invitation = Invitation.objects.get()
    response = boss.post(
        "/teams/alpha/members/", {"op": "revoke_invitation", "invitation": invitation.pk}
    )
    assert response.status_code == 302
    page = boss.get("/teams/alpha/members/").content.decode()
    assert "The invitation of neo@example.org was withdrawn" in page
    assert 'data-invitation="neo@example.org"' not in page
    visitor = Client()
    visitor.get(path_of(link))
    assert visitor.get("/invitations/accept/").status_code == 410
    revoked = AuditEvent.objects.get(action=AuditAction.INVITATION_REVOKED)
    assert revoked.actor_id == team.boss.pk and revoked.team_id == team.team.pk


def test_an_expired_invitation_says_so_and_is_marked_on_the_members_page(team):
    boss = signed_in(team.boss)
    link = link_in(invite(boss, "neo@example.org", "analyst"))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    visitor = Client()
    visitor.get(path_of(link))
    closed = visitor.get("/invitations/accept/")
    assert closed.status_code == 410 and "This invitation expired on" in closed.content.decode()
    row = re.search(
        r'<tr data-invitation="neo@example.org">.*?</tr>',
        boss.get("/teams/alpha/members/").content.decode(),
        re.S,
    ).group(0)
    assert "expired" in row


def test_an_unknown_link_is_not_valid(db):
    visitor = Client()
    visitor.get("/invitations/not-a-real-token/")
    closed = visitor.get("/invitations/accept/")
    assert closed.status_code == 410
    assert "This invitation link is not valid." in closed.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "ana"}, "username", "The username &#x27;ana&#x27; is taken"),
        ({"username": "bad name!"}, "username", "Enter a valid username"),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "too common"),
        ({"password2": "something-else-99"}, "password2", "The two passwords differ."),
    ],
)
def test_a_refused_account_form_names_its_field_and_creates_nothing(team, changes, field, message):
    link = link_in(invite(signed_in(team.boss), "neo@example.org", "analyst"))
    visitor = Client()
    visitor.get(path_of(link))
    start = head()
    data = {"username": "neo", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD} | changes
    response = visitor.post("/invitations/accept/", data)
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(rf'id="id_{field}_error">(.*?)</div>', body, re.S)
    assert error and message in error.group(1), body[:4000]
    assert 'aria-invalid="true"' in body
    assert User.objects.filter(email="neo@example.org").count() == 0
    assert Invitation.objects.get().accepted_at is None
    assert actions_since(start) == []


def test_someone_signed_in_joins_with_their_account(team, make_user, make_team):
    other = make_user("olga", "analyst", team=make_team("beta"))
    link = link_in(invite(signed_in(team.boss), "olga@example.org", "consumer"))
    browser = signed_in(other)
    browser.get(path_of(link))
    page = browser.get("/invitations/accept/").content.decode()
    assert "Join alpha as olga" in page
    response = browser.post("/invitations/accept/", {})
    assert response.status_code == 302
    roles = Membership.objects.get(team=team.team, user=other).roles.values_list("name", flat=True)
    assert list(roles) == ["consumer"]
    assert Invitation.objects.get().accepted_by == other


def test_signing_out_on_the_invitation_keeps_it_open_for_a_new_account(team):
    link = link_in(invite(signed_in(team.boss), "neo@example.org", "analyst"))
    browser = signed_in(team.ana)
    browser.get(path_of(link))
    response = browser.post("/invitations/accept/", {"op": "signout"})
    assert response.status_code == 302
    page = browser.get("/invitations/accept/")
    assert page.status_code == 200 and "Create your account" in page.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_a_member_cannot_join_twice_through_an_invitation(team):
    link = link_in(invite(signed_in(team.boss), "ana.other@example.org", "approver"))
    browser = signed_in(team.ana)
    browser.get(path_of(link))
    response = browser.post("/invitations/accept/", {})
    assert response.status_code == 409
    assert "You are already a member of team alpha" in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_only_the_teams_admins_invite(team):
    response = invite(signed_in(team.ana), "neo@example.org", "admin")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_on_one_link_make_one_account(make_team, make_user):
    alpha = make_team("alpha")
    boss = make_user("boss", "admin", team=alpha)
    token = invitation_create(
        team=alpha, email="neo@example.org", roles=["analyst"], actor=boss
    ).token

    def accept(name: str):
        return invitation_accept(token=token, username=name, password=NEW_PASSWORD)

    outcomes = at_once([lambda: accept("neo1"), lambda: accept("neo2")])
    made = [o for o in outcomes if isinstance(o, User)]
    assert len(made) == 1, outcomes
    assert User.objects.filter(email="neo@example.org").count() == 1


# -- the API -------------------------------------------------------------------


def test_the_api_invites_lists_and_withdraws(team, client_as, mailoutbox):
    api = client_as(team.boss)
    made = api.post(
        "/api/v1/teams/alpha/invitations/",
        {"email": "neo@example.org", "roles": ["analyst"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    payload = made.json()
    assert payload["emailed"] == "sent" and payload["roles"] == ["analyst"]
    assert payload["link"].startswith("http://testserver/invitations/")
    assert payload["link"] in mailoutbox[0].body
    listed = api.get("/api/v1/teams/alpha/invitations/").json()
    assert [(i["email"], i["invited_by"], i["expired"]) for i in listed["results"]] == [
        ("neo@example.org", "boss", False)
    ]
    assert "link" not in listed["results"][0]
    gone = api.delete(f"/api/v1/teams/alpha/invitations/{payload['id']}/")
    assert gone.status_code == 204
    assert api.get("/api/v1/teams/alpha/invitations/").json()["count"] == 0
    assert api.delete(f"/api/v1/teams/alpha/invitations/{payload['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope", "roles": []}, "email"),
        ({"email": "neo@example.org", "roles": ["operator"]}, "roles"),
        ({"email": "neo@example.org", "colour": "red"}, "colour"),
    ],
)
def test_the_api_refuses_bad_input_naming_the_field(team, client_as, body, field):
    response = client_as(team.boss).post("/api/v1/teams/alpha/invitations/", body, format="json")
    assert response.status_code == 400
    assert [e["field"].split("[")[0] for e in response.json()["errors"]] == [field]
    assert not Invitation.objects.exists()


def test_the_api_is_for_the_teams_admins(team, client_as):
    assert client_as(team.ana).get("/api/v1/teams/alpha/invitations/").status_code == 403
    response = client_as(team.ana).post(
        "/api/v1/teams/alpha/invitations/", {"email": "neo@example.org"}, format="json"
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_a_service_refusal_names_the_field(team):
    with pytest.raises(MembershipRefused) as refused:
        invitation_create(team=team.team, email="x@", roles=[], actor=team.boss)
    assert refused.value.field == "email"


def test_a_mail_server_that_refuses_leaves_the_invitation_and_the_link_to_pass_on(team, settings):
    # A real SMTP client against a port nothing listens on: the connection is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 5
    response = invite(signed_in(team.boss), "neo@example.org", "analyst")
    assert response.status_code == 201
    body = response.content.decode()
    assert (
        "It could not be emailed: the mail server refused it (ConnectionRefusedError). "
        "Send them the link yourself."
    ) in body
    assert link_in(response) and Invitation.objects.count() == 1


def test_with_mail_off_the_page_says_to_send_the_link(team, settings, client_as):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    response = invite(signed_in(team.boss), "neo@example.org", "analyst")
    assert "Email is not set up here: send them the link yourself." in response.content.decode()
    made = client_as(team.boss).post(
        "/api/v1/teams/alpha/invitations/", {"email": "trin@example.org"}, format="json"
    )
    assert made.json()["emailed"] == "off"


def test_a_link_far_too_long_to_be_a_token_is_not_kept(db):
    visitor = Client()
    visitor.get("/invitations/" + "x" * 500 + "/")
    assert visitor.session["invitation_token"] == ""
    assert visitor.get("/invitations/accept/").status_code == 410


def test_make_runs_mail_lands_in_the_var_directory(settings):
    # django-environ reads filemail:///abs/path as a relative path; the setting
    # is made apart so the mail is where the README says, wherever the process starts.
    assert str(settings.VAR_DIR / "mail") == settings.EMAIL_FILE_PATH
    assert settings.VAR_DIR.is_absolute()


def test_superusers_read_invitations_in_the_django_admin_without_changing_them(
    team, django_user_model
):
    issued = invitation_create(team=team.team, email="neo@example.org", roles=[], actor=team.boss)
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-root-12345")
    admin = signed_in(root)
    listing = admin.get("/admin/accounts/invitation/").content.decode()
    assert "neo@example.org" in listing and ">open<" in listing
    page = admin.get(f"/admin/accounts/invitation/{issued.invitation.pk}/change/")
    assert page.status_code == 200 and issued.invitation.token_hash not in page.content.decode()
    assert admin.get("/admin/accounts/invitation/add/").status_code == 403
    deleted = admin.post(
        f"/admin/accounts/invitation/{issued.invitation.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403 and Invitation.objects.count() == 1


def test_an_address_that_has_an_account_is_added_by_username_not_invited(team, make_user):
    olga = make_user("olga", "analyst")
    olga.email = "olga@example.org"
    olga.save()
    response = invite(signed_in(team.boss), "Olga@example.org", "analyst")
    assert response.status_code == 400
    assert (
        "Olga@example.org is the address of the account olga: add them by username instead."
        in response.content.decode()
    )
    assert not Invitation.objects.exists()
