"""Roles become per team: each membership holds the roles its user held globally.

Until now a role (a global group) counted in every team of the user. Copying
the user's team roles into each of their memberships keeps what everybody may
do today; admins then narrow it per team.
"""

from typing import Any

from django.db import migrations, models

TEAM_ROLES = ("analyst", "approver", "admin", "consumer", "auditor")


def copy_global_roles(apps: Any, schema_editor: Any) -> None:
    Membership = apps.get_model("accounts", "Membership")
    Group = apps.get_model("auth", "Group")
    for membership in Membership.objects.select_related("user"):
        held = Group.objects.filter(user=membership.user, name__in=TEAM_ROLES)
        membership.roles.add(*held)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="roles",
            field=models.ManyToManyField(
                blank=True,
                help_text="The member's roles in this team.",
                limit_choices_to={"name__in": TEAM_ROLES},
                related_name="+",
                to="auth.group",
            ),
        ),
        # Reversing drops the field: the global groups still hold the union.
        migrations.RunPython(copy_global_roles, migrations.RunPython.noop),
    ]
