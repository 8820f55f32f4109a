"""deploy/kubernetes agrees with the code it deploys and with the compose stack.

No cluster runs here; like test_deploy, these read the manifests an operator
would apply and check them against the settings, the image and the docs.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet
from django.conf import settings

from hybridreview.health import ProbeMiddleware

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
# Where the image collects static files (STATIC_ROOT under HR_VAR_DIR=/app/var).
IMAGE_STATIC_ROOT = "/app/var/staticfiles"


def _documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(KUBE.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == kind}


def _pods() -> dict[str, dict[str, Any]]:
    """Every pod template, by workload name."""
    workloads = {**_kind("Deployment"), **_kind("Job")}
    return {name: w["spec"]["template"]["spec"] for name, w in workloads.items()}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return pod.get("initContainers", []) + pod["containers"]


def _celery_args(pod: dict[str, Any]) -> list[str]:
    command = pod["containers"][0]["command"]
    return command[1:] if command[:1] == ["celery"] else []


def _config() -> dict[str, str]:
    return _kind("ConfigMap")["hybridreview-config"]["data"]


def test_the_kustomization_applies_every_manifest_in_the_folder():
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    files = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


# The oldest Kubernetes minor release still supported upstream when written, and
# the newest the bundled schemas know: the manifests must be valid for both.
KUBERNETES_VERSIONS = ["1.33.0", kubernetes_validate.latest_version()]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_matches_the_kubernetes_api_schema_strictly(version):
    # strict: an unknown field (a typo such as `replica:`) is an error, where
    # kubectl would drop it silently.
    for doc in _documents():
        if doc["kind"] != "Kustomization":
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_workers_consume_every_queue_a_task_is_routed_to():
    consumed: set[str] = set()
    for pod in _pods().values():
        args = _celery_args(pod)
        if "worker" in args:
            consumed |= set(args[args.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {"celery"} <= consumed


def test_there_is_one_beat_and_a_rollout_never_runs_two():
    deployments = _kind("Deployment")
    beats = [
        n for n, d in deployments.items() if "beat" in _celery_args(d["spec"]["template"]["spec"])
    ]
    assert beats == ["beat"], "two beats would send every periodic task twice"
    beat = deployments["beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def test_the_audit_anchors_live_on_a_claim_held_by_the_one_pod_that_writes_them():
    claims = _kind("PersistentVolumeClaim")
    holders = {
        name: pod
        for name, pod in _pods().items()
        for volume in pod.get("volumes", [])
        if volume.get("persistentVolumeClaim", {}).get("claimName") == "audit-anchors"
    }
    assert "audit-anchors" in claims and list(holders) == ["worker-maintenance"]
    pod = holders["worker-maintenance"]
    # It consumes the default queue, where beat's anchor and verify tasks go.
    assert _celery_args(pod)[_celery_args(pod).index("-Q") + 1] == "celery"
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["audit-anchors"] == "/app/var/audit-anchors"  # AUDIT_ANCHOR_DIR's default
    spec = _kind("Deployment")["worker-maintenance"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"


def test_only_the_migrate_job_connects_as_the_tables_owner():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text())
    pods = _pods()
    migrate = pods["migrate"]["containers"][0]
    # The same migration and grants as the compose stack's one-shot service.
    assert migrate["command"][-1] == compose["services"]["migrate"]["command"][-1]
    owner = {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "hybridreview", "key": "OWNER_DATABASE_URL"}},
    }
    assert migrate["env"] == [owner]
    for name, pod in pods.items():
        for container in _containers(pod):
            if container is not migrate:
                # Everything else takes DATABASE_URL (the app role) from the secret.
                assert "env" not in container, (name, container["name"])
                assert {"secretRef": {"name": "hybridreview"}} in container["envFrom"]


def test_web_and_workers_start_only_once_the_migrations_are_in():
    for name, pod in _pods().items():
        if name in ("migrate", "beat"):
            continue
        waits = [" ".join(c["command"]) for c in pod.get("initContainers", [])]
        assert any("manage.py migrate --check" in w for w in waits), name


def test_probes_use_the_paths_that_answer_whatever_the_host():
    web = _pods()["web"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/readyz", "/healthz"} <= set(ProbeMiddleware.VIEWS)


def test_the_web_pod_outlives_gunicorns_graceful_shutdown_and_the_longest_wait():
    gunicorn = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    grace = _pods()["web"]["terminationGracePeriodSeconds"]
    assert grace > gunicorn["graceful_timeout"] >= settings.JOBS_SOLVE_WAIT_MAX_SECONDS


def test_pods_run_as_the_images_user_on_a_read_only_root_that_keeps_the_static_files():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    uid = int(re.search(r"useradd [^\n]*--uid (\d+)", dockerfile).group(1))  # type: ignore[union-attr]
    assert re.search(rf"^USER {uid}$", dockerfile, re.M)
    for name, pod in _pods().items():
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid, name
        for container in _containers(pod):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            for mount in container.get("volumeMounts", []):
                # A volume over STATIC_ROOT or a folder above it would hide the
                # files the image collected: the pages would lose their CSS and JS.
                path = mount["mountPath"].rstrip("/")
                assert not (IMAGE_STATIC_ROOT + "/").startswith(path + "/"), (name, path)


def test_every_secret_key_a_manifest_reads_is_in_the_documented_secret():
    docs = (ROOT / "docs" / "scaling.md").read_text()
    command = re.search(
        r"kubectl -n hybridreview create secret generic hybridreview(.*?)\n\n", docs, re.S
    )
    assert command, "docs/scaling.md shows how to create the secret"
    documented = set(re.findall(r"--from-literal=([A-Z_]+)=", command.group(1)))
    read = set(re.findall(r"key: ([A-Z_]+)", "\n".join(p.read_text() for p in KUBE.glob("*.yaml"))))
    assert read <= documented
    assert {"SECRET_KEY", "CREDENTIALS_KEYS", "DATABASE_URL", "OWNER_DATABASE_URL"} <= documented


@pytest.mark.slow
def test_the_config_map_and_the_secret_pass_the_production_deploy_checks(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "hybridreview.settings.production",
        "HR_VAR_DIR": str(tmp_path),
        **_config(),
        # The secret's keys, with stand-in values of the right form.
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
