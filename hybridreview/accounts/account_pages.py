"""Your account: who you are, in which teams, your password, your API tokens.

A token is for scripts (``Authorization: Token ...``): made here with the
password typed again, shown once, listed afterwards by its first characters
only, and revocable one by one or all at once. Each step is audited by the
services (``auth.token_created``, ``auth.token_revoked``).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from knox.models import AuthToken

from .selectors import team_roles
from .services import token_revoke
from .services.auth import TokenRefused, token_create_confirmed


class TokenCreateForm(forms.Form):
    password = forms.CharField(
        strip=False,
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Typed again: a token outlives this session.",
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = TokenCreateForm()
    new_token = ""
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "")
        if op == "revoke":
            token = get_object_or_404(AuthToken, user=user, token_key=request.POST.get("key", ""))
            token_revoke(user=user, request=request, token=token)
            messages.success(request, f"Token {token.token_key}… was revoked.")
            return redirect("account")
        if op == "revoke_all":
            count = token_revoke(user=user, request=request, token=None)
            messages.success(request, f"{count} token{'' if count == 1 else 's'} revoked.")
            return redirect("account")
        status = 400
        if op != "create":
            messages.error(request, "Unknown action: nothing was changed.")
        elif (form := TokenCreateForm(request.POST)).is_valid():
            try:
                new_token = token_create_confirmed(
                    user=user, password=form.cleaned_data["password"], request=request
                )[1]
            except TokenRefused as exc:
                form.add_error("password", exc.message)
                status = 429 if exc.wait else 403
            else:
                # Not a redirect: the token is shown on this answer only, never stored.
                form, status = TokenCreateForm(), 201
    now = timezone.now()
    tokens = AuthToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
    context: dict[str, Any] = {
        "teams": team_roles(user),
        "tokens": tokens.order_by("-created"),
        "form": form,
        "new_token": new_token,
    }
    return render(request, "accounts/account.html", context, status=status)
