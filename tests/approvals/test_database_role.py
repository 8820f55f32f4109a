"""The README's deployment: an app role that does not own the audit table."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from approvals import immutability
from approvals.apps import ensure_audit_triggers
from approvals.audit import audit_record

pytestmark = pytest.mark.django_db

REFUSED_TO_THE_APP = [
    f"UPDATE {immutability.TABLE} SET reason = 'x'",
    f"DELETE FROM {immutability.TABLE}",
    f"TRUNCATE {immutability.TABLE}",
    f"ALTER TABLE {immutability.TABLE} DISABLE TRIGGER USER",
    f"DROP TRIGGER {immutability.TABLE}_no_update_delete ON {immutability.TABLE}",
]


@pytest.mark.postgres
@pytest.mark.parametrize("sql", REFUSED_TO_THE_APP)
def test_the_app_role_can_append_but_not_change_or_unguard_the_trail(sql):
    # The role exists only inside this test's transaction, rolled back after it.
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE hr_test_app NOLOGIN")
        cursor.execute(f"GRANT SELECT, INSERT ON {immutability.TABLE} TO hr_test_app")
        cursor.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO hr_test_app")
        cursor.execute("SET LOCAL ROLE hr_test_app")
    with transaction.atomic():
        audit_record(action="test.app_role", system="tests")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_triggers_lost_to_a_table_rebuild_come_back_after_migrate():
    immutability.uninstall(connection)
    assert not immutability.installed(connection)
    ensure_audit_triggers(using="default")
    assert immutability.installed(connection) == immutability.expected(connection)
