"""The audit trail: append one event, verify the chain.

How an event is hashed (enough for an outsider to re-verify with any SHA-256
and JSON library):

    payload = {
        "seq", "time", "actor_id", "actor_label", "system", "action",
        "object_type", "object_id", "request_ref", "team_id", "before",
        "after", "reason", "correlation_id", "ip", "user_agent", "prev_hash"
    }   # exactly these 17 keys, values as stored in approvals_auditevent
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode("utf-8")
    hash = sha256(prev_hash.encode("ascii") + canonical).hexdigest()

- ``time`` is ISO 8601 in UTC with microseconds and a ``Z``: 2026-01-31T12:00:00.000001Z.
- ``actor_id``, ``team_id`` and ``request_ref`` are integers or null; ``seq`` is an integer.
- ``prev_hash`` of the first event (seq 1) is 64 zeros ("0" * 64).
- seq runs 1, 2, 3 ... without holes; a hole means a row was deleted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from approvals.models import AuditEvent, AuditHealth
from hybridreview.accounts.models import Team
from hybridreview.correlation import get_correlation_id

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key: the bytes b"hr-audit" as a big-endian integer.
APPEND_LOCK_KEY = 0x68722D6175646974
USER_AGENT_MAX = 512
REQUEST_LABEL = "jobs.optimizationrequest"


class AuditAction:
    """The actions recorded. Plain strings so adding one needs no migration."""

    REQUEST_SUBMITTED = "request.submitted"
    REQUEST_CANCELLED = "request.cancelled"
    REQUEST_RERUN = "request.rerun"
    REQUEST_FALLBACK = "request.fallback"
    REQUEST_RANKED = "request.ranked"
    RUN_CLAIMED = "run.claimed"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_RETRIED = "run.retried"
    RUN_TIMED_OUT = "run.timed_out"
    RUN_REAPED = "run.reaped"
    RECOMMENDATION_MADE = "recommendation.made"
    COMMENT_ADDED = "comment.added"
    SIGNATURE_ADDED = "signature.added"
    DECISION_APPROVED = "decision.approved"
    DECISION_REJECTED = "decision.rejected"
    POLICY_CHANGED = "policy.changed"
    BACKEND_CHANGED = "backend.changed"
    BUDGET_CHANGED = "budget.changed"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    TOKEN_CREATED = "auth.token_created"  # noqa: S105 (an action name, not a secret)
    TOKEN_REVOKED = "auth.token_revoked"  # noqa: S105
    PERMISSION_GRANTED = "permission.granted"
    PERMISSION_REVOKED = "permission.revoked"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_CHANGED = "account.changed"
    ACCOUNT_DEACTIVATED = "account.deactivated"
    ACCOUNT_REACTIVATED = "account.reactivated"
    ACCOUNT_DELETED = "account.deleted"
    INVITATION_CREATED = "invitation.created"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"


class AuditError(RuntimeError):
    pass


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    team: Team | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    system: str = "",
    request: HttpRequest | Request | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    The caller's transaction is the point: the event commits or rolls back
    with the change it records. ``obj`` fills object_type ("app.model"),
    object_id, request_ref (the optimisation request it is or belongs to,
    through its ``request`` foreign key) and the team. ``request`` is the HTTP
    request: it fills IP, user agent and, when no actor is given, the actor.

    Call it last in the transaction, after the row locks the change needs: on
    PostgreSQL it takes the one append lock, held until commit, so every
    statement after it makes all other auditing writers wait, and a row lock
    taken after it can deadlock with a writer that holds that row.
    """
    event = audit_event(
        action=action,
        obj=obj,
        actor=actor,
        team=team,
        before=before,
        after=after,
        reason=reason,
        system=system,
        request=request,
        object_type=object_type,
        object_id=object_id,
    )
    audit_append(event)
    return event


