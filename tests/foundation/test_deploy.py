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
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from tests.conftest import skip_or_fail

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
    assert services["migrate"]["command"][-1].startswith("python manage.py migrate --noinput &&")


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


def test_every_compose_app_container_shares_one_cache_and_the_audit_anchors():
    services = _compose()["services"]
    apps = {n: s for n, s in services.items() if "build" in s}
    caches = {s["environment"].get("CACHE_URL") for s in apps.values()}
    assert len(caches) == 1 and caches.pop().startswith("redis://redis:")
    for name, service in _app_services(services).items():
        # AUDIT_ANCHOR_DIR's default in the image (HR_VAR_DIR=/app/var).
        assert "audit-anchors:/app/var/audit-anchors" in service["volumes"], name
    assert "audit-anchors" in _compose()["volumes"]
    # The web's health check calls a path that answers whatever the Host header.
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_the_image_build_context_leaves_out_secrets_local_state_and_the_virtualenv():
    # compose builds with context ".." (the repository); without these lines
    # COPY . . would bake deploy/.env's secrets and var/'s database into a layer.
    ignored = {
        line.strip()
        for line in (DEPLOY.parent / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"deploy/.env", "var", ".venv", ".git"} <= ignored
    assert _compose()["services"]["web"]["build"]["context"] == ".."


# Database roles ---------------------------------------------------------------


def _app_services(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if "build" in s and n != "migrate"}


def _url_user(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


def test_compose_migrates_as_the_owner_and_serves_as_the_app_role_it_granted():
    services = _compose()["services"]
    migrate = services["migrate"]
    script = migrate["command"][-1]
    assert re.search(
        r"manage\.py migrate --noinput && python manage\.py grant_app_role (\w+)$", script
    )
    granted = script.rsplit(" ", 1)[1]
    init = (DEPLOY / "postgres-init.sh").read_text()
    owner = re.search(r'owner="\$\{HR_DB_OWNER:-(\w+)\}"', init).group(1)  # type: ignore[union-attr]
    app = re.search(r'app="\$\{HR_DB_APP:-(\w+)\}"', init).group(1)  # type: ignore[union-attr]
    assert _url_user(migrate["environment"]["DATABASE_URL"]) == owner
    assert granted == app
    apps = _app_services(services)
    assert {"web", "worker-quantum", "worker-classical", "beat"} <= set(apps)
    for name, service in apps.items():
        assert _url_user(service["environment"]["DATABASE_URL"]) == app, name
        # Never serve before the grants: the app role could read nothing yet.
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # Long-running services come back after a crash; the one-shot migrate does not loop.
    assert all(s["restart"] == "unless-stopped" for n, s in services.items() if n != "migrate")
    assert services["migrate"]["restart"] == "no"
    mounts = services["db"]["volumes"]
    assert "./postgres-init.sh:/docker-entrypoint-initdb.d/hybridreview.sh:ro" in mounts


class DeployServer:
    """deploy/postgres-init.sh run against this server, with names of this test's own."""

    def __init__(self, settings_dict: dict[str, Any], var: Path) -> None:
        suffix = f"{os.getpid()}_{int(time.time())}"
        self.var = var
        self.owner, self.app = f"hr_owner_{suffix}", f"hr_app_{suffix}"
        self.databases: list[str] = []
        self.host = settings_dict.get("HOST") or "127.0.0.1"
        self.port = str(settings_dict.get("PORT") or 5432)
        self.env = {
            "PATH": os.environ["PATH"],
            "PGHOST": self.host,
            "PGPORT": self.port,
            "PGUSER": settings_dict["USER"] or "postgres",
            "POSTGRES_USER": settings_dict["USER"] or "postgres",
            "PGPASSWORD": settings_dict.get("PASSWORD") or "",
            "HR_DB_OWNER": self.owner,
            "HR_DB_APP": self.app,
            "HR_DB_OWNER_PASSWORD": "owner-secret",
            "HR_DB_APP_PASSWORD": "app-secret",
        }
        self.suffix = suffix

    def init(self, label: str) -> str:
        """Run the init script for database ``hr_<label>_<suffix>``; return its name."""
        name = f"hr_{label}_{self.suffix}"
        self.databases.append(name)
        self.run(["sh", str(DEPLOY / "postgres-init.sh")], HR_DB_NAME=name)
        return name

    def url(self, role: str, database: str) -> str:
        user = {"owner": self.owner, "app": self.app}[role]
        return f"postgres://{user}:{role}-secret@{self.host}:{self.port}/{database}"

    def run(self, command: list[str], **env: str) -> str:
        done = subprocess.run(
            command, env=self.env | env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (command, done.stderr[-3000:])
        return done.stdout

    def drop(self) -> None:
        statements = [f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in self.databases]
        statements += [f'DROP ROLE IF EXISTS "{self.app}"', f'DROP ROLE IF EXISTS "{self.owner}"']
        for sql in statements:
            self.run(["psql", "-d", "postgres", "-qc", sql])


@pytest.fixture
def deploy_server(tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    server = DeployServer(connection.settings_dict, tmp_path)
    try:
        yield server
    finally:
        server.drop()


def _as_the_app(url: str, var: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """``command`` run from the checkout as a deployed process would, against ``url``."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "hybridreview.settings.test",
        "DATABASE_URL": url,
        "HR_VAR_DIR": str(var),
        "DEMO_PASSWORD": "demo-password-for-the-deploy-test",
    }
    return subprocess.run(
        command, cwd=DEPLOY.parent, env=env, capture_output=True, text=True, timeout=300
    )


def _manage(url: str, var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _as_the_app(url, var, [sys.executable, "manage.py", *args])


APPROVE_AS_THE_APP = """
from django.contrib.auth import get_user_model
from approvals import services
from approvals.models import Decision, SignatureMeaning
from jobs.models import OptimizationRequest
users = get_user_model().objects
req = OptimizationRequest.objects.filter(status="ready_for_review").order_by("id").first()
best = req.candidates.order_by("rank").first()
services.request_recommend(request=req, actor=users.get(username="analyst"),
                           candidate_id=best.pk, comment="the best cut")
for name in ("approver", "approver2"):
    req.refresh_from_db()
    if req.status == "recommended":
        services.request_approve(request=req, actor=users.get(username=name),
                                 candidate_id=best.pk, meaning=SignatureMeaning.EXECUTION,
                                 password="demo-password-for-the-deploy-test")
req.refresh_from_db()
print(req.status, Decision.objects.filter(request=req).count())
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_the_compose_database_roles_work_end_to_end_and_the_app_cannot_unguard_the_trail(
    deploy_server,
):
    server, var = deploy_server, deploy_server.var
    database = server.init("deploy")
    owner, app = server.url("owner", database), server.url("app", database)
    # The migrate service's own command, as the owner, granting this test's app role.
    script = _compose()["services"]["migrate"]["command"][-1]
    script = script.replace("hybridreview_app", server.app).replace("python ", f"{sys.executable} ")
    with_owner = _as_the_app(owner, var, ["sh", "-c", script])
    assert with_owner.returncode == 0, with_owner.stderr[-3000:]
    assert f"{server.app}: read and write on" in with_owner.stdout

    # As the app: the demo's requests run through the real pipeline (submit,
    # QAOA and exact, ranking), then one is recommended and approved.
    seeded = _manage(app, var, "seed_demo")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert seeded.stdout.count(": ready_for_review.") == 2, seeded.stdout
    approved = _manage(app, var, "shell", "-c", APPROVE_AS_THE_APP)
    assert approved.returncode == 0, approved.stderr[-3000:]
    assert approved.stdout.splitlines()[-1].split() == ["approved", "1"]
    verified = _manage(app, var, "verify_audit")
    assert verified.returncode == 0, verified.stderr
    _assert_the_app_cannot_unguard_the_trail(app)

    # Backup and restore as the README says: pg_dump as the owner; an empty
    # database from the init script (the roles exist: it leaves them); pg_restore
    # as the owner; grant_app_role. The trail still verifies, guarded as before.
    dump = var / "hybridreview.dump"
    server.run(["pg_dump", "--format=custom", f"--file={dump}", "--dbname", owner])
    restored = server.init("restored")
    restored_owner, restored_app = server.url("owner", restored), server.url("app", restored)
    server.run(
        ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", restored_owner, str(dump)]
    )
    granted = _manage(restored_owner, var, "grant_app_role", server.app)
    assert granted.returncode == 0, granted.stderr
    again = _manage(restored_app, var, "verify_audit")
    assert again.returncode == 0, again.stderr
    assert again.stdout == verified.stdout  # the same chain, event for event
    decided = _manage(restored_app, var, "shell", "-c", COUNT_DECISIONS)
    assert decided.stdout.splitlines()[-1] == "1"
    _assert_the_app_cannot_unguard_the_trail(restored_app)


COUNT_DECISIONS = "from approvals.models import Decision; print(Decision.objects.count())"


def _assert_the_app_cannot_unguard_the_trail(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for sql in (
            "UPDATE approvals_auditevent SET reason = 'edited'",
            "DELETE FROM approvals_decision",
            "TRUNCATE jobs_ledgerentry",
            "ALTER TABLE approvals_auditevent DISABLE TRIGGER USER",
            "DROP TRIGGER approvals_auditevent_no_update_delete ON approvals_auditevent",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        triggers = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_no_%' AND NOT tgisinternal"
        ).fetchone()[0]
        assert triggers == 6  # two per guarded table


def test_gunicorns_access_log_cuts_invitation_tokens_out():
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    logger = conf["logger_class"](Config())
    token = "Zx8-secret_token"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/invitations/{token}/",
        "PATH_INFO": f"/invitations/{token}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://mail.example.org/?u=https://hr.example.org/invitations/{token}/",
    }
    resp = SimpleNamespace(status="302 Found", headers=[], sent=0)
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = logger.atoms(resp, req, environ, timedelta(seconds=0))
    logged = " ".join(str(v) for v in atoms.values())
    assert token not in logged
    assert atoms["r"] == "GET /invitations/[redacted]/ HTTP/1.1"
    # The page the token redirects to has none, and stays readable.
    environ |= {"RAW_URI": "/invitations/accept/", "PATH_INFO": "/invitations/accept/"}
    assert logger.atoms(resp, req, environ, timedelta(0))["U"] == "/invitations/accept/"
