"""Re-encrypt every stored backend credential with the newest key in CREDENTIALS_KEYS.

Rotating a key: put the new key first in CREDENTIALS_KEYS (keep the old one
after it), deploy, run this command, then remove the old key. Prints counts
only, never a secret.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from hybridreview.credentials import CredentialsError
from jobs.services.backends import credentials_rotate_all


class Command(BaseCommand):
    help = "Re-encrypt all backend credentials with the first (newest) key of CREDENTIALS_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rotated = credentials_rotate_all()
        except (CredentialsError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Re-encrypted the credentials of {rotated} backend(s) with the newest key."
        )
