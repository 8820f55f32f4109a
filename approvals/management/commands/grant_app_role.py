"""Grant the application's database role what it needs, and only append on the guarded tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from approvals.database_role import RoleRefused, app_role_grant


class Command(BaseCommand):
    help = (
        "Run as the tables' owner after every migrate: let ROLE (the role web, workers and "
        "beat connect as) read and write every table, but only read and append to the "
        "audit trail, the spend ledger and decisions. Refuses a role that is a superuser "
        "or owns a table. PostgreSQL only; idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the application's PostgreSQL role, e.g. hybridreview_app")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            granted = app_role_grant(connections[options["database"]], options["role"])
        except RoleRefused as refused:
            raise CommandError(str(refused), returncode=2) from refused
        self.stdout.write(
            f"{granted.role}: read and write on {granted.tables} tables; "
            f"read and append only on {', '.join(granted.append_only)}; "
            f"read only on {', '.join(granted.read_only)}"
        )
