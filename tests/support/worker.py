"""Start and stop a real Celery worker process against the test database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database the tests use *now* (pytest-django's test DB)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = quote(s.get("USER") or "")
    auth = f"{user}:{quote(s['PASSWORD'])}@" if s.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        # The worker runs in its own process group: kill its pool children too,
        # as a crashed machine would.
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        self.process.wait(timeout=30)


def _wait_ready(worker: Worker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{worker.log()}")
        if " ready." in worker.log():
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{worker.log()}")


@contextmanager
def running_worker(
    queues: str = "quantum,classical,celery", concurrency: int = 1
) -> Iterator[Worker]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hybridreview.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LOG_FORMAT": "json",
    }
    log_dir = Path(tempfile.mkdtemp(prefix="hr-worker-"))
    log_path = log_dir / "worker.log"
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hybridreview",
        "worker",
        "-Q",
        queues,
        "-c",
        str(concurrency),
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(process=proc, log_path=log_path)
    try:
        _wait_ready(worker, timeout=90)
        yield worker
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        shutil.rmtree(log_dir, ignore_errors=True)


def purge_broker() -> None:
    from hybridreview.celery import app

    app.control.purge()
