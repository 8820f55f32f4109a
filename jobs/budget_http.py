"""How the API answers a refusal on cost: 402 over a hard budget, 429 over a run quota.

Both bodies keep the one error shape (``detail`` and ``errors``); the 402
adds the estimate and the budget, so a client can show what is left.
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from hybridreview.api import error_body
from jobs.services.budget import BudgetExceeded, QuotaExceeded


def spend_error_response(exc: Exception) -> Response | None:
    """The response for a budget or quota refusal, or None for any other error."""
    if isinstance(exc, BudgetExceeded):
        budget = exc.budget
        body = error_body(exc.message) | {
            "estimate": {"total_credits": exc.estimate},
            "budget": {
                "team": budget.team.slug,
                "period": f"{budget.period:%Y-%m}",
                "limit": budget.limit_credits,
                "reserved": budget.reserved_credits,
                "spent": budget.spent_credits,
                "remaining": budget.remaining,
                "hard": budget.hard,
            },
        }
        return Response(body, status=status.HTTP_402_PAYMENT_REQUIRED)
    if isinstance(exc, QuotaExceeded):
        response = Response(error_body(exc.message), status=status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return None
