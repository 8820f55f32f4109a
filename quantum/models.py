"""Admin-configured backends: the one Django model of the quantum library.

A ``BackendConfig`` row is what the pipeline resolves a backend name
through: whether it may be used, how wide and how many shots, what it costs,
and the credentials a worker needs. ``to_spec`` turns it into the library's
plain ``BackendSpec``; the credentials are decrypted only when a worker asks
for them (``with_credentials=True``), never for a page or an estimate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.signals import post_migrate

from quantum.backends.base import BackendSpec, CostModel, Tier

CHANNELS = ("ibm_quantum_platform", "ibm_cloud", "local")
# "kind" or "kind:argument", as the registry names backends (aer_noisy:fake_torino).
NAME_PATTERN = r"^[a-z][a-z_]*(:[A-Za-z0-9_.\-]+)?$"


class BackendKind(models.TextChoices):
    AER_STATEVECTOR = "aer_statevector", "Aer statevector (ideal simulator)"
    AER_MPS = "aer_mps", "Aer matrix product state (ideal simulator)"
    AER_NOISY = "aer_noisy", "Aer noisy simulator (copy of a device)"
    IBM_RUNTIME = "ibm_runtime", "IBM Quantum Runtime"


TIERS: dict[str, Tier] = {
    BackendKind.AER_STATEVECTOR: "simulator",
    BackendKind.AER_MPS: "simulator",
    BackendKind.AER_NOISY: "noisy_simulator",
    BackendKind.IBM_RUNTIME: "hardware",
}


class BackendConfig(models.Model):
    name = models.CharField(
        max_length=128,
        unique=True,
        validators=[
            RegexValidator(NAME_PATTERN, "kind or kind:argument, e.g. aer_noisy:fake_torino")
        ],
        help_text="What requests name: the kind, optionally ':' and a device or backend.",
    )
    kind = models.CharField(max_length=32, choices=BackendKind.choices)
    enabled = models.BooleanField(default=True)
    device = models.CharField(
        max_length=64, blank=True, help_text="aer_noisy: the device copied, e.g. fake_torino."
    )
    channel = models.CharField(
        max_length=32,
        blank=True,
        choices=[(c, c) for c in CHANNELS],
        help_text="ibm_runtime: ibm_quantum_platform, ibm_cloud, or local (testing mode).",
    )
    instance = models.CharField(max_length=255, blank=True, help_text="ibm_runtime: CRN or hub.")
    backend_name = models.CharField(
        max_length=128, blank=True, help_text="ibm_runtime: e.g. ibm_torino (or fake_torino)."
    )
    max_qubits = models.PositiveIntegerField()
    max_shots = models.PositiveIntegerField()
    options = models.JSONField(
        default=dict, blank=True, help_text='Kind-specific, e.g. {"optimization_level": 2}.'
    )
    cost_per_task = models.DecimalField(default=Decimal(0), max_digits=14, decimal_places=6)
    cost_per_shot = models.DecimalField(default=Decimal(0), max_digits=14, decimal_places=6)
    cost_per_second = models.DecimalField(
        default=Decimal(0),
        max_digits=14,
        decimal_places=6,
        help_text="Credits per billed quantum second.",
    )
    # A Fernet token (hybridreview.credentials); never the secret itself.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    # The last "test connection": what the backends page shows as health.
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, blank=True, editable=False)
    last_test_latency_ms = models.FloatField(null=True, blank=True, editable=False)
    last_test_message = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=BackendKind.values), name="backendconfig_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(max_qubits__gte=1, max_shots__gte=1),
                name="backendconfig_limits_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    cost_per_task__gte=0, cost_per_shot__gte=0, cost_per_second__gte=0
                ),
                name="backendconfig_costs_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=BackendKind.AER_NOISY) | ~models.Q(device=""),
                name="backendconfig_noisy_has_device",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        kind = self.name.partition(":")[0]
        if self.kind and kind != self.kind:
            errors["name"] = f"must start with its kind ({self.kind}), e.g. {self.kind}:name"
        if self.kind == BackendKind.AER_NOISY and not self.device:
            errors["device"] = "an aer_noisy backend copies a device; name one, e.g. fake_torino"
        if self.kind == BackendKind.IBM_RUNTIME and not (self.backend_name or self.device):
            errors["backend_name"] = "an ibm_runtime backend needs the IBM backend's name"
        if not isinstance(self.options, dict):
            errors["options"] = "must be a JSON object"
        if errors:
            raise ValidationError(errors)

    @property
    def tier(self) -> Tier:
        return TIERS[self.kind]

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def cost_model(self) -> CostModel:
        return CostModel(
            per_task=float(self.cost_per_task),
            per_shot=float(self.cost_per_shot),
            per_second=float(self.cost_per_second),
        )

    def set_credentials(self, plaintext: str | None) -> None:
        """Encrypt and keep ``plaintext``; empty or None clears. The caller saves."""
        from hybridreview.credentials import credentials_encrypt

        self.credentials_encrypted = credentials_encrypt(plaintext) if plaintext else ""

    def to_spec(self, *, with_credentials: bool = False) -> BackendSpec:
        """The library's spec. Credentials are decrypted only when asked for (a worker)."""
        token = None
        if with_credentials and self.credentials_encrypted:
            from hybridreview.credentials import credentials_decrypt

            token = credentials_decrypt(self.credentials_encrypted)
        return BackendSpec(
            name=self.name,
            kind=self.kind,
            max_qubits=self.max_qubits,
            max_shots=self.max_shots,
            cost=self.cost_model,
            device=self.device or None,
            channel=self.channel or None,
            instance=self.instance or None,
            backend_name=self.backend_name or None,
            token=token,
            options=dict(self.options or {}),
        )


