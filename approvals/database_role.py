"""The application's own PostgreSQL role: may use every table, may only append to the guarded ones.

The append-only triggers (approvals.immutability) stop the application; they
do not stop a table's owner, who can disable or drop them. So production runs
migrations as an owner role and web, workers and beat as a role that owns
nothing. ``app_role_grant`` gives that role what the application needs and no
more, from the same list of guarded tables the triggers use, so a table made
append-only later is also made insert-only for the app. Run it (as the owner)
after every ``migrate``: ``manage.py grant_app_role <role>``; it is idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from approvals import immutability

# A plain identifier: nothing a GRANT statement could be made to misread.
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
MIGRATIONS = "django_migrations"


class RoleRefused(Exception):
    """The role cannot safely be the application's role; the message says why."""


@dataclass(frozen=True)
class Granted:
    role: str
    tables: int
    append_only: tuple[str, ...]
    read_only: tuple[str, ...]


def app_role_grant(connection: BaseDatabaseWrapper, role: str) -> Granted:
    """Grant ``role`` DML on the schema's tables; only SELECT and INSERT on the guarded ones."""
    if connection.vendor != "postgresql":
        raise RoleRefused("database roles apply to PostgreSQL only")
    if not ROLE_NAME.fullmatch(role):
        raise RoleRefused(f"role {role!r}: use a lower-case name of letters, digits and _")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _check(cursor, role)
        guarded = immutability.present(connection)
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
        statements = [
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        ]
        for table in guarded:
            statements += [
                f"REVOKE ALL ON {table} FROM {role}",
                f"GRANT SELECT, INSERT ON {table} TO {role}",
            ]
        # Which migrations ran is the owner's record; the app only reads it.
        present = connection.introspection.table_names()
        read_only = (MIGRATIONS,) if MIGRATIONS in present else ()
        for table in read_only:
            statements += [
                f"REVOKE ALL ON {table} FROM {role}",
                f"GRANT SELECT ON {table} TO {role}",
            ]
        for sql in statements:
            cursor.execute(sql)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
        tables = cursor.fetchone()[0]
    return Granted(role=role, tables=tables, append_only=tuple(guarded), read_only=read_only)


def _check(cursor: CursorWrapper, role: str) -> None:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        raise RoleRefused(f"role {role} does not exist: create it first (README, database roles)")
    if row[0]:
        raise RoleRefused(f"role {role} is a superuser: it could lift the append-only triggers")
    # Owning a table, or being a member of a role that does, is what lets a
    # role disable or drop the triggers: then the grants below would mean nothing.
    cursor.execute(
        "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND pg_has_role(%s, c.relowner, 'USAGE') ORDER BY c.relname LIMIT 1",
        [role],
    )
    owned = cursor.fetchone()
    if owned is not None:
        raise RoleRefused(
            f"role {role} acts as {owned[1]}, the owner of {owned[0]}: "
            "the application's role must own no table (run migrations as another role)"
        )
