"""Passwords: change your own, or reset a forgotten one by email.

Django's views do the work (its tokens, its validators, the session kept
or ended); each save is audited as ``account.changed`` with
``password_changed``, the account itself as the actor. The reset link's
token leaves the address bar as Django makes it (a redirect to
``.../set-password/``) and is cut out of the logs (logfilters).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from .services.account import account_changes_record, account_state
from .throttles import Counter, FailedSignIns, ResetMails

logger = logging.getLogger(__name__)
DUMMY_MAIL = "django.core.mail.backends.dummy.EmailBackend"


class _RefusedIs400:
    """A refused form comes back with 400, as on every other page here."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 400
        return response


def _held_back(view: Any, request: HttpRequest, throttle: Counter) -> HttpResponse | None:
    """The view's page again with 429 and how long to wait, when ``throttle``
    holds the client's address back; None when it may go on."""
    wait = throttle.wait_seconds(throttle.address(request))
    if wait is None:
        return None
    context = view.get_context_data(form=view.get_form(), wait=wait)
    return render(request, view.get_template_names(), context, status=429)


def _audited(save: Any, form: Any, user: User, request: HttpRequest) -> HttpResponse:
    """Save ``form`` through Django's view, and audit the new password in the
    same transaction (nothing is recorded if the save does not happen)."""
    with transaction.atomic():
        before = account_state(user.pk)
        response: HttpResponse = save(form)
        account_changes_record(user=user, before=before, actor=user, http_request=request)
    return response


class PasswordChange(_RefusedIs400, auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        user = cast(User, self.request.user)
        response = _audited(super().form_valid, form, user, self.request)
        # Django keeps this session signed in; the account's others end.
        messages.success(
            self.request, "Your password was changed. Other signed-in sessions have ended."
        )
        return response


class PasswordReset(_RefusedIs400, auth_views.PasswordResetView):
    """Ask for a link by email. The answer is the same whether or not an
    account has the address, so the page tells nobody who has an account."""

    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["mail_off"] = settings.EMAIL_BACKEND == DUMMY_MAIL
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = ResetMails()
        if held := _held_back(self, request, throttle):
            return held
        throttle.count(throttle.address(request))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"timeout_hours": reset_hours()}
        # Per recipient too, at the same rate: many addresses (a botnet) must
        # not mail one person again and again. Past it, the same answer as
        # ever, and no mail.
        recipient, ident = ResetMails(), _recipient(form.cleaned_data["email"])
        if recipient.wait_seconds(ident) is not None:
            logger.warning("password reset mail held back: too many for one address")
            return redirect(self.success_url)
        recipient.count(ident)
        try:
            return super().form_valid(form)
        except (OSError, smtplib.SMTPException) as exc:
            # The same answer as a sent mail: a different one would tell that
            # an account has this address. The log says why (never the link).
            logger.warning("password reset mail not sent: %s", type(exc).__name__)
            return redirect(self.success_url)


class SignIn(auth_views.LoginView):
    """Django's sign-in page, holding back an address that keeps failing."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _held_back(self, request, FailedSignIns()) or super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        throttle = FailedSignIns()
        throttle.count(throttle.address(self.request))
        return super().form_invalid(form)


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"timeout_hours": reset_hours()}


def _recipient(email: str) -> str:
    # A digest, not the address: cache keys can end up in places logs do.
    return "to-" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


def reset_hours() -> int:
    return int(settings.PASSWORD_RESET_TIMEOUT) // 3600


class PasswordResetConfirm(_RefusedIs400, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: Any) -> HttpResponse:
        response = _audited(super().form_valid, form, cast(User, form.user), self.request)
        messages.success(self.request, "Your password was set. Sign in with it.")
        return response
