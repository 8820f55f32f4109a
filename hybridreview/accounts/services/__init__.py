"""Writes for accounts: teams and their members, logins and API tokens.

Every change records its audit event in the same transaction.
"""

from .auth import (
    login_failed_record,
    login_record,
    token_create,
    token_revoke,
    username_from,
)
from .members import (
    MembershipRefused,
    RoleChange,
    member_changes_record,
    member_join,
    member_remove,
    member_roles_set,
    member_roles_snapshot,
    membership_add,
    role_groups_sync,
    team_create,
)

__all__ = [
    "MembershipRefused",
    "RoleChange",
    "login_failed_record",
    "login_record",
    "member_changes_record",
    "member_join",
    "member_remove",
    "member_roles_set",
    "member_roles_snapshot",
    "membership_add",
    "role_groups_sync",
    "team_create",
    "token_create",
    "token_revoke",
    "username_from",
]
