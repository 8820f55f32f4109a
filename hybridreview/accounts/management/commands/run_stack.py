"""Run the web server, a Celery worker and Celery beat in the foreground.

`make run` calls this. Ctrl-C (SIGINT) or SIGTERM stops all three; each runs
in its own process group so that pool children go with their parent and no
process is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start web, worker and beat; stop them all on Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        py = sys.executable
        celery = [py, "-m", "celery", "-A", "hybridreview"]
        commands = {
            "web": [
                py,
                "manage.py",
                "runserver",
                f"{options['host']}:{options['port']}",
                "--noreload",
            ],
            "worker": [
                *celery,
                "worker",
                "-Q",
                "quantum,classical,celery",
                "-c",
                str(options["concurrency"]),
                "-l",
                "INFO",
                "--without-gossip",
            ],
            "beat": [*celery, "beat", "-l", "INFO", "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        }
        procs = {
            name: subprocess.Popen(cmd, start_new_session=True)  # noqa: S603
            for name, cmd in commands.items()
        }
        self.stdout.write(
            f"HybridReview on http://{options['host']}:{options['port']}/ "
            f"(web, worker and beat running; Ctrl-C stops all)"
        )
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                dead = [n for n, p in procs.items() if p.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} exited; stopping the rest")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(procs)

    def _stop_all(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        # SIGTERM to each parent only: the Celery worker then shuts down warm
        # and stops its own pool. Whatever is left after the grace period is
        # killed with its whole process group; acks_late and the reaper make
        # an interrupted run safe to redo.
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 15
        for p in procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.stdout.write("stopped web, worker and beat")
