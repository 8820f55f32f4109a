"""Limits on the pages that take a password or send mail to an address.

DRF's rate throttle does the counting (its rates, its cache, its idea of
the client's address), so the sign-in page and the API's token endpoint
share one setting, ``LOGIN_THROTTLE_RATE``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _ByAddress(SimpleRateThrottle):
    """Counts per client address under ``counter``, at the rate of ``scope``."""

    counter = ""
    # Set by SimpleRateThrottle.__init__ from the scope's rate.
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        # Read now, not at import (DRF's class attribute): a changed setting applies.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.counter, "ident": self.get_ident(request)}

    def wait_seconds(self, request: HttpRequest) -> int | None:
        """Seconds until the address may try again; None when it may now."""
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) < self.num_requests:
            return None
        wait = self.wait()
        return max(1, round(wait)) if wait is not None else 1

    def count(self, request: HttpRequest) -> None:
        if self.wait_seconds(request) is None:
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)


class FailedSignIns(_ByAddress):
    """Failed sign-ins on the sign-in page. Only failures count, so people who
    type their password right are never held up; a guesser is, at the API
    token endpoint's rate (``LOGIN_THROTTLE_RATE``)."""

    scope = "login"
    counter = "login-failed"


class ResetMails(_ByAddress):
    """Password reset requests: each may mail someone, so an address cannot
    make the server mail a person again and again (``PASSWORD_RESET_THROTTLE_RATE``)."""

    scope = "password_reset"
    counter = "password-reset"
