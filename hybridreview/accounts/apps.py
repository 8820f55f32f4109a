from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "hybridreview.accounts"
    label = "accounts"
    verbose_name = "Teams and roles"

    def ready(self) -> None:
        from hybridreview import checks  # noqa: F401  (registers the deploy checks)

        from . import signals  # noqa: F401  (connects the login audit handlers)
        from .roles import ensure_roles

        # Runs after every app's migrations; idempotent, so groups and their
        # permissions exist on a fresh database without a data migration.
        post_migrate.connect(ensure_roles, dispatch_uid="accounts.ensure_roles")
