"""deploy/ agrees with the code it deploys: queues, time limits, body sizes, build env.

No container runs here; these read the files an operator would use and check
them against the settings, so a new queue, a longer wait or a newly required
production variable cannot silently leave deploy/ behind.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


def _celery(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command[1:] if command[:1] == ["celery"] else []


def _size_in_bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", text).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_the_compose_workers_consume_every_queue_a_task_is_routed_to():
    consumed: set[str] = set()
    for service in _compose()["services"].values():
        args = _celery(service)
        if "worker" in args:
            consumed |= set(args[args.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    # Unrouted tasks (heartbeat, figures, the beat jobs) go to Celery's default queue.
    assert routed | {"celery"} <= consumed


def test_the_compose_stack_runs_one_beat_and_migrates_before_serving():
    services = _compose()["services"]
    beats = [name for name, s in services.items() if "beat" in _celery(s)]
    assert len(beats) == 1, "two beats would run every periodic job twice"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]


def test_gunicorn_and_nginx_wait_longer_than_the_longest_solve_wait():
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    nginx = (DEPLOY / "nginx.conf").read_text()
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", nginx).group(1))  # type: ignore[union-attr]
    assert gunicorn["timeout"] > settings.JOBS_SOLVE_WAIT_MAX_SECONDS
    assert read_timeout > settings.JOBS_SOLVE_WAIT_MAX_SECONDS


def test_nginx_lets_a_body_slightly_too_large_reach_the_app_for_its_json_413():
    nginx = (DEPLOY / "nginx.conf").read_text()
    limit = _size_in_bytes(re.search(r"client_max_body_size (\w+);", nginx).group(1))  # type: ignore[union-attr]
    assert limit > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_the_image_build_step_satisfies_the_production_settings(tmp_path):
    dockerfile = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    step = next(line for line in dockerfile.splitlines() if "collectstatic" in line)
    build_env = dict(
        word.split("=", 1)
        for word in shlex.split(step.split("&&", 1)[1])
        if re.fullmatch(r"[A-Z_]+=.*", word)
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "hybridreview.settings.production",
        "HR_VAR_DIR": str(tmp_path),
        **build_env,
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run"],
        cwd=DEPLOY.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
