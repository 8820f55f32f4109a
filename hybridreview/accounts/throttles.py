"""Limits on the pages that take a password or send mail to an address.

DRF's rate throttle does the counting (its rates, its cache, its idea of
the client's address), so the sign-in page and the API's token endpoint
share one setting, ``LOGIN_THROTTLE_RATE``.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class Counter(SimpleRateThrottle):
    """Counts per ``ident`` (a client address, an account) under ``counter``,
    at the rate of ``scope``; ``wait_seconds`` asks, ``count`` adds one."""

    counter = ""
    # Set by SimpleRateThrottle.__init__ from the scope's rate.
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        # Read now, not at import (DRF's class attribute): a changed setting applies.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None

    def address(self, request: HttpRequest) -> str:
        """The client's address, as DRF's throttles tell it (NUM_PROXIES)."""
        # get_ident reads only request.META, which a Django request has too.
        return str(self.get_ident(cast(Request, request)))

    def wait_seconds(self, ident: str) -> int | None:
        """Seconds until ``ident`` may try again; None when it may now."""
        self.key = self.cache_format % {"scope": self.counter, "ident": ident}
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) < self.num_requests:
            return None
        wait = self.wait()
        return max(1, round(wait)) if wait is not None else 1

    def count(self, ident: str) -> None:
        if self.wait_seconds(ident) is None:
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)


class FailedSignIns(Counter):
    """Failed sign-ins on the sign-in page. Only failures count, so people who
    type their password right are never held up; a guesser is, at the API
    token endpoint's rate (``LOGIN_THROTTLE_RATE``)."""

    scope = "login"
    counter = "login-failed"


class ResetMails(Counter):
    """Password reset requests: each may mail someone, so an address cannot
    make the server mail a person again and again (``PASSWORD_RESET_THROTTLE_RATE``)."""

    scope = "password_reset"
    counter = "password-reset"


class FailedReauthentications(Counter):
    """Wrong passwords typed to sign a decision, per account: whoever holds a
    signed-in session cannot guess the password the signature asks for."""

    scope = "login"
    counter = "reauth-failed"
