"""`flush`, refusing to erase the audit trail unless settings allow it.

Django's flush empties every table, which the audit triggers refuse. The test
suite flushes after every transactional test, so test settings set
AUDIT_ALLOW_FLUSH and the triggers are lifted for the flush only; everywhere
else `manage.py flush` stops with an error instead of erasing the trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import CommandError
from django.core.management.commands import flush
from django.db import connections

from approvals import immutability


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        if not getattr(settings, "AUDIT_ALLOW_FLUSH", False):
            raise CommandError(
                "flush would erase the audit trail; it is refused outside the test suite."
            )
        connection = connections[options["database"]]
        with immutability.suspended(connection):
            super().handle(**options)
