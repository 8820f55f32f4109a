"""Database triggers that make approvals_auditevent append-only.

They stop the application (and anyone using its database role) from editing
or deleting audit rows. They do not stop the table's owner, who may drop or
disable them; that is why production runs the app under a role that does not
own the table (README, "Audit trail and permissions"), and why the hash chain
exists: an edit made with the triggers off is still found by verify_audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "approvals_auditevent"

# ERRCODE 23001 (restrict_violation) makes the driver raise IntegrityError,
# the same class SQLite's RAISE(ABORT) gives, so callers see one exception.
_POSTGRES_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE}",
    f"""
    CREATE TRIGGER {TABLE}_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse()
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"""
    CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse()
    """,
]
_POSTGRES_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_refuse()",
]
# SQLite has no TRUNCATE; its "DELETE FROM t" runs the row trigger.
_SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {op} refused'); END
    """
    for op in ("UPDATE", "DELETE")
]
_SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {TABLE}_no_{op}" for op in ("update", "delete")]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers; safe to run again (it replaces them)."""
    if connection.vendor == "postgresql":
        _run(connection, _POSTGRES_INSTALL)
    elif connection.vendor == "sqlite":
        _run(connection, _SQLITE_INSTALL)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        _run(connection, _POSTGRES_UNINSTALL)
    elif connection.vendor == "sqlite":
        _run(connection, _SQLITE_UNINSTALL)


EXPECTED = {
    "postgresql": {f"{TABLE}_no_update_delete", f"{TABLE}_no_truncate"},
    "sqlite": {f"{TABLE}_no_update", f"{TABLE}_no_delete"},
}


def ensure(connection: BaseDatabaseWrapper) -> None:
    """Install the triggers if any is missing (after every migrate)."""
    wanted = EXPECTED.get(connection.vendor)
    if wanted and not wanted <= installed(connection):
        install(connection)


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """Names of the audit triggers present on the table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
        return {row[0] for row in cursor.fetchall()}


@contextmanager
def suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Drop the triggers for the block and put them back, in one transaction.

    Only for the owner's maintenance: the test suite's flush and the tampering
    tests. The app's own role cannot do this (it does not own the table).
    """
    with transaction.atomic(using=connection.alias):
        uninstall(connection)
        yield
        install(connection)
