"""Writes for review and sign-off: the only code that changes these rows.

Each locks the optimisation request's row first (the lock order jobs uses:
request, then runs, then the audit append), changes status only through
jobs' ``request_transition``, and writes its audit events in the same
transaction.
"""

from approvals.services.policy import policy_update
from approvals.services.review import request_comment, request_recommend, request_rerun_ask
from approvals.services.signing import (
    Signed,
    reauthenticate,
    request_approve,
    request_reject,
    signatures_void_for_request,
)

__all__ = [
    "Signed",
    "policy_update",
    "reauthenticate",
    "request_approve",
    "request_comment",
    "request_recommend",
    "request_reject",
    "request_rerun_ask",
    "signatures_void_for_request",
]
