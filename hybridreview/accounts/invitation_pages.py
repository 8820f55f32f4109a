"""The invitee's side of an invitation: open the link, then create an account
or join with the one already signed in.

The link's token leaves the address bar at once: the first page keeps it in
the session and redirects to a URL without it, so it is not in the browser's
history, in a Referer, or in a log line of the page that shows the form
(Django's password reset does the same).
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .forms import AccountCreateForm
from .models import Invitation
from .services import MembershipRefused
from .services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_accept_as,
    invitation_open,
)

SESSION_KEY = "invitation_token"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TOKEN_MAX = 128


@require_GET
@never_cache
def invitation_start(request: HttpRequest, token: str) -> HttpResponse:
    # A token is 43 characters; anything much longer is not one, and is not kept.
    request.session[SESSION_KEY] = token if len(token) <= TOKEN_MAX else ""
    return redirect("invitation-accept")


@require_http_methods(["GET", "POST"])
@never_cache
def invitation_page(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_KEY, "")
    try:
        invitation = invitation_open(token)
    except InvitationClosed as exc:
        return _closed(request, exc)
    form = AccountCreateForm()
    status = 200
    if request.method == "POST":
        status = 400
        if request.POST.get("op") == "signout":
            # Signing out empties the session; the invitation stays open in the new one.
            logout(request)
            request.session[SESSION_KEY] = token
            return redirect("invitation-accept")
        try:
            if request.user.is_authenticated:
                return _join(request, token, invitation)
            form = AccountCreateForm(request.POST)
            if form.is_valid():
                return _create(request, token, invitation, form)
        except InvitationClosed as exc:  # used or withdrawn while the form was open
            return _closed(request, exc)
        except MembershipRefused as exc:
            if request.user.is_authenticated:
                messages.error(request, exc.message)
                status = 409
            else:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    form.describe()
    context = {"invitation": invitation, "form": form}
    return render(request, "accounts/invitation.html", context, status=status)


def _closed(request: HttpRequest, exc: InvitationClosed) -> HttpResponse:
    """The link opens nothing (any more): 410, saying why."""
    return render(request, "accounts/invitation.html", {"closed": exc.message}, status=410)


def _create(
    request: HttpRequest, token: str, invitation: Invitation, form: AccountCreateForm
) -> HttpResponse:
    data = form.cleaned_data
    user = invitation_accept(
        token=token,
        username=data["username"],
        password=data["password1"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        http_request=request,
    )
    request.session.pop(SESSION_KEY, None)
    login(request, user, backend=MODEL_BACKEND)
    return _welcome(request, invitation)


def _join(request: HttpRequest, token: str, invitation: Invitation) -> HttpResponse:
    invitation_accept_as(token=token, user=cast(User, request.user), http_request=request)
    request.session.pop(SESSION_KEY, None)
    return _welcome(request, invitation)


def _welcome(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    roles = ", ".join(invitation.roles) or "no role yet"
    messages.success(request, f"Welcome: you are in team {invitation.team.slug} ({roles}).")
    return redirect("home")
