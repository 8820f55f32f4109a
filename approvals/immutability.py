"""Database triggers that make the audit trail, the spend ledger and decisions append-only.

They stop the application (and anyone using its database role) from editing
or deleting those rows. They do not stop the table's owner, who may drop or
disable them; that is why production runs the app under a role that does not
own the table (approvals.database_role, manage.py grant_app_role), and why the hash chain
exists: an edit made with the triggers off is still found by verify_audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "approvals_auditevent"
# Append-only rows: the audit trail; the spend ledger (a correction is a new
# entry, never an edit); and decisions, the only thing consumers read, whose
# facts an approver's signature covers. Each model says so in Python too
# (Decision.save refuses edits), but a QuerySet.update() or a raw UPDATE goes
# around Python; these triggers do not.
TABLES = (TABLE, "approvals_decision", "jobs_ledgerentry")
FUNCTION = "hybridreview_append_only_refuse"

# ERRCODE 23001 (restrict_violation) makes the driver raise IntegrityError,
# the same class SQLite's RAISE(ABORT) gives, so callers see one exception.
_POSTGRES_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
"""


def _postgres_install(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
        f"""
        CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()
        """,
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()
        """,
    ]


def _postgres_uninstall(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


# The audit table's own function from before the ledger and decisions were
# guarded too; dropped once its triggers point at the shared one.
_POSTGRES_OLD_FUNCTION = f"DROP FUNCTION IF EXISTS {TABLE}_refuse()"


# SQLite has no TRUNCATE; its "DELETE FROM t" runs the row trigger.
def _sqlite_install(table: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END
        """
        for op in ("UPDATE", "DELETE")
    ]


def _sqlite_uninstall(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def present(connection: BaseDatabaseWrapper) -> list[str]:
    """The guarded tables that exist yet (a migration may run before another app's)."""
    existing = set(connection.introspection.table_names())
    return [table for table in TABLES if table in existing]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers on every guarded table that exists; safe to run again."""
    tables = present(connection)
    if connection.vendor == "postgresql":
        statements = [_POSTGRES_FUNCTION]
        statements += [sql for table in tables for sql in _postgres_install(table)]
        _run(connection, [*statements, _POSTGRES_OLD_FUNCTION])
    elif connection.vendor == "sqlite":
        _run(connection, [sql for table in tables for sql in _sqlite_install(table)])


def uninstall(connection: BaseDatabaseWrapper) -> None:
    tables = present(connection)
    if connection.vendor == "postgresql":
        statements = [sql for table in tables for sql in _postgres_uninstall(table)]
        _run(connection, [*statements, f"DROP FUNCTION IF EXISTS {FUNCTION}()"])
    elif connection.vendor == "sqlite":
        _run(connection, [sql for table in tables for sql in _sqlite_uninstall(table)])


def expected(connection: BaseDatabaseWrapper) -> set[str]:
    """Names of the triggers every present guarded table should have."""
    suffixes = {
        "postgresql": ("no_update_delete", "no_truncate"),
        "sqlite": ("no_update", "no_delete"),
    }.get(connection.vendor, ())
    return {f"{table}_{suffix}" for table in present(connection) for suffix in suffixes}


def ensure(connection: BaseDatabaseWrapper) -> None:
    """Install the triggers if any is missing (after every migrate)."""
    wanted = expected(connection)
    if wanted and not wanted <= installed(connection):
        install(connection)


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """Names of the append-only triggers present on the guarded tables."""
    tables = present(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) "
                "AND NOT tgisinternal",
                [tables],
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",  # noqa: S608
                tables,
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
