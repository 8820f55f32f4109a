"""The team pages: which teams one manages, and a team's members and their roles.

Thin: the services (services.py) decide and audit every change; this maps
their refusals onto the page.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from approvals.services.policy import approver_shortfall

from .forms import (
    InvitationRevokeForm,
    InviteForm,
    MemberAddForm,
    MemberRemoveForm,
    MemberRolesForm,
)
from .models import Invitation, Membership, Team
from .roles import ADMIN, APPROVER, ROLE_SUMMARIES, TEAM_ROLES
from .selectors import (
    managed_team_get,
    managed_teams,
    may_manage_members,
    team_invitations_open,
    team_memberships,
)
from .services import MembershipRefused, RoleChange, member_join, member_remove, member_roles_set
from .services.invitations import (
    Issued,
    invitation_create,
    invitation_days,
    invitation_link,
    invitation_revoke,
    invitation_send,
)


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    teams = managed_teams(request.user).annotate(
        member_count=Count("memberships", distinct=True),
        admin_count=Count("memberships", filter=Q(memberships__roles__name=ADMIN), distinct=True),
        approver_count=Count(
            "memberships", filter=Q(memberships__roles__name=APPROVER), distinct=True
        ),
    )
    if not teams.exists():
        raise PermissionDenied("Managing a team's members is for the team's admins.")
    return render(request, "accounts/team_list.html", {"teams": teams})


@login_required
@require_http_methods(["GET", "POST"])
def team_members(request: HttpRequest, slug: str) -> HttpResponse:
    team = managed_team_get(request.user, slug)
    add_form = MemberAddForm(prefix="add")
    invite_form = InviteForm(prefix="invite", days=invitation_days())
    row_error: tuple[int, str] | None = None
    issued: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "")
        status = 400
        try:
            if op == "add":
                add_form = MemberAddForm(request.POST, prefix="add")
                if add_form.is_valid():
                    return _add(request, team, add_form)
            elif op == "invite":
                invite_form = InviteForm(request.POST, prefix="invite", days=invitation_days())
                if invite_form.is_valid():
                    # Not a redirect: the link is shown on this answer only, never stored.
                    issued, status = _invite(request, team, invite_form), 201
                    invite_form = InviteForm(prefix="invite", days=invitation_days())
            elif op in {"roles", "remove"}:
                return _change(request, team, op)
            elif op == "revoke_invitation":
                return _revoke_invitation(request, team)
            else:
                messages.error(request, "Unknown action: nothing was changed.")
        except MembershipRefused as exc:
            form: Any = {"add": add_form, "invite": invite_form}.get(op)
            if form is not None:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                posted = request.POST.get("user", "")
                row_error = (int(posted) if posted.isdigit() else 0, exc.message)
    context = {
        "team": team,
        "members": _rows(team, row_error),
        "roles": [(role, ROLE_SUMMARIES[role]) for role in TEAM_ROLES],
        "add_form": add_form,
        "invite_form": invite_form,
        "invitations": list(team_invitations_open(team)),
        "issued": issued,
        "row_error": row_error,
        "shortfall": approver_shortfall(team),
    }
    return render(request, "accounts/team_members.html", context, status=status)


def _invite(request: HttpRequest, team: Team, form: InviteForm) -> dict[str, str]:
    made: Issued = invitation_create(
        team=team,
        email=form.cleaned_data["email"],
        roles=form.cleaned_data["roles"],
        actor=cast(User, request.user),
        http_request=request,
    )
    link = invitation_link(request, made.token)
    return {
        "email": made.invitation.email,
        "link": link,
        "mail": invitation_send(issued=made, link=link),
    }


def _revoke_invitation(request: HttpRequest, team: Team) -> HttpResponse:
    form = InvitationRevokeForm(request.POST)
    if not form.is_valid():
        raise MembershipRefused("That change could not be read: " + _first_error(form))
    invitation = get_object_or_404(Invitation, team=team, pk=form.cleaned_data["invitation"])
    invitation_revoke(invitation=invitation, actor=cast(User, request.user), http_request=request)
    messages.success(
        request, f"The invitation of {invitation.email} was withdrawn: its link no longer works."
    )
    return redirect("team-members", slug=team.slug)


def _add(request: HttpRequest, team: Team, form: MemberAddForm) -> HttpResponse:
    data = form.cleaned_data
    member_join(
        team=team,
        username=data["username"],
        roles=data["roles"],
        actor=cast(User, request.user),
        http_request=request,
    )
    held = ", ".join(sorted(data["roles"])) or "no role yet"
    messages.success(request, f"{data['username']} joined team {team.slug}: {held}.")
    return redirect("team-members", slug=team.slug)


def _change(request: HttpRequest, team: Team, op: str) -> HttpResponse:
    form: MemberRolesForm | MemberRemoveForm = (
        MemberRolesForm(request.POST) if op == "roles" else MemberRemoveForm(request.POST)
    )
    if not form.is_valid():
        # Only a tampered form gets here: the page sends a member's id and
        # checkboxes of the five roles.
        raise MembershipRefused("That change could not be read: " + _first_error(form))
    actor = cast(User, request.user)
    member = get_object_or_404(Membership, team=team, user_id=form.cleaned_data["user"]).user
    name = member.get_username()
    if isinstance(form, MemberRolesForm):
        change = member_roles_set(
            team=team,
            user=member,
            roles=form.cleaned_data["roles"],
            actor=actor,
            http_request=request,
        )
        messages.success(request, _said(name, team, change))
    else:
        member_remove(team=team, user=member, actor=actor, http_request=request)
        messages.success(request, f"{name} was removed from team {team.slug}.")
    # What the team's policy now lacks, if anything, heads the page itself.
    if not may_manage_members(actor, team):
        # They took their own admin role away (another admin remains).
        messages.info(request, f"You no longer manage team {team.slug}'s members.")
        if shortfall := approver_shortfall(team):
            messages.warning(request, shortfall)
        return redirect("home")
    return redirect("team-members", slug=team.slug)


def _said(name: str, team: Team, change: RoleChange) -> str:
    if not change.changed:
        return f"{name}'s roles in team {team.slug} are unchanged."
    parts = []
    if change.added:
        parts.append("now " + ", ".join(change.added))
    if change.removed:
        parts.append("no longer " + ", ".join(change.removed))
    return f"{name} in team {team.slug}: {'; '.join(parts)}."


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        return f"{field}: {errors[0]}"
    return "invalid form"


def _rows(team: Team, row_error: tuple[int, str] | None) -> list[dict[str, Any]]:
    return [
        {
            "user": m.user,
            "joined_at": m.joined_at,
            "roles": {g.name for g in m.roles.all()},
            "error": row_error[1] if row_error and row_error[0] == m.user_id else "",
        }
        for m in team_memberships(team)
    ]
