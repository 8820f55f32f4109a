from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Requests, runs and budgets"

    def ready(self) -> None:
        # Test settings only: lets a real worker process started by a test
        # register deliberately slow or failing backends (tests/support/backends.py).
        if settings.JOBS_TEST_BACKENDS_MODULE:
            import_module(settings.JOBS_TEST_BACKENDS_MODULE)
