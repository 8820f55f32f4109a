"""Demo team and users for `make run`. Idempotent: safe on every start."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from hybridreview.accounts.roles import ADMIN, ANALYST, APPROVER, AUDITOR, CONSUMER, OPERATOR
from hybridreview.accounts.services import membership_add, team_create

DEMO_USERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("analyst", (ANALYST,)),
    ("approver", (APPROVER,)),
    ("approver2", (APPROVER,)),
    ("admin", (ADMIN,)),
    ("consumer", (CONSUMER,)),
    ("auditor", (AUDITOR,)),
    ("operator", (OPERATOR,)),
)


class Command(BaseCommand):
    help = "Create the demo team, its users and example requests (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", default=None, help="Overrides DEMO_PASSWORD.")
        parser.add_argument("--no-examples", action="store_true", help="Skip the example requests.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or settings.DEMO_PASSWORD
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        with transaction.atomic():
            team = team_create(slug="demo", name="Demo team")
            user_model = get_user_model()
            for username, roles in DEMO_USERS:
                user, _ = user_model.objects.get_or_create(
                    username=username,
                    defaults={"first_name": username.capitalize(), "last_name": "Demo"},
                )
                user.set_password(password)
                # Django admin access for the roles that configure backends and budgets.
                user.is_staff = bool({ADMIN, OPERATOR} & set(roles))
                user.save()
                membership_add(team=team, user=user, roles=roles)
        if not options["no_examples"]:
            self._seed_examples(team)
        self.stdout.write(
            f"Demo team '{team.slug}' with users: {', '.join(u for u, _ in DEMO_USERS)}"
        )
        note = " (generated; set DEMO_PASSWORD to choose one)" if generated else ""
        self.stdout.write(f"Demo password: {password}{note}")

    def _seed_examples(self, team: Any) -> None:
        try:
            from jobs.demo import seed_examples
        except ImportError:  # the pipeline is not installed in this build
            return
        for line in seed_examples(team=team):
            self.stdout.write(line)
