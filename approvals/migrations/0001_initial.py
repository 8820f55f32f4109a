import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def install_triggers(apps, schema_editor):
    # Imported here, not copied: the trigger SQL has one home, and the
    # post_migrate check (approvals.apps) reinstalls the same thing.
    from approvals import immutability

    immutability.install(schema_editor.connection)


def uninstall_triggers(apps, schema_editor):
    from approvals import immutability

    immutability.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditHealth",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("checked_at", models.DateTimeField()),
                ("ok", models.BooleanField()),
                ("events", models.BigIntegerField(default=0)),
                ("head_seq", models.BigIntegerField(blank=True, null=True)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                ("first_bad_seq", models.BigIntegerField(blank=True, null=True)),
                ("problem", models.TextField(blank=True)),
            ],
        ),
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("time", models.DateTimeField()),
                ("actor_label", models.CharField(blank=True, max_length=150)),
                ("system", models.CharField(blank=True, max_length=200)),
                ("action", models.CharField(max_length=64)),
                ("object_type", models.CharField(blank=True, max_length=100)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("request_ref", models.BigIntegerField(blank=True, null=True)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                ("reason", models.TextField(blank=True)),
                ("correlation_id", models.CharField(blank=True, max_length=128)),
                ("ip", models.CharField(blank=True, max_length=45)),
                ("user_agent", models.CharField(blank=True, max_length=512)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "ordering": ["seq"],
                "indexes": [
                    models.Index(
                        fields=["object_type", "object_id", "seq"], name="audit_object_timeline"
                    ),
                    models.Index(fields=["request_ref", "seq"], name="audit_request_timeline"),
                    models.Index(fields=["team", "seq"], name="audit_team_seq"),
                    models.Index(fields=["action", "time"], name="audit_action_time"),
                    models.Index(fields=["actor_label", "seq"], name="audit_actor_seq"),
                ],
            },
        ),
        migrations.RunPython(install_triggers, uninstall_triggers, elidable=False),
    ]
