"""Admin-configured backends: resolving a name, the limits a submission must fit,
changing a configuration, testing a connection, rotating credential keys.

Every backend name a request uses goes through ``BackendConfig``: a name with
no row, or a disabled row, takes no work, and a run is refused before any
row is written when its problem is wider or its shots more than the row allows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from approvals.audit import AuditAction, audit_record
from hybridreview.credentials import credentials_configured, credentials_rotate
from jobs import solving
from jobs.errors import FieldProblem, InvalidInput, Unavailable
from jobs.services.specs import RunSettings, SolverSpec
from quantum import BackendError, Problem
from quantum.backends import get_backend, spec_problems
from quantum.backends.base import BackendSpec
from quantum.backends.probe import ProbeResult, probe
from quantum.models import BackendConfig

logger = logging.getLogger(__name__)

BACKEND_TESTED = "backend.tested"
CREDENTIALS_ROTATED = "backend.credentials_rotated"
# What an operator may change through the API (credentials go separately: write-only).
EDITABLE_FIELDS = (
    "enabled",
    "device",
    "channel",
    "instance",
    "backend_name",
    "max_qubits",
    "max_shots",
    "options",
    "cost_per_task",
    "cost_per_shot",
    "cost_per_second",
)
UNCHANGED = object()  # "credentials not given": distinct from None, which clears them


# -- resolving names ------------------------------------------------------------


def backend_config_get(name: str) -> BackendConfig | None:
    return BackendConfig.objects.filter(name=name).first()


def backend_name_error(name: str) -> str | None:
    """Why ``name`` takes no new work (not configured, or disabled), or None."""
    config = backend_config_get(name)
    if config is not None and config.enabled:
        return None
    enabled = ", ".join(enabled_backend_names()) or "none"
    if config is None:
        return f"no backend named {name!r} is configured; enabled backends: {enabled}"
    return f"{name} is disabled by an operator; enabled backends: {enabled}"


def backend_spec_for(
    name: str, *, with_credentials: bool = False, for_new_work: bool = True
) -> BackendSpec:
    """The library's spec for ``name``, from its admin-configured row.

    ``with_credentials`` decrypts them: only a worker (or a connection test)
    asks. ``for_new_work`` refuses a disabled backend: one disabled after the
    run was queued takes no more work, and that is permanent, so the run
    fails at once and its reservation is released. Cancelling a job already
    running there passes ``for_new_work=False``.
    """
    config = backend_config_get(name)
    if config is None:
        raise BackendError(f"backend {name} is not configured", permanent=True)
    if for_new_work and not config.enabled:
        raise BackendError(f"backend {name} was disabled by an operator", permanent=True)
    return config.to_spec(with_credentials=with_credentials)


def enabled_backend_names() -> list[str]:
    return list(BackendConfig.objects.filter(enabled=True).values_list("name", flat=True))


# -- limits at submit -----------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    """One quantum run of a submission, with where it came from in the body."""

    index: int  # position in the body's "solvers" (or in the defaults)
    spec: SolverSpec
    config: BackendConfig


def backends_check(
    *,
    problem: Problem,
    run: RunSettings,
    solvers: Sequence[Mapping[str, Any]] | None,
    errors: list[FieldProblem],
) -> list[PlannedRun]:
    """Each quantum run's backend must exist, be enabled and fit the problem and shots.

    Appends one problem per refused run to ``errors``, naming the limit, so
    the caller reports them with every other field at once.
    """
    planned: list[PlannedRun] = []
    for index, spec in indexed_specs(run.solvers, solvers):
        if solving.solver_kind(spec.name) != solving.QUANTUM or not spec.backend:
            continue
        config = backend_config_get(spec.backend)
        refusal = backend_refusal(config, spec.backend, problem.num_variables, run.shots)
        if refusal is None and config is not None:
            refusal = _optimiser_shots_refusal(config, spec)
        if refusal is not None:
            field, message = refusal
            errors.append(FieldProblem(f"solvers[{index}].{field}" if field else "shots", message))
        elif config is not None:
            planned.append(PlannedRun(index=index, spec=spec, config=config))
    return planned


def _optimiser_shots_refusal(config: BackendConfig, spec: SolverSpec) -> tuple[str, str] | None:
    """QAOA's ``optimise_shots`` go to the backend as jobs of their own, so the
    backend's shot limit holds for them too, not only for the final sampling.
    (Left at its default it never exceeds the request's shots.)"""
    value = spec.options.get("optimise_shots")
    if isinstance(value, bool) or not isinstance(value, int) or value <= config.max_shots:
        return None  # absent, within the limit, or malformed (the solver's check names it)
    return (
        "options",
        f"{config.name} allows at most {config.max_shots} shots per run; "
        f"optimise_shots asks for {value} per optimiser evaluation",
    )


def backend_refusal(
    config: BackendConfig | None, name: str, qubits: int, shots: int
) -> tuple[str | None, str] | None:
    """(field, message) when ``name`` cannot take this work; field None means "shots"."""
    if config is None:
        enabled = ", ".join(enabled_backend_names()) or "none"
        return "backend", f"no backend named {name!r} is configured; enabled backends: {enabled}"
    if not config.enabled:
        enabled = ", ".join(enabled_backend_names()) or "none"
        return "backend", f"{name} is disabled by an operator; enabled backends: {enabled}"
    if qubits > config.max_qubits:
        return (
            "backend",
            f"{name} allows at most {config.max_qubits} qubits; this problem needs {qubits}",
        )
    if shots > config.max_shots:
        return (
            None,
            f"{name} allows at most {config.max_shots} shots per run; "
            f"this request asks for {shots}",
        )
    return None


def indexed_specs(
    specs: Sequence[SolverSpec], raw: Sequence[Mapping[str, Any]] | None
) -> list[tuple[int, SolverSpec]]:
    """Each checked spec with its position in the body, so errors name the right path.

    The checked list drops refused entries, so positions are found again by
    matching name and backend (a missing backend means the default one).
    """
    if not raw:
        return list(enumerate(specs))
    used: set[int] = set()
    found: list[tuple[int, SolverSpec]] = []
    for spec in specs:
        for i, item in enumerate(raw):
            if i in used or str(item.get("name", "")) != spec.name:
                continue
            backend = item.get("backend") or None
            if backend is None and solving.solver_kind(spec.name) == solving.QUANTUM:
                backend = solving.DEFAULT_QUANTUM_BACKEND
            if backend == spec.backend:
                used.add(i)
                found.append((i, spec))
                break
    return found


# -- changing a configuration ---------------------------------------------------


def backend_config_view(config: BackendConfig) -> dict[str, Any]:
    """What the audit trail and the API show: every setting, never the credentials."""
    return {
        "name": config.name,
        "kind": config.kind,
        "enabled": config.enabled,
        "device": config.device,
        "channel": config.channel,
        "instance": config.instance,
        "backend_name": config.backend_name,
        "max_qubits": config.max_qubits,
        "max_shots": config.max_shots,
        "options": config.options,
        "cost_per_task": str(config.cost_per_task),
        "cost_per_shot": str(config.cost_per_shot),
        "cost_per_second": str(config.cost_per_second),
        "has_credentials": config.has_credentials,
    }


def backend_config_update(
    *,
    config: BackendConfig,
    actor: AbstractBaseUser,
    changes: Mapping[str, Any],
    credentials: Any = UNCHANGED,
    http_request: HttpRequest | None = None,
    reason: str = "",
) -> BackendConfig:
    """Change a backend's settings and/or credentials, audited in the same transaction.

    ``credentials``: a string replaces them, None or "" clears them, and
    ``UNCHANGED`` leaves them. The audit event records only whether the
    backend has credentials, never what they are.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput([FieldProblem(f, "cannot be changed") for f in unknown])
    with transaction.atomic():
        locked = BackendConfig.objects.select_for_update().get(pk=config.pk)
        before = backend_config_view(locked)
        for field, value in changes.items():
            setattr(locked, field, value)
        if credentials is not UNCHANGED:
            _check_can_store(credentials)
            locked.set_credentials(credentials or None)
        _validate(locked)
        after = backend_config_view(locked)
        touched_secret = credentials is not UNCHANGED
        if after == before and not touched_secret:
            return locked
        locked.save()
        if touched_secret:
            reason = reason or ("credentials replaced" if credentials else "credentials cleared")
        audit_record(
            action=AuditAction.BACKEND_CHANGED,
            obj=locked,
            actor=actor,
            before=_changed(before, after),
            after={k: after[k] for k in _changed(before, after)} | {"name": locked.name},
            reason=reason,
            request=http_request,
        )
    return locked


def backend_config_create(
    *,
    actor: AbstractBaseUser,
    fields: Mapping[str, Any],
    credentials: str | None = None,
    http_request: HttpRequest | None = None,
) -> BackendConfig:
    """Add a backend (the Django admin's "add"); audited like a change."""
    unknown = sorted(set(fields) - {"name", "kind", *EDITABLE_FIELDS})
    if unknown:
        raise InvalidInput([FieldProblem(f, "cannot be set") for f in unknown])
    with transaction.atomic():
        config = BackendConfig(**fields)
        if credentials:
            _check_can_store(credentials)
            config.set_credentials(credentials)
        _validate(config, exclude=())
        config.save()
        audit_record(
            action=AuditAction.BACKEND_CHANGED,
            obj=config,
            actor=actor,
            after=backend_config_view(config),
            reason="backend added",
            request=http_request,
        )
    return config


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in before.items() if after.get(k) != v}


def _check_can_store(credentials: str | None) -> None:
    if credentials and not credentials_configured():
        raise Unavailable(
            "Credentials cannot be stored: CREDENTIALS_KEYS is not set on the server. "
            "An operator must set it (README, Credentials); nothing was changed."
        )


def _validate(config: BackendConfig, exclude: Sequence[str] = ("name", "kind")) -> None:
    try:
        config.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        problems = [
            FieldProblem(field, str(message))
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        raise InvalidInput(problems) from None
    found = backend_config_problems(config)
    if found:
        raise InvalidInput(found)


def backend_config_problems(config: BackendConfig) -> list[FieldProblem]:
    """What the backend itself would refuse at its first run (an option's type,
    an unknown device), for a config whose fields are each valid: refused when
    an admin saves it, not by every run sent there later."""
    return [FieldProblem(field, message) for field, message in spec_problems(config.to_spec())]


# -- test connection -------------------------------------------------------------


def backend_test_connection(
    *,
    config: BackendConfig,
    actor: AbstractBaseUser | None,
    http_request: HttpRequest | None = None,
) -> ProbeResult:
    """Build the backend from its spec (with credentials) and probe it; remember the result.

    The probe runs outside any transaction: it may wait seconds on a
    provider, and no row should stay locked meanwhile.
    """
    started = time.perf_counter()
    token = None
    try:
        spec = config.to_spec(with_credentials=True)
        token = spec.token
        backend = get_backend(config.name, spec)
    except Exception as exc:  # bad spec, unknown device, undecryptable credentials
        elapsed = (time.perf_counter() - started) * 1000.0
        result = ProbeResult(False, elapsed, _redacted(f"{type(exc).__name__}: {exc}", token))
    else:
        result = probe(backend)
    with transaction.atomic():
        BackendConfig.objects.filter(pk=config.pk).update(
            last_test_at=timezone.now(),
            last_test_ok=result.ok,
            last_test_latency_ms=round(result.latency_ms, 1),
            last_test_message=result.message[:2000],
        )
        config.refresh_from_db()
        audit_record(
            action=BACKEND_TESTED,
            obj=config,
            actor=actor,
            after={"ok": result.ok, "latency_ms": round(result.latency_ms, 1)},
            reason=result.message[:500],
            request=http_request,
            system="" if actor is not None else "jobs.backends",
        )
    log = logger.info if result.ok else logger.warning
    log(
        "backend %s test: %s in %.0f ms: %s",
        config.name,
        "ok" if result.ok else "failed",
        result.latency_ms,
        result.message,
    )
    return result


def _redacted(message: str, token: str | None) -> str:
    # A provider may quote the request it refused; its token must not reach a page or a log.
    return message.replace(token, "[redacted]") if token else message


# -- key rotation -------------------------------------------------------------


def credentials_rotate_all() -> int:
    """Re-encrypt every stored credential with the newest key; returns how many.

    One transaction: either every row moves to the new key or none does, so
    the old key can be dropped exactly when this returned.
    """
    rotated = 0
    with transaction.atomic():
        rows = BackendConfig.objects.select_for_update().exclude(credentials_encrypted="")
        for config in rows.order_by("pk"):
            token = credentials_rotate(config.credentials_encrypted)
            BackendConfig.objects.filter(pk=config.pk).update(credentials_encrypted=token)
            rotated += 1
        if rotated:
            audit_record(
                action=CREDENTIALS_ROTATED,
                system="manage.py rotate_credentials",
                after={"rotated": rotated},
            )
    return rotated
