"""The app's database role (manage.py grant_app_role): uses every table, cannot unguard
the audit trail, the ledger or decisions."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.utils import ConnectionHandler

from approvals import immutability
from approvals.apps import ensure_audit_triggers
from approvals.audit import audit_record
from approvals.database_role import RoleRefused, app_role_grant

pytestmark = pytest.mark.django_db

APP = "hr_test_app"


def _refused_to_the_app(table: str) -> list[str]:
    return [
        f"UPDATE {table} SET id = id",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"DROP TRIGGER {table}_no_update_delete ON {table}",
        f"ALTER TABLE {table} OWNER TO {APP}",
    ]


def _as_the_app_role() -> None:
    # The roles exist only inside this test's transaction, rolled back after it.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP} NOLOGIN")
    _call("grant_app_role", APP)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP}")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", [sql for table in immutability.TABLES for sql in _refused_to_the_app(table)]
)
def test_the_granted_app_role_can_append_but_not_change_or_unguard_a_guarded_table(sql):
    _as_the_app_role()
    with transaction.atomic():
        audit_record(action="test.app_role", system="tests")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.postgres
def test_the_granted_app_role_reads_and_writes_the_other_tables(make_team, make_user, make_request):
    alpha = make_team("alpha")
    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    _as_the_app_role()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE jobs_optimizationrequest SET title = 'renamed' WHERE id = %s", [request_obj.pk]
        )
        cursor.execute("SELECT nextval(pg_get_serial_sequence('jobs_run', 'id'))")
        cursor.execute("DELETE FROM jobs_candidate WHERE request_id = %s", [request_obj.pk])
    request_obj.refresh_from_db()
    assert request_obj.title == "renamed"


@pytest.mark.postgres
def test_the_app_role_gets_dml_append_only_on_the_guarded_tables_and_reads_migrations():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP} NOLOGIN")
        _call("grant_app_role", APP)
        held: dict[str, set[str]] = {}
        for table in connection.introspection.table_names():
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [APP, table, privilege])
                if cursor.fetchone()[0]:
                    held.setdefault(table, set()).add(privilege)
    dml = {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert {t: held[t] for t in immutability.TABLES} == {
        t: {"SELECT", "INSERT"} for t in immutability.TABLES
    }
    assert held["django_migrations"] == {"SELECT"}
    others = set(held) - set(immutability.TABLES) - {"django_migrations"}
    assert {"jobs_run", "jobs_candidate", "auth_user"} <= others
    assert all(held[t] == dml for t in others)


@pytest.mark.postgres
def test_grant_app_role_reports_what_it_granted():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP} NOLOGIN")
    out = _call("grant_app_role", APP)
    assert (
        "read and append only on approvals_auditevent, approvals_decision, jobs_ledgerentry" in out
    )


@pytest.mark.postgres
def test_grant_app_role_refuses_a_superuser():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]  # the test database's owner: a superuser here
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_app_role", me)


@pytest.mark.postgres
def test_grant_app_role_refuses_a_role_that_can_act_as_a_tables_owner():
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE hr_test_owner NOLOGIN")
        cursor.execute(f"ALTER TABLE {immutability.TABLE} OWNER TO hr_test_owner")
        cursor.execute(f"CREATE ROLE {APP} NOLOGIN IN ROLE hr_test_owner")
    with pytest.raises(
        CommandError, match=f"acts as hr_test_owner, the owner of {immutability.TABLE}"
    ):
        call_command("grant_app_role", APP)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("role", "message"),
    [("hr_no_such_role", "does not exist"), ('x"; DROP TABLE jobs_run; --', "lower-case name")],
)
def test_grant_app_role_refuses_a_missing_or_malformed_role(role, message):
    with pytest.raises(CommandError, match=message):
        call_command("grant_app_role", role)
    assert "jobs_run" in connection.introspection.table_names()


def test_grant_app_role_says_roles_are_for_postgresql_only():
    sqlite = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    with pytest.raises(RoleRefused, match="PostgreSQL only"):
        app_role_grant(sqlite["default"], APP)


def test_triggers_lost_to_a_table_rebuild_come_back_after_migrate():
    immutability.uninstall(connection)
    assert not immutability.installed(connection)
    ensure_audit_triggers(using="default")
    assert immutability.installed(connection) == immutability.expected(connection)


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