def audit_event(
    *,
    action: str,
    obj: models.Model | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    team: Team | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    system: str = "",
    request: HttpRequest | Request | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """An event not yet on the chain: ``audit_append`` puts a list of them on it at once.

    Same arguments as ``audit_record``. A batch of changes (many requests
    submitted in one call, many small runs finished by one task) builds its
    events first and appends them together: one lock, one head read, one insert.
    """
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent(
        actor_id=user.pk if user is not None else None,
        actor_label=user.get_username() if user is not None else "",
        system=system,
        action=action,
        object_type=object_type if object_type is not None else _object_type(obj),
        object_id=object_id if object_id is not None else _object_id(obj),
        request_ref=_request_ref(obj),
        team_id=team.pk if team is not None else _team_id_of(obj),
        before=json_safe(before),
        after=json_safe(after),
        reason=reason,
        correlation_id=get_correlation_id(),
        ip=_client_ip(request),
        user_agent=_user_agent(request),
    )


def audit_append(*events: AuditEvent) -> None:
    """Chain ``events``, in order, onto the trail inside the caller's transaction.

    The same rules as ``audit_record``: call it last, after the row locks.
    """
    if not connection.in_atomic_block:
        raise AuditError("audit_record must run inside the transaction of the change it records")
    if not events:
        return
    # Only one writer may read the head and add to it at a time, or two events
    # would claim the same prev_hash and fork the chain. On PostgreSQL a
    # transaction-scoped advisory lock queues the writers and is released at
    # commit; on SQLite BEGIN IMMEDIATE (settings) already holds the write lock.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = head if head else (0, GENESIS_HASH)
    # Stamped under the lock so time never runs backwards along the chain.
    now = timezone.now()
    for event in events:
        seq += 1
        event.seq, event.prev_hash, event.time = seq, prev_hash, now
        event.hash = prev_hash = event_hash(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(events, batch_size=500)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": format_time(event.time),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "system": event.system,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "request_ref": event.request_ref,
        "team_id": event.team_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "correlation_id": event.correlation_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    digest = hashlib.sha256(event.prev_hash.encode("ascii"))
    digest.update(canonical_json(hashed_fields(event)))
    return digest.hexdigest()


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_safe(value: Any) -> Any:
    """The value as it will read back from the database, so its hash holds.

    Dates, decimals, UUIDs and other objects become strings; tuples become
    lists. An integral float of 1e16 or more becomes an int, because Python
    writes it as 1e+16 but PostgreSQL's jsonb hands it back as 10000000000000000.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"audit values must be finite numbers, not {value!r}")
        return int(value) if value.is_integer() and abs(value) >= 1e16 else value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo else value.isoformat()
    return str(value)


def _object_type(obj: models.Model | None) -> str:
    return obj._meta.label_lower if obj is not None else ""


def _object_id(obj: models.Model | None) -> str:
    return str(obj.pk) if obj is not None and obj.pk is not None else ""


def _is_optimization_request(obj: models.Model | None) -> bool:
    # By label, not isinstance: approvals must not import jobs at load time.
    return obj is not None and obj._meta.label_lower == REQUEST_LABEL


def _request_ref(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    if _is_optimization_request(obj):
        return int(obj.pk)
    ref = getattr(obj, "request_id", None)
    return ref if isinstance(ref, int) else None


def _team_id_of(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, Team):
        return int(obj.pk)
    team_id = getattr(obj, "team_id", None)
    if isinstance(team_id, int):
        return team_id
    # A run, candidate or decision: the team of the request it belongs to.
    parent = getattr(obj, "request", None) if _request_ref(obj) is not None else None
    return _team_id_of(parent) if isinstance(parent, models.Model) else None


def _client_ip(request: HttpRequest | Request | None) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client typed unless a
    # proxy we trust rewrote it (deploy/nginx.conf sets REMOTE_ADDR properly).
    raw = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return ""


def _user_agent(request: HttpRequest | Request | None) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX] if request else ""


@dataclass(frozen=True)
class Anchor:
    """The chain head written outside the database, to be kept elsewhere."""

    seq: int
    hash: str
    time: str

    @property
    def line(self) -> str:
        return canonical_json({"seq": self.seq, "hash": self.hash, "time": self.time}).decode()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head_seq: int | None
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            head = f"#{self.head_seq} {self.head_hash}" if self.head_seq else "none"
            return f"audit chain intact: {self.events} events, head {head}"
        return f"audit chain BROKEN at event #{self.first_bad_seq}: {self.problem}"


def _first_problem(event: AuditEvent, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    if event.seq != expected_seq:
        return expected_seq, (
            f"event #{expected_seq} is missing (the next is #{event.seq}): a row was deleted"
        )
    if event.prev_hash != prev_hash:
        return event.seq, f"prev_hash does not match the hash of event #{event.seq - 1}"
    if event_hash(event) != event.hash:
        return event.seq, "the stored hash does not match the event's contents: it was altered"
    return None


def audit_verify(*, anchor: Anchor | None = None) -> VerifyResult:
    """Walk the whole chain from seq 1; stop at the first event that fails.

    ``anchor`` (by default the newest file in AUDIT_ANCHOR_DIR) catches what
    the chain alone cannot: rows deleted from the end.
    """
    anchor = anchor if anchor is not None else anchor_latest()
    expected, prev_hash, anchored_hash = 1, GENESIS_HASH, None
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        broken = _first_problem(event, expected, prev_hash)
        if broken is not None:
            head = expected - 1 if expected > 1 else None
            return VerifyResult(False, expected - 1, head, prev_hash, *broken)
        if anchor is not None and event.seq == anchor.seq:
            anchored_hash = event.hash
        expected, prev_hash = expected + 1, event.hash
    head_seq = expected - 1 if expected > 1 else None
    if anchor is not None and anchored_hash != anchor.hash:
        why = "is missing: events were removed from the end of the chain"
        if anchored_hash is not None:
            why = "does not have the hash the anchor recorded"
        problem = f"event #{anchor.seq} named by the anchor of {anchor.time} {why}"
        return VerifyResult(False, expected - 1, head_seq, prev_hash, anchor.seq, problem)
    return VerifyResult(True, expected - 1, head_seq, prev_hash)


def anchor_dir() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def anchor_write() -> Anchor | None:
    """Append the chain head to today's anchor file and log it.

    Copy these files (or ship the log line) somewhere the database's owner
    cannot write; verify_audit checks the newest one.
    """
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    if head is None:
        return None
    now = timezone.now()
    anchor = Anchor(seq=head[0], hash=head[1], time=format_time(now))
    folder = anchor_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{now:%Y-%m-%d}.jsonl").open("a", encoding="utf-8") as f:
        f.write(anchor.line + "\n")
    logger.info(
        "audit chain head", extra={"audit_head_seq": anchor.seq, "audit_head_hash": anchor.hash}
    )
    return anchor


def anchor_latest() -> Anchor | None:
    files = sorted(anchor_dir().glob("*.jsonl")) if anchor_dir().is_dir() else []
    for path in reversed(files):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        if lines:
            data = json.loads(lines[-1])
            return Anchor(seq=int(data["seq"]), hash=str(data["hash"]), time=str(data["time"]))
    return None


def audit_health_check() -> VerifyResult:
    """Verify the chain, remember the outcome for /readyz, shout if broken."""
    result = audit_verify()
    AuditHealth.objects.update_or_create(
        pk=1,
        defaults={
            "checked_at": timezone.now(),
            "ok": result.ok,
            "events": result.events,
            "head_seq": result.head_seq,
            "head_hash": result.head_hash,
            "first_bad_seq": result.first_bad_seq,
            "problem": result.problem,
        },
    )
    if not result.ok:
        logger.error(result.describe(), extra={"audit_first_bad_seq": result.first_bad_seq})
    return result
