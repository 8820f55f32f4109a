"""access_request and requests_for_user: role and team grant, both required."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from approvals.permissions import access_request, access_request_audit, requests_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(make_team):
    return make_team("alpha"), make_team("zeta")


def test_an_analyst_sees_and_reviews_only_their_teams_requests(teams, make_user, make_request):
    alpha, zeta = teams
    ana = make_user("ana", "analyst", team=alpha)
    zed = make_user("zed", "analyst", team=zeta)
    own, other = make_request(ana, "own", team=alpha), make_request(zed, "other", team=zeta)
    assert list(requests_for_user(ana)) == [own]
    assert list(requests_for_user(ana, "review")) == [own]
    assert access_request(ana, own.pk, "review") == own
    with pytest.raises(Http404):
        access_request(ana, other.pk)


def test_missing_and_not_yours_are_the_same_404(teams, make_user, make_request):
    alpha, zeta = teams
    ana = make_user("ana", "analyst", team=alpha)
    other = make_request(make_user("zed", "analyst", team=zeta), "other", team=zeta)
    with pytest.raises(Http404) as missing:
        access_request(ana, other.pk + 1000)
    with pytest.raises(Http404) as not_yours:
        access_request(ana, other.pk)
    assert str(missing.value) == str(not_yours.value)


def test_an_approver_may_view_and_approve_but_reviewing_is_403(teams, make_user, make_request):
    alpha, _ = teams
    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    approver = make_user("apu", "approver", team=alpha)
    assert access_request(approver, request_obj.pk, "approve") == request_obj
    with pytest.raises(PermissionDenied):
        access_request(approver, request_obj.pk, "review")


def test_an_analyst_cannot_approve(teams, make_user, make_request):
    alpha, _ = teams
    ana = make_user("ana", "analyst", team=alpha)
    request_obj = make_request(ana, "t", team=alpha)
    assert not requests_for_user(ana, "approve").exists()
    with pytest.raises(PermissionDenied):
        access_request(ana, request_obj.pk, "approve")


@pytest.mark.parametrize("role", ["consumer", "auditor", "admin"])
def test_roles_that_do_not_work_on_requests_get_404_even_in_their_team(
    role, teams, make_user, make_request
):
    alpha, _ = teams
    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    user = make_user("u", role, team=alpha)
    assert not requests_for_user(user).exists()
    with pytest.raises(Http404):
        access_request(user, request_obj.pk)


def test_an_admin_who_is_also_an_approver_may_approve(teams, make_user, make_request):
    alpha, _ = teams
    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    both = make_user("boss", "admin", "approver", team=alpha)
    assert access_request(both, request_obj.pk, "approve") == request_obj


def test_a_member_of_two_teams_sees_both(teams, make_user, make_request):
    alpha, zeta = teams
    a = make_request(make_user("ana", "analyst", team=alpha), "a", team=alpha)
    z = make_request(make_user("zed", "analyst", team=zeta), "z", team=zeta)
    both = make_user("bo", "analyst", teams=(alpha, zeta))
    assert set(requests_for_user(both)) == {a, z}


def test_leaving_a_team_closes_its_requests(teams, make_user, make_request):
    from hybridreview.accounts.models import Membership

    alpha, _ = teams
    ana = make_user("ana", "analyst", team=alpha)
    request_obj = make_request(ana, "t", team=alpha)
    Membership.objects.get(user=ana, team=alpha).delete()
    with pytest.raises(Http404):
        access_request(ana, request_obj.pk)


def test_a_superuser_gets_no_shortcut_into_other_teams(teams, make_user, make_request):
    alpha, zeta = teams
    other = make_request(make_user("zed", "analyst", team=zeta), "z", team=zeta)
    root = make_user("root", "analyst", team=alpha)
    root.is_superuser = True
    root.save()
    assert not requests_for_user(root).filter(pk=other.pk).exists()


def test_an_inactive_user_sees_nothing(teams, make_user, make_request):
    alpha, _ = teams
    ana = make_user("ana", "analyst", team=alpha)
    make_request(ana, "t", team=alpha)
    ana.is_active = False
    assert not requests_for_user(ana).exists()


def test_auditors_read_the_audit_of_their_teams_requests_only(teams, make_user, make_request):
    alpha, zeta = teams
    own = make_request(make_user("ana", "analyst", team=alpha), "a", team=alpha)
    other = make_request(make_user("zed", "analyst", team=zeta), "z", team=zeta)
    auditor = make_user("aud", "auditor", team=alpha)
    assert access_request_audit(auditor, own.pk) == own
    with pytest.raises(Http404):
        access_request_audit(auditor, other.pk)


def test_the_request_list_is_one_query_whatever_the_number_of_requests(
    teams, make_user, make_request, django_assert_max_num_queries
):
    alpha, _ = teams
    ana = make_user("ana", "analyst", team=alpha)
    for i in range(5):
        make_request(ana, f"t{i}", team=alpha)
    ana = type(ana).objects.get(pk=ana.pk)  # cold permission cache
    # the role check (user and group permissions) plus the list itself
    with django_assert_max_num_queries(4):
        assert len(list(requests_for_user(ana))) == 5
