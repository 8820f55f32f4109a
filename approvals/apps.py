from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def ensure_audit_triggers(using: str = "default", **_: Any) -> None:
    # SQLite rebuilds a table to alter it, and the rebuilt table has no
    # triggers; checking after every migrate keeps the guard in place.
    from approvals import immutability

    connection = connections[using]
    if immutability.TABLE in connection.introspection.table_names():
        immutability.ensure(connection)


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Review, sign-off and audit"

    def ready(self) -> None:
        post_migrate.connect(
            ensure_audit_triggers, sender=self, dispatch_uid="approvals.ensure_audit_triggers"
        )