# IBM's cloud needs credentials, so its example starts disabled; an admin
# adds the token and enables it.
IBM_CLOUD_EXAMPLE: dict[str, Any] = {
    "name": "ibm_runtime:ibm_torino",
    "kind": BackendKind.IBM_RUNTIME,
    "enabled": False,
    "channel": "ibm_quantum_platform",
    "backend_name": "ibm_torino",
    "max_qubits": 133,
    "max_shots": 100_000,
    "cost_per_second": Decimal("1.6"),
}


def default_backend_configs() -> list[dict[str, Any]]:
    """The rows a fresh database starts with: the library's defaults plus the IBM example."""
    from quantum.backends.registry import default_backend_specs

    rows: list[dict[str, Any]] = []
    for spec in default_backend_specs():
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                # IBM's local testing mode labels its results "hardware";
                # an admin opts into that on purpose.
                "enabled": spec.kind != BackendKind.IBM_RUNTIME,
                "device": spec.device or "",
                "channel": spec.channel or "",
                "backend_name": spec.backend_name or "",
                "max_qubits": spec.max_qubits,
                "max_shots": spec.max_shots,
                "options": dict(spec.options),
                "cost_per_task": Decimal(str(spec.cost.per_task)),
                "cost_per_shot": Decimal(str(spec.cost.per_shot)),
                "cost_per_second": Decimal(str(spec.cost.per_second)),
            }
        )
    rows.append(dict(IBM_CLOUD_EXAMPLE))
    return rows


def ensure_default_backends(app_config: Any = None, using: str = "default", **_: Any) -> None:
    """Create the default rows that are missing; never touch a row that exists.

    Runs after every migrate (and the test suite's flushes), so a fresh
    database can submit at once. To retire a default, disable it: a deleted
    one comes back at the next migrate.
    """
    from django.db import connections

    if app_config is not None and app_config.label != BackendConfig._meta.app_label:
        return  # post_migrate is sent once per app; seed once
    if BackendConfig._meta.db_table not in connections[using].introspection.table_names():
        return
    for row in default_backend_configs():
        name = row.pop("name")
        BackendConfig.objects.using(using).get_or_create(name=name, defaults=row)


post_migrate.connect(ensure_default_backends, dispatch_uid="quantum.ensure_default_backends")
