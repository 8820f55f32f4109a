"""Review and sign-off services against the real database: every action, role and policy."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from approvals import services
from approvals.digest import signing_digest
from approvals.models import (
    ApprovalPolicy,
    AuditEvent,
    Comment,
    Decision,
    ImmutableRowError,
    Recommendation,
    Signature,
    SignatureKind,
    SignatureMeaning,
)
from jobs.errors import Conflict, InvalidInput
from jobs.models import RequestStatus
from tests.approvals.review_support import (
    best,
    candidate_ranked,
    charge,
    ranked_request,
)
from tests.conftest import PASSWORD

EXECUTION = SignatureMeaning.EXECUTION


@pytest.fixture
def people(make_user, team):
    class People:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)
        apo2 = make_user("apo2", "approver", team=team)
        con = make_user("con", "consumer", team=team)
        adm = make_user("adm", "admin", team=team)

    return People


@pytest.fixture
def req(people, team):
    return ranked_request(people.ana, team=team)


def recommended(req, analyst):
    services.request_recommend(
        request=req, actor=analyst, candidate_id=best(req).pk, comment="cuts all four edges"
    )
    req.refresh_from_db()
    return req


def approve(req, user, candidate=None, **kw):
    return services.request_approve(
        request=req,
        actor=user,
        candidate_id=(candidate or best(req)).pk,
        meaning=kw.pop("meaning", EXECUTION),
        password=kw.pop("password", PASSWORD),
        **kw,
    )


def actions(req):
    return list(AuditEvent.objects.filter(request_ref=req.pk).values_list("action", flat=True))


# Recommend and comment ------------------------------------------------------


def test_an_analyst_recommends_a_ranked_candidate_and_the_request_becomes_recommended(req, people):
    recommendation = services.request_recommend(
        request=req, actor=people.ana, candidate_id=best(req).pk, comment="  cuts all four  "
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.RECOMMENDED
    assert recommendation.comment == "cuts all four"
    assert recommendation.candidate == best(req)
    event = AuditEvent.objects.get(action="recommendation.made")
    assert event.request_ref == req.pk and event.actor == people.ana
    assert event.after["candidate"]["rank"] == 1 and event.reason == "cuts all four"


def test_a_recommendation_needs_a_comment(req, people):
    with pytest.raises(InvalidInput) as exc:
        services.request_recommend(
            request=req, actor=people.ana, candidate_id=best(req).pk, comment=" "
        )
    assert exc.value.errors[0].field == "comment"
    assert not Recommendation.objects.exists()


def test_a_candidate_of_another_request_cannot_be_recommended(req, people, team):
    other = ranked_request(people.ana, team=team, title="other")
    with pytest.raises(InvalidInput) as exc:
        services.request_recommend(
            request=req, actor=people.ana, candidate_id=best(other).pk, comment="x"
        )
    assert exc.value.errors[0].field == "candidate"


def test_a_second_recommendation_is_a_conflict(req, people):
    recommended(req, people.ana)
    with pytest.raises(Conflict):
        recommended(req, people.ana)
    assert Recommendation.objects.count() == 1


def test_an_approver_cannot_recommend(req, people):
    with pytest.raises(PermissionDenied):
        recommended(req, people.apo)


def test_an_analyst_of_another_team_gets_not_found(req, make_user, make_team):
    outsider = make_user("out", "analyst", team=make_team("other"))
    with pytest.raises(Http404):
        recommended(req, outsider)


def test_a_request_still_running_cannot_be_recommended(people, team):
    running = ranked_request(people.ana, team=team, status=RequestStatus.RUNNING)
    with pytest.raises(Conflict):
        recommended(running, people.ana)


def test_analysts_and_approvers_comment_and_each_comment_is_audited(req, people):
    services.request_comment(request=req, actor=people.ana, body="why not 0011?")
    services.request_comment(request=req, actor=people.apo, body="it cuts only two edges")
    assert list(Comment.objects.values_list("author__username", flat=True)) == ["ana", "apo"]
    assert actions(req).count("comment.added") == 2


def test_a_consumer_cannot_comment(req, people):
    with pytest.raises(Http404):
        services.request_comment(request=req, actor=people.con, body="hello")


# Approve ------------------------------------------------------------------


def test_a_decision_on_an_answer_below_the_optimum_says_how_far_below(req, people):
    worse = req.candidates.filter(objective=2.0).order_by("rank").first()
    services.request_recommend(
        request=req, actor=people.ana, candidate_id=worse.pk, comment="balanced, if not maximal"
    )
    decision = approve(req, people.apo, candidate=worse).decision
    assert decision.objective == 2.0
    assert decision.provenance["optimum"]["value"] == 4.0
    assert decision.provenance["approximation_ratio"] == 0.5


def test_a_decision_without_a_known_optimum_claims_no_ratio(people, team):
    req = ranked_request(people.ana, team=team, classical=False)  # QAOA alone proves nothing
    recommended(req, people.ana)
    decision = approve(req, people.apo).decision
    assert decision.provenance["optimum"] is None
    assert decision.provenance["approximation_ratio"] is None


def test_one_approval_under_the_default_policy_approves_and_makes_an_immutable_decision(
    req, people
):
    recommended(req, people.ana)
    signed = approve(req, people.apo, comment="go")
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
    decision = signed.decision
    assert decision is not None and (signed.approvals, signed.required) == (1, 1)
    sig = signed.signature
    assert (sig.kind, sig.meaning, sig.printed_name) == ("approve", EXECUTION, "Apo Test")
    assert sig.requester == people.ana and sig.signed_at <= timezone.now()
    assert sig.digest == signing_digest(req, best(req)) == decision.digest
    assert decision.bitstring == best(req).bitstring and decision.objective == 4.0
    assert decision.provenance == {
        "run": best(req).run_id,
        "solver": best(req).run.solver,
        "backend": best(req).run.backend or None,
        "tier": best(req).run.tier,
        "fallback": False,
        "fallback_reason": "",
        # The exact run proved 4 optimal, and the chosen candidate reaches it.
        "optimum": {"value": 4.0, "source": "proven", "run": req.runs.get(solver="exact").pk},
        "approximation_ratio": 1.0,
    }
    assert actions(req)[-3:] == ["recommendation.made", "signature.added", "decision.approved"]
    with pytest.raises(ImmutableRowError):
        decision.save()
    with pytest.raises(ImmutableRowError):
        decision.delete()
    # Around the model's own guard, the database refuses too.
    with pytest.raises(IntegrityError), transaction.atomic():
        type(decision).objects.filter(pk=decision.pk).update(objective=99.0)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(decision).objects.filter(pk=decision.pk)._raw_delete(using="default")
    decision.refresh_from_db()
    assert decision.objective == 4.0


def test_the_signed_digest_covers_the_chosen_candidate(req, people):
    assert signing_digest(req) != signing_digest(req, best(req))
    assert signing_digest(req, best(req)) != signing_digest(req, candidate_ranked(req, 3))
    assert signing_digest(req, best(req)) == signing_digest(req, best(req))


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_a_wrong_or_missing_password_signs_nothing_but_the_refusal_is_audited(
    req, people, password
):
    recommended(req, people.ana)
    with pytest.raises(PermissionDenied):
        approve(req, people.apo, password=password)
    req.refresh_from_db()
    assert req.status == RequestStatus.RECOMMENDED
    assert not Signature.objects.exists() and not Decision.objects.exists()
    refused = AuditEvent.objects.get(action="signature.refused")
    assert refused.request_ref == req.pk and refused.actor == people.apo


def test_the_requester_can_never_approve_their_own_request(make_user, team, people):
    dual = make_user("dual", "analyst", "approver", team=team)
    own = ranked_request(dual, team=team)
    recommended(own, people.ana)
    with pytest.raises(PermissionDenied, match="You requested this"):
        approve(own, dual)
    assert not Signature.objects.exists()


def test_the_database_refuses_a_signature_by_the_requester(req, people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            request=req,
            requester=people.ana,
            signer=people.ana,
            printed_name="Ana",
            kind=SignatureKind.REJECT,
            meaning=SignatureMeaning.REJECTED,
            digest="0" * 64,
            signed_at=timezone.now(),
        )


def test_an_analyst_cannot_approve(req, people):
    recommended(req, people.ana)
    with pytest.raises(PermissionDenied):
        approve(req, people.ana)


def test_a_request_without_a_recommendation_cannot_be_signed(req, people):
    with pytest.raises(Conflict, match="only a recommended request"):
        approve(req, people.apo)


def test_an_approver_may_choose_another_candidate_than_the_one_recommended(req, people):
    recommended(req, people.ana)
    signed = approve(req, people.apo, candidate=candidate_ranked(req, 2))
    assert signed.decision.candidate == candidate_ranked(req, 2)


def test_an_unknown_meaning_is_invalid(req, people):
    recommended(req, people.ana)
    with pytest.raises(InvalidInput) as exc:
        approve(req, people.apo, meaning="because")
    assert exc.value.errors[0].field == "meaning"


def test_a_form_digest_that_no_longer_matches_is_a_conflict(req, people):
    recommended(req, people.ana)
    with pytest.raises(Conflict, match="changed since you opened it"):
        approve(req, people.apo, expected_digest="a" * 64)
    signed = approve(req, people.apo, expected_digest=signing_digest(req))
    assert signed.decision is not None


# Policies ------------------------------------------------------------------


def set_policy(team, **fields):
    ApprovalPolicy.objects.update_or_create(team=team, defaults=fields)


def test_two_of_the_teams_approvers_are_needed_when_the_policy_says_two(req, people, team):
    set_policy(team, approvals_required=2, approvals_required_above_cost=2)
    recommended(req, people.ana)
    first = approve(req, people.apo)
    req.refresh_from_db()
    assert (first.decision, first.approvals, first.required) == (None, 1, 2)
    assert req.status == RequestStatus.RECOMMENDED
    with pytest.raises(Conflict, match="already approved"):
        approve(req, people.apo)
    second = approve(req, people.apo2)
    req.refresh_from_db()
    assert second.decision is not None and req.status == RequestStatus.APPROVED


def test_approvers_of_one_request_must_agree_on_the_candidate(req, people, team):
    set_policy(team, approvals_required=2, approvals_required_above_cost=2)
    recommended(req, people.ana)
    approve(req, people.apo)
    with pytest.raises(Conflict, match="approve that one or reject"):
        approve(req, people.apo2, candidate=candidate_ranked(req, 3))


def test_above_the_cost_threshold_more_approvals_are_needed(req, people, team):
    set_policy(
        team, approvals_required=1, approvals_required_above_cost=2, cost_threshold_credits=10
    )
    charge(req, "15.5")
    recommended(req, people.ana)
    first = approve(req, people.apo)
    assert (first.decision, first.required) == (None, 2)
    second = approve(req, people.apo2)
    assert second.decision.cost_credits == Decimal("15.5")
    assert second.decision.approvals_required == 2


def test_at_or_below_the_cost_threshold_the_base_number_applies(req, people, team):
    set_policy(
        team, approvals_required=1, approvals_required_above_cost=2, cost_threshold_credits=10
    )
    charge(req, "10")
    recommended(req, people.ana)
    assert approve(req, people.apo).decision is not None


def test_the_recommender_may_not_approve_when_the_policy_says_so(make_user, team, people):
    dual = make_user("dual", "analyst", "approver", team=team)
    req = ranked_request(people.ana, team=team)
    recommended(req, dual)
    set_policy(team, recommender_may_not_approve=True)
    with pytest.raises(PermissionDenied, match="recommended"):
        approve(req, dual)
    set_policy(team, recommender_may_not_approve=False)
    assert approve(req, dual).decision is not None


# Reject, void ----------------------------------------------------------------


def test_a_rejection_needs_a_reason_and_rejects_the_request(req, people):
    recommended(req, people.ana)
    with pytest.raises(InvalidInput):
        services.request_reject(request=req, actor=people.apo, reason="", password=PASSWORD)
    signed = services.request_reject(
        request=req, actor=people.apo, reason="the cut is not balanced", password=PASSWORD
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.REJECTED
    assert (signed.signature.kind, signed.signature.meaning) == ("reject", "rejected")
    assert signed.signature.candidate is None
    assert {"signature.added", "decision.rejected"} <= set(actions(req))
    with pytest.raises(Conflict):
        approve(req, people.apo2)


def test_a_rejection_with_a_wrong_password_records_no_signature(req, people):
    recommended(req, people.ana)
    with pytest.raises(PermissionDenied):
        services.request_reject(request=req, actor=people.apo, reason="no", password="nope")
    req.refresh_from_db()
    assert req.status == RequestStatus.RECOMMENDED and not Signature.objects.exists()


def test_an_approver_who_approved_can_still_reject_and_their_approval_is_replaced(
    req, people, team
):
    set_policy(team, approvals_required=2, approvals_required_above_cost=2)
    recommended(req, people.ana)
    approve(req, people.apo)
    services.request_reject(
        request=req, actor=people.apo, reason="changed my mind", password=PASSWORD
    )
    mine = Signature.objects.filter(signer=people.apo).order_by("id")
    assert [(s.kind, s.voided_at is not None) for s in mine] == [
        ("approve", True),
        ("reject", False),
    ]


def test_voiding_pending_signatures_leaves_the_rows_and_lets_approvers_sign_again(
    req, people, team
):
    set_policy(team, approvals_required=2, approvals_required_above_cost=2)
    recommended(req, people.ana)
    approve(req, people.apo)
    with transaction.atomic():
        voided = services.signatures_void_for_request(
            request=req, reason="re-ranked", system="test"
        )
    assert voided == 1
    sig = Signature.objects.get()
    assert sig.voided_at is not None and sig.void_reason == "re-ranked"
    assert "signature.voided" in actions(req)
    assert approve(req, people.apo).approvals == 1  # counts afresh


def test_a_decided_requests_signatures_are_never_voided(req, people):
    recommended(req, people.ana)
    approve(req, people.apo)
    with transaction.atomic():
        assert services.signatures_void_for_request(request=req, reason="late", system="t") == 0
    assert Signature.objects.filter(voided_at__isnull=True).count() == 1


@pytest.mark.slow
def test_asking_for_a_rerun_with_changed_settings_voids_the_pending_approvals(req, people, team):
    set_policy(team, approvals_required=2, approvals_required_above_cost=2)
    recommended(req, people.ana)
    approve(req, people.apo)
    rerun = services.request_rerun_ask(
        request=req,
        actor=people.ana,
        comment="more shots, please",
        solvers=[{"name": "exact"}],
        shots=2048,
    )
    assert rerun.rerun_of_id == req.pk and rerun.settings["shots"] == 2048
    assert Signature.objects.get().void_reason == f"re-run requested as request #{rerun.pk}"
    assert {"request.rerun", "signature.voided", "comment.added"} <= set(actions(req))
