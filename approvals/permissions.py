"""Who may see and act on which optimisation request: the one place that decides.

Two questions, answered by two mechanisms, and a user may act only when both
say yes:

- *What* a role may do at all: model permissions on the role groups
  (hybridreview.accounts.roles): analysts hold ``jobs.review_optimizationrequest``,
  approvers ``jobs.approve_optimizationrequest``, both ``view``.
- *On which rows*: guardian object permissions (view, review, approve) granted
  on each request to its team's group ``team:<slug>``, stored in the direct
  foreign-key tables of approvals.models, narrowed to the teams in which the
  user holds a role with that permission (Membership.roles): an approver in
  team A who is an analyst in team B may approve A's requests, not B's.

Why the team group and not per-team role groups ("team:<slug>:analyst"):
membership already mirrors into the team group, so a new member or a new
role needs no regrant and no second set of groups to keep in step; the cost
is that an object permission alone means nothing, which is why every check
here asks both questions. (Django's ``user.has_perm(perm, obj)`` asks only
the second, so do not use it on requests.)

Superusers get no shortcut: they see a team's requests only through the same
grants as everyone else, so "nobody sees another team's work" has no exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from approvals.audit import AuditAction, audit_append, audit_event
from approvals.models import AuditEvent, RequestGroupObjectPermission
from hybridreview.accounts.selectors import teams_where
from jobs.models import OptimizationRequest

Action = Literal["view", "submit", "cancel", "rerun", "review", "approve"]
# The role (model) permission each action needs.
ACTION_PERMISSIONS: dict[Action, str] = {
    "view": "jobs.view_optimizationrequest",
    "submit": "jobs.add_optimizationrequest",
    "cancel": "jobs.add_optimizationrequest",
    "rerun": "jobs.add_optimizationrequest",
    "review": "jobs.review_optimizationrequest",
    "approve": "jobs.approve_optimizationrequest",
}
# The actions granted per request (to its team's group); the others need only
# the role and a request the user can view.
OBJECT_ACTIONS: tuple[Action, ...] = ("view", "review", "approve")
AUDIT_PERMISSION = "approvals.view_auditevent"
Reader = User | AnonymousUser


def user_may(user: Reader, action: Action) -> bool:
    """Whether the user's roles allow ``action`` on requests at all (no object check)."""
    return bool(
        user.is_authenticated and user.is_active and user.has_perm(ACTION_PERMISSIONS[action])
    )


def requests_for_user(user: Reader, action: Action = "view") -> QuerySet[OptimizationRequest]:
    """The requests ``user`` may ``action``: their role allows it and their team owns them."""
    if not (user_may(user, action) and user_may(user, "view")):
        return OptimizationRequest.objects.none()
    perm = ACTION_PERMISSIONS[action if action in OBJECT_ACTIONS else "view"]
    return _team_granted(user, perm, role_permission=ACTION_PERMISSIONS[action])


def access_request(user: Reader, request_id: int, action: Action = "view") -> OptimizationRequest:
    """The request, or Http404 whether it is missing or not yours (one answer for both).

    Http404 too for a role that may not view requests at all (consumers,
    auditors, admins). A request the user may view but not ``action`` is a
    403: they already know it exists.
    """
    request_obj = requests_for_user(user, "view").filter(pk=request_id).first()
    if request_obj is None:
        raise Http404("No such request.")
    if action != "view" and not requests_for_user(user, action).filter(pk=request_id).exists():
        raise PermissionDenied(
            f"Your role in team {request_obj.team.slug} does not allow you to {action} "
            "this request."
        )
    return request_obj


def access_request_audit(user: Reader, request_id: int) -> OptimizationRequest:
    """The request whose audit timeline ``user`` may read, or Http404.

    Anyone who may view the request; and admins and auditors of its team,
    who do not see requests but do read their audit trail.
    """
    if user.is_authenticated and user.is_active and user.has_perm(AUDIT_PERMISSION):
        request_obj = (
            _team_granted(user, ACTION_PERMISSIONS["view"], role_permission=AUDIT_PERMISSION)
            .filter(pk=request_id)
            .first()
        )
        if request_obj is not None:
            return request_obj
    return access_request(user, request_id, "view")


def may_read_evidence(user: Reader) -> bool:
    """Whether ``user``'s roles may read evidence packs: the whole record behind
    a decision (every candidate, comments, the audit events with addresses).
    Readers of requests and of audit trails may; a consumer, who reads the
    approved output only, may not."""
    return user_may(user, "view") or bool(
        user.is_authenticated and user.is_active and user.has_perm(AUDIT_PERMISSION)
    )


def _team_granted(
    user: Any, perm: str, *, role_permission: str | None = None
) -> QuerySet[OptimizationRequest]:
    """Requests granted ``perm`` to the user's teams, of the teams where the user
    holds a role with ``role_permission`` (``perm`` unless given)."""
    # Object grants only: with_superuser=False also makes guardian ignore
    # global permissions, so a role alone never opens another team's rows.
    granted = get_objects_for_user(
        user, perm, klass=OptimizationRequest, with_superuser=False, accept_global_perms=False
    )
    return granted.filter(team__in=teams_where(user, role_permission or perm))


def request_grant_team_permissions(
    request_obj: OptimizationRequest, *, actor: AbstractBaseUser | None = None
) -> None:
    """Grant view, review and approve on a new request to its team's group.

    Call it inside the transaction that creates the request, so a request
    never exists without its grants and the grant is audited with it.
    """
    audit_append(*requests_grant_team_permissions([request_obj], actor=actor))


def requests_grant_team_permissions(
    request_objs: Sequence[OptimizationRequest], *, actor: AbstractBaseUser | None = None
) -> list[AuditEvent]:
    """Grant view, review and approve on new requests to their teams' groups, in one insert.

    Returns the grants' audit events for the caller to append with the rest
    of its transaction's events (``audit_append``), after its row locks.
    """
    perms = sorted(ACTION_PERMISSIONS[action] for action in OBJECT_ACTIONS)
    permission_ids = _permission_ids(perms)
    RequestGroupObjectPermission.objects.bulk_create(
        [
            RequestGroupObjectPermission(
                permission_id=pid, group_id=r.team.group_id, content_object=r
            )
            for r in request_objs
            for pid in permission_ids
        ],
        ignore_conflicts=True,
    )
    return [
        audit_event(
            action=AuditAction.PERMISSION_GRANTED,
            obj=r,
            actor=actor,
            system="" if actor is not None else "permissions",
            after={"group": r.team.group.name, "permissions": perms},
        )
        for r in request_objs
    ]


def _permission_ids(perms: list[str]) -> list[int]:
    """Ids of "app.codename" permissions, in order; read each time (a handful of rows)."""
    wanted = [p.split(".", 1) for p in perms]
    rows = Permission.objects.filter(
        content_type__app_label__in={a for a, _ in wanted}, codename__in={c for _, c in wanted}
    ).values_list("content_type__app_label", "codename", "id")
    found = {f"{app}.{code}": pid for app, code, pid in rows}
    missing = [p for p in perms if p not in found]
    if missing:
        raise LookupError(f"permissions not in the database: {', '.join(missing)}")
    return [found[p] for p in perms]
